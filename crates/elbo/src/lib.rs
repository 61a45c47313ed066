//! # elbo — the support crate of the ELBO notebooks
//!
//! Every notebook in `notebooks/` starts with
//!
//! ```text
//! :dep elbo = { path = "../crates/elbo" }
//! use elbo::prelude::*;
//! ```
//!
//! and then only tells the story: the mathematics lives here, one module per topic, so that the
//! function behind any equation in a notebook is one step away.
//!
//! | module | what it holds | notebook |
//! |---|---|---|
//! | [`info`] | discrete distributions, entropy, cross-entropy, KL, Jensen–Shannon, total variation | 1 |
//! | [`kl_fit`] | forward against reverse KL: the best Gaussian for a bimodal mixture by moment matching (forward) and by numerical minimisation (reverse) | 1 |
//! | [`gaussian`] | diagonal Gaussians: log-density, closed-form KL, reparameterized sampling | 2, 3 |
//! | [`linear_gaussian`] | the linear-Gaussian latent model: exact evidence, posterior and ELBO; full-covariance Gaussians | 3 |
//! | [`evidence`] | the evidence of the conjugate isotropic linear-Gaussian model, exactly and by prior or importance sampling, with the estimators' exact relative variances | 2 |
//! | [`estimators`] | Monte Carlo gradient estimators (pathwise, score function, baselines), quadrature | 2 |
//! | [`data`] | the IDX (MNIST) reader, splits, batching, binarization | 3 |
//! | [`vae`] | the ELBO's steps in [`vae::ops`] (forward, backward, fast kernel and tests side by side), the model composed from them, ELBO, IWAE, Adam, training, checkpoints | 3 |
//! | [`check`] | executable checks that print what they verified and panic when the maths is wrong | all |
//! | [`plot`] | figures (SVG) that display inline in evcxr and save to files | all |
//! | [`table`] | polars `DataFrame`s displayed as HTML tables | all |
//!
//! Conventions: natural logarithms (nats) unless a unit says otherwise; f64 for information theory
//! and Monte Carlo estimators, f32 for the VAE; every random routine takes an explicit seed.
//!
//! Bad input: values are validated where they enter (constructors, builders, `render`), types
//! that carry invariants keep their fields private, and a bad argument gets a typed error (a
//! small `thiserror` enum per module) whose message names the argument, what was wrong and what
//! was expected. No public function of `info`, `gaussian`, `estimators`, `plot` or `table`
//! panics, hangs or allocates beyond what its arguments ask for; where NaN or ±∞ has a correct
//! meaning (D_KL = +∞ where q = 0 < p, ln p(±∞) = −∞) the function's documentation says so.
//! The [`check`] helpers panic by design, with a message naming the claim.

pub mod check;
pub mod data;
pub mod estimators;
pub mod evidence;
pub mod gaussian;
pub mod info;
pub mod kl_fit;
pub mod linear_gaussian;
pub mod plot;
pub mod table;
pub mod vae;

/// Whether the notebooks should run their fast configuration: true when the environment variable
/// `ELBO_FAST` is set to anything but `0` (the test command sets it; `cargo xtask render` does not).
pub fn fast_mode() -> bool {
    std::env::var("ELBO_FAST").is_ok_and(|v| v != "0")
}

/// The numeric base, re-exported at the pinned versions so a notebook needs a single `:dep`.
pub use ndarray;
pub use ndarray_rand;
pub use ndarray_rand::{rand, rand_distr};
pub use plotters;
pub use polars;

/// What a notebook imports with `use elbo::prelude::*;`.
pub mod prelude {
    pub use crate::check;
    pub use crate::fast_mode;
    pub use crate::plot::{Chart, Figure, SeriesLabelPosition, image_grid};
    pub use crate::table::Table;
    pub use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, array, s};
    pub use polars::prelude::{DataFrame, NamedFrom, Series, df};
}
