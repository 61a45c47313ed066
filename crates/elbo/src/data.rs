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
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use std::path::{Path, PathBuf};

mod idx;
pub use idx::{
    IdxArray, IdxError, MAX_IDX_BYTES, MAX_IDX_RANK, parse_idx, read_idx, read_idx_from,
};

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
mod tests;
