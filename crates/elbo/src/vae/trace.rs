//! [`ForwardTrace`]: every intermediate of one forward pass, printed step by step.

use super::scalar::Real;
use ndarray::{Array1, Array2};
use std::fmt;

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
