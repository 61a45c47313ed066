//! The fuzz-style harness (see `fuzz_harness`) at a count that fits `cargo test`: random and
//! mutated IDX files and checkpoints, no panic, every rejection typed, allocations bounded by
//! the input. `cargo run --release -p elbo --example fuzz -- 1000000` runs millions.

mod fuzz_harness;

#[global_allocator]
static ALLOC: fuzz_harness::Counting = fuzz_harness::Counting;

#[test]
fn idx_reader_survives_random_and_mutated_files() {
    let r = fuzz_harness::fuzz_idx(20_000, 1);
    r.print("idx");
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert!(r.accepted > 100 && r.rejected.len() >= 5, "{r:?}");
}

#[test]
fn checkpoint_loader_survives_random_and_mutated_files() {
    let r = fuzz_harness::fuzz_checkpoint(5_000, 2);
    r.print("checkpoint");
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert!(r.accepted > 100 && r.rejected.len() >= 4, "{r:?}");
}
