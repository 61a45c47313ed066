//! The VAE: encoder q_φ(z|x), decoder p_θ(x|z), and one training step — the ELBO and its
//! gradient — as a composition of the [`ops`](super::ops), each of which holds its own forward
//! and backward rule.
//!
//! ```text
//! x ─ encoder MLP ─→ (μ, log σ²) ─ z = μ + σ ⊙ ε, ε ∼ N(0, I) ─→ z ─ decoder MLP ─→ logits l
//! ELBO(x) = log p_θ(x|z) − KL(q_φ(z|x) ‖ N(0, I)),   log p_θ(x|z) = Σⱼ xⱼ lⱼ − softplus(lⱼ)
//! ```
//!
//! The backward pass runs the same chain in reverse: Bernoulli → decoder → (KL + reparameterize)
//! → encoder. Inference (encode, decode, ELBO estimates, IWAE) is in [`eval`](super::eval).
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

use super::config::{Mode, VaeConfig};
use super::error::{VaeError, check_len, check_pixels, check_setting};
use super::mlp::Mlp;
use super::ops::bernoulli::bernoulli_log_likelihood_unchecked;
use super::ops::kl::{gaussian_kl, gaussian_kl_backward};
use super::ops::reparam::{reparameterize_backward_unchecked, reparameterize_unchecked};
use super::ops::reshape;
use super::ops::{Linear, SPARSE_MAX_DENSITY, SparseInput};
use super::scalar::Real;
use super::terms::ElboTerms;
use crate::rand::SeedableRng;
use crate::rand::rngs::SmallRng;
use ndarray::{Array2, ArrayView2, ArrayViewD, s};

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

/// A VAE (or plain autoencoder) with its parameters φ (encoder) and θ (decoder).
#[derive(Debug, Clone, PartialEq)]
pub struct Vae<T = f32> {
    pub(crate) config: VaeConfig,
    pub(crate) encoder: Mlp<T>,
    pub(crate) decoder: Mlp<T>,
}

/// Reusable buffers of one forward/backward pass.
#[derive(Debug, Default)]
pub(crate) struct Workspace<T> {
    /// Input rows (filled by the trainer).
    pub x: Array2<T>,
    /// ε, `B × L` (filled by the caller before a stochastic pass).
    pub eps: Array2<T>,
    pub(crate) enc: Vec<Array2<T>>,
    pub(crate) sigma: Array2<T>,
    pub(crate) z: Array2<T>,
    pub(crate) dec: Vec<Array2<T>>,
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

    /// Checks a data batch: `input_dim` columns, every entry a grey level in [0, 1].
    pub(crate) fn check_data(&self, x: ArrayView2<'_, T>) -> Result<(), VaeError> {
        self.check_cols("x columns", &x, self.config.input_dim)?;
        check_pixels("x", x)
    }

    pub(crate) fn check_cols(
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

    // forward and backward: the ELBO as a composition of the ops

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
                    reparameterize_unchecked(mu, log_var, ws.eps.view(), &mut ws.sigma, &mut ws.z);
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
        bernoulli_log_likelihood_unchecked(
            logits.view(),
            x,
            grad.then_some(&mut ws.d),
            &mut ws.rec,
        );
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
                reparameterize_backward_unchecked(
                    ws.eps.view(),
                    ws.sigma.view(),
                    dz.view(),
                    dmu,
                    dlv,
                );
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
    ///
    /// Fails with [`VaeError::Shape`] if `x` does not have `input_dim` columns or ε is not
    /// `B × L`, [`VaeError::Data`] if an entry of `x` is NaN or outside [0, 1], and
    /// [`VaeError::Setting`] if β is NaN, infinite or negative, or ε not finite.
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
        self.check_data(x)?;
        check_setting("β (the KL weight)", beta, "finite and ≥ 0", |b| {
            b.is_finite() && b >= 0.0
        })?;
        let mut ws = Workspace {
            sparse_max_density,
            ..Workspace::default()
        };
        if self.config.mode == Mode::Vae {
            self.check_cols("ε columns", &eps, self.config.latent)?;
            check_len("ε rows (one per example)", x.nrows(), eps.nrows())?;
            if let Some(bad) = eps.iter().find(|e| !e.to_f64().is_finite()) {
                return Err(VaeError::Setting {
                    what: "ε (the noise)",
                    found: bad.to_f64(),
                    expected: "finite",
                });
            }
            ws.eps = eps.to_owned();
        }
        let mut grads = Gradients::zeros_like(self);
        self.forward_ws(x, Noise::Sample, true, &mut ws);
        self.backward_ws(x, T::from_f64(beta), &mut ws, &mut grads);
        Ok((ElboTerms::from_rec_kl(&ws.rec, &ws.kl), grads))
    }
}
