//! Randomness: every public routine of the VAE takes a `u64` seed, so a notebook never handles a
//! generator. Inside, parallel chunks draw from streams whose seeds [`stream`] derives from the
//! caller's seed and the chunk number, so results do not depend on the thread count.

use super::scalar::Real;
use crate::estimators::stream::{GOLDEN_GAMMA, mix64};
use crate::rand::SeedableRng;
use crate::rand::rngs::SmallRng;
use crate::rand_distr::{Distribution, StandardNormal};
use ndarray::Array2;

/// A `rows × cols` matrix of independent N(0, 1) draws, seeded by `seed`.
///
/// ```
/// let z = elbo::vae::standard_normal::<f32>(64, 2, 7);
/// assert_eq!(z, elbo::vae::standard_normal::<f32>(64, 2, 7)); // same seed, same draws
/// ```
pub fn standard_normal<T: Real>(rows: usize, cols: usize, seed: u64) -> Array2<T> {
    standard_normal_from(rows, cols, &mut SmallRng::seed_from_u64(seed))
}

/// [`standard_normal`] drawing from `rng` (the engine's chunked loops).
pub(crate) fn standard_normal_from<T: Real>(
    rows: usize,
    cols: usize,
    rng: &mut SmallRng,
) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::from_f64(StandardNormal.sample(rng)))
}

/// A seed for stream `i` derived from `seed`, so that parallel chunks draw independent,
/// reproducible noise: the crate's one seed mixer ([`mix64`], SplitMix64's finalizer) applied
/// to `seed ⊕ (i + 1)·γ` with γ SplitMix64's golden-ratio increment.
pub(crate) fn stream(seed: u64, i: u64) -> u64 {
    mix64(seed ^ i.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA))
}

/// The generator of stream `i` of `seed`.
pub(crate) fn stream_rng(seed: u64, i: u64) -> SmallRng {
    SmallRng::seed_from_u64(stream(seed, i))
}
