//! Using a trained model: the encoder's q_φ(z|x), the decoder's images, Monte Carlo ELBO
//! estimates, the importance-weighted bound, the step-by-step trace, and latent-space helpers.
//! Evaluation runs in chunks over the cores, each chunk with its own noise stream, so the numbers
//! are the same whatever the thread count.

use super::config::Mode;
use super::error::{VaeError, check_at_least, check_len};
use super::model::{Noise, Vae, Workspace};
use super::noise::{standard_normal, standard_normal_from, stream_rng};
use super::ops::bernoulli::sigmoid;
use super::ops::reshape;
use super::scalar::Real;
use super::terms::ElboTerms;
use super::trace::ForwardTrace;
use crate::rand::rngs::SmallRng;
use crate::rand_distr::{Distribution, StandardNormal};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, s};
use rayon::prelude::*;

/// Rows per chunk in batched evaluation: large enough for efficient matrix products, small
/// enough to bound memory (a chunk's buffers are a few MB).
const EVAL_ROWS: usize = 256;

/// The encoder's output for a batch: the parameters of q_φ(z|x) = N(μ, diag σ²).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding<T = f32> {
    /// μ, `B × L` (for a plain autoencoder: the code z itself).
    pub mu: Array2<T>,
    /// log σ², `B × L`; `None` for a plain autoencoder.
    pub log_var: Option<Array2<T>>,
}

impl<T: Real> Vae<T> {
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
        let z = standard_normal::<T>(n, self.config.latent, seed);
        self.decode(z.view())
    }

    /// Every intermediate of one forward pass on `x`, with ε drawn from `seed`.
    pub fn forward_trace(
        &self,
        x: ArrayView2<'_, T>,
        seed: u64,
    ) -> Result<ForwardTrace<T>, VaeError> {
        self.check_data(x)?;
        let (b, l) = (x.nrows(), self.config.latent);
        let mut ws = Workspace::default();
        let vae = self.config.mode == Mode::Vae;
        ws.eps = if vae {
            standard_normal(b, l, seed)
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
        let t = ElboTerms::from_rec_kl(&ws.rec, &ws.kl);
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
    /// An autoencoder reports its reconstruction term with z = μ and KL = 0. Fails with
    /// [`VaeError::Shape`] for a wrong column count, [`VaeError::Data`] for an entry of `x` that
    /// is NaN or outside [0, 1], and [`VaeError::TooFew`] for `draws = 0`.
    pub fn elbo(
        &self,
        x: ArrayView2<'_, T>,
        draws: usize,
        seed: u64,
    ) -> Result<ElboTerms, VaeError> {
        self.check_data(x)?;
        check_at_least("draws", draws, 1)?;
        let (n, l) = (x.nrows(), self.config.latent);
        let vae = self.config.mode == Mode::Vae;
        let draws = if vae { draws } else { 1 };
        let chunks: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(EVAL_ROWS))
            .into_par_iter()
            .map(|c| {
                let rows = c * EVAL_ROWS..((c + 1) * EVAL_ROWS).min(n);
                let xc = x.slice(s![rows.clone(), ..]);
                let mut rng = stream_rng(seed, c as u64);
                let mut ws = Workspace::default();
                let (mut rec, mut kl) = (vec![0.0; rows.len()], vec![0.0; rows.len()]);
                for _ in 0..draws {
                    let noise = if vae {
                        ws.eps = standard_normal_from(rows.len(), l, &mut rng);
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
        Ok(ElboTerms::from_rec_kl(&rec, &kl))
    }

    /// The importance-weighted estimate of log p_θ(x) for each row of `x`, with `k` samples:
    ///
    /// `log p̂ₖ(x) = log (1/k) Σᵢ p_θ(x, zᵢ) / q_φ(zᵢ|x)`, zᵢ ∼ q_φ(z|x),
    ///
    /// where `log p_θ(x, z) − log q_φ(z|x) = log p_θ(x|z) − ½‖z‖² + ½‖ε‖² + ½ Σ log σ²` (the
    /// (2π) factors cancel). Its expectation is the IWAE bound, which is ≥ the ELBO (k = 1),
    /// non-decreasing in k and tends to log p_θ(x). The k weights are combined with a running
    /// log-sum-exp, decoding in chunks of at most 256 samples, so k can be in the thousands
    /// without memory growing with k. Fails as [`elbo`](Self::elbo) does, for `k = 0`, and
    /// with [`VaeError::NotProbabilistic`] for an autoencoder.
    pub fn iwae(&self, x: ArrayView2<'_, T>, k: usize, seed: u64) -> Result<Array1<f64>, VaeError> {
        self.check_data(x)?;
        if self.config.mode != Mode::Vae {
            return Err(VaeError::NotProbabilistic("the importance-weighted bound"));
        }
        check_at_least("k (importance samples)", k, 1)?;
        let n = x.nrows();
        // Work items: blocks of examples, each block decoded in passes of ≤ EVAL_ROWS rows.
        let per_block = (EVAL_ROWS / k).clamp(1, 64);
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(per_block))
            .into_par_iter()
            .map(|blk| {
                let rows = blk * per_block..((blk + 1) * per_block).min(n);
                let mut rng = stream_rng(seed, blk as u64);
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
/// them to see an interpolation between two codes. `a` and `b` must have the same length L
/// (else [`VaeError::Shape`]).
///
/// ```
/// use elbo::ndarray::array;
/// let z = elbo::vae::interpolate(array![0.0f32, 0.0].view(), array![1.0, -2.0].view(), 3)?;
/// assert_eq!(z, array![[0.0, 0.0], [0.5, -1.0], [1.0, -2.0]]);
/// # Ok::<(), elbo::vae::VaeError>(())
/// ```
pub fn interpolate<T: Real>(
    a: ArrayView1<'_, T>,
    b: ArrayView1<'_, T>,
    steps: usize,
) -> Result<Array2<T>, VaeError> {
    check_len("b's length (a's)", a.len(), b.len())?;
    let l = a.len();
    Ok(Array2::from_shape_fn((steps, l), |(i, j)| {
        let t = if steps > 1 {
            T::from_f64(i as f64 / (steps - 1) as f64)
        } else {
            T::zero()
        };
        a[j] + t * (b[j] - a[j])
    }))
}

/// The largest side [`latent_grid`] draws: 1,000 × 1,000 points (8 MB as `f32`).
pub const MAX_GRID_SIDE: usize = 1_000;

/// An `n × n` grid of 2-D latent points covering [−extent, extent]², one point per row, ordered
/// like the pixels of an image (z₁ growing left to right, z₂ shrinking top to bottom): decode it
/// and draw it with `n` columns to see the learned manifold. `n = 1` is the single point 0.
/// Fails unless 1 ≤ n ≤ [`MAX_GRID_SIDE`] and 0 < `extent` ≤ `f32::MAX`.
///
/// ```
/// let z = elbo::vae::latent_grid(3, 2.0)?;
/// assert_eq!(z.dim(), (9, 2));
/// assert_eq!((z[[0, 0]], z[[0, 1]]), (-2.0, 2.0)); // top left
/// assert_eq!((z[[8, 0]], z[[8, 1]]), (2.0, -2.0)); // bottom right
/// assert!(elbo::vae::latent_grid(1 << 40, 2.0).is_err()); // n² points would overflow memory
/// assert!(elbo::vae::latent_grid(3, f64::NAN).is_err());
/// # Ok::<(), elbo::vae::VaeError>(())
/// ```
pub fn latent_grid(n: usize, extent: f64) -> Result<Array2<f32>, VaeError> {
    if n == 0 {
        return Err(VaeError::TooFew {
            what: "grid side n",
            found: n,
            min: 1,
        });
    }
    if n > MAX_GRID_SIDE {
        return Err(VaeError::TooMany {
            what: "grid side n",
            found: n,
            max: MAX_GRID_SIDE,
        });
    }
    if !(extent > 0.0 && extent <= f64::from(f32::MAX)) {
        return Err(VaeError::Setting {
            what: "grid extent",
            found: extent,
            expected: "> 0 and at most f32::MAX (the grid is f32)",
        });
    }
    let at = |i: usize| {
        if n > 1 {
            (-extent + 2.0 * extent * i as f64 / (n - 1) as f64) as f32
        } else {
            0.0
        }
    };
    Ok(Array2::from_shape_fn((n * n, 2), |(r, c)| {
        if c == 0 { at(r % n) } else { -at(r / n) }
    }))
}
