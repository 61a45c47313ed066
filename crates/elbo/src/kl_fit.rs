//! Forward against reverse KL: the best single Gaussian $q = \mathcal N(\mu, \sigma^2)$ for a
//! bimodal target $p$ under each direction of the divergence (question 1).
//!
//! The target is a one-dimensional Gaussian mixture [`Mixture`],
//! $p(x) = \sum_k w_k\, \mathcal N(x; m_k, s_k^2)$. The two directions ask different things of q:
//!
//! | direction | minimiser over Gaussians | behaviour | here |
//! |---|---|---|---|
//! | forward $D_{KL}(p\|q) = -H(p) - \mathbb E_p[\ln q]$ | **moment matching**: $\mu = \mathbb E_p[x]$, $\sigma^2 = \operatorname{Var}_p[x]$ | mass-covering: q spreads over every mode | [`Mixture::moment_match`] |
//! | reverse $D_{KL}(q\|p) = -H(q) - \mathbb E_q[\ln p]$ | no closed form (the log of a sum); minimised numerically | mode-seeking: q sits on one mode | [`Mixture::fit_reverse_kl`] |
//!
//! **Why moment matching minimises the forward KL.** Since
//! $\ln q(x) = -\tfrac12\ln(2\pi\sigma^2) - (x-\mu)^2/(2\sigma^2)$,
//! $-\mathbb E_p[\ln q] = \tfrac12 \ln(2\pi\sigma^2) + \big(\operatorname{Var}_p[x] + (\mathbb E_p[x] - \mu)^2\big)/(2\sigma^2)$
//! depends on p only through its mean and variance; it is minimised by $\mu = \mathbb E_p[x]$ and
//! then, setting the derivative in $\sigma^2$ to zero, $\sigma^2 = \operatorname{Var}_p[x]$.
//! $H(p)$ does not depend on q.
//!
//! **Why the reverse KL seeks a mode.** $\mathbb E_q[-\ln p]$ is large wherever q puts mass where
//! p is small, so q avoids the valley between well-separated modes and settles on one of them:
//! each mode is a local minimum, with $D_{KL}(q\|p) \approx -\ln w_k$ when q matches component k.
//!
//! Expectations under a Gaussian are computed by the trapezoidal rule on $\mu \pm 12\sigma$ with
//! [`GRID_POINTS`] nodes: deterministic, and for these smooth, fast-decaying integrands accurate to
//! far below the tolerances the notebook checks (the tests compare it with Gauss–Hermite
//! quadrature and with seeded Monte Carlo). The reverse fit minimises over $(\mu, \ln\sigma)$ by
//! Newton's method with a backtracking line search, using the exact (pathwise) gradient
//! $\partial_\mu D = -\mathbb E_\varepsilon[(\ln p)'(\mu + \sigma\varepsilon)]$,
//! $\partial_{\ln\sigma} D = -1 - \sigma\,\mathbb E_\varepsilon[\varepsilon\,(\ln p)'(\mu + \sigma\varepsilon)]$.
//!
//! ```
//! use elbo::kl_fit::Mixture;
//! let p = Mixture::new(&[0.6, 0.4], &[-3.0, 3.0], &[0.5, 0.8])?;
//! let covering = p.moment_match()?; // argmin_q D(p‖q)
//! assert!((covering.mean() - (0.6 * -3.0 + 0.4 * 3.0)).abs() < 1e-12);
//! let seeking = &p.fit_reverse_kl_from_modes()?[0]; // argmin_q D(q‖p), best local minimum
//! assert!((seeking.q.mean() + 3.0).abs() < 1e-3); // on the heavier mode
//! assert!(seeking.kl < p.reverse_kl(covering));
//! # Ok::<(), elbo::kl_fit::KlFitError>(())
//! ```

use crate::gaussian::{Gaussian, GaussianError};
use crate::rand::rngs::SmallRng;
use crate::rand::{Rng, SeedableRng};
use crate::rand_distr::StandardNormal;
use std::f64::consts::PI;

/// Number of trapezoid nodes on $\mu \pm 12\sigma$ for an expectation under $\mathcal N(\mu, \sigma^2)$.
pub const GRID_POINTS: usize = 4001;

/// Half-width of the integration range, in standard deviations.
const GRID_HALF_WIDTH: f64 = 12.0;

/// How far from 1 mixture weights may sum.
const WEIGHT_TOLERANCE: f64 = 1e-9;

/// Why a mixture could not be built, sampled or fitted. Each message names what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KlFitError {
    /// No components.
    #[error("a mixture needs at least one component")]
    Empty,
    /// Means or standard deviations do not have one entry per weight.
    #[error("{what} has {got} entries but there are {expected} weights")]
    Length {
        /// "means" or "standard deviations".
        what: &'static str,
        /// Its length.
        got: usize,
        /// The number of weights.
        expected: usize,
    },
    /// A weight is not finite and > 0.
    #[error("weight w[{index}] = {value} must be finite and > 0")]
    BadWeight {
        /// Which weight.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The weights do not sum to 1.
    #[error("weights sum to {sum}, not 1 (tolerance 1e-9)")]
    NotNormalized {
        /// Their sum.
        sum: f64,
    },
    /// A component (or the moment-matched Gaussian) is not a valid Gaussian.
    #[error(transparent)]
    Gaussian(#[from] GaussianError),
    /// A setting of the reverse fit is out of range.
    #[error("invalid {what}: {why}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The reverse fit stopped before the gradient was small.
    #[error(
        "the reverse-KL fit did not converge: after {iterations} iterations the gradient norm is \
         {gradient_norm:e} (tolerance {tolerance:e})"
    )]
    NoConvergence {
        /// Iterations done.
        iterations: usize,
        /// ‖∇D‖ where it stopped.
        gradient_norm: f64,
        /// The tolerance asked for.
        tolerance: f64,
    },
}

/// Which KL divergence between the target p and a Gaussian q.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlDirection {
    /// $D_{KL}(p\|q)$: averaged under the target (mass-covering).
    Forward,
    /// $D_{KL}(q\|p)$: averaged under the approximation (mode-seeking), the VAE's direction.
    Reverse,
}

/// A one-dimensional Gaussian mixture $p(x) = \sum_k w_k\, \mathcal N(x; m_k, s_k^2)$: weights
/// finite, > 0 and summing to 1 (within 1e-9; they are then rescaled to sum to 1), every
/// component a valid [`Gaussian`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    weights: Vec<f64>,
    components: Vec<Gaussian>,
}

/// A local minimum of $D_{KL}(q\|p)$ found by [`Mixture::fit_reverse_kl`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KlFit {
    /// The fitted $q = \mathcal N(\mu, \sigma^2)$.
    pub q: Gaussian,
    /// $D_{KL}(q\|p)$ at the fit, in nats.
    pub kl: f64,
    /// The exact gradient in $(\mu, \ln\sigma)$ at the fit (its norm is below the tolerance).
    pub gradient: [f64; 2],
    /// Newton iterations used.
    pub iterations: usize,
}

/// Settings of [`Mixture::fit_reverse_kl`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSettings {
    /// Stop when $\|\nabla_{(\mu, \ln\sigma)} D_{KL}(q\|p)\| \le$ `tolerance`.
    pub tolerance: f64,
    /// At most this many iterations.
    pub max_iterations: usize,
}

impl Default for FitSettings {
    /// tolerance 1e-9, 200 iterations.
    fn default() -> Self {
        FitSettings {
            tolerance: 1e-9,
            max_iterations: 200,
        }
    }
}

impl Mixture {
    /// The mixture with weights $w_k$, means $m_k$ and standard deviations $s_k$.
    ///
    /// # Errors
    /// [`KlFitError::Empty`], [`KlFitError::Length`], [`KlFitError::BadWeight`],
    /// [`KlFitError::NotNormalized`], or [`KlFitError::Gaussian`] for a bad mean or standard
    /// deviation.
    pub fn new(weights: &[f64], means: &[f64], std_devs: &[f64]) -> Result<Self, KlFitError> {
        if weights.is_empty() {
            return Err(KlFitError::Empty);
        }
        for (what, got) in [
            ("means", means.len()),
            ("standard deviations", std_devs.len()),
        ] {
            if got != weights.len() {
                return Err(KlFitError::Length {
                    what,
                    got,
                    expected: weights.len(),
                });
            }
        }
        if let Some(index) = weights.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(KlFitError::BadWeight {
                index,
                value: weights[index],
            });
        }
        let sum: f64 = weights.iter().sum();
        if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
            return Err(KlFitError::NotNormalized { sum });
        }
        let components = means
            .iter()
            .zip(std_devs)
            .map(|(&m, &s)| Gaussian::new(m, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Mixture {
            weights: weights.iter().map(|w| w / sum).collect(),
            components,
        })
    }

    /// The weights $w_k$.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The components $\mathcal N(m_k, s_k^2)$.
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// $\ln p(x) = \ln \sum_k e^{\ln w_k + \ln \mathcal N(x; m_k, s_k^2)}$ by log-sum-exp: finite
    /// far in the tails, where the density itself underflows. NaN for NaN x.
    pub fn log_density(&self, x: f64) -> f64 {
        let terms = self.log_terms(x);
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !top.is_finite() {
            return if x.is_nan() { f64::NAN } else { top };
        }
        top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
    }

    /// $p(x)$ (0 where it underflows).
    pub fn density(&self, x: f64) -> f64 {
        self.log_density(x).exp()
    }

    /// The score $(\ln p)'(x) = -\sum_k r_k(x)\,(x - m_k)/s_k^2$ with responsibilities
    /// $r_k(x) = w_k \mathcal N(x; m_k, s_k^2)/p(x)$, computed stably.
    pub fn score(&self, x: f64) -> f64 {
        let terms = self.log_terms(x);
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for (t, c) in terms.iter().zip(&self.components) {
            let r = (t - top).exp();
            num -= r * (x - c.mean()) / c.variance();
            den += r;
        }
        num / den
    }

    /// $\mathbb E_p[x] = \sum_k w_k m_k$.
    pub fn mean(&self) -> f64 {
        self.weights
            .iter()
            .zip(&self.components)
            .map(|(w, c)| w * c.mean())
            .sum()
    }

    /// $\operatorname{Var}_p[x] = \sum_k w_k (s_k^2 + (m_k - \mathbb E_p x)^2)$ (law of total
    /// variance: mean of the variances plus variance of the means).
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        self.weights
            .iter()
            .zip(&self.components)
            .map(|(w, c)| w * (c.variance() + (c.mean() - m).powi(2)))
            .sum()
    }

    /// The minimiser of the forward divergence $D_{KL}(p\|q)$ over Gaussians q:
    /// $\mathcal N(\mathbb E_p x, \operatorname{Var}_p x)$ (see the module documentation).
    ///
    /// # Errors
    /// [`KlFitError::Gaussian`] if the variance is not representable (σ² overflows).
    pub fn moment_match(&self) -> Result<Gaussian, KlFitError> {
        Ok(Gaussian::new(self.mean(), self.variance().sqrt())?)
    }

    /// `n` draws from p (pick component k with probability $w_k$, then draw from it), from the
    /// stream seeded by `seed`.
    ///
    /// # Errors
    /// [`KlFitError::Invalid`] if n values cannot be allocated.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<f64>, KlFitError> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| KlFitError::Invalid {
            what: "n",
            why: "more draws than can be allocated",
        })?;
        let mut rng = SmallRng::seed_from_u64(seed);
        for _ in 0..n {
            let u: f64 = rng.random();
            let mut k = 0;
            let mut acc = self.weights[0];
            while u >= acc && k + 1 < self.weights.len() {
                k += 1;
                acc += self.weights[k];
            }
            let e: f64 = rng.sample(StandardNormal);
            v.push(self.components[k].reparameterize(e));
        }
        Ok(v)
    }

    /// The entropy $H(p) = -\mathbb E_p[\ln p] = -\sum_k w_k\, \mathbb E_{\mathcal N(m_k, s_k^2)}[\ln p]$
    /// in nats, by quadrature (no closed form: the log of a sum).
    pub fn entropy(&self) -> f64 {
        -self
            .weights
            .iter()
            .zip(&self.components)
            .map(|(w, c)| w * gaussian_expectation(*c, |x| self.log_density(x)))
            .sum::<f64>()
    }

    /// $\mathbb E_p[\ln q] = -\tfrac12\ln(2\pi\sigma^2) - \big(\operatorname{Var}_p x + (\mathbb E_p x - \mu)^2\big)/(2\sigma^2)$,
    /// exactly: $\ln q$ is quadratic, so only p's first two moments enter.
    pub fn expected_log_q(&self, q: Gaussian) -> f64 {
        let dm = self.mean() - q.mean();
        -0.5 * (2.0 * PI * q.variance()).ln() - (self.variance() + dm * dm) / (2.0 * q.variance())
    }

    /// The forward divergence $D_{KL}(p\|q) = -H(p) - \mathbb E_p[\ln q]$ in nats.
    pub fn forward_kl(&self, q: Gaussian) -> f64 {
        -self.entropy() - self.expected_log_q(q)
    }

    /// The reverse divergence $D_{KL}(q\|p) = -H(q) - \mathbb E_q[\ln p]$ in nats, with
    /// $H(q) = \tfrac12\ln(2\pi e\sigma^2)$ and $\mathbb E_q[\ln p]$ by quadrature.
    pub fn reverse_kl(&self, q: Gaussian) -> f64 {
        let neg_entropy_q = -0.5 * (2.0 * PI * std::f64::consts::E * q.variance()).ln();
        neg_entropy_q - gaussian_expectation(q, |x| self.log_density(x))
    }

    /// $D_{KL}$ in the given direction.
    pub fn kl(&self, direction: KlDirection, q: Gaussian) -> f64 {
        match direction {
            KlDirection::Forward => self.forward_kl(q),
            KlDirection::Reverse => self.reverse_kl(q),
        }
    }

    /// $D_{KL}$ as a function of $t = (\mu, \ln\sigma)$, the coordinates the fit works in; NaN
    /// where $\mathcal N(\mu, e^{2t_2})$ is not a valid Gaussian. For finite differences:
    /// `central_difference(|t| p.kl_at(direction, t), t, h)`.
    pub fn kl_at(&self, direction: KlDirection, t: [f64; 2]) -> f64 {
        Gaussian::new(t[0], t[1].exp()).map_or(f64::NAN, |q| self.kl(direction, q))
    }

    /// The exact gradient of $D_{KL}(q\|p)$ in $(\mu, \ln\sigma)$, by the reparameterization
    /// $x = \mu + \sigma\varepsilon$:
    /// $\big(-\mathbb E_\varepsilon[(\ln p)'(x)],\ -1 - \sigma\,\mathbb E_\varepsilon[\varepsilon\,(\ln p)'(x)]\big)$.
    pub fn reverse_kl_gradient(&self, q: Gaussian) -> [f64; 2] {
        let mu = q.mean();
        let d_mu = -gaussian_expectation(q, |x| self.score(x));
        // x − μ = σε, so σ E[ε (ln p)'(x)] = E[(x − μ)(ln p)'(x)].
        let d_log_sigma = -1.0 - gaussian_expectation(q, |x| (x - mu) * self.score(x));
        [d_mu, d_log_sigma]
    }

    /// A local minimum of $D_{KL}(q\|p)$ over Gaussians q, by Newton's method in
    /// $(\mu, \ln\sigma)$ from `start`, with a backtracking line search (a step is taken only if
    /// it lowers the divergence; where the Hessian, from differences of the exact gradient, is
    /// not positive definite the step is along $-\nabla D$).
    ///
    /// # Errors
    /// [`KlFitError::Invalid`] for a tolerance that is not finite and > 0 or zero iterations;
    /// [`KlFitError::NoConvergence`] if the gradient norm is still above the tolerance after
    /// `max_iterations`, or no step lowers the divergence.
    pub fn fit_reverse_kl(
        &self,
        start: Gaussian,
        settings: FitSettings,
    ) -> Result<KlFit, KlFitError> {
        if !(settings.tolerance.is_finite() && settings.tolerance > 0.0) {
            return Err(KlFitError::Invalid {
                what: "tolerance",
                why: "must be finite and > 0",
            });
        }
        if settings.max_iterations == 0 {
            return Err(KlFitError::Invalid {
                what: "max_iterations",
                why: "must be ≥ 1",
            });
        }
        let grad_at = |t: [f64; 2]| -> Option<[f64; 2]> {
            Gaussian::new(t[0], t[1].exp())
                .ok()
                .map(|q| self.reverse_kl_gradient(q))
        };
        let mut t = [start.mean(), start.std_dev().ln()];
        let mut f = self.kl_at(KlDirection::Reverse, t);
        let mut g = self.reverse_kl_gradient(start);
        for iteration in 0..=settings.max_iterations {
            let norm = g[0].hypot(g[1]);
            if norm <= settings.tolerance {
                return Ok(KlFit {
                    q: Gaussian::new(t[0], t[1].exp())?,
                    kl: f,
                    gradient: g,
                    iterations: iteration,
                });
            }
            let stalled = KlFitError::NoConvergence {
                iterations: iteration,
                gradient_norm: norm,
                tolerance: settings.tolerance,
            };
            if iteration == settings.max_iterations {
                return Err(stalled);
            }
            let direction = newton_direction(t, g, &grad_at).unwrap_or([-g[0], -g[1]]);
            let slope = direction[0] * g[0] + direction[1] * g[1];
            let mut step = 1.0;
            loop {
                let cand = [t[0] + step * direction[0], t[1] + step * direction[1]];
                let fc = self.kl_at(KlDirection::Reverse, cand);
                // Armijo's sufficient decrease; near the optimum rounding hides the decrease,
                // so a step that does not raise D and lowers the gradient is taken too.
                let accept = fc.is_finite()
                    && (fc <= f + 1e-4 * step * slope
                        || (fc <= f + 1e-14 * f.abs().max(1.0)
                            && grad_at(cand).is_some_and(|gc| gc[0].hypot(gc[1]) < norm)));
                if accept {
                    t = cand;
                    f = fc;
                    g = grad_at(t).ok_or(stalled.clone())?;
                    break;
                }
                step *= 0.5;
                if step < 1e-12 {
                    return Err(stalled);
                }
            }
        }
        unreachable!("the loop returns at iteration max_iterations")
    }

    /// The reverse fit started from every component $\mathcal N(m_k, s_k^2)$, one local minimum
    /// per start with duplicates (means within 1e-6) removed, sorted by $D_{KL}(q\|p)$: the first
    /// is the best Gaussian found. For well-separated modes there is one local minimum per mode.
    ///
    /// # Errors
    /// As [`Mixture::fit_reverse_kl`] with the default settings.
    pub fn fit_reverse_kl_from_modes(&self) -> Result<Vec<KlFit>, KlFitError> {
        let mut fits: Vec<KlFit> = Vec::new();
        for &c in &self.components {
            let fit = self.fit_reverse_kl(c, FitSettings::default())?;
            if fits
                .iter()
                .all(|f| (f.q.mean() - fit.q.mean()).abs() > 1e-6)
            {
                fits.push(fit);
            }
        }
        fits.sort_by(|a, b| a.kl.total_cmp(&b.kl));
        Ok(fits)
    }

    /// $\ln w_k + \ln \mathcal N(x; m_k, s_k^2)$ for every k.
    fn log_terms(&self, x: f64) -> Vec<f64> {
        self.weights
            .iter()
            .zip(&self.components)
            .map(|(w, c)| w.ln() + c.log_density(x))
            .collect()
    }
}

/// The Newton direction $-H^{-1}g$, with H from central differences of the exact gradient
/// (symmetrised); None where H is not positive definite or a gradient cannot be evaluated.
fn newton_direction(
    t: [f64; 2],
    g: [f64; 2],
    grad_at: &impl Fn([f64; 2]) -> Option<[f64; 2]>,
) -> Option<[f64; 2]> {
    let h = 1e-5;
    let mut hess = [[0.0; 2]; 2];
    for i in 0..2 {
        let (mut up, mut down) = (t, t);
        up[i] += h;
        down[i] -= h;
        let (gu, gd) = (grad_at(up)?, grad_at(down)?);
        for j in 0..2 {
            hess[j][i] = (gu[j] - gd[j]) / (2.0 * h);
        }
    }
    let off = 0.5 * (hess[0][1] + hess[1][0]);
    let (a, d) = (hess[0][0], hess[1][1]);
    let det = a * d - off * off;
    if !(a > 0.0 && det > 0.0 && det.is_finite()) {
        return None;
    }
    Some([
        -(d * g[0] - off * g[1]) / det,
        -(a * g[1] - off * g[0]) / det,
    ])
}

/// $\mathbb E_{x\sim q}[f(x)]$ by the trapezoidal rule on $\mu \pm 12\sigma$ ([`GRID_POINTS`] nodes).
fn gaussian_expectation(q: Gaussian, f: impl Fn(f64) -> f64) -> f64 {
    let n = GRID_POINTS;
    let h = 2.0 * GRID_HALF_WIDTH / (n - 1) as f64;
    let norm = 1.0 / (2.0 * PI).sqrt();
    let mut sum = 0.0;
    for i in 0..n {
        let e = -GRID_HALF_WIDTH + h * i as f64;
        let end = if i == 0 || i == n - 1 { 0.5 } else { 1.0 };
        sum += end * norm * (-0.5 * e * e).exp() * f(q.reparameterize(e));
    }
    sum * h
}

#[cfg(test)]
mod tests;
