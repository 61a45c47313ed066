//! Gaussians with diagonal covariance: validated parameters, log-density and reparameterized
//! sampling.
//!
//! Two types share one set of formulas:
//!
//! - [`Gaussian`]: the scalar family $\mathcal N(\mu, \sigma^2)$ that the gradient estimators of
//!   [`crate::estimators`] differentiate with respect to its mean $\theta = \mu$;
//! - [`DiagGaussian`]: $\mathcal N(\mu, \operatorname{diag}(\sigma^2))$ on $\mathbb R^d$, the shape of
//!   a VAE's approximate posterior $q_\phi(z \mid x)$ and of its prior $p(z) = \mathcal N(0, I)$.
//!
//! Sampling is always written as the *reparameterization* $x = \mu + \sigma \odot \varepsilon$,
//! $\varepsilon \sim \mathcal N(0, I)$: the randomness $\varepsilon$ does not depend on the
//! parameters, so $x$ is a differentiable function of $(\mu, \sigma)$. Every sampler takes an
//! explicit seed. (The closed-form KL divergence between two diagonal Gaussians lives with the
//! other divergences in [`crate::info`].)
//!
//! ```
//! use elbo::gaussian::DiagGaussian;
//! use elbo::ndarray::array;
//!
//! let q = DiagGaussian::new(array![0.5, -1.0], array![1.0, 0.1])?;
//! let z = q.sample(1000, 7)?;                     // 1000 × 2, row i is μ + σ ⊙ εᵢ
//! assert_eq!(z.dim(), (1000, 2));
//! let lp = q.log_density(z.row(0))?;               // ln q(z₀)
//! assert!(lp.is_finite());
//! # Ok::<(), elbo::gaussian::GaussianError>(())
//! ```
//!
//! Bad input: constructors reject a non-finite mean, and a standard deviation unless σ > 0 and
//! σ² is a finite, normal `f64` (about 1.5e-154 ≤ σ ≤ 1.3e154), so the variance, the score and
//! the density never divide by 0 or overflow inside; vector arguments of the wrong length, NaN
//! points and noise, and sample counts whose n × d matrix cannot be allocated are typed errors.
//! The scalar [`Gaussian`]'s `f64 → f64` methods (used inside sampling loops) return NaN for a
//! NaN argument and the exact limit for an infinite one (ln p(±∞) = −∞).

use crate::rand::rngs::SmallRng;
use crate::rand::{Rng, SeedableRng};
use crate::rand_distr::StandardNormal;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Zip};
use std::f64::consts::PI;

/// ½ ln(2π), the normalising constant of a standard normal density in nats.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Why a Gaussian could not be built or evaluated. Each message names the bad parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GaussianError {
    /// A component of the mean μ is NaN or infinite.
    #[error("mean μ[{index}] = {value} is not finite")]
    BadMean {
        /// Which component (0 for a scalar Gaussian).
        index: usize,
        /// The value given.
        value: f64,
    },
    /// A standard deviation σ is not > 0, or σ² is not a finite, normal `f64`.
    #[error(
        "standard deviation σ[{index}] = {value} must be > 0 with σ² finite and not subnormal \
         (about 1.5e-154 ≤ σ ≤ 1.3e154)"
    )]
    BadStdDev {
        /// Which component (0 for a scalar Gaussian).
        index: usize,
        /// The value given.
        value: f64,
    },
    /// A log-variance ln σ² is NaN, or so large or small that σ² is infinite or subnormal.
    #[error(
        "log-variance ln σ²[{index}] = {value} must be finite with σ² = exp(ln σ²) a finite, \
         normal f64 (about −708 ≤ ln σ² ≤ 709)"
    )]
    BadLogVar {
        /// Which component.
        index: usize,
        /// The value given.
        value: f64,
    },
    /// μ and σ (or ln σ²) have different lengths.
    #[error("μ has {mean} components but {what} has {got}; they must have the same length")]
    Shape {
        /// The parameter compared with μ: "σ" or "ln σ²".
        what: &'static str,
        /// Length of μ.
        mean: usize,
        /// Its length.
        got: usize,
    },
    /// A Gaussian on ℝ⁰ was requested.
    #[error("a Gaussian needs dimension d ≥ 1")]
    Empty,
    /// A point or noise value is NaN (or, for noise ε, infinite).
    #[error("{what}[{index}] = {value}: expected {expected}")]
    BadPoint {
        /// What was passed: "x", "ε", …
        what: &'static str,
        /// Position of the entry (row-major for a matrix; 0 for a scalar).
        index: usize,
        /// The value given.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// n draws of dimension d need an n × d matrix that cannot be allocated.
    #[error("{n} draws of dimension {dim} is more values than can be allocated")]
    TooLarge {
        /// Number of draws asked for.
        n: usize,
        /// The dimension d.
        dim: usize,
    },
    /// A point or noise vector has the wrong number of components.
    #[error("{what} has {got} components but the Gaussian has dimension {expected}")]
    Dimension {
        /// What was passed: "x", "ε", …
        what: &'static str,
        /// Its number of components.
        got: usize,
        /// The Gaussian's dimension d.
        expected: usize,
    },
}

fn check_mean(index: usize, value: f64) -> Result<(), GaussianError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(GaussianError::BadMean { index, value })
    }
}

/// σ > 0 with σ² finite and normal: then σ², 1/σ² and ln σ are all finite.
fn check_std_dev(index: usize, value: f64) -> Result<(), GaussianError> {
    if value > 0.0 && (value * value).is_normal() {
        Ok(())
    } else {
        Err(GaussianError::BadStdDev { index, value })
    }
}

/// The scalar normal distribution $\mathcal N(\mu, \sigma^2)$, with density
///
/// $$p(x) = \frac{1}{\sqrt{2\pi}\,\sigma} \exp\!\Big(-\frac{(x-\mu)^2}{2\sigma^2}\Big).$$
///
/// This is the $p_\theta = \mathcal N(\theta, \sigma^2)$ of question 2(c): the estimators in
/// [`crate::estimators`] differentiate $\mathbb E_{x \sim p_\theta}[f(x)]$ with respect to
/// $\theta = \mu$, using either the reparameterization $x = \mu + \sigma\varepsilon$
/// ([`Gaussian::reparameterize`]) or the score $\nabla_\mu \ln p(x) = (x - \mu)/\sigma^2$
/// ([`Gaussian::score_mean`]).
///
/// ```
/// use elbo::gaussian::Gaussian;
/// let p = Gaussian::new(2.0, 0.5)?;
/// assert_eq!(p.reparameterize(1.0), 2.5);                 // μ + σ ε
/// assert!((p.score_mean(2.5) - 2.0).abs() < 1e-12);       // (x − μ)/σ²
/// assert!(Gaussian::new(0.0, -1.0).is_err());
/// # Ok::<(), elbo::gaussian::GaussianError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    mean: f64,
    std_dev: f64,
}

impl Gaussian {
    /// $\mathcal N(\mu, \sigma^2)$ from its mean μ and standard deviation σ.
    ///
    /// # Errors
    /// [`GaussianError::BadMean`] if μ is not finite, [`GaussianError::BadStdDev`] unless σ > 0
    /// with σ² a finite, normal `f64`.
    pub fn new(mean: f64, std_dev: f64) -> Result<Self, GaussianError> {
        check_mean(0, mean)?;
        check_std_dev(0, std_dev)?;
        Ok(Gaussian { mean, std_dev })
    }

    /// The standard normal $\mathcal N(0, 1)$.
    pub fn standard() -> Self {
        Gaussian {
            mean: 0.0,
            std_dev: 1.0,
        }
    }

    /// The mean μ.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The standard deviation σ.
    pub fn std_dev(&self) -> f64 {
        self.std_dev
    }

    /// The variance σ².
    pub fn variance(&self) -> f64 {
        self.std_dev * self.std_dev
    }

    /// $\ln p(x) = -\tfrac12 \ln(2\pi) - \ln\sigma - \tfrac{(x-\mu)^2}{2\sigma^2}$, in nats.
    /// x = ±∞ (or x so far out that the square overflows) gives −∞, the limit; NaN gives NaN.
    pub fn log_density(&self, x: f64) -> f64 {
        let u = (x - self.mean) / self.std_dev;
        -HALF_LN_2PI - self.std_dev.ln() - 0.5 * u * u
    }

    /// The reparameterization $x = \mu + \sigma\varepsilon$ of a standard-normal draw ε
    /// (NaN for NaN ε, ±∞ for infinite ε).
    #[inline]
    pub fn reparameterize(&self, eps: f64) -> f64 {
        self.mean + self.std_dev * eps
    }

    /// The score with respect to the mean, $\nabla_\mu \ln p(x) = (x-\mu)/\sigma^2$ (NaN for
    /// NaN x; ±∞ where it overflows).
    #[inline]
    pub fn score_mean(&self, x: f64) -> f64 {
        (x - self.mean) / (self.std_dev * self.std_dev)
    }

    /// `n` draws $x_i = \mu + \sigma\varepsilon_i$ from the stream seeded by `seed`.
    ///
    /// # Errors
    /// [`GaussianError::TooLarge`] if n values cannot be allocated (checked before any is
    /// drawn, so a huge n is an error, not an abort).
    pub fn sample(&self, n: usize, seed: u64) -> Result<Array1<f64>, GaussianError> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let v = filled(n, 1, || self.reparameterize(rng.sample(StandardNormal)))?;
        Ok(Array1::from(v))
    }
}

/// The Gaussian $\mathcal N(\mu, \operatorname{diag}(\sigma_1^2, \dots, \sigma_d^2))$ on
/// $\mathbb R^d$: independent coordinates $x_j \sim \mathcal N(\mu_j, \sigma_j^2)$, so
///
/// $$\ln p(x) = -\frac d2 \ln(2\pi) - \sum_{j=1}^d \ln\sigma_j
///              - \frac12 \sum_{j=1}^d \Big(\frac{x_j - \mu_j}{\sigma_j}\Big)^2 .$$
///
/// A VAE encoder outputs $(\mu, \ln\sigma^2)$, hence [`DiagGaussian::from_log_var`]; sampling is
/// the reparameterization $z = \mu + \sigma \odot \varepsilon$ (Kingma & Welling 2014, §2.4).
///
/// ```
/// use elbo::gaussian::DiagGaussian;
/// use elbo::ndarray::array;
/// let prior = DiagGaussian::standard(3)?;
/// // ln N(0; 0, I₃) = −(3/2) ln 2π
/// let lp = prior.log_density(array![0.0, 0.0, 0.0].view())?;
/// assert!((lp + 1.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
/// // the error names the bad parameter
/// let err = DiagGaussian::new(array![0.0, 1.0], array![1.0, 0.0]).unwrap_err();
/// assert!(err.to_string().starts_with("standard deviation σ[1] = 0 must be > 0"));
/// # Ok::<(), elbo::gaussian::GaussianError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiagGaussian {
    mean: Array1<f64>,
    std_dev: Array1<f64>,
}

impl DiagGaussian {
    /// $\mathcal N(\mu, \operatorname{diag}(\sigma^2))$ from the mean vector μ and the standard
    /// deviations σ.
    ///
    /// # Errors
    /// [`GaussianError::Empty`] for d = 0, [`GaussianError::Shape`] if the lengths differ, and
    /// [`GaussianError::BadMean`] / [`GaussianError::BadStdDev`] naming the first bad component.
    pub fn new(mean: Array1<f64>, std_dev: Array1<f64>) -> Result<Self, GaussianError> {
        if mean.len() != std_dev.len() {
            return Err(GaussianError::Shape {
                what: "σ",
                mean: mean.len(),
                got: std_dev.len(),
            });
        }
        if mean.is_empty() {
            return Err(GaussianError::Empty);
        }
        for (j, (&m, &s)) in mean.iter().zip(&std_dev).enumerate() {
            check_mean(j, m)?;
            check_std_dev(j, s)?;
        }
        Ok(DiagGaussian { mean, std_dev })
    }

    /// From the mean and the log-variances an encoder outputs: $\sigma_j = \exp(\tfrac12 \ln\sigma_j^2)$.
    ///
    /// # Errors
    /// As [`DiagGaussian::new`] (a length mismatch names ln σ²), with
    /// [`GaussianError::BadLogVar`] when a log-variance is NaN or gives a σ² that is infinite
    /// or subnormal in floating point.
    pub fn from_log_var(
        mean: Array1<f64>,
        log_var: ArrayView1<f64>,
    ) -> Result<Self, GaussianError> {
        if mean.len() != log_var.len() {
            return Err(GaussianError::Shape {
                what: "ln σ²",
                mean: mean.len(),
                got: log_var.len(),
            });
        }
        let std_dev = log_var.mapv(|lv| (0.5 * lv).exp());
        for (j, (&s, &lv)) in std_dev.iter().zip(log_var).enumerate() {
            if !(lv.exp().is_normal() && s > 0.0 && (s * s).is_normal()) {
                return Err(GaussianError::BadLogVar {
                    index: j,
                    value: lv,
                });
            }
        }
        DiagGaussian::new(mean, std_dev)
    }

    /// The standard normal $\mathcal N(0, I_d)$, the VAE prior $p(z)$.
    ///
    /// # Errors
    /// [`GaussianError::Empty`] for d = 0.
    pub fn standard(dim: usize) -> Result<Self, GaussianError> {
        DiagGaussian::new(Array1::zeros(dim), Array1::ones(dim))
    }

    /// $\mathcal N(\mu, s^2 I)$: the same standard deviation `s` in every coordinate.
    ///
    /// # Errors
    /// As [`DiagGaussian::new`].
    pub fn isotropic(mean: Array1<f64>, s: f64) -> Result<Self, GaussianError> {
        let d = mean.len();
        DiagGaussian::new(mean, Array1::from_elem(d, s))
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean vector μ.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The standard deviations σ.
    pub fn std_dev(&self) -> ArrayView1<'_, f64> {
        self.std_dev.view()
    }

    /// The variances σ².
    pub fn variance(&self) -> Array1<f64> {
        self.std_dev.mapv(|s| s * s)
    }

    /// Coordinate `j` as a scalar [`Gaussian`], or `None` if `j ≥ d`.
    pub fn marginal(&self, j: usize) -> Option<Gaussian> {
        Some(Gaussian {
            mean: *self.mean.get(j)?,
            std_dev: self.std_dev[j],
        })
    }

    /// The differential entropy $H = \frac d2 \ln(2\pi e) + \sum_j \ln\sigma_j$, in nats.
    pub fn entropy(&self) -> f64 {
        let d = self.dim() as f64;
        d * (HALF_LN_2PI + 0.5) + self.std_dev.iter().map(|s| s.ln()).sum::<f64>()
    }

    fn check_len(&self, what: &'static str, got: usize) -> Result<(), GaussianError> {
        if got == self.dim() {
            Ok(())
        } else {
            Err(GaussianError::Dimension {
                what,
                got,
                expected: self.dim(),
            })
        }
    }

    /// $\ln p(x)$ in nats (see the type's documentation for the formula). A component ±∞
    /// gives −∞, the limit.
    ///
    /// # Errors
    /// [`GaussianError::Dimension`] if `x` does not have d components,
    /// [`GaussianError::BadPoint`] if one is NaN.
    pub fn log_density(&self, x: ArrayView1<f64>) -> Result<f64, GaussianError> {
        self.check_len("x", x.len())?;
        check_points("x", x.iter(), "a number, not NaN", |v| !v.is_nan())?;
        Ok(self.log_density_unchecked(x))
    }

    fn log_density_unchecked(&self, x: ArrayView1<f64>) -> f64 {
        let mut quad = 0.0;
        let mut log_sigma = 0.0;
        Zip::from(&x)
            .and(&self.mean)
            .and(&self.std_dev)
            .for_each(|&x, &m, &s| {
                let u = (x - m) / s;
                quad += u * u;
                log_sigma += s.ln();
            });
        -(self.dim() as f64) * HALF_LN_2PI - log_sigma - 0.5 * quad
    }

    /// $\ln p(x_i)$ for every row $x_i$ of an n × d matrix.
    ///
    /// # Errors
    /// [`GaussianError::Dimension`] if the rows do not have d components,
    /// [`GaussianError::BadPoint`] (row-major index) if an entry is NaN.
    pub fn log_density_rows(&self, xs: ArrayView2<f64>) -> Result<Array1<f64>, GaussianError> {
        self.check_len("each row of x", xs.ncols())?;
        check_points("x", xs.iter(), "a number, not NaN", |v| !v.is_nan())?;
        Ok(xs
            .rows()
            .into_iter()
            .map(|r| self.log_density_unchecked(r))
            .collect())
    }

    /// The reparameterization $x = \mu + \sigma \odot \varepsilon$ of one noise vector ε.
    ///
    /// # Errors
    /// [`GaussianError::Dimension`] if ε does not have d components,
    /// [`GaussianError::BadPoint`] if one is NaN or infinite.
    pub fn reparameterize(&self, eps: ArrayView1<f64>) -> Result<Array1<f64>, GaussianError> {
        self.check_len("ε", eps.len())?;
        check_points("ε", eps.iter(), "a finite number", |v| v.is_finite())?;
        Ok(&self.mean + &(&self.std_dev * &eps))
    }

    /// Row-wise reparameterization of an n × d noise matrix: row i becomes $\mu + \sigma\odot\varepsilon_i$.
    ///
    /// # Errors
    /// [`GaussianError::Dimension`] if the rows do not have d components,
    /// [`GaussianError::BadPoint`] (row-major index) if an entry is NaN or infinite.
    pub fn reparameterize_rows(&self, eps: ArrayView2<f64>) -> Result<Array2<f64>, GaussianError> {
        self.check_len("each row of ε", eps.ncols())?;
        check_points("ε", eps.iter(), "a finite number", |v| v.is_finite())?;
        Ok(&eps * &self.std_dev + &self.mean)
    }

    /// `n` standard-normal noise rows ε (n × d), from the stream seeded by `seed`; feed them to
    /// [`DiagGaussian::reparameterize_rows`] when the noise itself is needed (e.g. for gradients).
    ///
    /// # Errors
    /// [`GaussianError::TooLarge`] if the n × d matrix cannot be allocated (checked before any
    /// value is drawn, so a huge n is an error, not an abort).
    pub fn noise(&self, n: usize, seed: u64) -> Result<Array2<f64>, GaussianError> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let v = filled(n, self.dim(), || rng.sample(StandardNormal))?;
        Ok(Array2::from_shape_vec((n, self.dim()), v).expect("n × d values were made"))
    }

    /// `n` draws (n × d): row i is $\mu + \sigma\odot\varepsilon_i$ with ε from [`DiagGaussian::noise`]
    /// for the same seed.
    ///
    /// # Errors
    /// As [`DiagGaussian::noise`].
    pub fn sample(&self, n: usize, seed: u64) -> Result<Array2<f64>, GaussianError> {
        let mut x = self.noise(n, seed)?;
        for mut row in x.rows_mut() {
            Zip::from(&mut row)
                .and(&self.mean)
                .and(&self.std_dev)
                .for_each(|x, &m, &s| *x = m + s * *x);
        }
        Ok(x)
    }
}

/// `n × dim` values of `next()`, row-major. The size is checked and the memory reserved
/// fallibly first: an overflowing size would panic and a failed allocation would abort.
fn filled(n: usize, dim: usize, mut next: impl FnMut() -> f64) -> Result<Vec<f64>, GaussianError> {
    let too_large = GaussianError::TooLarge { n, dim };
    let len = n.checked_mul(dim).ok_or(too_large.clone())?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_large)?;
    v.extend(std::iter::repeat_with(&mut next).take(len));
    Ok(v)
}

/// The first entry failing `ok`, as a [`GaussianError::BadPoint`].
fn check_points<'a>(
    what: &'static str,
    values: impl Iterator<Item = &'a f64>,
    expected: &'static str,
    ok: impl Fn(f64) -> bool,
) -> Result<(), GaussianError> {
    for (index, &value) in values.enumerate() {
        if !ok(value) {
            return Err(GaussianError::BadPoint {
                what,
                index,
                value,
                expected,
            });
        }
    }
    Ok(())
}

/// $\mathcal N(x; \mu, \sigma^2)$ as a density value (not its log), for the rare place where the
/// density itself is wanted; it underflows to 0 far in the tails, where [`Gaussian::log_density`]
/// does not. x = ±∞ gives 0.
///
/// ```
/// use elbo::gaussian::normal_pdf;
/// assert!((normal_pdf(0.0, 0.0, 1.0)? - 0.398_942_280_401_432_7).abs() < 1e-15);
/// assert!(normal_pdf(0.0, 0.0, 0.0).is_err()); // σ = 0 is not a density
/// # Ok::<(), elbo::gaussian::GaussianError>(())
/// ```
///
/// # Errors
/// As [`Gaussian::new`] for `mean` and `std_dev`; [`GaussianError::BadPoint`] for NaN x.
pub fn normal_pdf(x: f64, mean: f64, std_dev: f64) -> Result<f64, GaussianError> {
    Gaussian::new(mean, std_dev)?;
    if x.is_nan() {
        return Err(GaussianError::BadPoint {
            what: "x",
            index: 0,
            value: x,
            expected: "a number, not NaN",
        });
    }
    let u = (x - mean) / std_dev;
    Ok((-0.5 * u * u).exp() / ((2.0 * PI).sqrt() * std_dev))
}

#[cfg(test)]
mod tests;
