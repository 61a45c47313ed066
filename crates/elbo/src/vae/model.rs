//! The VAE: encoder q_φ(z|x), decoder p_θ(x|z), the ELBO and its gradient, the IWAE bound.
//!
//! ```text
//! x ─ encoder MLP ─→ (μ, log σ²) ─ z = μ + σ ⊙ ε, ε ∼ N(0, I) ─→ z ─ decoder MLP ─→ logits l
//! ELBO(x) = log p_θ(x|z) − KL(q_φ(z|x) ‖ N(0, I)),   log p_θ(x|z) = Σⱼ xⱼ lⱼ − softplus(lⱼ)
//! ```
//!
//! ```
//! use elbo::vae::{Vae, VaeConfig};
//! use elbo::ndarray::Array2;
//! let vae = Vae::<f32>::new(VaeConfig { hidden: vec![64], latent: 2, ..VaeConfig::default() }).unwrap();
//! let x = Array2::<f32>::from_elem((5, 784), 0.5);   // B × 784
//! let q = vae.encode(x.view()).unwrap();
//! assert_eq!(q.mu.dim(), (5, 2));                     // μ: B × L
//! let images = vae.decode(q.mu.view()).unwrap();      // Bernoulli means of p_θ(x|z)
//! assert_eq!(images.dim(), (5, 784));
//! let terms = vae.elbo(x.view(), 1, 0).unwrap();      // per-example ELBO = rec − KL
//! assert!(terms.mean_elbo() < 0.0 && terms.mean_kl() >= 0.0);
//! ```

use super::layers::{
    Activation, Linear, SPARSE_MAX_DENSITY, SparseInput, bernoulli_log_likelihood, gaussian_kl,
    gaussian_kl_backward, reparameterize, reparameterize_backward, reshape,
};
use super::scalar::{Real, sigmoid};
use crate::rand::SeedableRng;
use crate::rand::rngs::SmallRng;
use crate::rand_distr::{Distribution, StandardNormal};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, s};
use rayon::prelude::*;
use std::fmt;

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
            Mode::Vae => 2 * self.latent,
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
            let all: f64 = sizes.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
            (all, (sizes[0] * sizes[1]) as f64)
        };
        let (enc, enc_first) = macs(&self.encoder_sizes());
        let (dec, _) = macs(&self.decoder_sizes());
        // forward 1×, backward: weight gradients 1×, input gradients 1× except the first layer
        2.0 * (3.0 * (enc + dec) - enc_first)
    }

    fn validate(&self) -> Result<(), VaeError> {
        if self.input_dim == 0 || self.latent == 0 || self.hidden.contains(&0) {
            return Err(VaeError::Config(format!(
                "every width must be positive: input {}, hidden {:?}, latent {}",
                self.input_dim, self.hidden, self.latent
            )));
        }
        let params: usize = self
            .encoder_sizes()
            .windows(2)
            .chain(self.decoder_sizes().windows(2))
            .map(|w| w[0].saturating_mul(w[1]).saturating_add(w[1]))
            .fold(0usize, usize::saturating_add);
        if params > 1 << 30 {
            return Err(VaeError::Config(format!(
                "{params} parameters is more than this engine is meant for (2^30)"
            )));
        }
        Ok(())
    }
}

/// Why a VAE operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VaeError {
    /// The configuration is unusable.
    #[error("invalid VAE configuration: {0}")]
    Config(String),
    /// An input matrix has the wrong number of columns (or of rows, where two must agree).
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Size found.
        found: usize,
    },
    /// The operation needs q_φ(z|x), which a plain autoencoder does not have.
    #[error("{0} needs a VAE: the plain autoencoder has no posterior variance and no KL term")]
    NotProbabilistic(&'static str),
    /// A count argument (draws, importance samples, batch size…) is zero or otherwise invalid.
    #[error("invalid argument: {0}")]
    Argument(String),
}

/// A multilayer perceptron: linear layers with `activation` between them and none after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<T = f32> {
    layers: Vec<Linear<T>>,
    activation: Activation,
}

impl<T: Real> Mlp<T> {
    fn new(sizes: &[usize], activation: Activation, rng: &mut SmallRng) -> Self {
        let layers = sizes
            .windows(2)
            .map(|w| Linear::new(w[0], w[1], rng))
            .collect();
        Mlp { layers, activation }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Linear<T>] {
        &self.layers
    }

    /// The hidden nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    fn act(&self, i: usize) -> Activation {
        if i + 1 == self.layers.len() {
            Activation::Identity
        } else {
            self.activation
        }
    }

    /// Forward: `outs[i]` receives the output of layer `i` (the last one without activation).
    /// `sparse`, if given, is `x` by its nonzeros, used by the first layer.
    fn forward(
        &self,
        x: ArrayView2<'_, T>,
        sparse: Option<&SparseInput<T>>,
        outs: &mut Vec<Array2<T>>,
    ) {
        outs.resize_with(self.layers.len(), || Array2::zeros((0, 0)));
        for (i, layer) in self.layers.iter().enumerate() {
            let (done, rest) = outs.split_at_mut(i);
            match (i, sparse) {
                (0, Some(sx)) => layer.forward_sparse_unchecked(sx, self.act(0), &mut rest[0]),
                (0, None) => layer.forward_unchecked(x, self.act(0), &mut rest[0]),
                _ => layer.forward_unchecked(done[i - 1].view(), self.act(i), &mut rest[0]),
            }
        }
    }

    /// Backward from `d` = ∂loss/∂(last output); writes the layer gradients into `grads` and,
    /// when `dx` is given, ∂loss/∂x into it. `scratch` is a reusable buffer; `sparse` as in
    /// [`forward`](Self::forward) (only used when `dx` is not wanted).
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: ArrayView2<'_, T>,
        sparse: Option<&SparseInput<T>>,
        outs: &[Array2<T>],
        d: &mut Array2<T>,
        scratch: &mut Array2<T>,
        grads: &mut [Linear<T>],
        mut dx: Option<&mut Array2<T>>,
    ) {
        for i in (0..self.layers.len()).rev() {
            let input = if i == 0 { x } else { outs[i - 1].view() };
            if i == 0 {
                match (sparse, dx.as_deref_mut()) {
                    (Some(sx), None) => {
                        self.layers[0].backward_sparse_unchecked(sx, d.view(), &mut grads[0])
                    }
                    (_, dx) => {
                        self.layers[0].backward_unchecked(input, d.view(), &mut grads[0], dx)
                    }
                }
            } else {
                self.layers[i].backward_unchecked(input, d.view(), &mut grads[i], Some(scratch));
                self.activation.backward(outs[i - 1].view(), scratch);
                std::mem::swap(d, scratch);
            }
        }
    }
}

/// The gradient of the loss with respect to every parameter, shaped like the model's layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients<T = f32> {
    /// ∂loss/∂(encoder layer i).
    pub encoder: Vec<Linear<T>>,
    /// ∂loss/∂(decoder layer i).
    pub decoder: Vec<Linear<T>>,
}

impl<T: Real> Gradients<T> {
    /// Zeros shaped like `model`'s parameters.
    pub fn zeros_like(model: &Vae<T>) -> Self {
        let z = |m: &Mlp<T>| {
            m.layers
                .iter()
                .map(|l| Linear::zeros(l.fan_in(), l.fan_out()))
                .collect()
        };
        Gradients {
            encoder: z(&model.encoder),
            decoder: z(&model.decoder),
        }
    }

    /// Every gradient tensor as a flat slice, in [`Vae::named_parameters`] order.
    pub fn slices(&self) -> Vec<&[T]> {
        self.encoder
            .iter()
            .chain(&self.decoder)
            .flat_map(|l| {
                [
                    l.w.as_slice().expect("contiguous"),
                    l.b.as_slice().expect("contiguous"),
                ]
            })
            .collect()
    }
}

/// The encoder's output for a batch: the parameters of q_φ(z|x) = N(μ, diag σ²).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding<T = f32> {
    /// μ, `B × L` (for a plain autoencoder: the code z itself).
    pub mu: Array2<T>,
    /// log σ², `B × L`; `None` for a plain autoencoder.
    pub log_var: Option<Array2<T>>,
}

/// Per-example ELBO terms of a batch, in nats (Monte Carlo over ε for the reconstruction term,
/// closed form for the KL): `elbo = rec − kl`.
#[derive(Debug, Clone, PartialEq)]
pub struct ElboTerms {
    /// ELBO(xᵢ) = E_q[log p_θ(xᵢ|z)] − KL(q_φ(z|xᵢ) ‖ p(z)).
    pub elbo: Array1<f64>,
    /// E_q[log p_θ(xᵢ|z)], the reconstruction term (≤ 0).
    pub rec: Array1<f64>,
    /// KL(q_φ(z|xᵢ) ‖ N(0, I)), the rate (≥ 0).
    pub kl: Array1<f64>,
}

impl ElboTerms {
    /// Mean ELBO over the examples (nats).
    pub fn mean_elbo(&self) -> f64 {
        self.elbo.mean().unwrap_or(f64::NAN)
    }
    /// Mean reconstruction term (nats).
    pub fn mean_rec(&self) -> f64 {
        self.rec.mean().unwrap_or(f64::NAN)
    }
    /// Mean KL term (nats).
    pub fn mean_kl(&self) -> f64 {
        self.kl.mean().unwrap_or(f64::NAN)
    }
}

/// Every intermediate of one forward pass, for showing the computation step by step.
///
/// `Display` prints one line per step with its notation, shape and a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardTrace<T = f32> {
    /// x, the data batch, `B × D`.
    pub x: Array2<T>,
    /// μ = encoder mean, `B × L`.
    pub mu: Array2<T>,
    /// log σ², `B × L` (zeros for an autoencoder).
    pub log_var: Array2<T>,
    /// σ = exp(½ log σ²), `B × L`.
    pub sigma: Array2<T>,
    /// ε ∼ N(0, I), `B × L` (zeros for an autoencoder).
    pub eps: Array2<T>,
    /// z = μ + σ ⊙ ε, `B × L`.
    pub z: Array2<T>,
    /// Bernoulli logits of p_θ(x|z), `B × D`.
    pub logits: Array2<T>,
    /// log p_θ(x|z) per example, `B`.
    pub log_px_z: Array1<f64>,
    /// KL(q_φ(z|x) ‖ p(z)) per example, `B`.
    pub kl: Array1<f64>,
    /// ELBO = log p_θ(x|z) − KL per example (single-sample estimate), `B`.
    pub elbo: Array1<f64>,
}

impl<T: Real> fmt::Display for ForwardTrace<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn m<T: Real>(a: &Array2<T>) -> String {
            let n = a.len().max(1) as f64;
            let mean = a.iter().map(|v| v.to_f64()).sum::<f64>() / n;
            let sd = (a.iter().map(|v| (v.to_f64() - mean).powi(2)).sum::<f64>() / n).sqrt();
            format!("mean {mean:+.3}, sd {sd:.3}")
        }
        fn v(a: &Array1<f64>) -> String {
            format!("mean {:+.3} nats", a.mean().unwrap_or(f64::NAN))
        }
        let sh = |a: &Array2<T>| format!("{} × {}", a.nrows(), a.ncols());
        let b = format!("{}", self.x.nrows());
        let rows = [
            ("1", "x", "data batch", sh(&self.x), m(&self.x)),
            (
                "2",
                "μ = enc_μ(x)",
                "mean of q_φ(z|x)",
                sh(&self.mu),
                m(&self.mu),
            ),
            (
                "2",
                "log σ² = enc_σ(x)",
                "log-variance of q_φ(z|x)",
                sh(&self.log_var),
                m(&self.log_var),
            ),
            (
                "3",
                "ε ∼ N(0, I)",
                "noise, independent of φ",
                sh(&self.eps),
                m(&self.eps),
            ),
            (
                "4",
                "z = μ + σ ⊙ ε",
                "reparameterized sample of q_φ(z|x)",
                sh(&self.z),
                m(&self.z),
            ),
            (
                "5",
                "l = dec(z)",
                "Bernoulli logits of p_θ(x|z)",
                sh(&self.logits),
                m(&self.logits),
            ),
            (
                "6",
                "log p_θ(x|z)",
                "Σⱼ xⱼlⱼ − softplus(lⱼ)",
                b.clone(),
                v(&self.log_px_z),
            ),
            (
                "7",
                "KL(q_φ(z|x) ‖ p(z))",
                "½Σ(μ² + σ² − 1 − log σ²)",
                b.clone(),
                v(&self.kl),
            ),
            ("8", "ELBO", "log p_θ(x|z) − KL", b, v(&self.elbo)),
        ];
        for (step, sym, what, shape, summary) in rows {
            writeln!(f, "{step}. {sym:<22} {shape:>11}   {summary:<28} {what}")?;
        }
        Ok(())
    }
}

/// A VAE (or plain autoencoder) with its parameters φ (encoder) and θ (decoder).
#[derive(Debug, Clone, PartialEq)]
pub struct Vae<T = f32> {
    config: VaeConfig,
    encoder: Mlp<T>,
    decoder: Mlp<T>,
}

/// Reusable buffers of one forward/backward pass.
#[derive(Debug, Default)]
pub(crate) struct Workspace<T> {
    /// Input rows (filled by the trainer).
    pub x: Array2<T>,
    /// ε, `B × L` (filled by the caller before a stochastic pass).
    pub eps: Array2<T>,
    enc: Vec<Array2<T>>,
    sigma: Array2<T>,
    z: Array2<T>,
    dec: Vec<Array2<T>>,
    d: Array2<T>,
    scratch: Array2<T>,
    dhead: Array2<T>,
    /// log p_θ(xᵢ|zᵢ) per row after a forward pass.
    pub rec: Vec<f64>,
    /// KL per row after a forward pass.
    pub kl: Vec<f64>,
    /// x by its nonzeros, when sparse enough.
    sparse: SparseInput<T>,
    /// Whether `sparse` holds the current x.
    use_sparse: bool,
    /// Density threshold of the sparse first layer (`None`: [`SPARSE_MAX_DENSITY`]).
    pub sparse_max_density: Option<f64>,
}

/// How z is obtained from q_φ(z|x) in a forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Noise {
    /// z = μ + σ ⊙ ε with ε from the workspace.
    Sample,
    /// z = μ.
    Mean,
}

/// Rows per chunk in batched evaluation: large enough for efficient matrix products, small
/// enough to bound memory (a chunk's buffers are a few MB).
const EVAL_ROWS: usize = 256;

impl<T: Real> Vae<T> {
    /// A freshly initialized model (PyTorch's default init, seeded by `config.seed`).
    pub fn new(config: VaeConfig) -> Result<Self, VaeError> {
        config.validate()?;
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let encoder = Mlp::new(&config.encoder_sizes(), config.activation, &mut rng);
        let decoder = Mlp::new(&config.decoder_sizes(), config.activation, &mut rng);
        Ok(Vae {
            config,
            encoder,
            decoder,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// The encoder network (parameters φ).
    pub fn encoder(&self) -> &Mlp<T> {
        &self.encoder
    }

    /// The decoder network (parameters θ).
    pub fn decoder(&self) -> &Mlp<T> {
        &self.decoder
    }

    /// Latent dimension L.
    pub fn latent_dim(&self) -> usize {
        self.config.latent
    }

    /// Number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.layers().map(|l| l.w.len() + l.b.len()).sum()
    }

    /// The same model in another number type (e.g. `f64` for a gradient check).
    pub fn cast<U: Real>(&self) -> Vae<U> {
        let c = |m: &Mlp<T>| Mlp {
            layers: m
                .layers
                .iter()
                .map(|l| Linear {
                    w: l.w.mapv(|v| U::from_f64(v.to_f64())),
                    b: l.b.mapv(|v| U::from_f64(v.to_f64())),
                })
                .collect(),
            activation: m.activation,
        };
        Vae {
            config: self.config.clone(),
            encoder: c(&self.encoder),
            decoder: c(&self.decoder),
        }
    }

    pub(crate) fn layers(&self) -> impl Iterator<Item = &Linear<T>> {
        self.encoder.layers.iter().chain(&self.decoder.layers)
    }

    pub(crate) fn layers_mut(&mut self) -> impl Iterator<Item = &mut Linear<T>> {
        self.encoder
            .layers
            .iter_mut()
            .chain(&mut self.decoder.layers)
    }

    /// Every parameter tensor with its name, `encoder.{i}.weight` (`fan_in × fan_out`),
    /// `encoder.{i}.bias`, then the same for `decoder` — the names used in checkpoints.
    pub fn named_parameters(&self) -> Vec<(String, ArrayViewD<'_, T>)> {
        let mut out = Vec::new();
        for (net, mlp) in [("encoder", &self.encoder), ("decoder", &self.decoder)] {
            for (i, l) in mlp.layers.iter().enumerate() {
                out.push((format!("{net}.{i}.weight"), l.w.view().into_dyn()));
                out.push((format!("{net}.{i}.bias"), l.b.view().into_dyn()));
            }
        }
        out
    }

    /// Every parameter tensor as a mutable flat slice, in [`named_parameters`](Self::named_parameters) order.
    pub(crate) fn parameter_slices_mut(&mut self) -> Vec<&mut [T]> {
        self.layers_mut()
            .flat_map(|l| {
                [
                    l.w.as_slice_mut().expect("contiguous"),
                    l.b.as_slice_mut().expect("contiguous"),
                ]
            })
            .collect()
    }

    fn check_cols(
        &self,
        what: &'static str,
        a: &ArrayView2<'_, T>,
        cols: usize,
    ) -> Result<(), VaeError> {
        if a.ncols() != cols {
            return Err(VaeError::Shape {
                what,
                expected: cols,
                found: a.ncols(),
            });
        }
        Ok(())
    }

    // ------------------------------------------------------------------------------------------
    // forward and backward
    // ------------------------------------------------------------------------------------------

    /// The forward pass on `x` into `ws`: encoder, z (sampled with `ws.eps`, or μ), decoder,
    /// log p_θ(x|z) and KL per row. With `grad`, also ∂(−log p)/∂logits into `ws.d`.
    pub(crate) fn forward_ws(
        &self,
        x: ArrayView2<'_, T>,
        noise: Noise,
        grad: bool,
        ws: &mut Workspace<T>,
    ) {
        let l = self.config.latent;
        let max_density = ws.sparse_max_density.unwrap_or(SPARSE_MAX_DENSITY);
        ws.use_sparse = max_density > 0.0 && ws.sparse.fill(x, max_density);
        let sparse = ws.use_sparse.then_some(&ws.sparse);
        self.encoder.forward(x, sparse, &mut ws.enc);
        let head = ws.enc.last().expect("the encoder has a layer");
        match self.config.mode {
            Mode::Vae => {
                let (mu, log_var) = (head.slice(s![.., ..l]), head.slice(s![.., l..]));
                if noise == Noise::Sample {
                    reparameterize(mu, log_var, ws.eps.view(), &mut ws.sigma, &mut ws.z);
                } else {
                    reshape(&mut ws.z, mu.nrows(), l);
                    ws.z.assign(&mu);
                }
                gaussian_kl(mu, log_var, &mut ws.kl);
            }
            Mode::Autoencoder => {
                reshape(&mut ws.z, head.nrows(), l);
                ws.z.assign(head);
                ws.kl.clear();
                ws.kl.resize(head.nrows(), 0.0);
            }
        }
        self.decoder.forward(ws.z.view(), None, &mut ws.dec);
        let logits = ws.dec.last().expect("the decoder has a layer");
        bernoulli_log_likelihood(logits.view(), x, grad.then_some(&mut ws.d), &mut ws.rec);
    }

    /// The backward pass after `forward_ws(.., Noise::Sample, true, ..)`: gradients of
    /// −Σᵢ [log p_θ(xᵢ|zᵢ) − β KLᵢ] with respect to every parameter, written into `grads`.
    pub(crate) fn backward_ws(
        &self,
        x: ArrayView2<'_, T>,
        beta: T,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) {
        let l = self.config.latent;
        // decoder: ws.d holds ∂loss/∂logits; afterwards ws.dhead-bound ∂loss/∂z is in dz
        let mut dz = std::mem::take(&mut ws.dhead);
        self.decoder.backward(
            ws.z.view(),
            None,
            &ws.dec,
            &mut ws.d,
            &mut ws.scratch,
            &mut grads.decoder,
            Some(&mut dz),
        );
        // latent: ∂loss/∂(μ, log σ²) from the KL term and through z = μ + σ ⊙ ε
        let mut dhead = std::mem::take(&mut ws.d);
        match self.config.mode {
            Mode::Vae => {
                let head = ws.enc.last().expect("the encoder has a layer");
                reshape(&mut dhead, dz.nrows(), 2 * l);
                let (dmu, dlv) = dhead.multi_slice_mut((s![.., ..l], s![.., l..]));
                gaussian_kl_backward(head.slice(s![.., ..l]), ws.sigma.view(), beta, dmu, dlv);
                let (dmu, dlv) = dhead.multi_slice_mut((s![.., ..l], s![.., l..]));
                reparameterize_backward(ws.eps.view(), ws.sigma.view(), dz.view(), dmu, dlv);
            }
            Mode::Autoencoder => {
                reshape(&mut dhead, dz.nrows(), l);
                dhead.assign(&dz);
            }
        }
        ws.dhead = dz;
        let sparse = ws.use_sparse.then_some(&ws.sparse);
        self.encoder.backward(
            x,
            sparse,
            &ws.enc,
            &mut dhead,
            &mut ws.scratch,
            &mut grads.encoder,
            None,
        );
        ws.d = dhead;
    }

    /// Loss and gradient on a batch with given noise ε (`B × L`, ignored by an autoencoder):
    /// returns the per-example terms and ∂/∂parameters of −Σᵢ [log p_θ(xᵢ|zᵢ) − β KLᵢ], where
    /// β = 1 is the ELBO and β < 1 a KL warm-up. This is one training step without the update,
    /// exposed so the hand-written backward pass can be checked against finite differences.
    pub fn loss_and_grad(
        &self,
        x: ArrayView2<'_, T>,
        eps: ArrayView2<'_, T>,
        beta: f64,
    ) -> Result<(ElboTerms, Gradients<T>), VaeError> {
        self.loss_and_grad_with(x, eps, beta, None)
    }

    /// [`loss_and_grad`](Self::loss_and_grad) with the sparse first layer's density threshold
    /// set (`Some(0.0)`: always dense, `Some(1.0)`: always sparse), to test both paths.
    pub(crate) fn loss_and_grad_with(
        &self,
        x: ArrayView2<'_, T>,
        eps: ArrayView2<'_, T>,
        beta: f64,
        sparse_max_density: Option<f64>,
    ) -> Result<(ElboTerms, Gradients<T>), VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        let mut ws = Workspace {
            sparse_max_density,
            ..Workspace::default()
        };
        if self.config.mode == Mode::Vae {
            self.check_cols("ε columns", &eps, self.config.latent)?;
            if eps.nrows() != x.nrows() {
                return Err(VaeError::Shape {
                    what: "ε rows (one per example)",
                    expected: x.nrows(),
                    found: eps.nrows(),
                });
            }
            ws.eps = eps.to_owned();
        }
        let mut grads = Gradients::zeros_like(self);
        self.forward_ws(x, Noise::Sample, true, &mut ws);
        self.backward_ws(x, T::from_f64(beta), &mut ws, &mut grads);
        Ok((terms(&ws.rec, &ws.kl), grads))
    }

    // ------------------------------------------------------------------------------------------
    // inference
    // ------------------------------------------------------------------------------------------

    /// The encoder on a batch `x` (`B × D`): μ and log σ² of q_φ(z|x), each `B × L`.
    pub fn encode(&self, x: ArrayView2<'_, T>) -> Result<Encoding<T>, VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        let mut outs = Vec::new();
        self.encoder.forward(x, None, &mut outs);
        let head = outs.pop().expect("the encoder has a layer");
        let l = self.config.latent;
        Ok(match self.config.mode {
            Mode::Vae => Encoding {
                mu: head.slice(s![.., ..l]).to_owned(),
                log_var: Some(head.slice(s![.., l..]).to_owned()),
            },
            Mode::Autoencoder => Encoding {
                mu: head,
                log_var: None,
            },
        })
    }

    /// The decoder's Bernoulli logits for latent points `z` (`N × L` → `N × D`).
    pub fn decode_logits(&self, z: ArrayView2<'_, T>) -> Result<Array2<T>, VaeError> {
        self.check_cols("z columns", &z, self.config.latent)?;
        let mut outs = Vec::new();
        self.decoder.forward(z, None, &mut outs);
        Ok(outs.pop().expect("the decoder has a layer"))
    }

    /// The decoder's Bernoulli means σ(logits) ∈ [0, 1] for latent points `z`: images.
    pub fn decode(&self, z: ArrayView2<'_, T>) -> Result<Array2<T>, VaeError> {
        Ok(self.decode_logits(z)?.mapv(sigmoid))
    }

    /// Reconstructions: decode(μ(x)), the means of p_θ(x|z = μ).
    pub fn reconstruct(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, VaeError> {
        self.decode(self.encode(x)?.mu.view())
    }

    /// `n` new images: z ∼ N(0, I) through the decoder (Bernoulli means).
    pub fn sample(&self, n: usize, seed: u64) -> Result<Array2<T>, VaeError> {
        let z = standard_normal::<T>(n, self.config.latent, &mut SmallRng::seed_from_u64(seed));
        self.decode(z.view())
    }

    /// Every intermediate of one forward pass on `x`, with ε drawn from `seed`.
    pub fn forward_trace(
        &self,
        x: ArrayView2<'_, T>,
        seed: u64,
    ) -> Result<ForwardTrace<T>, VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        let (b, l) = (x.nrows(), self.config.latent);
        let mut ws = Workspace::default();
        let vae = self.config.mode == Mode::Vae;
        ws.eps = if vae {
            standard_normal(b, l, &mut SmallRng::seed_from_u64(seed))
        } else {
            Array2::zeros((b, l))
        };
        self.forward_ws(
            x,
            if vae { Noise::Sample } else { Noise::Mean },
            false,
            &mut ws,
        );
        let head = ws.enc.last().expect("the encoder has a layer");
        let (mu, log_var, sigma) = if vae {
            (
                head.slice(s![.., ..l]).to_owned(),
                head.slice(s![.., l..]).to_owned(),
                ws.sigma.clone(),
            )
        } else {
            (head.clone(), Array2::zeros((b, l)), Array2::zeros((b, l)))
        };
        let t = terms(&ws.rec, &ws.kl);
        Ok(ForwardTrace {
            x: x.to_owned(),
            mu,
            log_var,
            sigma,
            eps: ws.eps,
            z: ws.z,
            logits: ws.dec.pop().expect("the decoder has a layer"),
            log_px_z: t.rec,
            kl: t.kl,
            elbo: t.elbo,
        })
    }

    /// Per-example ELBO terms of `x`, averaging the reconstruction term over `draws` samples of
    /// ε per example (seeded; the same `seed` gives the same numbers whatever the thread count).
    /// An autoencoder reports its reconstruction term with z = μ and KL = 0.
    pub fn elbo(
        &self,
        x: ArrayView2<'_, T>,
        draws: usize,
        seed: u64,
    ) -> Result<ElboTerms, VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        if draws == 0 {
            return Err(VaeError::Argument("draws must be at least 1".into()));
        }
        let (n, l) = (x.nrows(), self.config.latent);
        let vae = self.config.mode == Mode::Vae;
        let draws = if vae { draws } else { 1 };
        let chunks: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(EVAL_ROWS))
            .into_par_iter()
            .map(|c| {
                let rows = c * EVAL_ROWS..((c + 1) * EVAL_ROWS).min(n);
                let xc = x.slice(s![rows.clone(), ..]);
                let mut rng = SmallRng::seed_from_u64(stream(seed, c as u64));
                let mut ws = Workspace::default();
                let (mut rec, mut kl) = (vec![0.0; rows.len()], vec![0.0; rows.len()]);
                for _ in 0..draws {
                    let noise = if vae {
                        ws.eps = standard_normal(rows.len(), l, &mut rng);
                        Noise::Sample
                    } else {
                        Noise::Mean
                    };
                    self.forward_ws(xc, noise, false, &mut ws);
                    for (r, &w) in rec.iter_mut().zip(&ws.rec) {
                        *r += w / draws as f64;
                    }
                    kl.copy_from_slice(&ws.kl[..rows.len()]);
                }
                (rec, kl)
            })
            .collect();
        let rec: Vec<f64> = chunks.iter().flat_map(|c| c.0.iter().copied()).collect();
        let kl: Vec<f64> = chunks.iter().flat_map(|c| c.1.iter().copied()).collect();
        Ok(terms(&rec, &kl))
    }

    /// The importance-weighted estimate of log p_θ(x) for each row of `x`, with `k` samples:
    ///
    /// `log p̂ₖ(x) = log (1/k) Σᵢ p_θ(x, zᵢ) / q_φ(zᵢ|x)`, zᵢ ∼ q_φ(z|x),
    ///
    /// where `log p_θ(x, z) − log q_φ(z|x) = log p_θ(x|z) − ½‖z‖² + ½‖ε‖² + ½ Σ log σ²` (the
    /// (2π) factors cancel). Its expectation is the IWAE bound, which is ≥ the ELBO (k = 1),
    /// non-decreasing in k and tends to log p_θ(x). The k weights are combined with a running
    /// log-sum-exp, decoding in chunks of at most 256 samples, so k can be in the thousands
    /// without memory growing with k.
    pub fn iwae(&self, x: ArrayView2<'_, T>, k: usize, seed: u64) -> Result<Array1<f64>, VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        if self.config.mode != Mode::Vae {
            return Err(VaeError::NotProbabilistic("the importance-weighted bound"));
        }
        if k == 0 {
            return Err(VaeError::Argument("k must be at least 1".into()));
        }
        let n = x.nrows();
        // Work items: blocks of examples, each block decoded in passes of ≤ EVAL_ROWS rows.
        let per_block = (EVAL_ROWS / k).clamp(1, 64);
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(per_block))
            .into_par_iter()
            .map(|blk| {
                let rows = blk * per_block..((blk + 1) * per_block).min(n);
                let mut rng = SmallRng::seed_from_u64(stream(seed, blk as u64));
                self.iwae_block(x.slice(s![rows, ..]), k, &mut rng)
            })
            .collect();
        Ok(blocks.concat().into())
    }

    fn iwae_block(&self, x: ArrayView2<'_, T>, k: usize, rng: &mut SmallRng) -> Vec<f64> {
        let l = self.config.latent;
        let q = self.encode(x).expect("columns checked by the caller");
        let log_var = q.log_var.expect("a VAE has a log-variance");
        let sigma = log_var.mapv(|v| (T::from_f64(0.5) * v).exp());
        let half_sum_log_var: Vec<f64> = log_var
            .rows()
            .into_iter()
            .map(|r| 0.5 * r.iter().map(|v| v.to_f64()).sum::<f64>())
            .collect();
        let total = x.nrows() * k;
        // running log-sum-exp per example: (max, Σ exp(w − max))
        let mut acc = vec![(f64::NEG_INFINITY, 0.0f64); x.nrows()];
        let mut z = Array2::<T>::zeros((0, l));
        let mut outs = Vec::new();
        let mut extra = Vec::new(); // log p(z) − log q(z|x) − log p(x|z) part, per row
        let mut start = 0;
        while start < total {
            let end = (start + EVAL_ROWS).min(total);
            reshape(&mut z, end - start, l);
            extra.clear();
            for (r, mut zr) in (start..end).zip(z.rows_mut()) {
                let i = r / k;
                let (mut zz, mut ee) = (0.0f64, 0.0f64);
                for j in 0..l {
                    let e: f64 = StandardNormal.sample(rng);
                    let v = q.mu[[i, j]] + sigma[[i, j]] * T::from_f64(e);
                    zr[j] = v;
                    let v = v.to_f64();
                    zz += v * v;
                    ee += e * e;
                }
                extra.push(-0.5 * zz + 0.5 * ee + half_sum_log_var[i]);
            }
            self.decoder.forward(z.view(), None, &mut outs);
            let logits = outs.last().expect("the decoder has a layer");
            for (r, lr) in (start..end).zip(logits.rows()) {
                let i = r / k;
                let xr = x.row(i);
                let rec = match (lr.as_slice(), xr.as_slice()) {
                    (Some(a), Some(b)) => T::bernoulli_row(a, b, None),
                    _ => {
                        let (a, b) = (lr.to_vec(), xr.to_vec());
                        T::bernoulli_row(&a, &b, None)
                    }
                };
                let w = rec + extra[r - start];
                let (m, s) = &mut acc[i];
                if w > *m {
                    *s = *s * (*m - w).exp() + 1.0;
                    *m = w;
                } else {
                    *s += (w - *m).exp();
                }
            }
            start = end;
        }
        acc.iter()
            .map(|&(m, s)| m + s.ln() - (k as f64).ln())
            .collect()
    }
}

/// `steps` points evenly spaced on the segment from `a` to `b`, ends included (`steps × L`): decode
/// them to see an interpolation between two codes.
///
/// ```
/// use elbo::ndarray::array;
/// let z = elbo::vae::interpolate(array![0.0f32, 0.0].view(), array![1.0, -2.0].view(), 3);
/// assert_eq!(z, array![[0.0, 0.0], [0.5, -1.0], [1.0, -2.0]]);
/// ```
pub fn interpolate<T: Real>(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>, steps: usize) -> Array2<T> {
    let l = a.len().min(b.len());
    Array2::from_shape_fn((steps, l), |(i, j)| {
        let t = if steps > 1 {
            T::from_f64(i as f64 / (steps - 1) as f64)
        } else {
            T::zero()
        };
        a[j] + t * (b[j] - a[j])
    })
}

/// An `n × n` grid of 2-D latent points covering [−extent, extent]², one point per row, ordered
/// like the pixels of an image (z₁ growing left to right, z₂ shrinking top to bottom): decode it
/// and draw it with `n` columns to see the learned manifold.
///
/// ```
/// let z = elbo::vae::latent_grid(3, 2.0);
/// assert_eq!(z.dim(), (9, 2));
/// assert_eq!((z[[0, 0]], z[[0, 1]]), (-2.0, 2.0)); // top left
/// assert_eq!((z[[8, 0]], z[[8, 1]]), (2.0, -2.0)); // bottom right
/// ```
pub fn latent_grid(n: usize, extent: f64) -> Array2<f32> {
    let at = |i: usize| {
        if n > 1 {
            (-extent + 2.0 * extent * i as f64 / (n - 1) as f64) as f32
        } else {
            0.0
        }
    };
    Array2::from_shape_fn(
        (n * n, 2),
        |(r, c)| {
            if c == 0 { at(r % n) } else { -at(r / n) }
        },
    )
}

/// A `rows × cols` matrix of independent N(0, 1) draws.
pub fn standard_normal<T: Real>(rows: usize, cols: usize, rng: &mut SmallRng) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::from_f64(StandardNormal.sample(rng)))
}

/// A seed for stream `i` derived from `seed` (SplitMix64 finalizer), so that parallel chunks
/// draw independent, reproducible noise.
pub(crate) fn stream(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn terms(rec: &[f64], kl: &[f64]) -> ElboTerms {
    let rec = Array1::from(rec.to_vec());
    let kl = Array1::from(kl.to_vec());
    ElboTerms {
        elbo: &rec - &kl,
        rec,
        kl,
    }
}
