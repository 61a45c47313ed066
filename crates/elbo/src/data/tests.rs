//! Tests of [`crate::data`](super).

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
