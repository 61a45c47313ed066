//! Adam (Kingma & Ba, 2015), in the form PyTorch implements it.
//!
//! For each parameter p with gradient g, at step t = 1, 2, …:
//!
//! ```text
//! m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
//! p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! The rule is written once, in [`update_rule`] (the plain `f64` form the tests check against),
//! and as the fast `f32` kernel beside it that training runs. The update runs in parallel over
//! disjoint chunks of every tensor, and sums the gradients of the data-parallel shards on the fly
//! (so they are never added up in a separate pass).
//!
//! ```
//! use elbo::vae::{Adam, AdamConfig, Gradients, Vae, VaeConfig};
//! let mut vae = Vae::<f32>::new(VaeConfig { hidden: vec![8], latent: 2, input_dim: 4, ..Default::default() }).unwrap();
//! let before = vae.clone();
//! let mut adam = Adam::new(AdamConfig::default(), &vae).unwrap();
//! let mut g = Gradients::zeros_like(&vae);
//! g.encoder[0].weights_mut().fill(1.0);
//! adam.step(&mut vae, &[&g], 1e-3).unwrap();
//! // the first Adam step moves every parameter with a non-zero gradient by ≈ lr
//! let moved = before.encoder().layers()[0].weights()[[0, 0]] - vae.encoder().layers()[0].weights()[[0, 0]];
//! assert!((moved - 1e-3).abs() < 1e-6);
//! ```

use super::error::{VaeError, check_len, check_setting};
use super::model::{Gradients, Vae};
use super::scalar::dispatch;
use rayon::prelude::*;

/// Adam's hyperparameters (PyTorch's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (the peak one when a schedule is used).
    pub lr: f64,
    /// Decay of the first-moment estimate, β₁.
    pub beta1: f64,
    /// Decay of the second-moment estimate, β₂.
    pub beta2: f64,
    /// ε added to √v̂ for numerical stability.
    pub eps: f64,
}

impl AdamConfig {
    /// Checks the hyperparameters: `lr` finite and > 0, β₁ and β₂ in [0, 1), ε finite and > 0
    /// (NaN fails every test), naming the first that is not.
    pub fn validate(&self) -> Result<(), VaeError> {
        check_setting("Adam learning rate lr", self.lr, "finite and > 0", |v| {
            v.is_finite() && v > 0.0
        })?;
        check_setting("Adam β₁", self.beta1, "in [0, 1)", |v| {
            (0.0..1.0).contains(&v)
        })?;
        check_setting("Adam β₂", self.beta2, "in [0, 1)", |v| {
            (0.0..1.0).contains(&v)
        })?;
        check_setting("Adam ε", self.eps, "finite and > 0", |v| {
            v.is_finite() && v > 0.0
        })
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam's state for one model: the moment estimates m, v of every parameter and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    config: AdamConfig,
    t: u64,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

/// Elements per parallel work item: large enough that scheduling costs nothing.
const CHUNK: usize = 32 * 1024;

impl Adam {
    /// Zero moments shaped like `model`'s parameters; fails with [`VaeError::Setting`] naming
    /// the first bad hyperparameter (see [`AdamConfig::validate`]).
    pub fn new(config: AdamConfig, model: &Vae<f32>) -> Result<Self, VaeError> {
        config.validate()?;
        let zeros: Vec<Vec<f32>> = model
            .named_parameters()
            .iter()
            .map(|(_, p)| vec![0.0; p.len()])
            .collect();
        Ok(Adam {
            config,
            t: 0,
            m: zeros.clone(),
            v: zeros,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One update of `model` with the gradient Σₛ `grads[s]` (the shards' gradients of one
    /// mini-batch) and learning rate `lr`.
    ///
    /// Fails, changing nothing, with [`VaeError::TooFew`] if `grads` is empty,
    /// [`VaeError::Shape`] if a gradient or the model is shaped unlike the model this optimizer
    /// was created for, and [`VaeError::Setting`] if `lr` is NaN, infinite or negative.
    pub fn step(
        &mut self,
        model: &mut Vae<f32>,
        grads: &[&Gradients<f32>],
        lr: f64,
    ) -> Result<(), VaeError> {
        check_setting("learning rate lr", lr, "finite and ≥ 0", |v| {
            v.is_finite() && v >= 0.0
        })?;
        if grads.is_empty() {
            return Err(VaeError::TooFew {
                what: "gradients passed to Adam::step",
                found: 0,
                min: 1,
            });
        }
        let shard_slices: Vec<Vec<&[f32]>> = grads.iter().map(|g| g.slices()).collect();
        let want: Vec<usize> = self.m.iter().map(Vec::len).collect();
        let params: Vec<usize> = model
            .named_parameters()
            .iter()
            .map(|(_, p)| p.len())
            .collect();
        check_len(
            "model parameter tensors (the optimizer's)",
            want.len(),
            params.len(),
        )?;
        for (&w, &p) in want.iter().zip(&params) {
            check_len("model parameter tensor size (the optimizer's)", w, p)?;
        }
        for s in &shard_slices {
            check_len("gradient tensors (the optimizer's)", want.len(), s.len())?;
            for (&w, t) in want.iter().zip(s) {
                check_len("gradient tensor size (the optimizer's)", w, t.len())?;
            }
        }
        self.t += 1;
        let c = &self.config;
        let t = self.t as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        // p −= step · m / (√v / √bc2 + ε)
        let consts = AdamConsts {
            b1: c.beta1 as f32,
            b2: c.beta2 as f32,
            step: (lr / bc1) as f32,
            inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
            eps: c.eps as f32,
        };
        let mut items = Vec::new();
        for (k, ((p, m), v)) in model
            .parameter_slices_mut()
            .into_iter()
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
            .enumerate()
        {
            let mut off = 0;
            for ((p, m), v) in p
                .chunks_mut(CHUNK)
                .zip(m.chunks_mut(CHUNK))
                .zip(v.chunks_mut(CHUNK))
            {
                items.push((k, off, p, m, v));
                off += CHUNK;
            }
        }
        items.into_par_iter().for_each(|(k, off, p, m, v)| {
            let gs: Vec<&[f32]> = shard_slices
                .iter()
                .map(|s| &s[k][off..off + p.len()])
                .collect();
            update(p, m, v, &gs, consts);
        });
        Ok(())
    }
}

/// The constants of one Adam update at step t, in the form the kernel uses:
/// `p ← p − step · m / (√v · inv_sqrt_bc2 + ε)` with step = lr / (1 − β₁ᵗ) and
/// inv_sqrt_bc2 = 1 / √(1 − β₂ᵗ) (the bias corrections folded into two scalars).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamConsts {
    b1: f32,
    b2: f32,
    step: f32,
    inv_sqrt_bc2: f32,
    eps: f32,
}

/// The update rule for one parameter, plain `f64` form (the reference the kernel is tested
/// against): returns the new (p, m, v) after a step with gradient g at step t (from 1).
pub fn update_rule(
    c: &AdamConfig,
    lr: f64,
    t: i32,
    p: f64,
    m: f64,
    v: f64,
    g: f64,
) -> (f64, f64, f64) {
    let m = c.beta1 * m + (1.0 - c.beta1) * g;
    let v = c.beta2 * v + (1.0 - c.beta2) * g * g;
    let (m_hat, v_hat) = (m / (1.0 - c.beta1.powi(t)), v / (1.0 - c.beta2.powi(t)));
    (p - lr * m_hat / (v_hat.sqrt() + c.eps), m, v)
}

/// The same rule as the fast `f32` kernel: every element of `p`, `m`, `v` with gradient
/// `g + g2` (`g2` empty: `g`).
#[inline(always)]
fn adam_body(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], g2: &[f32], c: AdamConsts) {
    let n = p.len().min(m.len()).min(v.len()).min(g.len());
    let (p, m, v, g) = (&mut p[..n], &mut m[..n], &mut v[..n], &g[..n]);
    let one = |p: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
        *m = c.b1 * *m + (1.0 - c.b1) * g;
        *v = c.b2 * *v + (1.0 - c.b2) * g * g;
        *p -= c.step * *m / (v.sqrt() * c.inv_sqrt_bc2 + c.eps);
    };
    if g2.len() >= n {
        // indexed over slices of one length: the bounds checks vanish and the loop vectorizes
        // (a five-way zip does not)
        let g2 = &g2[..n];
        for i in 0..n {
            one(&mut p[i], &mut m[i], &mut v[i], g[i] + g2[i]);
        }
    } else {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            one(p, m, v, g);
        }
    }
}

dispatch!(
    /// One Adam update of `p` with moments `m`, `v` and gradient `g + g2` (`g2` empty: `g`).
    adam_kernel = adam_body(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], g2: &[f32], c: AdamConsts)
);

fn update(p: &mut [f32], m: &mut [f32], v: &mut [f32], gs: &[&[f32]], c: AdamConsts) {
    match gs {
        [g] => adam_kernel(p, m, v, g, &[], c),
        [g0, g1] => adam_kernel(p, m, v, g0, g1, c),
        _ => {
            let sum: Vec<f32> = (0..p.len())
                .map(|i| gs.iter().map(|g| g[i]).sum())
                .collect();
            adam_kernel(p, m, v, &sum, &[], c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vae::VaeConfig;

    #[test]
    fn matches_a_scalar_reference_implementation_over_several_steps() {
        let cfg = VaeConfig {
            input_dim: 3,
            hidden: vec![2],
            latent: 1,
            ..VaeConfig::default()
        };
        let mut vae = Vae::<f32>::new(cfg).unwrap();
        let p0 = f64::from(vae.encoder().layers()[0].w[[1, 1]]);
        let mut adam = Adam::new(AdamConfig::default(), &vae).unwrap();
        let mut g = Gradients::zeros_like(&vae);
        let (mut p, mut m, mut v) = (p0, 0.0f64, 0.0f64);
        for (t, gv) in [0.5f64, -1.0, 2.0, 0.25].into_iter().enumerate() {
            g.encoder[0].w[[1, 1]] = (gv / 2.0) as f32;
            adam.step(&mut vae, &[&g, &g], 0.01).unwrap(); // two shards: the gradient is their sum
            m = 0.9 * m + 0.1 * gv;
            v = 0.999 * v + 0.001 * gv * gv;
            let t = (t + 1) as i32;
            let (mh, vh) = (m / (1.0 - 0.9f64.powi(t)), v / (1.0 - 0.999f64.powi(t)));
            p -= 0.01 * mh / (vh.sqrt() + 1e-8);
        }
        let got = f64::from(vae.encoder().layers()[0].w[[1, 1]]);
        assert!((got - p).abs() < 1e-6, "{got} vs {p}");
        assert_eq!(adam.steps(), 4);
    }

    #[test]
    fn the_plain_rule_is_pytorchs_adam() {
        // first step from zero moments: m̂ = g, v̂ = g², so p moves by lr · g / (|g| + ε)
        let c = AdamConfig::default();
        let (p, m, v) = update_rule(&c, 0.1, 1, 1.0, 0.0, 0.0, -3.0);
        assert!((p - (1.0 + 0.1 * 3.0 / (3.0 + 1e-8))).abs() < 1e-15);
        assert!((m + 0.3).abs() < 1e-15 && (v - 0.009).abs() < 1e-15);
    }

    #[test]
    fn bad_hyperparameters_and_learning_rates_are_typed_errors() {
        let vae = Vae::<f32>::new(VaeConfig {
            input_dim: 3,
            hidden: vec![2],
            latent: 1,
            ..VaeConfig::default()
        })
        .unwrap();
        let bad = [
            AdamConfig {
                lr: f64::NAN,
                ..AdamConfig::default()
            },
            AdamConfig {
                lr: 0.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                lr: f64::INFINITY,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta1: f64::NAN,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta1: 1.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta2: -0.1,
                ..AdamConfig::default()
            },
            AdamConfig {
                eps: f64::NAN,
                ..AdamConfig::default()
            },
            AdamConfig {
                eps: 0.0,
                ..AdamConfig::default()
            },
        ];
        for c in bad {
            assert!(
                matches!(Adam::new(c, &vae), Err(VaeError::Setting { .. })),
                "{c:?} accepted"
            );
        }
        let mut adam = Adam::new(AdamConfig::default(), &vae).unwrap();
        let g = Gradients::zeros_like(&vae);
        let mut m = vae.clone();
        for lr in [f64::NAN, -1.0, f64::INFINITY] {
            assert!(matches!(
                adam.step(&mut m, &[&g], lr),
                Err(VaeError::Setting { .. })
            ));
        }
        assert!(matches!(
            adam.step(&mut m, &[], 1e-3),
            Err(VaeError::TooFew { .. })
        ));
        let other = Vae::<f32>::new(VaeConfig {
            input_dim: 4,
            hidden: vec![2],
            latent: 1,
            ..VaeConfig::default()
        })
        .unwrap();
        let g_other = Gradients::zeros_like(&other);
        assert!(matches!(
            adam.step(&mut m, &[&g_other], 1e-3),
            Err(VaeError::Shape { .. })
        ));
        assert_eq!(m, vae, "a refused step changes nothing");
        assert_eq!(adam.steps(), 0);
    }
}
