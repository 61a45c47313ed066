//! The IDX file format of MNIST: a big-endian header (magic, element type, rank, dimensions)
//! followed by the elements, raw or gzipped. Every header field is checked against the bytes
//! actually present before anything is allocated from it.

use flate2::read::MultiGzDecoder;
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
