//! Streaming Monte Carlo: draw ε ∼ N(0, 1) (by the inlined ziggurat of [`super::ziggurat`]
//! from a `SmallRng`), evaluate a per-sample value, accumulate its mean and
//! variance without storing the samples, on one or several threads.
//!
//! Accumulation is Welford's update for single values and Chan, Golub & LeVeque's pairwise merge
//! for blocks and threads: the samples are generated into a fixed 256-entry stack buffer, the
//! block's sums about the running mean are taken in one pass over it (four independent lanes,
//! so the additions pipeline), and the block is merged into the running total.
//! Nothing is allocated per sample, and the variance never suffers the cancellation of
//! $\sum x^2 - n\bar x^2$.

use super::ziggurat::Tables;
use super::{Estimate, EstimatorError};
use crate::rand::SeedableRng;
use crate::rand::rngs::SmallRng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples generated per block before they are folded into the running moments.
const BLOCK: usize = 256;

/// How many samples to draw, from which seed, on how many threads.
///
/// A run is reproducible, and does not depend on the number of threads: the n samples are cut
/// into chunks of [`Sampling::CHUNK`], chunk c is drawn from its own stream seeded by a hash of
/// `(seed, c)`, threads take the next chunk whenever they are free (so a thread slowed down by
/// other work on the machine does not hold the others up), and the chunks' moments are merged in
/// chunk order. The same `n` and `seed` therefore give bit-identical results on 1 or 8 threads.
///
/// ```
/// use elbo::estimators::Sampling;
/// let s = Sampling::new(1_000_000, 42).threads(2);
/// assert_eq!((s.n, s.seed, s.threads), (1_000_000, 42, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Number of samples n.
    pub n: u64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Number of threads (≥ 1).
    pub threads: usize,
}

impl Sampling {
    /// Samples per chunk (a multiple of the 256-sample block).
    pub const CHUNK: u64 = 1 << 16;

    /// `n` samples from `seed` on one thread.
    pub fn new(n: u64, seed: u64) -> Self {
        Sampling {
            n,
            seed,
            threads: 1,
        }
    }

    /// The same run on `threads` threads (same result, less time; at most [`MAX_THREADS`] are
    /// spawned, and 0 is rejected by the functions that run it).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The same run on every core this machine reports.
    pub fn all_cores(self) -> Self {
        let k = std::thread::available_parallelism().map_or(1, |k| k.get());
        self.threads(k)
    }

    pub(crate) fn validate(&self) -> Result<(), EstimatorError> {
        if self.n < 2 {
            return Err(EstimatorError::TooFewSamples { n: self.n });
        }
        if self.threads == 0 {
            return Err(EstimatorError::NoThreads);
        }
        Ok(())
    }
}

/// Running mean and variance of a stream of values (Welford), mergeable across blocks and
/// threads (Chan et al.). `push` is allocation-free, so it can sit inside a sampling loop.
///
/// ```
/// use elbo::estimators::RunningMean;
/// let mut m = RunningMean::new();
/// for x in [1.0, 2.0, 3.0, 4.0] {
///     m.push(x);
/// }
/// let e = m.estimate();
/// assert_eq!((e.mean, e.variance, e.n), (2.5, 5.0 / 3.0, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunningMean {
    n: u64,
    mean: f64,
    /// Sum of squared deviations from the mean, $M_2 = \sum_i (x_i - \bar x)^2$.
    m2: f64,
}

impl RunningMean {
    /// No values yet.
    pub const fn new() -> Self {
        RunningMean {
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }

    /// Adds one value (a NaN or infinite value makes the mean and variance NaN or infinite from
    /// then on, as it should: the average of such values is not a number):
    /// $\bar x_n = \bar x_{n-1} + (x - \bar x_{n-1})/n$,
    /// $M_{2,n} = M_{2,n-1} + (x - \bar x_{n-1})(x - \bar x_n)$.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Merges another accumulator (Chan et al.): with $\delta = \bar y - \bar x$,
    /// $M_2 = M_{2,x} + M_{2,y} + \delta^2 n_x n_y / (n_x + n_y)$.
    pub fn merge(&mut self, other: &RunningMean) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let (na, nb, nf) = (self.n as f64, other.n as f64, n as f64);
        let d = other.mean - self.mean;
        self.mean += d * (nb / nf);
        self.m2 += other.m2 + d * d * (na * nb / nf);
        self.n = n;
    }

    /// Adds a slice of values in one pass, then [`RunningMean::merge`]s them.
    ///
    /// The block's sums are taken about a shift K, the running mean so far (or the block's first
    /// value): $S_1 = \sum (x_i - K)$, $S_2 = \sum (x_i - K)^2$, giving the block mean
    /// $K + S_1/m$ and $M_2 = S_2 - S_1^2/m$. Since K is already close to the mean, $S_1^2/m$ is
    /// small against $S_2$ and the subtraction loses nothing (Chan, Golub & LeVeque 1983).
    pub fn extend_from_slice(&mut self, xs: &[f64]) {
        let Some(&first) = xs.first() else {
            return;
        };
        let k = if self.n > 0 { self.mean } else { first };
        let m = xs.len() as f64;
        let (s1, s2) = shifted_sums(xs, k);
        self.merge(&RunningMean {
            n: xs.len() as u64,
            mean: k + s1 / m,
            m2: (s2 - s1 * s1 / m).max(0.0),
        });
    }

    /// Number of values n.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The mean so far (0 before any value).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The estimate so far: mean, sample variance $M_2/(n-1)$ and standard error
    /// $\sqrt{M_2/(n-1)/n}$ (NaN variance and standard error while n < 2).
    pub fn estimate(&self) -> Estimate {
        let variance = if self.n >= 2 {
            self.m2 / (self.n - 1) as f64
        } else {
            f64::NAN
        };
        Estimate {
            mean: if self.n == 0 { f64::NAN } else { self.mean },
            variance,
            std_error: (variance / self.n as f64).sqrt(),
            n: self.n,
        }
    }
}

/// $(\sum_i (x_i - k), \sum_i (x_i - k)^2)$ with four independent accumulators each, so
/// that consecutive additions do not wait on each other (one running sum is latency-bound).
#[inline]
fn shifted_sums(xs: &[f64], k: f64) -> (f64, f64) {
    let mut chunks = xs.chunks_exact(4);
    let mut s1 = [0.0; 4];
    let mut s2 = [0.0; 4];
    for q in &mut chunks {
        for lane in 0..4 {
            let d = q[lane] - k;
            s1[lane] += d;
            s2[lane] += d * d;
        }
    }
    for &x in chunks.remainder() {
        let d = x - k;
        s1[0] += d;
        s2[0] += d * d;
    }
    (
        (s1[0] + s1[1]) + (s1[2] + s1[3]),
        (s2[0] + s2[1]) + (s2[2] + s2[3]),
    )
}

/// The golden-ratio increment of SplitMix64, 2⁶⁴/φ rounded to odd.
pub(crate) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 (Steele, Lea & Flood 2014): a bijective mixer used to derive stream seeds —
/// the golden-ratio step followed by [`mix64`].
pub(crate) fn splitmix64(z: u64) -> u64 {
    mix64(z.wrapping_add(GOLDEN_GAMMA))
}

/// SplitMix64's finalizer (Stafford's "Mix13" variant): a bijection of u64 whose every output
/// bit depends on every input bit. The crate's one seed mixer: the estimators' streams
/// ([`splitmix64`]) and the VAE's (`vae::seed::stream`) both derive their seeds with it.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of stream `stream` of run `seed`: independent-looking for distinct pairs.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> SmallRng {
    SmallRng::seed_from_u64(splitmix64(seed ^ splitmix64(stream)))
}

/// Draws `n` values ε ∼ N(0, 1) from `rng` in blocks of [`BLOCK`] (the last one partial) and
/// hands each block to `visit`. The block structure fixes which draws the stream yields, so
/// every consumer that walks n samples of a stream this way sees the same ε's.
pub(crate) fn for_each_block(rng: &mut SmallRng, n: u64, mut visit: impl FnMut(&[f64])) {
    let normal = Tables::get();
    let mut eps = [0.0_f64; BLOCK];
    let mut left = n;
    while left > 0 {
        let m = left.min(BLOCK as u64) as usize;
        normal.fill(rng, &mut eps[..m]);
        visit(&eps[..m]);
        left -= m as u64;
    }
}

/// Folds `g(ε)` for every ε of `eps` into `acc`, componentwise (nothing allocated: a slice of
/// at most [`BLOCK`] values is evaluated into stack buffers).
pub(crate) fn fold_block<const P: usize, G: Fn(f64) -> [f64; P]>(
    eps: &[f64],
    g: &G,
    acc: &mut [RunningMean; P],
) {
    let mut buf = [[0.0_f64; P]; BLOCK];
    for chunk_eps in eps.chunks(BLOCK) {
        let m = chunk_eps.len();
        for (slot, &e) in buf[..m].iter_mut().zip(chunk_eps) {
            *slot = g(e);
        }
        if P == 1 {
            acc[0].extend_from_slice(buf[..m].as_flattened());
        } else {
            let mut column = [0.0_f64; BLOCK];
            for (j, a) in acc.iter_mut().enumerate() {
                for (c, row) in column[..m].iter_mut().zip(&buf[..m]) {
                    *c = row[j];
                }
                a.extend_from_slice(&column[..m]);
            }
        }
    }
}

/// Draws `n` values ε ∼ N(0, 1) from `rng` and folds `g(ε)` into `acc`, componentwise.
pub(crate) fn accumulate<const P: usize, G: Fn(f64) -> [f64; P]>(
    rng: &mut SmallRng,
    n: u64,
    g: &G,
    acc: &mut [RunningMean; P],
) {
    for_each_block(rng, n, |eps| fold_block(eps, g, acc));
}

/// Calls `visit(c, rng, len)` for every chunk c of n samples, in order, with the chunk's own
/// stream and length: the one partition of a run into streams that every consumer shares.
pub(crate) fn for_each_chunk(seed: u64, n: u64, mut visit: impl FnMut(u64, &mut SmallRng, u64)) {
    for c in 0..n.div_ceil(Sampling::CHUNK) {
        let len = (n - c * Sampling::CHUNK).min(Sampling::CHUNK);
        visit(c, &mut stream_rng(seed, c), len);
    }
}

/// Most threads a run spawns, whatever [`Sampling::threads`] asks for: the result does not
/// depend on the thread count, and spawning thousands of threads would only fail.
pub const MAX_THREADS: usize = 256;

/// Chunks computed (in parallel) before their moments are merged: bounds the memory of a run
/// to `WINDOW` accumulators whatever n is.
const WINDOW: u64 = 1024;

/// Runs `g(ε)` over a [`Sampling`] (validated): window by window of [`WINDOW`] chunks, on up to
/// `threads` threads (at most [`MAX_THREADS`]) that claim chunks from a shared counter, merging
/// the chunks' moments in chunk order (so the result is bit-identical for any thread count).
pub(crate) fn run<const P: usize, G: Fn(f64) -> [f64; P] + Sync>(
    sampling: Sampling,
    g: G,
) -> Result<[RunningMean; P], EstimatorError> {
    sampling.validate()?;
    let (n, seed) = (sampling.n, sampling.seed);
    let chunks = n.div_ceil(Sampling::CHUNK);
    let one = |c: u64| {
        let mut acc = [RunningMean::new(); P];
        let len = (n - c * Sampling::CHUNK).min(Sampling::CHUNK);
        accumulate(&mut stream_rng(seed, c), len, &g, &mut acc);
        acc
    };
    let mut total = [RunningMean::new(); P];
    let mut start = 0;
    while start < chunks {
        let end = chunks.min(start + WINDOW);
        for part in &window(start, end, sampling.threads, &one) {
            for (a, b) in total.iter_mut().zip(part) {
                a.merge(b);
            }
        }
        start = end;
    }
    Ok(total)
}

/// The moments of chunks `start..end`, in chunk order, computed on up to `threads` threads.
fn window<const P: usize>(
    start: u64,
    end: u64,
    threads: usize,
    one: &(impl Fn(u64) -> [RunningMean; P] + Sync),
) -> Vec<[RunningMean; P]> {
    let workers = (threads.min(MAX_THREADS) as u64).min(end - start);
    let mut parts = vec![[RunningMean::new(); P]; (end - start) as usize];
    if workers == 1 {
        for (c, part) in (start..end).zip(parts.iter_mut()) {
            *part = one(c);
        }
    } else {
        let next = AtomicU64::new(start);
        let work = || {
            let mut done = Vec::new();
            loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                if c >= end {
                    return done;
                }
                done.push((c, one(c)));
            }
        };
        let finished: Vec<Vec<(u64, [RunningMean; P])>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let mut finished = vec![work()];
            // A worker can only fail by a panic inside `g`; re-raise it on this thread.
            finished.extend(
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
            );
            finished
        });
        for (c, acc) in finished.into_iter().flatten() {
            parts[(c - start) as usize] = acc;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_block_and_merge_agree_with_the_two_pass_formula() {
        let xs: Vec<f64> = (0..1000).map(|i| 1e6 + (i as f64 * 0.37).sin()).collect();
        let mean = xs.iter().sum::<f64>() / 1000.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 999.0;
        let mut a = RunningMean::new();
        xs.iter().for_each(|&x| a.push(x));
        let mut b = RunningMean::new();
        b.extend_from_slice(&xs[..300]);
        let mut c = RunningMean::new();
        c.extend_from_slice(&xs[300..]);
        b.merge(&c);
        for m in [a, b] {
            let e = m.estimate();
            assert_eq!(e.n, 1000);
            assert!((e.mean - mean).abs() < 1e-9);
            // Large offset, small spread: the naive Σx² − n x̄² would lose everything here.
            assert!(
                (e.variance / var - 1.0).abs() < 1e-8,
                "{} vs {var}",
                e.variance
            );
        }
    }

    #[test]
    fn too_few_values_give_nan_not_a_panic() {
        let mut m = RunningMean::new();
        assert!(m.estimate().mean.is_nan());
        m.push(3.0);
        let e = m.estimate();
        assert_eq!(e.mean, 3.0);
        assert!(e.variance.is_nan() && e.std_error.is_nan());
    }

    #[test]
    fn runs_are_reproducible_and_independent_of_the_thread_count() {
        let g = |e: f64| [e, e * e];
        let n = 5 * Sampling::CHUNK + 1001;
        let a = run(Sampling::new(n, 5).threads(3), g).unwrap();
        assert_eq!(a, run(Sampling::new(n, 5).threads(3), g).unwrap());
        assert_eq!(a, run(Sampling::new(n, 5), g).unwrap());
        assert_eq!(a, run(Sampling::new(n, 5).threads(2), g).unwrap());
        assert_eq!(a[0].count(), n);
        assert_ne!(a, run(Sampling::new(n, 6).threads(3), g).unwrap());
    }

    #[test]
    fn more_threads_than_samples_is_fine() {
        let [m] = run(Sampling::new(3, 1).threads(8), |e| [e]).unwrap();
        assert_eq!(m.count(), 3);
    }

    #[test]
    fn invalid_samplings_are_typed_errors() {
        assert!(matches!(
            run(Sampling::new(1, 0), |e| [e]),
            Err(EstimatorError::TooFewSamples { n: 1 })
        ));
        assert!(matches!(
            run(Sampling::new(10, 0).threads(0), |e| [e]),
            Err(EstimatorError::NoThreads)
        ));
    }

    #[test]
    fn standard_normal_moments_from_a_threaded_run() {
        // n = 4·10⁶: E[ε] = 0 with SE 5·10⁻⁴, E[ε²] = 1 with SE √2/2000 ≈ 7·10⁻⁴; allow 5 SE.
        let [m1, m2] = run(Sampling::new(4_000_000, 9).threads(2), |e| [e, e * e]).unwrap();
        let (e1, e2) = (m1.estimate(), m2.estimate());
        assert!(e1.mean.abs() < 5.0 * e1.std_error, "{e1:?}");
        assert!((e2.mean - 1.0).abs() < 5.0 * e2.std_error, "{e2:?}");
        assert!((e1.variance - 1.0).abs() < 5e-3);
    }
}
