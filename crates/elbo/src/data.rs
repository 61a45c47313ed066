//! Data for the VAE: MNIST's IDX files, seeded mini-batches, dynamic binarization.
//!
//! An IDX file is a big-endian header followed by a dense array of elements:
//!
//! | bytes | meaning |
//! |---|---|
//! | 2 | zero |
//! | 1 | element type: `0x08` unsigned byte (the only type MNIST uses, and the only one read here) |
//! | 1 | rank `r` (3 for images, 1 for labels) |
//! | 4·r | the `r` dimensions, each a big-endian `u32` |
//! | Π dims | the elements, row-major |
//!
//! A file may be gzipped (as MNIST is distributed, and as `data/mnist-10k` ships): the two gzip
//! magic bytes `1f 8b` are recognised and the stream is inflated on the fly. Every malformed input
//! gives an [`IdxError`]; nothing is allocated from an unchecked header: dimensions are validated
//! against [`MAX_IDX_BYTES`] first, and the payload buffer only grows with bytes actually read.
//!
//! ```
//! use elbo::data;
//! let mnist = data::mnist_10k().unwrap();
//! assert_eq!(mnist.train.images().dim(), (9_000, 784)); // x: one digit per row, grey levels in [0, 1]
//! assert_eq!(mnist.test.labels().len(), 1_000);
//! assert!(mnist.test.images().iter().all(|&v| (0.0..=1.0).contains(&v)));
//! ```

use crate::rand::rngs::SmallRng;
use crate::rand::seq::SliceRandom;
use crate::rand::{Rng, SeedableRng};
use flate2::read::MultiGzDecoder;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest payload (product of the dimensions, in bytes) accepted from an IDX header: 1 GiB.
///
/// The full MNIST training set is 47 MB and Fashion-MNIST the same, so a header claiming more
/// than this is taken to be corrupt rather than trusted with an allocation.
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// Largest rank accepted from an IDX header (MNIST uses 1 and 3).
pub const MAX_IDX_RANK: usize = 8;

/// Why an IDX file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The input ended inside the header.
    #[error("truncated IDX header: {needed} bytes needed, the input ends after {found}")]
    TruncatedHeader {
        /// Header length implied by what was read so far.
        needed: usize,
        /// Bytes available.
        found: usize,
    },
    /// The first two bytes are not zero (and not the gzip magic `1f 8b` either).
    #[error("not an IDX file: magic number {found:02x?} should start with two zero bytes")]
    BadMagic {
        /// The first four bytes of the input.
        found: [u8; 4],
    },
    /// An element type other than unsigned bytes.
    #[error("IDX element type 0x{code:02x} is not supported (only 0x08, unsigned byte)")]
    UnsupportedType {
        /// The type code found in the header.
        code: u8,
    },
    /// A rank of 0 or above [`MAX_IDX_RANK`], or not the rank the caller needs.
    #[error("IDX rank {found} where {expected} was expected")]
    WrongRank {
        /// Rank in the header.
        found: usize,
        /// What was expected (a description such as `"3 (images)"`).
        expected: String,
    },
    /// The dimensions claim more than [`MAX_IDX_BYTES`] of data.
    #[error("IDX header claims dimensions {dims:?}: more than the limit of {limit} bytes")]
    TooLarge {
        /// Dimensions in the header.
        dims: Vec<u32>,
        /// The limit, [`MAX_IDX_BYTES`].
        limit: u64,
    },
    /// Fewer data bytes than the dimensions require.
    #[error(
        "truncated IDX data: dimensions {dims:?} need {expected} bytes, the input holds {found}"
    )]
    Truncated {
        /// Dimensions in the header.
        dims: Vec<usize>,
        /// Bytes the dimensions require.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// More data bytes than the dimensions describe.
    #[error("IDX data longer than its dimensions {dims:?} say ({expected} bytes): trailing bytes")]
    TrailingBytes {
        /// Dimensions in the header.
        dims: Vec<usize>,
        /// Bytes the dimensions require.
        expected: u64,
    },
    /// The gzip stream is corrupt (bad header, bad checksum, invalid deflate data).
    #[error("corrupt gzip stream: {0}")]
    Gzip(io::Error),
    /// Reading the (raw) input failed.
    #[error("read error: {0}")]
    Read(io::Error),
    /// An image file and a label file disagree on the number of records.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Records in the image file.
        images: usize,
        /// Records in the label file.
        labels: usize,
    },
}

/// A decoded IDX array of unsigned bytes: its dimensions and its elements, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: Vec<u8>,
}

impl IdxArray {
    /// The dimensions from the header, e.g. `[60000, 28, 28]`.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements, row-major; `data().len()` is the product of [`dims`](Self::dims).
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Parses an IDX file held in memory, gzipped or raw.
///
/// ```
/// use elbo::data::{parse_idx, IdxError};
/// // rank-1 array of 3 unsigned bytes
/// let idx = parse_idx(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).unwrap();
/// assert_eq!((idx.dims(), idx.data()), (&[3usize][..], &[7u8, 8, 9][..]));
/// // the header promises 3 bytes, only 2 follow
/// assert!(matches!(parse_idx(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 8]), Err(IdxError::Truncated { .. })));
/// ```
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    read_idx_from(bytes)
}

/// Reads an IDX file from any reader, gzipped or raw (recognised by the gzip magic bytes).
pub fn read_idx_from(mut reader: impl Read) -> Result<IdxArray, IdxError> {
    let mut first = [0u8; 2];
    let got = read_full(&mut reader, &mut first).map_err(IdxError::Read)?;
    let head = io::Cursor::new(first[..got].to_vec());
    if got == 2 && first == [0x1f, 0x8b] {
        parse_stream(MultiGzDecoder::new(head.chain(reader)), true)
    } else {
        parse_stream(head.chain(reader), false)
    }
}

/// Reads an IDX file from disk, gzipped or raw.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray, IdxError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| IdxError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_idx_from(io::BufReader::new(file)).map_err(|e| match e {
        IdxError::Read(source) => IdxError::Io {
            path: path.to_owned(),
            source,
        },
        other => other,
    })
}

/// Reads as many bytes as `buf` holds, or fewer at end of input; returns how many.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn parse_stream(mut r: impl Read, gzipped: bool) -> Result<IdxArray, IdxError> {
    // A gzip stream cut short surfaces as `UnexpectedEof` from the decoder: that is truncation
    // (mapped where it can happen); any other decoder error is corruption.
    let io_err = |e: io::Error| {
        if gzipped {
            IdxError::Gzip(e)
        } else {
            IdxError::Read(e)
        }
    };
    let is_eof = |e: &io::Error| gzipped && e.kind() == io::ErrorKind::UnexpectedEof;
    let mut magic = [0u8; 4];
    let got = match read_full(&mut r, &mut magic) {
        Ok(n) => n,
        Err(e) if is_eof(&e) => 0,
        Err(e) => return Err(io_err(e)),
    };
    if got >= 2 && (magic[0] != 0 || magic[1] != 0) {
        return Err(IdxError::BadMagic { found: magic });
    }
    if got < 4 {
        return Err(IdxError::TruncatedHeader {
            needed: 4,
            found: got,
        });
    }
    if magic[2] != 0x08 {
        return Err(IdxError::UnsupportedType { code: magic[2] });
    }
    let rank = usize::from(magic[3]);
    if rank == 0 || rank > MAX_IDX_RANK {
        return Err(IdxError::WrongRank {
            found: rank,
            expected: format!("1 to {MAX_IDX_RANK}"),
        });
    }
    let mut dim_bytes = [0u8; 4 * MAX_IDX_RANK];
    let dim_bytes = &mut dim_bytes[..4 * rank];
    let got = match read_full(&mut r, dim_bytes) {
        Ok(n) => n,
        Err(e) if is_eof(&e) => 0,
        Err(e) => return Err(io_err(e)),
    };
    if got < dim_bytes.len() {
        return Err(IdxError::TruncatedHeader {
            needed: 4 + 4 * rank,
            found: 4 + got,
        });
    }
    let raw_dims: Vec<u32> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let expected = raw_dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)))
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| IdxError::TooLarge {
            dims: raw_dims.clone(),
            limit: MAX_IDX_BYTES,
        })?;
    let dims: Vec<usize> = raw_dims.iter().map(|&d| d as usize).collect();
    // Read at most one byte more than needed: the buffer grows with the data actually present,
    // never with what the header claims.
    let mut data = Vec::new();
    let read = r.by_ref().take(expected + 1).read_to_end(&mut data);
    match read {
        Ok(_) => {}
        Err(e) if is_eof(&e) => {
            return Err(IdxError::Truncated {
                dims,
                expected,
                found: data.len() as u64,
            });
        }
        Err(e) => return Err(io_err(e)),
    }
    let found = data.len() as u64;
    if found < expected {
        return Err(IdxError::Truncated {
            dims,
            expected,
            found,
        });
    }
    if found > expected {
        return Err(IdxError::TrailingBytes { dims, expected });
    }
    if gzipped {
        // Drain the rest of the stream so the gzip checksum is verified.
        let mut rest = [0u8; 1];
        match read_full(&mut r, &mut rest) {
            Ok(0) => {}
            Ok(_) => return Err(IdxError::TrailingBytes { dims, expected }),
            Err(e) if is_eof(&e) => {
                return Err(IdxError::Truncated {
                    dims,
                    expected,
                    found,
                });
            }
            Err(e) => return Err(io_err(e)),
        }
    }
    Ok(IdxArray { dims, data })
}

/// A labelled image set: `images` is `n × (height·width)` with grey levels in [0, 1] (one image
/// per row, row-major pixels), `labels[i]` the class of row `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    // Private so that they always agree: one label per row, `height · width` columns.
    images: Array2<f32>,
    labels: Vec<u8>,
    height: usize,
    width: usize,
}

/// Why [`Dataset::new`] or [`binarize`] refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatasetError {
    /// Not one label per image.
    #[error("labels: {labels} labels for {images} images (expected one per image)")]
    Labels { images: usize, labels: usize },
    /// The image size does not match the rows.
    #[error(
        "image size: {height} × {width} pixels, but the rows have {columns} (expected height · width)"
    )]
    Size {
        height: usize,
        width: usize,
        columns: usize,
    },
    /// A pixel is NaN, infinite or outside [0, 1].
    #[error("pixel [{row}, {col}] = {value}: pixels must be finite and in [0, 1]")]
    Pixel { row: usize, col: usize, value: f32 },
}

/// `Ok` if every pixel is finite and in [0, 1], else the first that is not.
fn check_pixels(x: ArrayView2<'_, f32>) -> Result<(), DatasetError> {
    match x.indexed_iter().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
        Some(((row, col), &value)) => Err(DatasetError::Pixel { row, col, value }),
        None => Ok(()),
    }
}

/// [`Dataset::select`] was given an index past the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("indices[{position}] = {index}, but the data set has {len} records (indices 0..{len})")]
pub struct IndexOutOfRange {
    /// Position of the bad index in the argument.
    pub position: usize,
    /// The index.
    pub index: usize,
    /// Records in the data set.
    pub len: usize,
}

/// The training and test splits of an MNIST-format data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// Training split.
    pub train: Dataset,
    /// Test split.
    pub test: Dataset,
}

impl Dataset {
    /// Builds a data set from decoded IDX arrays: a rank-3 image array and a rank-1 label array
    /// with the same number of records.
    pub fn from_idx(images: &IdxArray, labels: &IdxArray) -> Result<Dataset, IdxError> {
        let &[n, height, width] = images.dims() else {
            return Err(IdxError::WrongRank {
                found: images.dims().len(),
                expected: "3 (images)".into(),
            });
        };
        let &[m] = labels.dims() else {
            return Err(IdxError::WrongRank {
                found: labels.dims().len(),
                expected: "1 (labels)".into(),
            });
        };
        if n != m {
            return Err(IdxError::CountMismatch {
                images: n,
                labels: m,
            });
        }
        // With n = 0 the payload check cannot bound the image size: do it here.
        let pixels_per_image = height
            .checked_mul(width)
            .filter(|&p| p as u64 <= MAX_IDX_BYTES)
            .ok_or_else(|| IdxError::TooLarge {
                dims: images.dims().iter().map(|&d| d as u32).collect(),
                limit: MAX_IDX_BYTES,
            })?;
        let pixels: Vec<f32> = images
            .data()
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect();
        let images = Array2::from_shape_vec((n, pixels_per_image), pixels)
            .expect("IdxArray data length is the product of its dimensions");
        Ok(Dataset {
            images,
            labels: labels.data().to_vec(),
            height,
            width,
        })
    }

    /// Reads an image file and a label file (each gzipped or raw).
    pub fn load(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset, IdxError> {
        Dataset::from_idx(&read_idx(images)?, &read_idx(labels)?)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.nrows()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A data set from its images (one per row, pixels in [0, 1]), their labels and the image
    /// size; fails unless there is one label per image, `height · width` pixels per row and
    /// every pixel is finite and in [0, 1].
    pub fn new(
        images: Array2<f32>,
        labels: Vec<u8>,
        height: usize,
        width: usize,
    ) -> Result<Dataset, DatasetError> {
        if labels.len() != images.nrows() {
            return Err(DatasetError::Labels {
                images: images.nrows(),
                labels: labels.len(),
            });
        }
        match height.checked_mul(width) {
            Some(p) if p == images.ncols() => {}
            _ => {
                return Err(DatasetError::Size {
                    height,
                    width,
                    columns: images.ncols(),
                });
            }
        }
        check_pixels(images.view())?;
        Ok(Dataset {
            images,
            labels,
            height,
            width,
        })
    }

    /// The images x, one per row, pixel values in [0, 1].
    pub fn images(&self) -> &Array2<f32> {
        &self.images
    }

    /// The images, taking them out of the data set.
    pub fn into_images(self) -> Array2<f32> {
        self.images
    }

    /// The class of each image (the digit, for MNIST).
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Pixels per image, `height · width` (checked at construction).
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Image `i` as a flat row of pixels (`None` past the end).
    pub fn image(&self, i: usize) -> Option<ArrayView1<'_, f32>> {
        (i < self.len()).then(|| self.images.row(i))
    }

    /// The first `n` records (all of them when `n ≥ len()`), e.g. for a fast notebook mode.
    pub fn head(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: self.images.slice(ndarray::s![..n, ..]).to_owned(),
            labels: self.labels[..n].to_vec(),
            height: self.height,
            width: self.width,
        }
    }

    /// The records at `indices`, in that order (repeats allowed). Fails with
    /// [`IndexOutOfRange`] naming the first index that is not below [`len`](Self::len).
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, IndexOutOfRange> {
        let len = self.len();
        if let Some(position) = indices.iter().position(|&i| i >= len) {
            return Err(IndexOutOfRange {
                position,
                index: indices[position],
                len,
            });
        }
        Ok(Dataset {
            images: self.images.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            height: self.height,
            width: self.width,
        })
    }

    /// The first index of each class `0..classes` in order, e.g. one test digit per class.
    pub fn first_of_each_class(&self, classes: u8) -> Vec<usize> {
        (0..classes)
            .filter_map(|c| self.labels.iter().position(|&l| l == c))
            .collect()
    }
}

/// Reads the four MNIST files from `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` or `test-images-idx3-ubyte`, and the matching labels, each with or
/// without a `.gz` suffix. Works for full MNIST and Fashion-MNIST as distributed.
pub fn load_mnist(dir: impl AsRef<Path>) -> Result<Mnist, IdxError> {
    let dir = dir.as_ref();
    let find = |stems: &[&str]| -> PathBuf {
        for stem in stems {
            for name in [format!("{stem}.gz"), (*stem).to_string()] {
                let p = dir.join(&name);
                if p.exists() {
                    return p;
                }
            }
        }
        // Not found: report the first candidate through the usual I/O error.
        dir.join(format!("{}.gz", stems[0]))
    };
    let train = Dataset::load(
        find(&["train-images-idx3-ubyte", "train-images.idx3-ubyte"]),
        find(&["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"]),
    )?;
    let test = Dataset::load(
        find(&[
            "test-images-idx3-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-images.idx3-ubyte",
        ]),
        find(&[
            "test-labels-idx1-ubyte",
            "t10k-labels-idx1-ubyte",
            "t10k-labels.idx1-ubyte",
        ]),
    )?;
    Ok(Mnist { train, test })
}

/// The directory of the shipped MNIST-10k data set (`data/mnist-10k` in the repository).
pub fn mnist_10k_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist-10k")
}

/// The shipped MNIST-10k split: 9,000 training and 1,000 test digits (100 per class), 28×28.
pub fn mnist_10k() -> Result<Mnist, IdxError> {
    load_mnist(mnist_10k_dir())
}

/// One epoch of seeded mini-batches: a random permutation of `0..n` cut into chunks of
/// `batch_size` (the last one shorter when `batch_size` does not divide `n`; a `batch_size` of 0
/// is taken as 1).
///
/// ```
/// use elbo::data::shuffled_batches;
/// let batches = shuffled_batches(10, 4, 0);
/// assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// let mut all: Vec<usize> = batches.concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
pub fn shuffled_batches(n: usize, batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    shuffled_batches_from(n, batch_size, &mut SmallRng::seed_from_u64(seed))
}

/// [`shuffled_batches`] drawing from `rng` (the trainer's one stream over all epochs).
pub(crate) fn shuffled_batches_from(
    n: usize,
    batch_size: usize,
    rng: &mut impl Rng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Copies rows `indices` of `x` into `out` (reshaped to `indices.len() × x.ncols()`, reusing its
/// allocation when it is large enough). The trainer's indices are always in range; for user
/// indices use [`Dataset::select`].
///
/// # Panics
/// If an index is out of range.
pub(crate) fn gather_rows(x: ArrayView2<'_, f32>, indices: &[usize], out: &mut Array2<f32>) {
    let d = x.ncols();
    let mut buf = std::mem::take(out).into_raw_vec_and_offset().0;
    buf.clear();
    buf.reserve(indices.len() * d);
    for &i in indices {
        match x.row(i).as_slice() {
            Some(row) => buf.extend_from_slice(row),
            None => buf.extend(x.row(i).iter().copied()),
        }
    }
    *out = Array2::from_shape_vec((indices.len(), d), buf).expect("rows × columns elements");
}

/// Dynamic binarization, in place: each grey level p ∈ [0, 1] becomes a fresh Bernoulli(p) draw
/// (1 with probability p, else 0), seeded by `seed`, so every pass over the data can see a
/// different binary image. Fails, changing nothing, if a pixel is NaN, infinite or outside
/// [0, 1] (a NaN used to become 0 silently).
///
/// ```
/// use elbo::data::binarize;
/// use elbo::ndarray::array;
/// let mut x = array![[0.0f32, 1.0, 0.5]];
/// binarize(x.view_mut(), 1)?;
/// assert_eq!((x[[0, 0]], x[[0, 1]]), (0.0, 1.0));
/// assert!(x[[0, 2]] == 0.0 || x[[0, 2]] == 1.0);
/// let mut bad = array![[0.5f32, f32::NAN]];
/// assert!(binarize(bad.view_mut(), 1).is_err());
/// # Ok::<(), elbo::data::DatasetError>(())
/// ```
pub fn binarize(x: ArrayViewMut2<'_, f32>, seed: u64) -> Result<(), DatasetError> {
    check_pixels(x.view())?;
    binarize_from(x, &mut SmallRng::seed_from_u64(seed));
    Ok(())
}

/// [`binarize`] drawing from `rng` (the trainer's per-shard streams).
pub(crate) fn binarize_from(mut x: ArrayViewMut2<'_, f32>, rng: &mut impl Rng) {
    x.map_inplace(|p| {
        let u: f32 = rng.random();
        *p = if u < *p { 1.0 } else { 0.0 };
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn raw_and_gzipped_files_decode_the_same() {
        let data: Vec<u8> = (0..24).collect();
        let raw = idx(&[2, 3, 4], &data);
        let a = parse_idx(&raw).unwrap();
        let b = parse_idx(&gz(&raw)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.dims(), [2, 3, 4]);
        assert_eq!(a.data(), &data[..]);
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let mut raw = idx(&[1], &[5]);
        raw[0] = 0x12;
        assert!(matches!(parse_idx(&raw), Err(IdxError::BadMagic { .. })));
        assert!(matches!(
            parse_idx(b"PK\x03\x04zip"),
            Err(IdxError::BadMagic { .. })
        ));
    }

    #[test]
    fn unsupported_type_and_rank_are_rejected() {
        let mut raw = idx(&[1], &[5]);
        raw[2] = 0x0D; // f32
        assert!(matches!(
            parse_idx(&raw),
            Err(IdxError::UnsupportedType { code: 0x0D })
        ));
        assert!(matches!(
            parse_idx(&[0, 0, 8, 0]),
            Err(IdxError::WrongRank { found: 0, .. })
        ));
        assert!(matches!(
            parse_idx(&[0, 0, 8, 200]),
            Err(IdxError::WrongRank { found: 200, .. })
        ));
    }

    #[test]
    fn truncation_is_reported_in_header_and_data() {
        assert!(matches!(
            parse_idx(&[]),
            Err(IdxError::TruncatedHeader { found: 0, .. })
        ));
        assert!(matches!(
            parse_idx(&[0, 0, 8]),
            Err(IdxError::TruncatedHeader { found: 3, .. })
        ));
        let raw = idx(&[10, 10], &[1; 100]);
        assert!(matches!(
            parse_idx(&raw[..10]),
            Err(IdxError::TruncatedHeader {
                needed: 12,
                found: 10
            })
        ));
        let e = parse_idx(&raw[..60]).unwrap_err();
        assert!(
            matches!(
                e,
                IdxError::Truncated {
                    expected: 100,
                    found: 48,
                    ..
                }
            ),
            "{e}"
        );
        // a gzip stream cut short is truncation too, not a panic, wherever it is cut
        let noisy: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let z = gz(&idx(&[4000], &noisy));
        for cut in [5, 12, z.len() / 2, z.len() - 9, z.len() - 1] {
            let e = parse_idx(&z[..cut]).unwrap_err();
            assert!(
                matches!(
                    e,
                    IdxError::Truncated { .. } | IdxError::TruncatedHeader { .. }
                ),
                "cut at {cut}: {e}"
            );
        }
        let e = parse_idx(&z[..z.len() / 2]).unwrap_err();
        assert!(
            matches!(e, IdxError::Truncated { expected: 4000, .. }),
            "{e}"
        );
    }

    #[test]
    fn dimensions_that_disagree_with_the_length_are_rejected() {
        let raw = idx(&[3], &[1, 2, 3, 4]);
        assert!(matches!(
            parse_idx(&raw),
            Err(IdxError::TrailingBytes { expected: 3, .. })
        ));
        assert!(matches!(
            parse_idx(&gz(&raw)),
            Err(IdxError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn absurd_headers_are_rejected_without_allocating() {
        // 2^32 - 1 cubed overflows u64; 2^31 × 2^31 is beyond the limit
        let e = parse_idx(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[])).unwrap_err();
        assert!(matches!(e, IdxError::TooLarge { .. }), "{e}");
        let e = parse_idx(&idx(&[1 << 31, 1 << 31], &[])).unwrap_err();
        assert!(matches!(e, IdxError::TooLarge { .. }), "{e}");
        // within the limit but absent: truncated, and the buffer stayed small
        let e = parse_idx(&idx(&[1 << 29], &[0; 16])).unwrap_err();
        assert!(matches!(e, IdxError::Truncated { found: 16, .. }), "{e}");
    }

    #[test]
    fn corrupt_gzip_is_a_typed_error() {
        let mut z = gz(&idx(&[4], &[1, 2, 3, 4]));
        let n = z.len();
        z[n - 8] ^= 0xff; // CRC32 of the trailer
        let e = parse_idx(&z).unwrap_err();
        assert!(matches!(e, IdxError::Gzip(_)), "{e}");
        assert!(parse_idx(&[0x1f, 0x8b, 0, 0, 0]).is_err());
    }

    #[test]
    fn missing_file_names_the_path() {
        let e = read_idx("/nonexistent/train-images-idx3-ubyte.gz").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/train-images"), "{e}");
    }

    #[test]
    fn images_and_labels_must_agree() {
        let images = parse_idx(&idx(&[2, 1, 2], &[0, 255, 51, 102])).unwrap();
        let labels = parse_idx(&idx(&[2], &[3, 7])).unwrap();
        let d = Dataset::from_idx(&images, &labels).unwrap();
        assert_eq!(d.images, ndarray::array![[0.0, 1.0], [0.2, 0.4]]);
        assert_eq!(
            (d.labels.as_slice(), d.height, d.width),
            (&[3u8, 7][..], 1, 2)
        );
        let three = parse_idx(&idx(&[3], &[1, 2, 3])).unwrap();
        assert!(matches!(
            Dataset::from_idx(&images, &three),
            Err(IdxError::CountMismatch {
                images: 2,
                labels: 3
            })
        ));
        assert!(matches!(
            Dataset::from_idx(&labels, &labels),
            Err(IdxError::WrongRank { .. })
        ));
    }

    #[test]
    fn shipped_mnist_10k_loads() {
        let m = mnist_10k().unwrap();
        assert_eq!((m.train.len(), m.test.len()), (9000, 1000));
        assert_eq!((m.train.height, m.train.width), (28, 28));
        for c in 0..10u8 {
            assert_eq!(m.test.labels.iter().filter(|&&l| l == c).count(), 100);
        }
        let max = m.train.images.iter().fold(0.0f32, |a, &b| a.max(b));
        assert_eq!(max, 1.0);
        assert_eq!(m.test.first_of_each_class(10).len(), 10);
    }

    #[test]
    fn batches_are_seeded_permutations() {
        let a = shuffled_batches(100, 32, 7);
        let b = shuffled_batches(100, 32, 7);
        let c = shuffled_batches(100, 32, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut all = a.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        let mut out = Array2::zeros((0, 0));
        let x = Array2::from_shape_fn((5, 3), |(i, j)| (i * 3 + j) as f32);
        gather_rows(x.view(), &[4, 0], &mut out);
        assert_eq!(out, ndarray::array![[12.0, 13.0, 14.0], [0.0, 1.0, 2.0]]);
    }

    #[test]
    fn select_keeps_order_and_refuses_out_of_range_indices() {
        let m = mnist_10k().unwrap();
        let s = m.test.select(&[5, 0, 5]).unwrap();
        assert_eq!(
            s.labels,
            [m.test.labels[5], m.test.labels[0], m.test.labels[5]]
        );
        assert_eq!(s.images.row(1), m.test.images.row(0));
        let e = m.test.select(&[3, 1000, 7]).unwrap_err();
        assert_eq!(
            e,
            IndexOutOfRange {
                position: 1,
                index: 1000,
                len: 1000
            }
        );
        assert!(e.to_string().contains("indices[1] = 1000"));
        assert_eq!(m.test.select(&[]).unwrap().len(), 0);
    }

    #[test]
    fn binarization_is_bernoulli_with_the_grey_level_as_mean() {
        let mut x = Array2::from_elem((200, 100), 0.3f32);
        binarize(x.view_mut(), 3).unwrap();
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
        let mean = x.mean().unwrap();
        // 20,000 draws: standard error sqrt(0.21 / 20000) ≈ 0.0032
        assert!((mean - 0.3).abs() < 0.015, "{mean}");
    }
}
