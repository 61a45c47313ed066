//! Fuzz target: the IDX parser must never panic, never allocate from an unchecked header, and
//! every array it accepts must be consistent (data length = product of the dimensions), gzipped
//! or raw. Accepted rank-3 arrays must also convert into a `Dataset` without panicking.
#![no_main]

use elbo::data::{parse_idx, Dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(idx) = parse_idx(bytes) else {
        return;
    };
    let n: usize = idx.dims().iter().product();
    assert_eq!(n, idx.data().len(), "dims {:?}", idx.dims());
    if let [records, ..] = *idx.dims() {
        // a label file with as many records (bounded by the input size, since each record of a
        // non-empty image array takes at least one input byte, or records is 0 … or the images
        // are empty: cap it to stay small)
        let records = records.min(bytes.len());
        let mut labels = vec![0, 0, 8, 1];
        labels.extend_from_slice(&(records as u32).to_be_bytes());
        labels.resize(labels.len() + records, 7);
        let labels = parse_idx(&labels).expect("a well-formed label file");
        if let Ok(d) = Dataset::from_idx(&idx, &labels) {
            assert_eq!(d.images.nrows(), d.labels.len());
            assert!(d.images.iter().all(|&v| (0.0..=1.0).contains(&v)));
        }
    }
});
