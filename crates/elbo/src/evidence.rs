//! The evidence $p(x) = \int p(x \mid z)\, p(z)\, dz$ of a latent variable model whose answer is
//! known, and how well sampling estimates it (question 2(a) and (b)).
//!
//! The model is the isotropic linear-Gaussian one, [`IsotropicModel`]:
//!
//! $$z \sim \mathcal N(0, I_d), \qquad x \mid z \sim \mathcal N(a z, s^2 I_d)
//!   \quad\Longrightarrow\quad x \sim \mathcal N\big(0, (a^2 + s^2) I_d\big),\qquad
//!   p(z \mid x) = \mathcal N\Big(\frac{a x}{a^2 + s^2}, \frac{s^2}{a^2 + s^2} I_d\Big).$$
//!
//! It is *conjugate*: the integral has a closed form, the exception to "the evidence cannot be
//! computed". That is what makes it a test bed: every sampling estimate can be compared with the
//! exact $\log p(x)$ ([`IsotropicModel::log_evidence`]), and the estimators' relative variances
//! are known exactly too.
//!
//! **Prior sampling**, $\hat p(x) = \frac1K \sum_k p(x \mid z_k)$ with $z_k \sim p(z)$, is unbiased
//! with relative variance ([`IsotropicModel::prior_sampling_relative_variance`])
//!
//! $$\frac{\operatorname{Var}\hat p(x)}{p(x)^2} = \frac1K\Big(\prod_{j=1}^d r(x_j) - 1\Big),\qquad
//!   r(x_j) = \frac{\mathbb E_{z_j}\big[\mathcal N(x_j; a z_j, s^2)^2\big]}{\mathcal N(x_j; 0, a^2 + s^2)^2}
//!   = \frac{\mathcal N(x_j; 0, a^2 + s^2/2)}{2\sqrt\pi\, s\, \mathcal N(x_j; 0, a^2 + s^2)^2}.$$
//!
//! Each factor is a second moment over a squared first moment, so $r(x_j) \ge 1$ by
//! Cauchy–Schwarz (Jensen), with equality only if the weight did not depend on $z_j$ (a = 0). In
//! fact $r(x_j) \ge r(0) = \frac{a^2 + s^2}{s\sqrt{2a^2 + s^2}} > 1$ for every $x_j$
//! ([`IsotropicModel::min_second_moment_factor`]): the relative variance grows at least like
//! $r(0)^d$, exponentially in the dimension, whatever the observation.
//!
//! **Importance sampling** from $q(z) = \mathcal N(m, c^2 v\, I_d)$, the exact posterior
//! $\mathcal N(m, v\, I_d)$ widened by a factor c in standard deviation, has relative variance
//! $\frac1K\big(\rho(c)^d - 1\big)$ with $\rho(c) = \frac{c^2}{\sqrt{2c^2 - 1}}$, independent of x
//! ([`importance_relative_variance`]): still exponential in d, but with a base close to 1 when q is
//! close to the posterior ($\rho(1.2) \approx 1.05$), and exactly 0 at $c = 1$.
//!
//! ```
//! use elbo::evidence::IsotropicModel;
//! let model = IsotropicModel::new(1.0, 0.5)?;
//! let x = model.observation(4, 7)?;
//! // the exact posterior makes every importance weight equal to p(x)
//! let post = model.posterior(x.view())?;
//! assert_eq!(post.dim(), 4);
//! assert!(model.min_second_moment_factor() > 1.0);
//! assert!(model.prior_sampling_relative_variance(x.view(), 1000)? > 0.0);
//! # Ok::<(), elbo::evidence::EvidenceError>(())
//! ```

use crate::estimators::{Estimate, RunningMean};
use crate::gaussian::{DiagGaussian, GaussianError};
use ndarray::{Array1, ArrayView1};
use std::f64::consts::PI;

/// Why a model could not be built or an estimate summarised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvidenceError {
    /// A parameter is out of its domain.
    #[error("{what} = {value}, but it must be {expected}")]
    BadParameter {
        /// Which parameter: "a", "s", "c", "K", "d", …
        what: &'static str,
        /// Its value.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// A Gaussian could not be built or evaluated (a bad observation, a zero dimension, …).
    #[error(transparent)]
    Gaussian(#[from] GaussianError),
    /// A summary needs at least two estimates.
    #[error("a summary needs at least 2 estimates, got {0}")]
    TooFew(usize),
}

/// The model $z \sim \mathcal N(0, I_d)$, $x \mid z \sim \mathcal N(a z, s^2 I_d)$, in any
/// dimension d (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsotropicModel {
    a: f64,
    s: f64,
}

impl IsotropicModel {
    /// The model with loading `a` (finite) and noise standard deviation `s` (finite, > 0).
    ///
    /// # Errors
    /// [`EvidenceError::BadParameter`] naming a or s.
    pub fn new(a: f64, s: f64) -> Result<Self, EvidenceError> {
        if !a.is_finite() {
            return Err(bad("a", a, "finite"));
        }
        if !(s.is_finite() && s > 0.0 && (a * a + s * s).is_finite()) {
            return Err(bad("s", s, "finite and > 0"));
        }
        Ok(IsotropicModel { a, s })
    }

    /// The loading a.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// The noise standard deviation s.
    pub fn s(&self) -> f64 {
        self.s
    }

    /// The marginal $p(x) = \mathcal N(0, (a^2 + s^2) I_d)$.
    ///
    /// # Errors
    /// [`EvidenceError::Gaussian`] for d = 0.
    pub fn marginal(&self, d: usize) -> Result<DiagGaussian, EvidenceError> {
        let sd = (self.a * self.a + self.s * self.s).sqrt();
        Ok(DiagGaussian::isotropic(Array1::zeros(d), sd)?)
    }

    /// One observation $x \sim p(x)$ in dimension d, from the stream seeded by `seed`.
    ///
    /// # Errors
    /// As [`IsotropicModel::marginal`].
    pub fn observation(&self, d: usize, seed: u64) -> Result<Array1<f64>, EvidenceError> {
        Ok(self.marginal(d)?.sample(1, seed)?.row(0).to_owned())
    }

    /// The exact evidence $\ln p(x) = \ln \mathcal N(x; 0, (a^2 + s^2) I_d)$.
    ///
    /// # Errors
    /// [`EvidenceError::Gaussian`] for an empty or NaN x.
    pub fn log_evidence(&self, x: ArrayView1<'_, f64>) -> Result<f64, EvidenceError> {
        Ok(self.marginal(x.len())?.log_density(x)?)
    }

    /// The exact posterior $p(z \mid x) = \mathcal N\big(a x/(a^2 + s^2),\ s^2/(a^2 + s^2)\, I_d\big)$.
    ///
    /// # Errors
    /// [`EvidenceError::Gaussian`] for an empty or non-finite x.
    pub fn posterior(&self, x: ArrayView1<'_, f64>) -> Result<DiagGaussian, EvidenceError> {
        let v = self.a * self.a + self.s * self.s;
        Ok(DiagGaussian::isotropic(
            x.mapv(|xj| self.a * xj / v),
            self.s / v.sqrt(),
        )?)
    }

    /// $\ln r(x_j)$, the log of one coordinate's factor in the relative variance of prior
    /// sampling (see the [module documentation](self)): ≥ ln r(0) > 0 for a ≠ 0.
    pub fn log_second_moment_factor(&self, xj: f64) -> f64 {
        let (a2, s2) = (self.a * self.a, self.s * self.s);
        let log_n = |x: f64, var: f64| -0.5 * (2.0 * PI * var).ln() - x * x / (2.0 * var);
        log_n(xj, a2 + s2 / 2.0) - (2.0 * PI.sqrt() * self.s).ln() - 2.0 * log_n(xj, a2 + s2)
    }

    /// The smallest factor, $r(0) = \frac{a^2 + s^2}{s\sqrt{2a^2 + s^2}}$ (r grows with $|x_j|$).
    pub fn min_second_moment_factor(&self) -> f64 {
        let (a2, s2) = (self.a * self.a, self.s * self.s);
        (a2 + s2) / (self.s * (2.0 * a2 + s2).sqrt())
    }

    /// The exact relative variance $\operatorname{Var}\hat p(x)/p(x)^2 = (\prod_j r(x_j) - 1)/K$
    /// of the prior-sampling estimate with K samples, summed in log space (+∞ beyond the largest
    /// `f64`).
    ///
    /// # Errors
    /// [`EvidenceError::BadParameter`] for K = 0 or a non-finite x.
    pub fn prior_sampling_relative_variance(
        &self,
        x: ArrayView1<'_, f64>,
        k: usize,
    ) -> Result<f64, EvidenceError> {
        if k == 0 {
            return Err(bad("K", 0.0, "≥ 1"));
        }
        if let Some(&v) = x.iter().find(|v| !v.is_finite()) {
            return Err(bad("x", v, "finite in every coordinate"));
        }
        let log_r: f64 = x.iter().map(|&xj| self.log_second_moment_factor(xj)).sum();
        Ok(log_r.exp_m1() / k as f64)
    }
}

/// The exact relative variance $(\rho(c)^d - 1)/K$, $\rho(c) = c^2/\sqrt{2c^2 - 1}$, of importance
/// sampling with K draws from the exact posterior widened by a factor c in standard deviation,
/// in d dimensions (see the [module documentation](self)).
///
/// # Errors
/// [`EvidenceError::BadParameter`] unless $c > 1/\sqrt2$ (below it the variance is infinite) and
/// finite, and K ≥ 1.
pub fn importance_relative_variance(c: f64, d: usize, k: usize) -> Result<f64, EvidenceError> {
    if !(c.is_finite() && c > 0.0 && 2.0 * c * c > 1.0) {
        return Err(bad("c", c, "finite and > 1/√2"));
    }
    if k == 0 {
        return Err(bad("K", 0.0, "≥ 1"));
    }
    // ln ρ = 2 ln c − ½ ln(2c² − 1), written without forming 2c² (which overflows for large c)
    let log_rho = c.ln() - 0.5 * std::f64::consts::LN_2 - 0.5 * (-0.5 / (c * c)).ln_1p();
    Ok((d as f64 * log_rho).exp_m1() / k as f64)
}

/// How repeated estimates $\ln\hat p_1, \dots, \ln\hat p_R$ of $\ln p(x)$ miss the exact value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorSummary {
    /// The mean of $(\hat p/p - 1)^2$ over the runs, with its standard error: for an unbiased
    /// $\hat p$ it estimates the relative variance $\operatorname{Var}\hat p/p^2$.
    pub squared_relative: Estimate,
    /// The mean of $\hat p/p$, with its standard error: 1 for an unbiased $\hat p$.
    pub ratio: Estimate,
    /// The median of the signed log error $\ln\hat p - \ln p$ (a typical run; negative when
    /// $\hat p$ typically underestimates).
    pub median_log_error: f64,
    /// The mean of $|\ln\hat p - \ln p|$ in nats.
    pub mean_abs_log_error: f64,
    /// The median of $|\hat p/p - 1|$: the relative error of a typical run.
    pub median_abs_relative: f64,
}

impl ErrorSummary {
    /// $\sqrt{\text{mean of }(\hat p/p - 1)^2}$, the root-mean-square relative error.
    pub fn rms_relative(&self) -> f64 {
        self.squared_relative.mean.sqrt()
    }
}

/// Summarises R ≥ 2 estimates `log_estimates` of the exact `log_exact`.
///
/// # Errors
/// [`EvidenceError::TooFew`] for fewer than 2 estimates; [`EvidenceError::BadParameter`] for a
/// NaN estimate or a non-finite exact value (an estimate of −∞, a p̂ that underflowed, is kept).
pub fn error_summary(log_estimates: &[f64], log_exact: f64) -> Result<ErrorSummary, EvidenceError> {
    if log_estimates.len() < 2 {
        return Err(EvidenceError::TooFew(log_estimates.len()));
    }
    if !log_exact.is_finite() {
        return Err(bad("log p(x)", log_exact, "finite"));
    }
    if let Some(&v) = log_estimates.iter().find(|v| v.is_nan()) {
        return Err(bad("log p̂(x)", v, "a number, not NaN"));
    }
    let mut errors: Vec<f64> = log_estimates.iter().map(|e| e - log_exact).collect();
    let (mut sq, mut ratio) = (RunningMean::new(), RunningMean::new());
    for &e in &errors {
        sq.push(e.exp_m1().powi(2));
        ratio.push(e.exp());
    }
    let mean_abs_log_error = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64;
    let mut abs_relative: Vec<f64> = errors.iter().map(|e| e.exp_m1().abs()).collect();
    let median_log_error = median(&mut errors);
    let median_abs_relative = median(&mut abs_relative);
    Ok(ErrorSummary {
        squared_relative: sq.estimate(),
        ratio: ratio.estimate(),
        median_log_error,
        mean_abs_log_error,
        median_abs_relative,
    })
}

/// The median of a non-empty slice without NaN (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn bad(what: &'static str, value: f64, expected: &'static str) -> EvidenceError {
    EvidenceError::BadParameter {
        what,
        value,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimators::{GaussHermite, log_mean_exp};
    use crate::gaussian::normal_pdf;
    use ndarray::array;

    fn model() -> IsotropicModel {
        IsotropicModel::new(1.0, 0.5).unwrap()
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        assert!(matches!(
            IsotropicModel::new(f64::NAN, 1.0),
            Err(EvidenceError::BadParameter { what: "a", .. })
        ));
        assert!(matches!(
            IsotropicModel::new(1.0, 0.0),
            Err(EvidenceError::BadParameter { what: "s", .. })
        ));
        assert!(matches!(
            model().marginal(0),
            Err(EvidenceError::Gaussian(_))
        ));
        assert!(
            model()
                .prior_sampling_relative_variance(array![1.0].view(), 0)
                .is_err()
        );
        assert!(
            model()
                .prior_sampling_relative_variance(array![f64::NAN].view(), 10)
                .is_err()
        );
        assert!(importance_relative_variance(0.7, 3, 10).is_err());
        assert!(matches!(
            error_summary(&[1.0], 1.0),
            Err(EvidenceError::TooFew(1))
        ));
        assert!(error_summary(&[1.0, f64::NAN], 1.0).is_err());
    }

    #[test]
    fn evidence_is_the_integral_of_likelihood_times_prior() {
        let m = model();
        let gh = GaussHermite::new(256).unwrap();
        for xj in [-2.0, 0.0, 0.3, 1.7] {
            let by_quadrature = gh.standard_expectation(|z| normal_pdf(xj, z, 0.5).unwrap());
            let exact = m.log_evidence(array![xj].view()).unwrap();
            assert!((by_quadrature.ln() - exact).abs() < 1e-12, "x = {xj}");
        }
    }

    #[test]
    fn posterior_is_likelihood_times_prior_over_evidence() {
        let m = model();
        let x = array![0.8, -1.1];
        let post = m.posterior(x.view()).unwrap();
        let log_px = m.log_evidence(x.view()).unwrap();
        for z in [array![0.1, 0.2], array![-1.0, 0.5]] {
            let lik = DiagGaussian::isotropic(&z * 1.0, 0.5)
                .unwrap()
                .log_density(x.view())
                .unwrap();
            let prior = DiagGaussian::standard(2)
                .unwrap()
                .log_density(z.view())
                .unwrap();
            let want = lik + prior - log_px;
            assert!((post.log_density(z.view()).unwrap() - want).abs() < 1e-12);
        }
    }

    #[test]
    fn second_moment_factor_matches_quadrature_and_is_at_least_r0() {
        let m = model();
        let gh = GaussHermite::new(256).unwrap();
        for xj in [-2.5, -0.4, 0.0, 0.9, 3.0] {
            let second = gh.standard_expectation(|z| normal_pdf(xj, z, 0.5).unwrap().powi(2));
            let first = gh.standard_expectation(|z| normal_pdf(xj, z, 0.5).unwrap());
            let r = m.log_second_moment_factor(xj).exp();
            assert!((r - second / (first * first)).abs() < 1e-10 * r, "x = {xj}");
            assert!(r >= m.min_second_moment_factor() - 1e-12);
        }
        let r0 = m.log_second_moment_factor(0.0).exp();
        assert!((r0 - m.min_second_moment_factor()).abs() < 1e-12);
        assert!((r0 - 1.25 / 0.75).abs() < 1e-12); // (a² + s²)/(s √(2a² + s²)) = 1.25/0.75
    }

    #[test]
    fn importance_factor_matches_quadrature() {
        // ρ(c) = E_q[(post/q)²] for post = N(0, 1), q = N(0, c²)
        let gh = GaussHermite::new(256).unwrap();
        for c in [0.9, 1.2, 2.0] {
            let by_quadrature = gh.standard_expectation(|e| {
                let z = c * e;
                (normal_pdf(z, 0.0, 1.0).unwrap() / normal_pdf(z, 0.0, c).unwrap()).powi(2)
            });
            let exact = importance_relative_variance(c, 1, 1).unwrap() + 1.0;
            assert!((by_quadrature - exact).abs() < 1e-9 * exact, "c = {c}");
        }
        assert_eq!(importance_relative_variance(1.0, 50, 10).unwrap(), 0.0);
    }

    #[test]
    fn prior_sampling_variance_matches_simulation() {
        let m = model();
        let x = m.observation(2, 3).unwrap();
        let exact = m.log_evidence(x.view()).unwrap();
        let k = 100;
        let prior = DiagGaussian::standard(2).unwrap();
        let lik = DiagGaussian::isotropic(x.clone(), 0.5).unwrap();
        let logs: Vec<f64> = (0..4000)
            .map(|r| {
                let z = prior.sample(k, 10 + r).unwrap();
                log_mean_exp(&lik.log_density_rows(z.view()).unwrap().to_vec())
            })
            .collect();
        let summary = error_summary(&logs, exact).unwrap();
        let want = m.prior_sampling_relative_variance(x.view(), k).unwrap();
        let e = summary.squared_relative;
        assert!((e.mean - want).abs() < 4.0 * e.std_error, "{e:?} vs {want}");
        assert!((summary.ratio.mean - 1.0).abs() < 4.0 * summary.ratio.std_error);
    }

    #[test]
    fn summary_of_known_errors() {
        let s = error_summary(&[1.0, 1.0 + 2f64.ln(), 1.0 - 2f64.ln()], 1.0).unwrap();
        assert!((s.median_log_error).abs() < 1e-15);
        assert!((s.ratio.mean - 3.5 / 3.0).abs() < 1e-15);
        assert!((s.squared_relative.mean - (0.0 + 1.0 + 0.25) / 3.0).abs() < 1e-15);
        assert!((s.mean_abs_log_error - 2.0 * 2f64.ln() / 3.0).abs() < 1e-15);
        // |p̂/p − 1| = 0, 1, 0.5
        assert!((s.median_abs_relative - 0.5).abs() < 1e-15);
    }
}
