//! The KL divergence between Gaussians in closed form ([`kl_diag_gaussians`],
//! [`kl_to_standard_normal`]), written to keep its relative accuracy when the two are close.

use super::ln_ratio;

/// Why the parameters of a closed-form Gaussian KL ([`kl_diag_gaussians`], [`kl_to_standard_normal`])
/// were rejected. (Building a Gaussian fails with [`crate::gaussian::GaussianError`].)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GaussianKlError {
    /// Two parameter vectors have different lengths.
    #[error(
        "{what} has {got} entries but {reference} has {expected}: \
         all parameter vectors must have the same dimension"
    )]
    DimensionMismatch {
        /// The parameter with the wrong length, e.g. `"σ₁²"`.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The parameter it was compared with, e.g. `"μ₁"`.
        reference: &'static str,
        /// That parameter's length.
        expected: usize,
    },
    /// A parameter is out of its domain.
    #[error("{what}[{index}] = {value}, but {what} must be {expected}")]
    InvalidParameter {
        /// The parameter, e.g. `"σ₂²"`.
        what: &'static str,
        /// Position of the offending entry.
        index: usize,
        /// Its value.
        value: f64,
        /// What was expected, e.g. `"finite and > 0"`.
        expected: &'static str,
    },
}

/// The KL divergence between diagonal Gaussians over ℝᵈ, in nats:
///
/// D_KL(N(μ₁, diag σ₁²) ‖ N(μ₂, diag σ₂²))
///   = ½ Σᵢ [ σ₁ᵢ²/σ₂ᵢ² − 1 − ln(σ₁ᵢ²/σ₂ᵢ²) + (μ₁ᵢ − μ₂ᵢ)²/σ₂ᵢ² ].
///
/// Derivation: the log-density ratio is ln q₁(x) − ln q₂(x) = ½ Σᵢ [ln(σ₂ᵢ²/σ₁ᵢ²)
/// − (xᵢ − μ₁ᵢ)²/σ₁ᵢ² + (xᵢ − μ₂ᵢ)²/σ₂ᵢ²]; under x ~ N(μ₁, diag σ₁²),
/// E[(xᵢ − μ₁ᵢ)²] = σ₁ᵢ² and E[(xᵢ − μ₂ᵢ)²] = σ₁ᵢ² + (μ₁ᵢ − μ₂ᵢ)².
///
/// Each dimension's r − 1 − ln r (r the variance ratio, ≥ 0) is evaluated with a series near
/// r = 1, so nearly equal Gaussians get an accurate tiny divergence rather than rounding noise.
/// `mu1`, `var1`, `mu2`, `var2` must have one common length d (d = 0 gives 0); means must be
/// finite and variances finite and > 0, otherwise a [`GaussianKlError`] names the entry. With
/// valid parameters the result is ≥ 0 and finite, or +∞ when the true divergence exceeds the
/// largest `f64` (e.g. means 1e300 apart).
///
/// ```
/// use elbo::info::kl_diag_gaussians;
/// // KL(N(1, 1) ‖ N(0, 1)) = ½ · 1² = 0.5
/// assert_eq!(kl_diag_gaussians(&[1.0], &[1.0], &[0.0], &[1.0])?, 0.5);
/// // KL(N(0, 4) ‖ N(0, 1)) = ½ (4 − 1 − ln 4)
/// let kl = kl_diag_gaussians(&[0.0], &[4.0], &[0.0], &[1.0])?;
/// assert!((kl - 0.5 * (3.0 - 4.0_f64.ln())).abs() < 1e-15);
/// assert!(kl_diag_gaussians(&[0.0], &[-1.0], &[0.0], &[1.0]).is_err());
/// # Ok::<(), elbo::info::GaussianKlError>(())
/// ```
pub fn kl_diag_gaussians(
    mu1: &[f64],
    var1: &[f64],
    mu2: &[f64],
    var2: &[f64],
) -> Result<f64, GaussianKlError> {
    same_dim("σ₁²", var1, "μ₁", mu1)?;
    same_dim("μ₂", mu2, "μ₁", mu1)?;
    same_dim("σ₂²", var2, "μ₁", mu1)?;
    check_all("μ₁", mu1, "finite", |x| x.is_finite())?;
    check_all("μ₂", mu2, "finite", |x| x.is_finite())?;
    check_all("σ₁²", var1, "finite and > 0", |x| {
        x.is_finite() && x > 0.0
    })?;
    check_all("σ₂²", var2, "finite and > 0", |x| {
        x.is_finite() && x > 0.0
    })?;
    let sum: f64 = (0..mu1.len())
        .map(|i| {
            let dm = mu1[i] - mu2[i];
            ratio_minus_one_minus_ln(var1[i], var2[i]) + dm * dm / var2[i]
        })
        .sum();
    Ok(0.5 * sum)
}

/// The VAE's regularizer D_KL(N(μ, diag σ²) ‖ N(0, I)) in nats, from the log-variances
/// ℓᵢ = ln σᵢ² an encoder outputs:
///
/// D_KL = ½ Σᵢ (μᵢ² + σᵢ² − 1 − ln σᵢ²) = ½ Σᵢ (μᵢ² + e^{ℓᵢ} − 1 − ℓᵢ).
///
/// The special case μ₂ = 0, σ₂² = 1 of [`kl_diag_gaussians`]; e^ℓ − 1 − ℓ is summed as a
/// series for |ℓ| ≤ 1, so it stays accurate (and ≥ 0) as σ² → 1. `mu` and `log_var` must have
/// the same length and finite entries (else a [`GaussianKlError`] names the entry); the result is
/// then ≥ 0, and +∞ when the true divergence exceeds the largest `f64` (e.g. ℓ > 709).
///
/// ```
/// use elbo::info::kl_to_standard_normal;
/// assert_eq!(kl_to_standard_normal(&[0.0, 0.0], &[0.0, 0.0])?, 0.0); // q = p(z)
/// let kl = kl_to_standard_normal(&[1.0], &[2.0_f64.ln()])?; // N(1, 2) vs N(0, 1)
/// assert!((kl - 0.5 * (1.0 + 2.0 - 1.0 - 2.0_f64.ln())).abs() < 1e-15);
/// # Ok::<(), elbo::info::GaussianKlError>(())
/// ```
pub fn kl_to_standard_normal(mu: &[f64], log_var: &[f64]) -> Result<f64, GaussianKlError> {
    same_dim("log σ²", log_var, "μ", mu)?;
    check_all("μ", mu, "finite", |x| x.is_finite())?;
    check_all("log σ²", log_var, "finite", |x| x.is_finite())?;
    let sum: f64 = mu
        .iter()
        .zip(log_var)
        .map(|(&m, &lv)| kl_to_standard_normal_term(m, lv))
        .sum();
    Ok(0.5 * sum)
}

/// One dimension's share of 2 · D_KL(N(μ, σ²) ‖ N(0, 1)): μ² + e^ℓ − 1 − ℓ with ℓ = ln σ², the
/// term [`kl_to_standard_normal`] sums; unchecked (NaN gives NaN), for the VAE engine, which
/// sums it over its own matrices.
pub(crate) fn kl_to_standard_normal_term(mu: f64, log_var: f64) -> f64 {
    mu * mu + exp_minus_one_minus(log_var)
}

fn same_dim(
    what: &'static str,
    v: &[f64],
    reference: &'static str,
    r: &[f64],
) -> Result<(), GaussianKlError> {
    if v.len() == r.len() {
        Ok(())
    } else {
        Err(GaussianKlError::DimensionMismatch {
            what,
            got: v.len(),
            reference,
            expected: r.len(),
        })
    }
}

fn check_all(
    what: &'static str,
    v: &[f64],
    expected: &'static str,
    ok: impl Fn(f64) -> bool,
) -> Result<(), GaussianKlError> {
    match v.iter().position(|&x| !ok(x)) {
        Some(index) => Err(GaussianKlError::InvalidParameter {
            what,
            index,
            value: v[index],
            expected,
        }),
        None => Ok(()),
    }
}

/// r − 1 − ln r for r = a/b (a, b > 0), which is ≥ 0 and ≈ (r − 1)²/2 near r = 1.
/// With d = r − 1: d − ln(1 + d) = Σ_{k≥2} (−1)ᵏ dᵏ/k, summed directly for |d| < 0.1.
pub(super) fn ratio_minus_one_minus_ln(a: f64, b: f64) -> f64 {
    let d = (a - b) / b;
    if d.abs() < 0.1 {
        let mut sum = 0.0;
        let mut power = -d;
        for k in 2..40 {
            power *= -d;
            let term = power / k as f64;
            sum += term;
            if term.abs() <= f64::EPSILON * 0.25 * sum.abs() {
                break;
            }
        }
        sum
    } else {
        a / b - 1.0 - ln_ratio(a, b)
    }
}

/// e^ℓ − 1 − ℓ (≥ 0): the series Σ_{k≥2} ℓᵏ/k! for |ℓ| ≤ 1, `expm1(ℓ) − ℓ` beyond.
pub(super) fn exp_minus_one_minus(l: f64) -> f64 {
    if l.abs() > 1.0 {
        return l.exp_m1() - l;
    }
    let mut sum = 0.0;
    let mut term = l;
    for k in 2..30 {
        term *= l / k as f64;
        sum += term;
        if term.abs() <= f64::EPSILON * 0.25 * sum.abs() {
            break;
        }
    }
    sum
}
