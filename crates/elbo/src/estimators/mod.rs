//! Monte Carlo estimators of the gradient $\nabla_\theta\, \mathbb E_{x\sim p_\theta}[f(x)]$ for
//! $p_\theta = \mathcal N(\theta, \sigma^2)$, their closed-form variances, convergence runs, and
//! Gauss–Hermite quadrature for noise-free reference values (question 2).
//!
//! Write $x = \theta + \sigma\varepsilon$ with $\varepsilon \sim \mathcal N(0,1)$. Three unbiased
//! estimators of $\nabla_\theta \mathbb E[f(x)]$ average a per-sample value $g(\varepsilon)$:
//!
//! | [`Estimator`] | per-sample value $g$ | needs |
//! |---|---|---|
//! | [`Estimator::Pathwise`] (reparameterization) | $f'(\theta + \sigma\varepsilon)$ | $f'$ |
//! | [`Estimator::Score`] (REINFORCE) | $f(x)\,\nabla_\theta \ln p_\theta(x) = f(x)\,\varepsilon/\sigma$ | $f$ only |
//! | [`Estimator::ScoreBaseline`]`(b)` | $(f(x) - b)\,\varepsilon/\sigma$ | $f$ only |
//! | [`Estimator::ScoreOptimalBaseline`] | the same with $b^* = \mathbb E[f(x)\,\varepsilon^2]$ | $f$ only |
//!
//! All are unbiased; they differ in variance, which is what decides how many samples a gradient
//! step needs. For the homework's $f(x) = x^2$ the variances are known in closed form
//! ([`Square::variance`]).
//!
//! ```
//! use elbo::estimators::*;
//!
//! let p = Gaussian::new(1.5, 1.0)?;                       // x ∼ N(θ = 1.5, 1)
//! let run = Sampling::new(100_000, 42).threads(2);
//! let pw = estimate(Estimator::Pathwise, &Square, p, run)?;
//! let sf = estimate(Estimator::Score, &Square, p, run)?;
//! // both are unbiased for ∇θ E[x²] = 2θ = 3 …
//! assert!((pw.mean - 3.0).abs() < 4.0 * pw.std_error);
//! assert!((sf.mean - 3.0).abs() < 4.0 * sf.std_error);
//! // … but the score-function estimator is far noisier: 4σ² = 4 against θ⁴/σ² + 14θ² + 15σ²
//! assert_eq!(Square::variance(Estimator::Pathwise, p), 4.0);
//! assert!((Square::variance(Estimator::Score, p) - 51.5625).abs() < 1e-12);
//! # Ok::<(), EstimatorError>(())
//! ```
//!
//! Bad input: every [`Gaussian`] is valid by construction (finite θ, σ > 0 with σ² a normal
//! `f64`); `n < 2`, zero threads, a non-finite baseline, step or exact value, malformed
//! checkpoints and unsupported quadrature sizes are typed [`EstimatorError`]s. The objective is
//! the caller's: NaN or infinite values of f or f' propagate into the estimate (the average of
//! such values is not a number), and are never replaced. Memory does not grow with n (runs are
//! merged in windows of chunks) and at most [`MAX_THREADS`] threads are spawned.
//!
//! Everything streams: the samples are never stored, nothing is allocated per sample, and a
//! [`Sampling`] may split the work over threads with independent, seeded streams.

mod convergence;
mod quadrature;
pub(crate) mod stream;
mod ziggurat;

pub use self::convergence::{
    Descent, MAX_CHECKPOINTS, Trace, batch_means, central_difference, descend, log_log_slope,
    log_mean_exp, log_spaced, rms_error, running,
};
pub use self::quadrature::GaussHermite;
pub use self::stream::{MAX_THREADS, RunningMean, Sampling};
pub use crate::gaussian::Gaussian;

use crate::gaussian::GaussianError;
use std::fmt;

/// Why an estimator, quadrature rule or convergence run could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimatorError {
    /// The Gaussian's parameters are invalid (θ not finite, σ not > 0, …).
    #[error(transparent)]
    Gaussian(#[from] GaussianError),
    /// A sample variance needs at least two samples.
    #[error("a sample variance needs n ≥ 2 samples, got n = {n}")]
    TooFewSamples {
        /// The n given.
        n: u64,
    },
    /// Zero threads were requested.
    #[error("the number of threads must be ≥ 1")]
    NoThreads,
    /// A baseline b is NaN or infinite.
    #[error("baseline b = {b} is not finite")]
    BadBaseline {
        /// The b given.
        b: f64,
    },
    /// A Gauss–Hermite rule was requested with an unsupported number of nodes.
    #[error("Gauss–Hermite quadrature needs 1 ≤ n ≤ 256 nodes, got n = {n}")]
    QuadratureNodes {
        /// The n given.
        n: usize,
    },
    /// A list of checkpoints (sample counts) is empty, not increasing, or starts below 2.
    #[error("checkpoints must be non-empty, strictly increasing and ≥ 2: {0}")]
    Checkpoints(&'static str),
    /// A setting of a convergence run or a fit is out of range.
    #[error("invalid {what}: {why}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Gradient descent left the finite numbers (step too large for the estimator's variance).
    #[error("gradient descent diverged at iteration {iteration}: θ = {theta}")]
    Diverged {
        /// The iteration at which θ became non-finite.
        iteration: usize,
        /// The value reached.
        theta: f64,
    },
}

/// A Monte Carlo estimate: the sample mean $\bar g = \frac1n\sum_i g_i$, the sample variance
/// $s^2 = \frac1{n-1}\sum_i (g_i - \bar g)^2$, the standard error $s/\sqrt n$ and n.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate $\bar g$.
    pub mean: f64,
    /// The sample variance $s^2$ of one sample $g_i$.
    pub variance: f64,
    /// The standard error $s/\sqrt n$ of $\bar g$.
    pub std_error: f64,
    /// The number of samples n.
    pub n: u64,
}

impl Estimate {
    /// The interval $\bar g \pm k\, s/\sqrt n$ (k = 2 is roughly a 95% interval).
    pub fn interval(&self, k: f64) -> (f64, f64) {
        (
            self.mean - k * self.std_error,
            self.mean + k * self.std_error,
        )
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.6} ± {:.2e} (n = {}, sample variance {:.4})",
            self.mean, self.std_error, self.n, self.variance
        )
    }
}

/// A function $f$ whose expectation $\mathbb E_{x\sim\mathcal N(\theta,\sigma^2)}[f(x)]$ we
/// differentiate: its value (for the score-function estimators) and its derivative (for the
/// pathwise one).
///
/// Implement it for a type, or wrap two closures with [`objective`]. `Sync` because a
/// [`Sampling`] may evaluate it on several threads.
pub trait Objective: Sync {
    /// $f(x)$.
    fn value(&self, x: f64) -> f64;

    /// $f'(x)$.
    fn derivative(&self, x: f64) -> f64;

    /// The constant baseline that minimises the variance of the score-function estimator under
    /// $p = \mathcal N(\theta, \sigma^2)$.
    ///
    /// With score $s(x) = (x-\theta)/\sigma^2 = \varepsilon/\sigma$ and $\mathbb E\,s = 0$,
    /// $\operatorname{Var}((f-b)s) = \mathbb E\big((f-b)^2 s^2\big) - \big(\mathbb E(fs)\big)^2$ is a parabola in b,
    /// minimised at $b^* = \mathbb E[f s^2]/\mathbb E[s^2] = \mathbb E[f(x)\,\varepsilon^2]$.
    /// The default evaluates that by 64-point Gauss–Hermite quadrature.
    fn optimal_baseline(&self, p: Gaussian) -> f64 {
        GaussHermite::default_rule()
            .standard_expectation(|e| self.value(p.reparameterize(e)) * e * e)
    }
}

/// The homework's objective $f(x) = x^2$, with every closed form of question 2(c).
///
/// With $x = \theta + \sigma\varepsilon$: $\mathbb E[x^2] = \theta^2 + \sigma^2$, so
/// $\nabla_\theta \mathbb E[x^2] = 2\theta$.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Square;

impl Objective for Square {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        x * x
    }

    #[inline]
    fn derivative(&self, x: f64) -> f64 {
        2.0 * x
    }

    /// $b^* = \mathbb E[(\theta+\sigma\varepsilon)^2 \varepsilon^2] = \theta^2 + 3\sigma^2$
    /// (odd moments vanish, $\mathbb E\varepsilon^4 = 3$).
    fn optimal_baseline(&self, p: Gaussian) -> f64 {
        p.mean() * p.mean() + 3.0 * p.variance()
    }
}

impl Square {
    /// $\mathbb E[x^2] = \theta^2 + \sigma^2$.
    pub fn expectation(p: Gaussian) -> f64 {
        p.mean() * p.mean() + p.variance()
    }

    /// The exact gradient $\nabla_\theta \mathbb E[x^2] = 2\theta$, the mean of every estimator.
    pub fn gradient(p: Gaussian) -> f64 {
        2.0 * p.mean()
    }

    /// The variance of one sample of `estimator` for $f(x) = x^2$, $x\sim\mathcal N(\theta,\sigma^2)$.
    ///
    /// Derivation (ε ∼ N(0,1); $\mathbb E\varepsilon^{2k} = (2k-1)!!$, odd moments vanish):
    ///
    /// - pathwise: $g = 2(\theta + \sigma\varepsilon)$, so $\operatorname{Var} g = 4\sigma^2$;
    /// - score: $g = x^2 \varepsilon/\sigma = \theta^2\varepsilon/\sigma + 2\theta\varepsilon^2 + \sigma\varepsilon^3$,
    ///   $\mathbb E g^2 = \theta^4/\sigma^2 + 12\theta^2 + 15\sigma^2 + 2\cdot\theta^2\cdot 3$
    ///   (cross terms $2\cdot\frac{\theta^2}{\sigma}\sigma\,\mathbb E\varepsilon^4$), hence
    ///   $\operatorname{Var} g = \theta^4/\sigma^2 + 14\theta^2 + 15\sigma^2$;
    /// - baseline b: $g_b = g - b\,\varepsilon/\sigma$, and
    ///   $\operatorname{Var} g_b = \operatorname{Var} g - 2b\,(\theta^2/\sigma^2 + 3) + b^2/\sigma^2$
    ///   because $\operatorname{Cov}(g, \varepsilon/\sigma) = \theta^2/\sigma^2 + 3$;
    /// - optimal $b^* = \theta^2 + 3\sigma^2$: $\operatorname{Var} = 8\theta^2 + 6\sigma^2$.
    ///
    /// A NaN baseline gives NaN (no variance is defined); values beyond the largest `f64` give +∞.
    pub fn variance(estimator: Estimator, p: Gaussian) -> f64 {
        let (t2, s2) = (p.mean() * p.mean(), p.variance());
        let score = t2 * t2 / s2 + 14.0 * t2 + 15.0 * s2;
        match estimator {
            Estimator::Pathwise => 4.0 * s2,
            Estimator::Score => score,
            Estimator::ScoreBaseline(b) => score - 2.0 * b * (t2 / s2 + 3.0) + b * b / s2,
            Estimator::ScoreOptimalBaseline => 8.0 * t2 + 6.0 * s2,
        }
    }
}

/// An objective made of two closures, $f$ and $f'$: see [`objective`].
#[derive(Clone, Copy)]
pub struct FnObjective<F, D> {
    f: F,
    df: D,
}

impl<F, D> fmt::Debug for FnObjective<F, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnObjective")
    }
}

impl<F, D> Objective for FnObjective<F, D>
where
    F: Fn(f64) -> f64 + Sync,
    D: Fn(f64) -> f64 + Sync,
{
    #[inline]
    fn value(&self, x: f64) -> f64 {
        (self.f)(x)
    }

    #[inline]
    fn derivative(&self, x: f64) -> f64 {
        (self.df)(x)
    }
}

/// An [`Objective`] from $f$ and its derivative $f'$.
///
/// ```
/// use elbo::estimators::*;
/// let sin = objective(f64::sin, f64::cos);
/// let p = Gaussian::new(0.5, 1.0)?;
/// // ∇θ E[sin x] = cos θ · e^{−σ²/2}
/// let e = estimate(Estimator::Pathwise, &sin, p, Sampling::new(200_000, 1))?;
/// assert!((e.mean - 0.5f64.cos() * (-0.5f64).exp()).abs() < 4.0 * e.std_error);
/// # Ok::<(), EstimatorError>(())
/// ```
pub fn objective<F, D>(f: F, df: D) -> FnObjective<F, D>
where
    F: Fn(f64) -> f64 + Sync,
    D: Fn(f64) -> f64 + Sync,
{
    FnObjective { f, df }
}

/// Which Monte Carlo gradient estimator to use (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimator {
    /// The reparameterization (pathwise) estimator $g = f'(\theta + \sigma\varepsilon)$.
    Pathwise,
    /// The score-function (REINFORCE, likelihood-ratio) estimator
    /// $g = f(x)\,\nabla_\theta\ln p_\theta(x) = f(x)(x-\theta)/\sigma^2$.
    Score,
    /// The score-function estimator with a constant baseline b: $g = (f(x) - b)(x-\theta)/\sigma^2$.
    /// Unbiased for every b because $\mathbb E[\nabla_\theta \ln p_\theta(x)] = 0$.
    ScoreBaseline(f64),
    /// The score-function estimator with the variance-optimal constant baseline
    /// $b^* = \mathbb E[f(x)\varepsilon^2]$ ([`Objective::optimal_baseline`]), recomputed at the
    /// current θ. Here b* is computed exactly (quadrature or closed form), not from the samples, so
    /// the estimator stays unbiased; in practice b* would itself be estimated.
    ScoreOptimalBaseline,
}

impl Estimator {
    /// The three estimators question 2(c) compares.
    pub const COMPARED: [Estimator; 3] = [
        Estimator::Pathwise,
        Estimator::Score,
        Estimator::ScoreOptimalBaseline,
    ];

    /// A short name for legends and tables.
    pub fn name(&self) -> String {
        match self {
            Estimator::Pathwise => "pathwise".into(),
            Estimator::Score => "score function".into(),
            Estimator::ScoreBaseline(b) => format!("score, baseline b = {b}"),
            Estimator::ScoreOptimalBaseline => "score, optimal baseline b*".into(),
        }
    }

    /// The per-sample value $g(\varepsilon)$ of this estimator for `f` under `p`, as a plain
    /// function of the noise ε. This is what [`estimate`] averages; it is public so that one
    /// sample can be inspected, plotted, or integrated by quadrature.
    ///
    /// # Errors
    /// [`EstimatorError::BadBaseline`] if a given baseline is not finite.
    pub fn integrand<'a, F: Objective + ?Sized>(
        self,
        f: &'a F,
        p: Gaussian,
    ) -> Result<Integrand<'a, F>, EstimatorError> {
        let b = match self {
            Estimator::Pathwise | Estimator::Score => 0.0,
            Estimator::ScoreBaseline(b) => b,
            Estimator::ScoreOptimalBaseline => f.optimal_baseline(p),
        };
        if !b.is_finite() {
            return Err(EstimatorError::BadBaseline { b });
        }
        Ok(Integrand {
            pathwise: matches!(self, Estimator::Pathwise),
            f,
            theta: p.mean(),
            sigma: p.std_dev(),
            inv_sigma: 1.0 / p.std_dev(),
            b,
        })
    }
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One estimator's per-sample value $g(\varepsilon)$, from [`Estimator::integrand`].
#[derive(Debug, Clone, Copy)]
pub struct Integrand<'a, F: ?Sized> {
    pathwise: bool,
    f: &'a F,
    theta: f64,
    sigma: f64,
    inv_sigma: f64,
    b: f64,
}

impl<F: Objective + ?Sized> Integrand<'_, F> {
    /// $g(\varepsilon)$: $f'(\theta+\sigma\varepsilon)$ (pathwise) or
    /// $(f(\theta+\sigma\varepsilon) - b)\,\varepsilon/\sigma$ (score, b = 0 without baseline).
    #[inline]
    pub fn eval(&self, eps: f64) -> f64 {
        let x = self.theta + self.sigma * eps;
        if self.pathwise {
            self.f.derivative(x)
        } else {
            (self.f.value(x) - self.b) * (eps * self.inv_sigma)
        }
    }

    /// The baseline b in use (0 for the pathwise and plain score estimators).
    pub fn baseline(&self) -> f64 {
        self.b
    }
}

/// Estimates $\nabla_\theta\,\mathbb E_{x\sim\mathcal N(\theta,\sigma^2)}[f(x)]$ at $\theta = $
/// `p.mean()` by averaging n samples of `estimator`, returning the mean, sample variance,
/// standard error and n. Streams the samples (nothing stored), on `sampling.threads` threads.
///
/// # Errors
/// [`EstimatorError::TooFewSamples`] for n < 2, [`EstimatorError::NoThreads`],
/// [`EstimatorError::BadBaseline`].
pub fn estimate<F: Objective + ?Sized>(
    estimator: Estimator,
    f: &F,
    p: Gaussian,
    sampling: Sampling,
) -> Result<Estimate, EstimatorError> {
    let g = estimator.integrand(f, p)?;
    // One monomorphised loop per kind, so the branch is not taken per sample.
    let [m] = if g.pathwise {
        let (theta, sigma) = (g.theta, g.sigma);
        stream::run(sampling, |e| [f.derivative(theta + sigma * e)])?
    } else {
        let (theta, sigma, inv_sigma, b) = (g.theta, g.sigma, g.inv_sigma, g.b);
        stream::run(sampling, |e| {
            [(f.value(theta + sigma * e) - b) * (e * inv_sigma)]
        })?
    };
    Ok(m.estimate())
}

/// Monte Carlo estimate of $\mathbb E_{v\sim\mathcal N(0,1)}[g(v)]$ for a vector-valued $g$,
/// component by component: the tool for question 2(d), where
/// $g(v) = \nabla_x L(f_\theta(u,v)) \cdot \nabla_\theta f_\theta(u,v)$ has one component per
/// parameter.
///
/// ```
/// use elbo::estimators::*;
/// // E[v²] = 1, E[e^v] = e^{1/2}
/// let [a, b] = monte_carlo(|v| [v * v, v.exp()], Sampling::new(400_000, 3))?;
/// assert!((a.mean - 1.0).abs() < 4.0 * a.std_error);
/// assert!((b.mean - 0.5f64.exp()).abs() < 4.0 * b.std_error);
/// # Ok::<(), EstimatorError>(())
/// ```
///
/// # Errors
/// [`EstimatorError::TooFewSamples`] for n < 2, [`EstimatorError::NoThreads`].
pub fn monte_carlo<const P: usize, G>(
    g: G,
    sampling: Sampling,
) -> Result<[Estimate; P], EstimatorError>
where
    G: Fn(f64) -> [f64; P] + Sync,
{
    Ok(stream::run(sampling, g)?.map(|m| m.estimate()))
}

/// Exact moments of one sample $g(\varepsilon)$ of an estimator, by quadrature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// $\mathbb E\,g$: the true gradient, for an unbiased estimator.
    pub mean: f64,
    /// $\operatorname{Var} g$.
    pub variance: f64,
    /// The fourth central moment $\mu_4 = \mathbb E[(g - \mathbb E g)^4]$.
    pub fourth_central: f64,
}

impl Reference {
    /// The standard error of the sample variance of n samples, $\sqrt{(\mu_4 - \sigma_g^4)/n}$
    /// (leading order in 1/n): how far an empirical variance may honestly stray from
    /// [`Reference::variance`]. n = 0 gives +∞ or NaN, as for [`Reference::std_error`].
    pub fn variance_std_error(&self, n: u64) -> f64 {
        ((self.fourth_central - self.variance * self.variance) / n as f64).sqrt()
    }

    /// The standard error of the mean of n samples, $\sqrt{\operatorname{Var}(g)/n}$ (n = 0,
    /// no samples, gives +∞, or NaN when the variance is 0: nothing is known either way).
    pub fn std_error(&self, n: u64) -> f64 {
        (self.variance / n as f64).sqrt()
    }
}

/// Mean, variance and fourth central moment of `estimator`'s per-sample value under `p`, by
/// Gauss–Hermite quadrature with `rule`: exact when $g$ is a polynomial in ε of degree d and the
/// rule has more than 2d nodes (for $f = x^2$, g has degree 3, so 7 nodes suffice).
///
/// # Errors
/// [`EstimatorError::BadBaseline`] if a given baseline is not finite.
pub fn reference<F: Objective + ?Sized>(
    estimator: Estimator,
    f: &F,
    p: Gaussian,
    rule: &GaussHermite,
) -> Result<Reference, EstimatorError> {
    let g = estimator.integrand(f, p)?;
    let mean = rule.standard_expectation(|e| g.eval(e));
    let variance = rule.standard_expectation(|e| (g.eval(e) - mean).powi(2));
    let fourth_central = rule.standard_expectation(|e| (g.eval(e) - mean).powi(4));
    Ok(Reference {
        mean,
        variance,
        fourth_central,
    })
}

#[cfg(test)]
mod tests;
