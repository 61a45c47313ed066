//! A fuzz-style harness on the stable toolchain for the two readers of untrusted files: the IDX
//! reader (`elbo::data::parse_idx`) and the checkpoint loader (`Vae::from_safetensors`).
//!
//! Each input is a valid file (random dimensions and contents, raw or gzipped for IDX; a random
//! small architecture for checkpoints), then mutated 0–8 times: bit flips, interesting bytes,
//! truncation, extension, insertion, deletion, splices, header fields (dimensions, JSON
//! metadata values) replaced by huge or malformed ones — or just random bytes. For every input
//! the harness checks: no panic (caught and reported), every rejection a typed error (counted by
//! kind), and no single allocation larger than a bound proportional to the input — so nothing is
//! sized from an unchecked header. The allocation check needs the [`Counting`] allocator
//! installed as the global allocator of the binary that runs the harness.
//!
//! Shared by `tests/fuzz.rs` (a small count in `cargo test`) and `examples/fuzz.rs` (millions).

#![allow(dead_code)]

use elbo::rand::rngs::SmallRng;
use elbo::rand::{Rng, SeedableRng};
use elbo::vae::{Activation, CheckpointError, Mode, Vae, VaeConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, recording the largest single allocation of the current thread.
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn record(size: usize) {
    // `try_with`: never panic inside the allocator (e.g. during thread teardown)
    let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
}

/// Runs `f`, returning its result and the largest single allocation it made on this thread.
fn measured<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|m| m.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// What a run saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs accepted.
    pub accepted: u64,
    /// Rejections by error kind.
    pub rejected: BTreeMap<String, u64>,
    /// Failures: panics and out-of-proportion allocations (with the input's length).
    pub failures: Vec<String>,
    /// The largest allocation as a multiple of the input's length, over all inputs.
    pub worst_alloc_ratio: f64,
}

impl Report {
    /// Prints the counts, one line per kind.
    pub fn print(&self, name: &str) {
        println!(
            "{name}: {} inputs, {} accepted, {} rejected, {} failures; largest allocation {:.1}× the input",
            self.inputs,
            self.accepted,
            self.rejected.values().sum::<u64>(),
            self.failures.len(),
            self.worst_alloc_ratio
        );
        for (kind, n) in &self.rejected {
            println!("  rejected {kind:<40} {n:>10}");
        }
        for f in self.failures.iter().take(10) {
            println!("  FAILURE {f}");
        }
    }

    fn check<T, E: std::fmt::Debug>(
        &mut self,
        input: &[u8],
        bound: usize,
        run: impl FnOnce() -> Result<T, E>,
        kind: impl Fn(&E) -> String,
    ) {
        self.inputs += 1;
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| measured(run)));
        match caught {
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                self.failures
                    .push(format!("panic `{msg}` on input {}", hex(input)));
            }
            Ok((result, largest)) => {
                let ratio = largest as f64 / input.len().max(1) as f64;
                self.worst_alloc_ratio = self.worst_alloc_ratio.max(ratio);
                if largest > bound {
                    self.failures.push(format!(
                        "allocation of {largest} bytes (bound {bound}) on a {}-byte input",
                        input.len()
                    ));
                }
                match result {
                    Ok(_) => self.accepted += 1,
                    Err(e) => *self.rejected.entry(kind(&e)).or_default() += 1,
                }
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    let shown: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
    format!(
        "{shown}{} ({} bytes)",
        if b.len() > 64 { "…" } else { "" },
        b.len()
    )
}

/// The variant name of an error's `Debug` form (`Truncated { .. }` → `Truncated`).
fn variant(e: &impl std::fmt::Debug) -> String {
    let d = format!("{e:?}");
    d.split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("")
        .to_string()
}

const INTERESTING: [u8; 8] = [0x00, 0x01, 0x08, 0x7f, 0x80, 0xfe, 0xff, b','];

/// Applies 0–8 random mutations to `b`.
fn mutate(rng: &mut SmallRng, b: &mut Vec<u8>, other: &[u8]) {
    let n = rng.random_range(0..=8);
    for _ in 0..n {
        let len = b.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] = INTERESTING[rng.random_range(0..INTERESTING.len())];
            }
            2 if len > 0 => b.truncate(rng.random_range(0..len)),
            3 => {
                let extra = rng.random_range(1..64);
                b.extend((0..extra).map(|_| rng.random::<u8>()));
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                b.insert(i, rng.random());
            }
            5 if len > 0 => {
                b.remove(rng.random_range(0..len));
            }
            6 if len > 0 && !other.is_empty() => {
                // splice a piece of another valid input
                let i = rng.random_range(0..len);
                let j = rng.random_range(0..other.len());
                let k = rng.random_range(j..other.len().min(j + 64) + 1);
                b.splice(i..len.min(i + (k - j)), other[j..k].iter().copied());
            }
            7 if len >= 4 => {
                // a 32-bit big-endian field set to a huge or boundary value
                let i = rng.random_range(0..=len - 4);
                let v: u32 =
                    [u32::MAX, 0x8000_0000, 0x0001_0000, 0, 1, 60_000][rng.random_range(0..6)];
                b[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            8 if len >= 8 => {
                let i = rng.random_range(0..=len - 8);
                let v: u64 = [u64::MAX, 1 << 40, 100_000_000, 0][rng.random_range(0..4)];
                b[i..i + 8].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// A valid IDX file: rank 1–4, small random dimensions, random bytes; gzipped half the time
/// (then `true`).
fn valid_idx(rng: &mut SmallRng) -> (Vec<u8>, bool) {
    let rank = rng.random_range(1..=4usize);
    let dims: Vec<u32> = (0..rank).map(|_| rng.random_range(0..=12)).collect();
    let n: usize = dims.iter().map(|&d| d as usize).product();
    let mut v = vec![0, 0, 8, rank as u8];
    for d in &dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend((0..n).map(|_| rng.random::<u8>()));
    if rng.random_bool(0.5) {
        (gzip(&v), true)
    } else {
        (v, false)
    }
}

/// Tries `count` IDX inputs from `seed`.
pub fn fuzz_idx(count: u64, seed: u64) -> Report {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut report = Report::default();
    let mut other = valid_idx(&mut rng).0;
    for i in 0..count {
        let mut input = if i % 16 == 0 {
            let n = rng.random_range(0..96);
            (0..n).map(|_| rng.random::<u8>()).collect()
        } else {
            valid_idx(&mut rng).0
        };
        mutate(&mut rng, &mut input, &other);
        if i % 8 == 1 && !input.starts_with(&[0x1f, 0x8b]) {
            // a mutated raw file inside a valid gzip stream
            input = gzip(&input);
        }
        // what the reader will see: the gzip magic (also in random or mutated bytes) means a
        // decoder, whose fixed-size window is allowed for
        let gz = input.starts_with(&[0x1f, 0x8b]);
        // Raw input: the reader may keep the data plus one byte (a vector doubling as it reads,
        // with std's small minimum capacity). Gzip can inflate ~1000×, so its bound is
        // proportional to that — but never to a header's claims, which reach 1 GiB.
        let bound = if gz {
            2048 * input.len() + (64 << 10)
        } else {
            4 * input.len() + (16 << 10)
        };
        report.check(&input, bound, || elbo::data::parse_idx(&input), variant);
        if i % 64 == 0 {
            other = input;
        }
    }
    report
}

/// A valid checkpoint of a random small architecture.
fn valid_checkpoint(rng: &mut SmallRng) -> Vec<u8> {
    let hidden: Vec<usize> = (0..rng.random_range(0..=2))
        .map(|_| rng.random_range(1..=6))
        .collect();
    let config = VaeConfig {
        input_dim: rng.random_range(1..=10),
        hidden,
        latent: rng.random_range(1..=3),
        activation: Activation::ALL[rng.random_range(0..4)],
        mode: if rng.random_bool(0.8) {
            Mode::Vae
        } else {
            Mode::Autoencoder
        },
        seed: rng.random(),
    };
    Vae::<f32>::new(config)
        .expect("a valid configuration")
        .to_safetensors()
}

const METADATA_VALUES: [&str; 10] = [
    "4000000000",
    "18446744073709551615",
    "100000,100000",
    "0",
    "",
    "-1",
    "1,,2",
    "65536",
    "relu",
    "autoencoder",
];

/// Replaces one quoted JSON string value of the header by an adversarial one.
fn mutate_metadata(rng: &mut SmallRng, b: &mut Vec<u8>) {
    let Some(header_len) = b
        .get(..8)
        .map(|h| u64::from_le_bytes(h.try_into().unwrap()))
    else {
        return;
    };
    let end = (8 + header_len as usize).min(b.len());
    let header = String::from_utf8_lossy(&b[8..end]).into_owned();
    let quotes: Vec<usize> = header.match_indices('"').map(|(i, _)| i).collect();
    if quotes.len() < 2 {
        return;
    }
    let k = rng.random_range(0..quotes.len() / 2) * 2;
    let (s, e) = (quotes[k] + 1, quotes[k + 1]);
    let new_value = METADATA_VALUES[rng.random_range(0..METADATA_VALUES.len())];
    let new_header = format!("{}{}{}", &header[..s], new_value, &header[e..]);
    let mut out = Vec::with_capacity(b.len() + 32);
    out.extend_from_slice(&(new_header.len() as u64).to_le_bytes());
    out.extend_from_slice(new_header.as_bytes());
    out.extend_from_slice(&b[end..]);
    *b = out;
}

/// Tries `count` checkpoint inputs from `seed`.
pub fn fuzz_checkpoint(count: u64, seed: u64) -> Report {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut report = Report::default();
    let mut other = valid_checkpoint(&mut rng);
    for i in 0..count {
        let mut input = if i % 32 == 0 {
            let n = rng.random_range(0..256);
            (0..n).map(|_| rng.random::<u8>()).collect()
        } else {
            valid_checkpoint(&mut rng)
        };
        // metadata only, bytes only, or both: most byte mutations break the safetensors
        // framing, so the metadata-only inputs are what reach the architecture checks
        let how = rng.random_range(0..3);
        if how != 1 {
            mutate_metadata(&mut rng, &mut input);
        }
        if how != 0 {
            mutate(&mut rng, &mut input, &other);
        }
        // The model built from a file holds at most as many bytes as the file; parsing the JSON
        // header costs a small multiple of it.
        let bound = 16 * input.len() + (16 << 10);
        report.check(
            &input,
            bound,
            || Vae::from_safetensors(&input, "fuzz"),
            |e: &CheckpointError| match e {
                CheckpointError::Metadata { key, .. } => format!("Metadata `{key}`"),
                other => variant(other),
            },
        );
        if i % 64 == 0 {
            other = input;
        }
    }
    report
}
