//! Fuzz-style run of the IDX reader and the checkpoint loader on the stable toolchain:
//!
//! ```text
//! cargo run --release -p elbo --example fuzz -- 1000000 [seed]
//! ```
//!
//! tries that many inputs for each reader (random, and valid files mutated), prints the inputs
//! tried and the rejections by error kind, and exits non-zero on any panic or any allocation out
//! of proportion to the input. The harness is shared with `tests/fuzz.rs`.

#[path = "../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

#[global_allocator]
static ALLOC: fuzz_harness::Counting = fuzz_harness::Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .map(|a| a.parse().expect("the count of inputs, e.g. 1000000"))
        .unwrap_or(100_000);
    let seed: u64 = args.next().map(|a| a.parse().expect("a seed")).unwrap_or(0);
    // Panics are caught and counted by the harness: keep their messages off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let start = std::time::Instant::now();
    let idx = fuzz_harness::fuzz_idx(count, seed);
    idx.print("idx");
    let ckpt = fuzz_harness::fuzz_checkpoint(count, seed.wrapping_add(1));
    ckpt.print("checkpoint");
    println!(
        "{} inputs in {:.1} s",
        idx.inputs + ckpt.inputs,
        start.elapsed().as_secs_f64()
    );
    if !idx.failures.is_empty() || !ckpt.failures.is_empty() {
        std::process::exit(1);
    }
}
