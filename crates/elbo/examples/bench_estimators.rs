//! Throughput of the Monte Carlo gradient estimators, for `cargo xtask bench estimators`.
//!
//! Estimates ∇θ E[x²] for x ∼ N(θ, σ²) with the pathwise, score-function and optimal-baseline
//! estimators, streaming n samples over every core, and prints one JSON line per estimator:
//!
//! ```text
//! {"metric": "pathwise samples/s", "value": 1.23e8, "better": "higher"}
//! ```
//!
//! Every other line is a log line. The numpy peer (`bench/estimators/peer.py`) runs the same
//! estimators with the same n, θ and σ; both sides report the best of `REPEATS` timed runs after
//! one warm-up. `ELBO_BENCH_N` overrides n (default 5·10⁷).

use elbo::estimators::{Estimator, Gaussian, Sampling, Square, estimate};
use std::time::Instant;

const THETA: f64 = 1.5;
const SIGMA: f64 = 1.0;
const REPEATS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = match std::env::var("ELBO_BENCH_N") {
        Ok(s) => s.parse()?,
        Err(_) => 50_000_000,
    };
    let p = Gaussian::new(THETA, SIGMA)?;
    let threads = std::thread::available_parallelism().map_or(1, |k| k.get());
    println!(
        "n = {n}, θ = {THETA}, σ = {SIGMA}, threads = {threads}, best of {REPEATS} after a warm-up"
    );
    let cases = [
        ("pathwise", Estimator::Pathwise),
        ("score-function", Estimator::Score),
        ("score+baseline", Estimator::ScoreOptimalBaseline),
    ];
    for (label, est) in cases {
        let run =
            |n: u64, seed: u64| estimate(est, &Square, p, Sampling::new(n, seed).threads(threads));
        run(n / 10 + 2, 0)?; // warm-up: page in code, spin up the cores
        let mut best = f64::INFINITY;
        let mut last = None;
        for r in 0..REPEATS {
            let start = Instant::now();
            let e = run(n, 1 + r as u64)?;
            best = best.min(start.elapsed().as_secs_f64());
            last = Some(e);
        }
        if let Some(e) = last {
            println!(
                "{label}: {e}; exact mean 2θ = {}, exact variance {}",
                2.0 * THETA,
                Square::variance(est, p)
            );
        }
        println!(
            "{{\"metric\": \"{label} samples/s\", \"value\": {:.4e}, \"better\": \"higher\"}}",
            n as f64 / best
        );
    }
    Ok(())
}
