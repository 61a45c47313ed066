//! [`VaeConfig`]: the architecture of a VAE, and [`Mode`]: VAE or plain autoencoder.

use super::error::VaeError;
use super::ops::Activation;

/// The most parameters a [`VaeConfig`] may describe (2³⁰, 4 GiB of `f32`).
pub const MAX_PARAMETERS: usize = 1 << 30;

/// What the model is trained as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Variational autoencoder: stochastic encoder q_φ(z|x) = N(μ, diag σ²), loss −ELBO.
    #[default]
    Vae,
    /// Plain autoencoder: deterministic code z = μ(x), loss −log p_θ(x|z), no KL term. Its
    /// "ELBO" columns report the reconstruction term only (KL = 0): it is not a bound.
    Autoencoder,
}

impl Mode {
    /// `vae` or `autoencoder` (checkpoint metadata).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Vae => "vae",
            Mode::Autoencoder => "autoencoder",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Mode> {
        [Mode::Vae, Mode::Autoencoder]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Architecture of a VAE: layer sizes, activation, latent dimension, mode and initialization seed.
///
/// The decoder mirrors the encoder: `hidden = [512, 256]` gives the encoder
/// `784 → 512 → 256 → 2·L` and the decoder `L → 256 → 512 → 784`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaeConfig {
    /// Dimension of x (784 for 28×28 images).
    pub input_dim: usize,
    /// Hidden layer widths of the encoder, input side first (the decoder uses them reversed).
    pub hidden: Vec<usize>,
    /// Dimension L of the latent z.
    pub latent: usize,
    /// Nonlinearity of every hidden layer.
    pub activation: Activation,
    /// VAE or plain autoencoder.
    pub mode: Mode,
    /// Seed of the weight initialization.
    pub seed: u64,
}

impl Default for VaeConfig {
    /// The pytorch/examples VAE: 784-400-20, ReLU.
    fn default() -> Self {
        VaeConfig {
            input_dim: 784,
            hidden: vec![400],
            latent: 20,
            activation: Activation::Relu,
            mode: Mode::Vae,
            seed: 0,
        }
    }
}

impl VaeConfig {
    /// The pytorch/examples architecture (same as `default()`): 784-400-20, ReLU.
    pub fn pytorch_example() -> Self {
        VaeConfig::default()
    }

    /// A stronger architecture for MNIST: 784-512-256 ELU, 32 latents.
    pub fn deep_elu() -> Self {
        VaeConfig {
            hidden: vec![512, 256],
            latent: 32,
            activation: Activation::Elu,
            ..VaeConfig::default()
        }
    }

    /// Layer widths of the encoder, `[input_dim, hidden…, 2·L]` (`L` for an autoencoder).
    pub fn encoder_sizes(&self) -> Vec<usize> {
        let out = match self.mode {
            // saturating: a huge latent is refused by `validate`, not an overflow panic
            Mode::Vae => self.latent.saturating_mul(2),
            Mode::Autoencoder => self.latent,
        };
        std::iter::once(self.input_dim)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(out))
            .collect()
    }

    /// Layer widths of the decoder, `[L, hidden reversed…, input_dim]`.
    pub fn decoder_sizes(&self) -> Vec<usize> {
        std::iter::once(self.latent)
            .chain(self.hidden.iter().rev().copied())
            .chain(std::iter::once(self.input_dim))
            .collect()
    }

    /// Multiply-adds of the matrix products of one training step per example (forward and
    /// backward; the first layer needs no input gradient). ×2 gives FLOPs: 3.28 M for 784-400-20.
    pub fn train_flops_per_example(&self) -> f64 {
        let macs = |sizes: &[usize]| -> (f64, f64) {
            let all: f64 = sizes.windows(2).map(|w| w[0] as f64 * w[1] as f64).sum();
            (all, sizes[0] as f64 * sizes[1] as f64)
        };
        let (enc, enc_first) = macs(&self.encoder_sizes());
        let (dec, _) = macs(&self.decoder_sizes());
        // forward 1×, backward: weight gradients 1×, input gradients 1× except the first layer
        2.0 * (3.0 * (enc + dec) - enc_first)
    }

    /// Number of scalar parameters (weights and biases of both networks), saturating at
    /// `usize::MAX`: what a model of this architecture holds, computed without building it.
    pub fn num_parameters(&self) -> usize {
        self.encoder_sizes()
            .windows(2)
            .chain(self.decoder_sizes().windows(2))
            .map(|w| w[0].saturating_mul(w[1]).saturating_add(w[1]))
            .fold(0usize, usize::saturating_add)
    }

    /// Checks that every width is at least 1 and the model has at most [`MAX_PARAMETERS`]
    /// parameters.
    pub fn validate(&self) -> Result<(), VaeError> {
        let zero = |what: String| Err(VaeError::ZeroWidth { what });
        if self.input_dim == 0 {
            return zero("input_dim".into());
        }
        if self.latent == 0 {
            return zero("latent".into());
        }
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return zero(format!("hidden[{i}]"));
        }
        let params = self.num_parameters();
        if params > MAX_PARAMETERS {
            return Err(VaeError::TooLarge {
                parameters: params,
                max: MAX_PARAMETERS,
            });
        }
        Ok(())
    }
}
