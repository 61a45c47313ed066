//! A variational autoencoder written out by hand: layers with their backward rules, the ELBO and
//! its gradient, the importance-weighted bound, Adam, data-parallel training, checkpoints.
//!
//! Notation (as in the notebooks): the encoder with parameters φ gives the approximate posterior
//! q_φ(z|x) = N(μ_φ(x), diag σ²_φ(x)); the decoder with parameters θ gives the likelihood
//! p_θ(x|z) = Πⱼ Bernoulli(xⱼ; σ(lⱼ(z))) over the D pixels; the prior is p(z) = N(0, I). For each
//! example,
//!
//! ```text
//! ELBO(x) = E_{z∼q_φ(z|x)}[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z)) ≤ log p_θ(x),
//! ```
//!
//! estimated with one reparameterized sample z = μ + σ ⊙ ε, ε ∼ N(0, I), and the KL in closed form.
//! Training maximizes Σᵢ ELBO(xᵢ) over a mini-batch, i.e. minimizes the summed
//! "BCE + KL" loss of pytorch/examples.
//!
//! | file | what |
//! |---|---|
//! | [`ops`] | the steps of the ELBO, one file each, forward and backward side by side: [`ops::linear`], [`ops::sparse`] (the first layer by the nonzeros of x), [`ops::activation`], [`ops::reparam`], [`ops::kl`], [`ops::bernoulli`] |
//! | [`mlp`] | [`Mlp`]: layers and activations chained, forward and backward |
//! | [`model`] | [`Vae`]: the ELBO and its gradient as a composition of the ops ([`Vae::loss_and_grad`]), [`Gradients`] |
//! | [`eval`] | encode, decode, sample, [`Vae::elbo`], [`Vae::iwae`], [`Vae::forward_trace`], [`interpolate`], [`latent_grid`] |
//! | [`trace`] | [`ForwardTrace`]: every intermediate of one forward pass, printed step by step |
//! | [`terms`] | [`ElboTerms`]: `elbo = rec − kl`, per example or one value |
//! | [`config`] | [`VaeConfig`], [`Mode`] |
//! | [`error`] | [`VaeError`] |
//! | [`noise`] | seeds: [`standard_normal`], the per-chunk streams that make results independent of the thread count |
//! | [`adam`] | the optimizer, its update rule and the rule's fast kernel |
//! | [`train`](mod@train) | [`Trainer`]: epochs, KL warm-up, cosine learning rate, time budget |
//! | [`history`] | [`History`]: per-epoch statistics as a `DataFrame` and as series to plot |
//! | [`inspect`] | inside a trained model: [`moment_match`] (the cloud of codes), [`Vae::latent_usage`] (KL and activity per latent dimension: posterior collapse), [`variety`], [`nearest_sq_dist`], [`latent_scatter`] |
//! | [`checkpoint`] | save/load as safetensors |
//! | [`scalar`] | the `f32`/`f64` number type and what the fast `f32` kernels share |
//!
//! Randomness: every public routine takes a `u64` seed (no generator types in the API).
//!
//! ```no_run
//! use elbo::vae::{Trainer, TrainConfig, Vae, VaeConfig};
//! let mnist = elbo::data::mnist_10k()?;
//! let vae = Vae::new(VaeConfig::default())?;                 // 784-400-20, ReLU
//! let mut trainer = Trainer::new(vae, TrainConfig::default())?; // Adam 1e-3, batch 128, 10 epochs
//! trainer.fit(mnist.train.images().view(), Some(mnist.test.images().view()))?; // one line per epoch
//! let vae = trainer.into_model();
//! let test = vae.elbo(mnist.test.images().view(), 5, 0)?;
//! println!("test -ELBO: {:.2}", -test.mean_elbo());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Speed: one training step is a dozen matrix products (the `gemm` crate, whose AVX-512/AVX2
//! kernels are picked at run time; ndarray's `matrixmultiply` without the default `gemm`
//! feature) plus elementwise loops written to vectorize (compiled for AVX2+FMA and selected at
//! run time). The first layer visits only the nonzero pixels of x (about 19% on MNIST) for `x W`
//! and `xᵀ ∂Y`. The mini-batch is split over the cores and each core runs a whole
//! forward/backward pass on its part; Adam then applies the sum of the parts' gradients.
//! On the 2-core benchmark machine one core trains the pytorch/examples model about twice as
//! fast as one core of PyTorch does (`cargo xtask bench vae` compares both on two cores).

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod eval;
pub mod history;
pub mod inspect;
pub mod mlp;
pub mod model;
pub mod noise;
pub mod ops;
pub mod scalar;
pub mod terms;
pub mod trace;
pub mod train;

#[cfg(test)]
mod pinned;
#[cfg(test)]
mod tests;

pub use adam::{Adam, AdamConfig};
pub use checkpoint::CheckpointError;
pub use config::{MAX_PARAMETERS, Mode, VaeConfig};
pub use error::VaeError;
pub use eval::{Encoding, MAX_GRID_SIDE, interpolate, latent_grid};
pub use history::{EpochStats, History};
pub use inspect::{
    ACTIVE_THRESHOLD, LatentUsage, latent_scatter, median, moment_match, nearest_sq_dist, variety,
};
pub use mlp::Mlp;
pub use model::{Gradients, Vae};
pub use noise::standard_normal;
pub use ops::{Activation, Linear};
pub use scalar::Real;
pub use terms::ElboTerms;
pub use trace::ForwardTrace;
pub use train::{LrSchedule, TrainConfig, Trainer, kl_weight, train};
