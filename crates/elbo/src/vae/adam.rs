//! Adam (Kingma & Ba, 2015), in the form PyTorch implements it.
//!
//! For each parameter p with gradient g, at step t = 1, 2, …:
//!
//! ```text
//! m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
//! p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! The update runs in parallel over disjoint halves of every tensor, and sums the gradients of
//! the data-parallel shards on the fly (so they are never added up in a separate pass).
//!
//! ```
//! use elbo::vae::{Adam, AdamConfig, Gradients, Vae, VaeConfig};
//! let mut vae = Vae::<f32>::new(VaeConfig { hidden: vec![8], latent: 2, input_dim: 4, ..Default::default() }).unwrap();
//! let before = vae.clone();
//! let mut adam = Adam::new(AdamConfig::default(), &vae);
//! let mut g = Gradients::zeros_like(&vae);
//! g.encoder[0].weights_mut().fill(1.0);
//! adam.step(&mut vae, &[&g], 1e-3).unwrap();
//! // the first Adam step moves every parameter with a non-zero gradient by ≈ lr
//! let moved = before.encoder().layers()[0].weights()[[0, 0]] - vae.encoder().layers()[0].weights()[[0, 0]];
//! assert!((moved - 1e-3).abs() < 1e-6);
//! ```

use super::model::{Gradients, Vae, VaeError};
use super::scalar::fast::{self, AdamConsts};
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
    /// Hyperparameters.
    pub config: AdamConfig,
    t: u64,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

/// Elements per parallel work item: large enough that scheduling costs nothing.
const CHUNK: usize = 32 * 1024;

impl Adam {
    /// Zero moments shaped like `model`'s parameters.
    pub fn new(config: AdamConfig, model: &Vae<f32>) -> Self {
        let zeros: Vec<Vec<f32>> = model
            .named_parameters()
            .iter()
            .map(|(_, p)| vec![0.0; p.len()])
            .collect();
        Adam {
            config,
            t: 0,
            m: zeros.clone(),
            v: zeros,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One update of `model` with the gradient Σₛ `grads[s]` (the shards' gradients of one
    /// mini-batch) and learning rate `lr`.
    ///
    /// Fails, changing nothing, if `grads` is empty or a gradient or the model is shaped unlike
    /// the model this optimizer was created for.
    pub fn step(
        &mut self,
        model: &mut Vae<f32>,
        grads: &[&Gradients<f32>],
        lr: f64,
    ) -> Result<(), VaeError> {
        if grads.is_empty() {
            return Err(VaeError::Argument(
                "Adam::step needs at least one gradient".into(),
            ));
        }
        let shard_slices: Vec<Vec<&[f32]>> = grads.iter().map(|g| g.slices()).collect();
        let want: Vec<usize> = self.m.iter().map(Vec::len).collect();
        let params: Vec<usize> = model
            .named_parameters()
            .iter()
            .map(|(_, p)| p.len())
            .collect();
        for lens in shard_slices
            .iter()
            .map(|s| s.iter().map(|t| t.len()).collect::<Vec<_>>())
            .chain(std::iter::once(params))
        {
            if lens != want {
                return Err(VaeError::Argument(format!(
                    "Adam::step: tensors of sizes {lens:?} where this optimizer holds {want:?}"
                )));
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

fn update(p: &mut [f32], m: &mut [f32], v: &mut [f32], gs: &[&[f32]], c: AdamConsts) {
    match gs {
        [g] => fast::adam(p, m, v, g, &[], c),
        [g0, g1] => fast::adam(p, m, v, g0, g1, c),
        _ => {
            let sum: Vec<f32> = (0..p.len())
                .map(|i| gs.iter().map(|g| g[i]).sum())
                .collect();
            fast::adam(p, m, v, &sum, &[], c)
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
        let mut adam = Adam::new(AdamConfig::default(), &vae);
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
}
