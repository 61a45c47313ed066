//! [`ElboTerms`]: the three numbers of an ELBO, `elbo = rec − kl` in nats — per example
//! (`ElboTerms<Array1<f64>>`, the default) or one value (`ElboTerms<f64>`: a mean over examples,
//! or the exact ELBO of the linear-Gaussian model).

use ndarray::Array1;

/// The terms of ELBO(x) = E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z)), in nats: per example of a
/// batch (`T = Array1<f64>`, the default, as [`Vae::elbo`](super::Vae::elbo) returns them) or a
/// single value (`T = f64`, e.g. [`mean`](ElboTerms::mean) or
/// [`LinearGaussian::elbo`](crate::linear_gaussian::LinearGaussian::elbo)).
///
/// ```
/// use elbo::vae::ElboTerms;
/// let t = ElboTerms::new(-90.0, 25.0);
/// assert_eq!(t.elbo, -115.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ElboTerms<T = Array1<f64>> {
    /// ELBO = rec − kl.
    pub elbo: T,
    /// E_q[log p_θ(x|z)], the reconstruction term (≤ 0 for a discrete likelihood).
    pub rec: T,
    /// KL(q_φ(z|x) ‖ p(z)), the rate (≥ 0).
    pub kl: T,
}

impl Copy for ElboTerms<f64> {}

impl ElboTerms<f64> {
    /// The terms of one ELBO from its reconstruction term and KL: `elbo = rec − kl`.
    pub fn new(rec: f64, kl: f64) -> Self {
        ElboTerms {
            elbo: rec - kl,
            rec,
            kl,
        }
    }
}

impl ElboTerms {
    /// Per-example terms from per-example reconstruction terms and KLs (`elbo = rec − kl`).
    pub(crate) fn from_rec_kl(rec: &[f64], kl: &[f64]) -> Self {
        let rec = Array1::from(rec.to_vec());
        let kl = Array1::from(kl.to_vec());
        ElboTerms {
            elbo: &rec - &kl,
            rec,
            kl,
        }
    }

    /// Mean ELBO over the examples (nats; NaN for none).
    pub fn mean_elbo(&self) -> f64 {
        self.elbo.mean().unwrap_or(f64::NAN)
    }
    /// Mean reconstruction term (nats; NaN for none).
    pub fn mean_rec(&self) -> f64 {
        self.rec.mean().unwrap_or(f64::NAN)
    }
    /// Mean KL term (nats; NaN for none).
    pub fn mean_kl(&self) -> f64 {
        self.kl.mean().unwrap_or(f64::NAN)
    }
    /// The means over the examples.
    pub fn mean(&self) -> ElboTerms<f64> {
        ElboTerms {
            elbo: self.mean_elbo(),
            rec: self.mean_rec(),
            kl: self.mean_kl(),
        }
    }
}
