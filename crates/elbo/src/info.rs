//! Information theory on discrete distributions: entropy H(p), cross-entropy H(p,q), the
//! Kullback–Leibler divergence D_KL(p‖q), the Jensen–Shannon divergence and the total variation
//! distance; and the closed-form D_KL between diagonal Gaussians that question 3's VAE needs.
//!
//! A probability mass function is a [`Pmf`]: a non-empty vector of finite, non-negative numbers
//! that sum to 1, checked when it is built. Every quantity takes a [`Unit`]: natural logarithms
//! give nats, base-2 logarithms give bits, and `x bits = x nats / ln 2`.
//!
//! Conventions, as in Cover & Thomas, *Elements of Information Theory* (2nd ed., §2.1–2.3):
//!
//! * 0 · log 0 = 0 (the limit of p log p as p → 0), so outcomes of probability 0 add nothing to
//!   H(p), H(p,q) or D_KL(p‖q);
//! * D_KL(p‖q) = +∞ and H(p,q) = +∞ when some outcome has q(x) = 0 < p(x).
//!
//! ```
//! use elbo::info::{kl_divergence, Pmf, Unit};
//! let p = Pmf::new([0.5, 0.5])?;
//! let q = Pmf::new([0.1, 0.9])?;
//! let forward = kl_divergence(&p, &q, Unit::Nats)?;
//! let reverse = kl_divergence(&q, &p, Unit::Nats)?;
//! assert!((forward - (5.0_f64 / 3.0).ln()).abs() < 1e-15); // D_KL(p‖q) = ln(5/3)
//! assert!((reverse - 0.368064).abs() < 1e-6); // D_KL(q‖p) ≠ D_KL(p‖q)
//! # Ok::<(), elbo::info::PmfError>(())
//! ```

use crate::rand::Rng;
use crate::rand_distr::Exp1;
use std::f64::consts::LN_2;
use std::fmt;

/// How far from 1 the entries given to [`Pmf::new`] may sum: `|Σ p(x) − 1| ≤ 1e-9`.
///
/// Summing n probabilities in `f64` makes a rounding error of about n · 1.1e-16, so any vector
/// that is a distribution up to rounding passes, for n up to millions; a typo such as
/// `[0.5, 0.6]` (sum 1.1) or a truncated `[0.3333, 0.3333, 0.3333]` (sum 0.9999) does not. Use
/// [`Pmf::normalize`] for weights that are only proportional to probabilities.
pub const SUM_TOLERANCE: f64 = 1e-9;

/// Why a probability vector was rejected, or why two distributions cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PmfError {
    /// The vector has no entries.
    #[error("empty probability vector: a distribution needs at least one outcome")]
    Empty,
    /// An entry is negative, NaN or infinite.
    #[error("entry {index} is {value}: probabilities and weights must be finite and ≥ 0")]
    InvalidEntry {
        /// Position of the offending entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The entries of a [`Pmf::new`] vector do not sum to 1.
    #[error(
        "probabilities sum to {sum}, not 1 (tolerance {tolerance:e}); \
         use Pmf::normalize for weights that need rescaling"
    )]
    NotNormalized {
        /// The sum of the entries.
        sum: f64,
        /// The tolerance, [`SUM_TOLERANCE`].
        tolerance: f64,
    },
    /// All weights given to [`Pmf::normalize`] are zero.
    #[error("all {len} weights are zero: there is no mass to normalize")]
    ZeroMass {
        /// Number of weights.
        len: usize,
    },
    /// A distribution on more outcomes than can be allocated was requested.
    #[error("{n} outcomes is more probabilities than can be allocated")]
    TooLarge {
        /// Number of outcomes asked for.
        n: usize,
    },
    /// Two distributions have supports of different sizes.
    #[error(
        "distributions over different supports: the first has {first} outcomes, the second \
         {second}; both must be over the same outcomes"
    )]
    SupportMismatch {
        /// Number of outcomes of the first distribution.
        first: usize,
        /// Number of outcomes of the second distribution.
        second: usize,
    },
}

/// The unit of an amount of information: nats (natural logarithm) or bits (base-2 logarithm).
///
/// One bit is ln 2 ≈ 0.693 nats, so an amount of `x` nats is `x / ln 2` bits.
///
/// ```
/// use elbo::info::Unit;
/// assert_eq!(Unit::Bits.from_nats(std::f64::consts::LN_2), 1.0);
/// assert_eq!(Unit::Nats.from_nats(0.5), 0.5);
/// assert_eq!(Unit::Bits.to_string(), "bits");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Unit {
    /// Natural logarithm, log = ln (the default, and the unit of every loss in the VAE).
    #[default]
    Nats,
    /// Base-2 logarithm, log = log₂.
    Bits,
}

impl Unit {
    /// Expresses an amount of `nats` in this unit (`+∞` stays `+∞`).
    pub fn from_nats(self, nats: f64) -> f64 {
        match self {
            Unit::Nats => nats,
            Unit::Bits => nats / LN_2,
        }
    }

    /// The unit's name: `"nats"` or `"bits"`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Nats => "nats",
            Unit::Bits => "bits",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A probability mass function p over the outcomes 0, 1, …, n − 1 (n ≥ 1):
/// p(x) ≥ 0 and Σₓ p(x) = 1.
///
/// Outcomes are positions: two `Pmf`s are over the same support exactly when they have the same
/// length, and every function comparing two of them returns [`PmfError::SupportMismatch`]
/// otherwise. Outcomes of probability 0 are allowed (they are what makes D_KL infinite).
///
/// Built with [`Pmf::new`] (probabilities, checked to sum to 1 within [`SUM_TOLERANCE`]),
/// [`Pmf::normalize`] (non-negative weights, divided by their total), [`Pmf::uniform`] or
/// [`Pmf::sample_uniform`] (a random point of the probability simplex).
///
/// ```
/// use elbo::info::{Pmf, PmfError};
/// let p = Pmf::new([0.1, 0.9])?;
/// assert_eq!(p.probs(), &[0.1, 0.9]);
/// assert!(matches!(Pmf::new([0.5, 0.6]), Err(PmfError::NotNormalized { .. })));
/// assert_eq!(Pmf::normalize([1.0, 3.0])?.probs(), &[0.25, 0.75]);
/// # Ok::<(), PmfError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pmf {
    probs: Vec<f64>,
}

impl Pmf {
    /// The distribution with probabilities `probs`.
    ///
    /// Fails with [`PmfError::Empty`] for an empty vector, [`PmfError::InvalidEntry`] for a
    /// negative, NaN or infinite entry, and [`PmfError::NotNormalized`] when
    /// `|Σ p(x) − 1| > SUM_TOLERANCE` (1e-9). Accepted entries are divided by their sum, so the
    /// stored probabilities sum to 1 to within rounding (entries that already sum to exactly 1
    /// are kept bit for bit).
    ///
    /// ```
    /// use elbo::info::Pmf;
    /// let err = Pmf::new([0.5, 0.6]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "probabilities sum to 1.1, not 1 (tolerance 1e-9); \
    ///      use Pmf::normalize for weights that need rescaling"
    /// );
    /// assert!(Pmf::new([0.5, -0.1, 0.6]).unwrap_err().to_string().contains("entry 1 is -0.1"));
    /// ```
    pub fn new(probs: impl Into<Vec<f64>>) -> Result<Self, PmfError> {
        let mut probs = probs.into();
        validate_entries(&probs)?;
        let sum: f64 = probs.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(PmfError::NotNormalized {
                sum,
                tolerance: SUM_TOLERANCE,
            });
        }
        if sum != 1.0 {
            probs.iter_mut().for_each(|p| *p /= sum);
        }
        Ok(Pmf { probs })
    }

    /// The distribution proportional to non-negative `weights`: p(x) = w(x) / Σ_y w(y).
    ///
    /// Fails like [`Pmf::new`] on an empty vector or a negative, NaN or infinite weight, and with
    /// [`PmfError::ZeroMass`] when every weight is 0. Huge weights do not overflow the sum (they
    /// are first scaled by the largest one).
    ///
    /// ```
    /// use elbo::info::Pmf;
    /// let p = Pmf::normalize([2.0, 0.0, 6.0])?;
    /// assert_eq!(p.probs(), &[0.25, 0.0, 0.75]);
    /// assert_eq!(Pmf::normalize([1e308, 1e308])?.probs(), &[0.5, 0.5]);
    /// assert!(Pmf::normalize([0.0, 0.0]).is_err());
    /// # Ok::<(), elbo::info::PmfError>(())
    /// ```
    pub fn normalize(weights: impl Into<Vec<f64>>) -> Result<Self, PmfError> {
        let mut w = weights.into();
        validate_entries(&w)?;
        let max = w.iter().copied().fold(0.0_f64, f64::max);
        if max == 0.0 {
            return Err(PmfError::ZeroMass { len: w.len() });
        }
        // Dividing by the largest weight first keeps every entry in [0, 1], so the sum is at
        // most n and cannot overflow.
        w.iter_mut().for_each(|x| *x /= max);
        let sum: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= sum);
        Ok(Pmf { probs: w })
    }

    /// The uniform distribution on `n` outcomes, p(x) = 1/n; [`PmfError::Empty`] when `n = 0`,
    /// [`PmfError::TooLarge`] when n probabilities cannot be allocated (an error, not an abort).
    ///
    /// ```
    /// use elbo::info::{entropy, Pmf, Unit};
    /// let u = Pmf::uniform(8)?;
    /// assert!((entropy(&u, Unit::Bits) - 3.0).abs() < 1e-12); // H(u) = log₂ 8
    /// # Ok::<(), elbo::info::PmfError>(())
    /// ```
    pub fn uniform(n: usize) -> Result<Self, PmfError> {
        let mut probs = reserve(n)?;
        probs.resize(n, 1.0 / n as f64);
        Ok(Pmf { probs })
    }

    /// A random distribution on `n` outcomes, drawn uniformly from the probability simplex
    /// (a Dirichlet(1, …, 1) draw: independent Exp(1) weights, normalized). Pass a seeded
    /// generator for reproducible draws; errors as [`Pmf::uniform`].
    ///
    /// ```
    /// use elbo::info::Pmf;
    /// use elbo::rand::{rngs::StdRng, SeedableRng};
    /// let mut rng = StdRng::seed_from_u64(42);
    /// let p = Pmf::sample_uniform(5, &mut rng)?;
    /// assert_eq!(p.support_size(), 5);
    /// assert!((p.probs().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    /// # Ok::<(), elbo::info::PmfError>(())
    /// ```
    pub fn sample_uniform<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Result<Self, PmfError> {
        let mut w = reserve(n)?;
        w.extend((0..n).map(|_| rng.sample::<f64, _>(Exp1)));
        // All-zero weights have probability 0 but are handled: `normalize` reports them.
        Pmf::normalize(w)
    }

    /// The probabilities p(0), …, p(n − 1).
    pub fn probs(&self) -> &[f64] {
        &self.probs
    }

    /// The number of outcomes n (at least 1).
    pub fn support_size(&self) -> usize {
        self.probs.len()
    }

    /// The probabilities as a vector.
    pub fn into_vec(self) -> Vec<f64> {
        self.probs
    }
}

impl TryFrom<Vec<f64>> for Pmf {
    type Error = PmfError;

    /// Same as [`Pmf::new`].
    fn try_from(probs: Vec<f64>) -> Result<Self, PmfError> {
        Pmf::new(probs)
    }
}

impl fmt::Display for Pmf {
    /// `[0.98, 0.02]`: each probability to 6 decimals with trailing zeros dropped (tiny ones in
    /// scientific notation, `1e-12`), or to the precision asked for (`{:.3}`). `{:?}` shows the
    /// exact stored values, e.g. `0.020000000000000018` for `1.0 - 0.98`.
    ///
    /// ```
    /// use elbo::info::Pmf;
    /// let p = Pmf::new([0.98, 1.0 - 0.98])?;
    /// assert_eq!(p.to_string(), "[0.98, 0.02]");
    /// assert_eq!(format!("{p:.3}"), "[0.980, 0.020]");
    /// assert_eq!(Pmf::normalize([1.0, 1e-12])?.to_string(), "[1, 1e-12]");
    /// # Ok::<(), elbo::info::PmfError>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, &p) in self.probs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match f.precision() {
                Some(digits) => write!(f, "{p:.digits$}")?,
                None if p != 0.0 && p < 1e-4 => {
                    let s = format!("{p:.3e}");
                    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
                    write!(f, "{}e{exponent}", trim_zeros(mantissa))?;
                }
                None => f.write_str(trim_zeros(&format!("{p:.6}")))?,
            }
        }
        f.write_str("]")
    }
}

/// `"0.500000"` → `"0.5"`, `"1.000"` → `"1"`.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// An empty vector with room for n ≥ 1 probabilities, reserved fallibly: `vec![x; n]` would
/// panic on an overflowing size and abort when the allocation fails.
fn reserve(n: usize) -> Result<Vec<f64>, PmfError> {
    if n == 0 {
        return Err(PmfError::Empty);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PmfError::TooLarge { n })?;
    Ok(v)
}

fn validate_entries(v: &[f64]) -> Result<(), PmfError> {
    if v.is_empty() {
        return Err(PmfError::Empty);
    }
    match v.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
        Some(index) => Err(PmfError::InvalidEntry {
            index,
            value: v[index],
        }),
        None => Ok(()),
    }
}

fn same_support(p: &Pmf, q: &Pmf) -> Result<(), PmfError> {
    if p.probs.len() == q.probs.len() {
        Ok(())
    } else {
        Err(PmfError::SupportMismatch {
            first: p.probs.len(),
            second: q.probs.len(),
        })
    }
}

/// The entropy H(p) = −Σₓ p(x) log p(x), the expected surprise of a draw from p.
///
/// Outcomes with p(x) = 0 contribute 0 (0 · log 0 = 0). 0 ≤ H(p) ≤ log n for n outcomes, with
/// H(p) = 0 for a point mass and H(p) = log n only for the uniform distribution.
///
/// ```
/// use elbo::info::{entropy, Pmf, Unit};
/// let fair = Pmf::new([0.5, 0.5])?;
/// assert_eq!(entropy(&fair, Unit::Bits), 1.0);
/// assert_eq!(entropy(&Pmf::new([1.0, 0.0])?, Unit::Nats), 0.0);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn entropy(p: &Pmf, unit: Unit) -> f64 {
    let nats: f64 = p
        .probs
        .iter()
        .filter(|&&px| px > 0.0)
        .map(|&px| -px * px.ln())
        .sum();
    unit.from_nats(nats)
}

/// The cross-entropy H(p,q) = −Σₓ p(x) log q(x): the expected surprise when outcomes come from
/// p but are scored with q (the loss a classifier q minimizes against labels from p).
///
/// Outcomes with p(x) = 0 contribute 0; H(p,q) = +∞ when q(x) = 0 < p(x) for some x.
/// H(p,q) = H(p) + D_KL(p‖q) ≥ H(p). Fails with [`PmfError::SupportMismatch`] when p and q
/// have different numbers of outcomes.
///
/// ```
/// use elbo::info::{cross_entropy, Pmf, Unit};
/// let p = Pmf::new([0.5, 0.5])?;
/// let q = Pmf::new([0.1, 0.9])?;
/// assert!((cross_entropy(&p, &q, Unit::Nats)? - (10.0_f64 / 3.0).ln()).abs() < 1e-15);
/// assert_eq!(cross_entropy(&p, &Pmf::new([1.0, 0.0])?, Unit::Nats)?, f64::INFINITY);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn cross_entropy(p: &Pmf, q: &Pmf, unit: Unit) -> Result<f64, PmfError> {
    same_support(p, q)?;
    let nats: f64 = p
        .probs
        .iter()
        .zip(&q.probs)
        .filter(|&(&px, _)| px > 0.0)
        .map(|(&px, &qx)| {
            if qx > 0.0 {
                -px * qx.ln()
            } else {
                f64::INFINITY
            }
        })
        .sum();
    Ok(unit.from_nats(nats))
}

/// The Kullback–Leibler divergence D_KL(p‖q) = Σₓ p(x) log(p(x)/q(x)): the extra surprise, on
/// average over draws from p, of scoring them with q instead of p.
///
/// Outcomes with p(x) = 0 contribute 0, and D_KL(p‖q) = +∞ when q(x) = 0 < p(x) for some x.
/// D_KL(p‖q) ≥ 0 with equality exactly when p = q (Gibbs' inequality), but in general
/// D_KL(p‖q) ≠ D_KL(q‖p) and the triangle inequality fails: it is not a distance. Fails with
/// [`PmfError::SupportMismatch`] when p and q have different numbers of outcomes.
///
/// Computed term by term as q(x) φ(p(x)/q(x)) with φ(r) = r ln r − r + 1, which sums to
/// D_KL(p‖q) because Σ p = Σ q = 1. Each term is ≥ 0 (φ ≥ 0), so the computed divergence is
/// never negative, and a series for φ near r = 1 keeps full relative accuracy when p ≈ q, where
/// Σ p log(p/q) would cancel.
///
/// ```
/// use elbo::info::{kl_divergence, Pmf, Unit};
/// let p = Pmf::new([0.5, 0.5])?;
/// let q = Pmf::new([0.1, 0.9])?;
/// let nats = kl_divergence(&p, &q, Unit::Nats)?;
/// assert!((nats - (5.0_f64 / 3.0).ln()).abs() < 1e-15);
/// assert!((kl_divergence(&p, &q, Unit::Bits)? - nats / std::f64::consts::LN_2).abs() < 1e-15);
/// assert_eq!(kl_divergence(&p, &Pmf::new([1.0, 0.0])?, Unit::Nats)?, f64::INFINITY);
/// assert_eq!(kl_divergence(&Pmf::new([1.0, 0.0])?, &p, Unit::Bits)?, 1.0);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn kl_divergence(p: &Pmf, q: &Pmf, unit: Unit) -> Result<f64, PmfError> {
    same_support(p, q)?;
    let nats: f64 = p
        .probs
        .iter()
        .zip(&q.probs)
        .map(|(&px, &qx)| kl_term(px, qx))
        .sum();
    Ok(unit.from_nats(nats))
}

/// The Jensen–Shannon divergence JS(p,q) = ½ D_KL(p‖m) + ½ D_KL(q‖m) with m = ½(p + q).
///
/// Symmetric, always finite (m(x) > 0 wherever p(x) > 0 or q(x) > 0), and 0 ≤ JS(p,q) ≤ ln 2
/// nats = 1 bit, the bound reached by distributions with disjoint supports. Its square root
/// √JS(p,q) is a metric (Endres & Schindelin, IEEE Trans. Inf. Theory 49(7), 2003); see
/// [`js_distance`]. Fails with [`PmfError::SupportMismatch`] on different support sizes.
///
/// ```
/// use elbo::info::{js_divergence, Pmf, Unit};
/// let p = Pmf::new([1.0, 0.0])?;
/// let q = Pmf::new([0.0, 1.0])?;
/// assert!((js_divergence(&p, &q, Unit::Bits)? - 1.0).abs() < 1e-15);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn js_divergence(p: &Pmf, q: &Pmf, unit: Unit) -> Result<f64, PmfError> {
    same_support(p, q)?;
    let nats: f64 = p
        .probs
        .iter()
        .zip(&q.probs)
        .map(|(&px, &qx)| {
            let m = 0.5 * px + 0.5 * qx;
            0.5 * kl_term(px, m) + 0.5 * kl_term(qx, m)
        })
        .sum();
    Ok(unit.from_nats(nats))
}

/// The Jensen–Shannon distance √JS(p,q), a metric on distributions: symmetric, zero only for
/// p = q, and obeying the triangle inequality √JS(p,r) ≤ √JS(p,q) + √JS(q,r) (in any unit,
/// since units only rescale it). At most 1 in bits. Fails like [`js_divergence`].
///
/// ```
/// use elbo::info::{js_distance, Pmf, Unit};
/// let p = Pmf::new([0.5, 0.5])?;
/// let q = Pmf::new([0.1, 0.9])?;
/// let d = js_distance(&p, &q, Unit::Bits)?;
/// assert!(d > 0.0 && d <= 1.0 && d == js_distance(&q, &p, Unit::Bits)?);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn js_distance(p: &Pmf, q: &Pmf, unit: Unit) -> Result<f64, PmfError> {
    js_divergence(p, q, unit).map(f64::sqrt)
}

/// The total variation distance TV(p,q) = ½ Σₓ |p(x) − q(x)| = max over events A of
/// |p(A) − q(A)|: a metric with values in [0, 1] (no unit). Fails with
/// [`PmfError::SupportMismatch`] on different support sizes.
///
/// ```
/// use elbo::info::{total_variation, Pmf};
/// let p = Pmf::new([0.5, 0.5])?;
/// let q = Pmf::new([0.1, 0.9])?;
/// assert!((total_variation(&p, &q)? - 0.4).abs() < 1e-15);
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
pub fn total_variation(p: &Pmf, q: &Pmf) -> Result<f64, PmfError> {
    same_support(p, q)?;
    Ok(0.5
        * p.probs
            .iter()
            .zip(&q.probs)
            .map(|(&px, &qx)| (px - qx).abs())
            .sum::<f64>())
}

/// The six quantities of a pair (p, q), in `unit`, in this order:
/// [H(p), H(q), H(p,q), H(q,p), D_KL(p‖q), D_KL(q‖p)] — the table of question 1(a).
///
/// ```
/// use elbo::info::{pair_quantities, Pmf, Unit};
/// let [h_p, _, h_pq, _, kl_pq, _] = pair_quantities(&Pmf::new([0.5, 0.5])?, &Pmf::new([0.1, 0.9])?, Unit::Nats)?;
/// assert!((h_pq - h_p - kl_pq).abs() < 1e-15); // H(p,q) = H(p) + D_KL(p‖q)
/// # Ok::<(), elbo::info::PmfError>(())
/// ```
///
/// # Errors
/// [`PmfError::SupportMismatch`] when p and q have different numbers of outcomes.
pub fn pair_quantities(p: &Pmf, q: &Pmf, unit: Unit) -> Result<[f64; 6], PmfError> {
    Ok([
        entropy(p, unit),
        entropy(q, unit),
        cross_entropy(p, q, unit)?,
        cross_entropy(q, p, unit)?,
        kl_divergence(p, q, unit)?,
        kl_divergence(q, p, unit)?,
    ])
}

/// One outcome's share of D_KL(p‖q) in nats, written so that it is never negative:
/// p ln(p/q) − p + q = q φ(p/q), φ(r) = r ln r − r + 1 ≥ 0 (φ is convex with φ(1) = φ'(1) = 0).
/// The terms −p + q sum to 0 over a distribution, so the shares sum to D_KL(p‖q).
fn kl_term(p: f64, q: f64) -> f64 {
    if p == 0.0 {
        // 0 · ln(0/q) = 0 by convention, leaving −0 + q.
        return q;
    }
    if q == 0.0 {
        return f64::INFINITY;
    }
    // p − q is exact when p and q are close (Sterbenz), so d = p/q − 1 is accurate there.
    let d = (p - q) / q;
    if d.abs() < 0.1 {
        q * phi_near_one(d)
    } else {
        p * ln_ratio(p, q) - p + q
    }
}

/// φ(1 + d) = (1 + d) ln(1 + d) − d for |d| < 0.1, by its Taylor series
/// Σ_{k≥2} (−1)ᵏ dᵏ / (k(k − 1)) = d²/2 − d³/6 + d⁴/12 − …, which has no cancellation.
/// (From ln(1 + d) = Σ_{k≥1} (−1)^{k+1} dᵏ/k, multiplied by 1 + d and collecting powers.)
fn phi_near_one(d: f64) -> f64 {
    let mut sum = 0.0;
    let mut power = -d; // (−d)ᵏ⁻¹
    for k in 2..40 {
        power *= -d;
        let kf = k as f64;
        let term = power / (kf * (kf - 1.0));
        sum += term;
        if term.abs() <= f64::EPSILON * 0.25 * sum.abs() {
            break;
        }
    }
    sum
}

/// ln(a/b) for a, b > 0, without overflow or underflow of the ratio.
fn ln_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_normal() {
        r.ln()
    } else {
        a.ln() - b.ln()
    }
}

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
fn ratio_minus_one_minus_ln(a: f64, b: f64) -> f64 {
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
fn exp_minus_one_minus(l: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::rngs::StdRng;
    // Named explicitly: proptest's prelude exports a `Rng` of its own (a newer rand).
    use crate::rand::{Rng, SeedableRng};
    use crate::rand_distr::StandardNormal;
    use proptest::prelude::*;

    type Build = fn(Vec<f64>) -> Result<Pmf, PmfError>;

    fn pmf(v: &[f64]) -> Pmf {
        Pmf::new(v.to_vec()).unwrap()
    }

    // ---- construction and errors ----

    #[test]
    fn empty_vector_is_rejected() {
        assert_eq!(Pmf::new(Vec::<f64>::new()), Err(PmfError::Empty));
        assert_eq!(Pmf::normalize(Vec::<f64>::new()), Err(PmfError::Empty));
        assert_eq!(Pmf::uniform(0), Err(PmfError::Empty));
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(Pmf::sample_uniform(0, &mut rng), Err(PmfError::Empty));
        assert!(PmfError::Empty.to_string().contains("at least one outcome"));
    }

    #[test]
    fn negative_entry_is_rejected_with_its_index_and_value() {
        let err = Pmf::new([0.6, -0.1, 0.5]).unwrap_err();
        assert_eq!(
            err,
            PmfError::InvalidEntry {
                index: 1,
                value: -0.1
            }
        );
        assert_eq!(
            err.to_string(),
            "entry 1 is -0.1: probabilities and weights must be finite and ≥ 0"
        );
        assert!(Pmf::normalize([1.0, -2.0]).is_err());
    }

    #[test]
    fn nan_and_infinite_entries_are_rejected() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let builders: [Build; 2] = [|v| Pmf::new(v), |v| Pmf::normalize(v)];
            for build in builders {
                let err = build(vec![0.5, bad]).unwrap_err();
                assert!(
                    matches!(err, PmfError::InvalidEntry { index: 1, .. }),
                    "{bad}: {err}"
                );
            }
        }
    }

    #[test]
    fn sum_off_one_beyond_tolerance_is_rejected() {
        let err = Pmf::new([0.5, 0.6]).unwrap_err();
        assert!(matches!(err, PmfError::NotNormalized { sum, .. } if (sum - 1.1).abs() < 1e-15));
        let msg = err.to_string();
        assert!(
            msg.contains("sum to 1.1") && msg.contains("Pmf::normalize"),
            "{msg}"
        );
        assert!(Pmf::new([0.3333, 0.3333, 0.3333]).is_err());
        assert!(Pmf::new([0.5, 0.5 + 2.0 * SUM_TOLERANCE]).is_err());
    }

    #[test]
    fn sum_within_tolerance_is_accepted_and_rescaled_to_one() {
        let p = Pmf::new([0.5, 0.5 + 0.5 * SUM_TOLERANCE]).unwrap();
        assert!((p.probs().iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let p = Pmf::new([0.1, 0.2, 0.7]).unwrap(); // sums to 0.9999999999999999
        assert!((p.probs()[2] - 0.7).abs() < 1e-15);
        // Exactly normalized input is stored bit for bit.
        assert_eq!(pmf(&[0.1, 0.9]).into_vec(), vec![0.1, 0.9]);
    }

    #[test]
    fn normalize_divides_by_the_total() {
        assert_eq!(
            Pmf::normalize([1.0, 1.0, 2.0]).unwrap().probs(),
            &[0.25, 0.25, 0.5]
        );
        assert_eq!(
            Pmf::normalize([5.0, 6.0]).unwrap(),
            pmf(&[5.0 / 11.0, 6.0 / 11.0])
        );
    }

    #[test]
    fn normalize_rejects_all_zero_weights() {
        let err = Pmf::normalize([0.0, 0.0, 0.0]).unwrap_err();
        assert_eq!(err, PmfError::ZeroMass { len: 3 });
        assert!(err.to_string().contains("all 3 weights are zero"));
    }

    #[test]
    fn normalize_does_not_overflow_on_huge_weights() {
        let p = Pmf::normalize([f64::MAX, f64::MAX, 0.0]).unwrap();
        assert_eq!(p.probs(), &[0.5, 0.5, 0.0]);
        let tiny = Pmf::normalize([f64::MIN_POSITIVE, 3.0 * f64::MIN_POSITIVE]).unwrap();
        assert_eq!(tiny.probs(), &[0.25, 0.75]);
    }

    #[test]
    fn try_from_and_display_round_trip() {
        let p = Pmf::try_from(vec![0.25, 0.75]).unwrap();
        assert_eq!(p.to_string(), "[0.25, 0.75]");
        assert!(Pmf::try_from(vec![0.5]).is_err());
    }

    #[test]
    fn different_support_sizes_are_an_error_not_a_panic() {
        let p = pmf(&[0.5, 0.5]);
        let q = Pmf::uniform(3).unwrap();
        let want = PmfError::SupportMismatch {
            first: 2,
            second: 3,
        };
        assert_eq!(cross_entropy(&p, &q, Unit::Nats), Err(want.clone()));
        assert_eq!(kl_divergence(&p, &q, Unit::Nats), Err(want.clone()));
        assert_eq!(js_divergence(&p, &q, Unit::Nats), Err(want.clone()));
        assert_eq!(js_distance(&p, &q, Unit::Nats), Err(want.clone()));
        assert_eq!(total_variation(&p, &q), Err(want.clone()));
        assert!(
            want.to_string()
                .contains("first has 2 outcomes, the second 3")
        );
    }

    // ---- conventions: zeros and infinities ----

    #[test]
    fn zero_probability_outcomes_contribute_nothing() {
        // 0 · log 0 = 0: padding with impossible outcomes changes nothing.
        let p = pmf(&[0.2, 0.8]);
        let q = pmf(&[0.6, 0.4]);
        let p0 = pmf(&[0.2, 0.0, 0.8]);
        let q0 = pmf(&[0.6, 0.0, 0.4]);
        assert_eq!(entropy(&p0, Unit::Nats), entropy(&p, Unit::Nats));
        assert_eq!(
            cross_entropy(&p0, &q0, Unit::Nats).unwrap(),
            cross_entropy(&p, &q, Unit::Nats).unwrap()
        );
        assert_eq!(
            kl_divergence(&p0, &q0, Unit::Nats).unwrap(),
            kl_divergence(&p, &q, Unit::Nats).unwrap()
        );
        assert_eq!(entropy(&pmf(&[1.0, 0.0, 0.0]), Unit::Bits), 0.0);
    }

    #[test]
    fn kl_is_infinite_where_q_vanishes_but_p_does_not() {
        let p = pmf(&[0.5, 0.5]);
        let q = pmf(&[1.0, 0.0]);
        assert_eq!(kl_divergence(&p, &q, Unit::Nats).unwrap(), f64::INFINITY);
        assert_eq!(kl_divergence(&p, &q, Unit::Bits).unwrap(), f64::INFINITY);
        assert_eq!(cross_entropy(&p, &q, Unit::Nats).unwrap(), f64::INFINITY);
        // The other direction is finite: q puts no mass where p has none.
        assert_eq!(kl_divergence(&q, &p, Unit::Nats).unwrap(), LN_2);
        // JS and TV stay finite and reach their maxima on disjoint supports.
        let r = pmf(&[0.0, 1.0]);
        assert!((js_divergence(&q, &r, Unit::Nats).unwrap() - LN_2).abs() < 1e-15);
        assert_eq!(total_variation(&q, &r).unwrap(), 1.0);
    }

    #[test]
    fn kl_is_finite_for_subnormal_q() {
        // ln(p/q) would overflow p/q; the split ln p − ln q does not.
        let q = Pmf::normalize([1.0, 1e-320]).unwrap();
        let p = pmf(&[0.5, 0.5]);
        let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
        let want = 0.5 * (0.5f64 / q.probs()[0]).ln() + 0.5 * (0.5f64.ln() - q.probs()[1].ln());
        assert!(
            kl.is_finite() && (kl - want).abs() < 1e-12 * want,
            "{kl} vs {want}"
        );
    }

    // ---- the homework's numbers ----

    #[test]
    fn homework_forward_kl_is_ln_five_thirds() {
        let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
        let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
        assert!((kl - (5.0f64 / 3.0).ln()).abs() < 1e-15);
        assert!((kl - 0.510826).abs() < 5e-7);
    }

    #[test]
    fn homework_reverse_kl_is_1_8_ln_3_minus_ln_5() {
        let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
        let kl = kl_divergence(&q, &p, Unit::Nats).unwrap();
        assert!((kl - (1.8 * 3.0f64.ln() - 5.0f64.ln())).abs() < 1e-15);
        assert!((kl - 0.368064).abs() < 5e-7);
    }

    #[test]
    fn homework_entropies_and_cross_entropies() {
        let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
        assert!(close(entropy(&p, Unit::Nats), LN_2));
        assert!(close(entropy(&p, Unit::Bits), 1.0));
        let hq = -(0.1 * 0.1f64.ln() + 0.9 * 0.9f64.ln());
        assert!(close(entropy(&q, Unit::Nats), hq));
        assert!(close(
            cross_entropy(&p, &q, Unit::Nats).unwrap(),
            (10.0f64 / 3.0).ln()
        ));
        assert!(close(cross_entropy(&q, &p, Unit::Nats).unwrap(), LN_2));
        assert!(close(total_variation(&p, &q).unwrap(), 0.4));
    }

    // ---- accuracy ----

    #[test]
    fn kl_keeps_relative_accuracy_when_p_is_close_to_q() {
        // q = (a, b) = (3/8, 5/8) and p = (a + δ, b − δ) with δ = 3·2⁻ᵏ are exact in f64, so the
        // reference D_KL(p‖q) = Σ_{j≥2} (−1)ʲ δʲ/(j(j − 1)) · (a^{1−j} + (−1)ʲ b^{1−j}) (from
        // the series of φ, summed by powers of δ) is exact to rounding. Summing p ln(p/q)
        // directly cancels two terms of size δ down to one of size δ²: at k = 32 it has no
        // correct digit left (its relative error is about 27).
        let (a, b) = (0.375_f64, 0.625_f64);
        let q = pmf(&[a, b]);
        for k in [12, 22, 32] {
            let delta = 3.0 * 2f64.powi(-k);
            let p = pmf(&[a + delta, b - delta]);
            let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
            let want: f64 = (2..12)
                .map(|j| {
                    let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                    let jf = f64::from(j);
                    sign * delta.powi(j) / (jf * (jf - 1.0))
                        * (a.powi(1 - j) + sign * b.powi(1 - j))
                })
                .sum();
            assert!(
                (kl - want).abs() <= 1e-14 * want,
                "δ = {delta:e}: {kl:e} vs {want:e}"
            );
        }
    }

    #[test]
    fn series_and_direct_branches_agree_at_the_switch() {
        for d in [-0.1 + 1e-12, 0.1 - 1e-12] {
            let series = phi_near_one(d);
            let direct = (1.0 + d) * (1.0 + d).ln() - d;
            assert!(
                (series - direct).abs() < 1e-14 * direct,
                "{series} vs {direct}"
            );
            let a = 1.0 + d;
            let series = ratio_minus_one_minus_ln(a, 1.0);
            let direct = a - 1.0 - a.ln();
            assert!((series - direct).abs() < 1e-13 * direct);
        }
        for l in [-1.0f64, 1.0] {
            let direct = l.exp_m1() - l;
            assert!((exp_minus_one_minus(l) - direct).abs() < 1e-15 * direct);
        }
    }

    // ---- Gaussians ----

    /// ln N(x; μ, diag σ²).
    fn log_density(x: &[f64], mu: &[f64], var: &[f64]) -> f64 {
        -0.5 * (0..x.len())
            .map(|i| {
                let z = x[i] - mu[i];
                (2.0 * std::f64::consts::PI * var[i]).ln() + z * z / var[i]
            })
            .sum::<f64>()
    }

    /// Monte Carlo estimate of D_KL(q₁‖q₂) = E_{x~q₁}[ln q₁(x) − ln q₂(x)] and its standard error.
    fn kl_monte_carlo(
        (mu1, var1): (&[f64], &[f64]),
        (mu2, var2): (&[f64], &[f64]),
        n: usize,
        seed: u64,
    ) -> (f64, f64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        let mut x = vec![0.0; mu1.len()];
        for _ in 0..n {
            for i in 0..x.len() {
                let e: f64 = rng.sample(StandardNormal);
                x[i] = mu1[i] + var1[i].sqrt() * e;
            }
            let w = log_density(&x, mu1, var1) - log_density(&x, mu2, var2);
            sum += w;
            sum_sq += w * w;
        }
        let nf = n as f64;
        let mean = sum / nf;
        let var = (sum_sq / nf - mean * mean) * nf / (nf - 1.0);
        (mean, (var / nf).sqrt())
    }

    #[test]
    fn gaussian_kl_matches_a_seeded_monte_carlo_estimate() {
        let (mu1, var1) = ([0.3, -1.0, 2.0], [0.5, 2.0, 1.2]);
        let (mu2, var2) = ([0.0, 0.5, 1.0], [1.0, 1.5, 0.4]);
        let exact = kl_diag_gaussians(&mu1, &var1, &mu2, &var2).unwrap();
        let (est, se) = kl_monte_carlo((&mu1, &var1), (&mu2, &var2), 200_000, 20240601);
        // Tolerance: 4 standard errors (a correct formula fails this about 1 time in 16,000
        // seeds; the seed is fixed, so the outcome is deterministic).
        assert!(
            (est - exact).abs() <= 4.0 * se,
            "MC {est} ± {se} vs exact {exact}"
        );
        // The check has teeth: the standard error is small against the answer, and plausible
        // mistakes (dropping the ½, swapping the arguments) land far outside 4 standard errors.
        assert!(se < 0.01 * exact, "se {se} too large for exact {exact}");
        let swapped = kl_diag_gaussians(&mu2, &var2, &mu1, &var1).unwrap();
        for wrong in [2.0 * exact, swapped] {
            assert!((est - wrong).abs() > 10.0 * se, "{wrong} not rejected");
        }
    }

    #[test]
    fn standard_normal_kl_matches_monte_carlo_and_the_general_formula() {
        let mu = [0.8, -0.2];
        let log_var = [-1.5f64, 0.7];
        let var: Vec<f64> = log_var.iter().map(|l| l.exp()).collect();
        let exact = kl_to_standard_normal(&mu, &log_var).unwrap();
        let general = kl_diag_gaussians(&mu, &var, &[0.0, 0.0], &[1.0, 1.0]).unwrap();
        assert!((exact - general).abs() < 1e-14);
        let (est, se) = kl_monte_carlo((&mu, &var), (&[0.0, 0.0], &[1.0, 1.0]), 200_000, 7);
        assert!(
            (est - exact).abs() <= 4.0 * se,
            "MC {est} ± {se} vs {exact}"
        );
        assert!(se < 0.01 * exact);
    }

    #[test]
    fn gaussian_kl_of_identical_gaussians_is_zero_and_accurate_nearby() {
        let mu = [1.0, -2.0];
        let var = [0.3, 4.0];
        assert_eq!(kl_diag_gaussians(&mu, &var, &mu, &var).unwrap(), 0.0);
        assert_eq!(kl_to_standard_normal(&[0.0], &[0.0]).unwrap(), 0.0);
        // σ₁² = 1 + δ vs 1: ½(δ − ln(1 + δ)) = δ²/4 − δ³/6 + …
        let delta = 1e-7;
        let kl = kl_diag_gaussians(&[0.0], &[1.0 + delta], &[0.0], &[1.0]).unwrap();
        let want = delta * delta / 4.0 - delta.powi(3) / 6.0;
        assert!((kl - want).abs() < 1e-8 * want, "{kl:e} vs {want:e}");
        let kl = kl_to_standard_normal(&[0.0], &[delta]).unwrap();
        let want = delta * delta / 4.0 + delta.powi(3) / 12.0;
        assert!((kl - want).abs() < 1e-8 * want, "{kl:e} vs {want:e}");
    }

    #[test]
    fn gaussian_parameters_are_validated() {
        let err = kl_diag_gaussians(&[0.0, 1.0], &[1.0], &[0.0, 0.0], &[1.0, 1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "σ₁² has 1 entries but μ₁ has 2: all parameter vectors must have the same dimension"
        );
        let err = kl_diag_gaussians(&[0.0], &[1.0], &[0.0], &[0.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "σ₂²[0] = 0, but σ₂² must be finite and > 0"
        );
        assert!(kl_diag_gaussians(&[f64::NAN], &[1.0], &[0.0], &[1.0]).is_err());
        assert!(kl_to_standard_normal(&[0.0], &[f64::INFINITY]).is_err());
        assert!(kl_to_standard_normal(&[0.0, 1.0], &[0.0]).is_err());
        assert_eq!(kl_diag_gaussians(&[], &[], &[], &[]).unwrap(), 0.0);
    }

    // ---- properties ----

    /// Weights with zeros, ordinary values and tiny values, at least one positive.
    fn weights(n: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![1 => Just(0.0), 6 => 1e-3..1.0f64, 1 => 1e-12..1e-3f64],
            n,
        )
        .prop_map(|mut w| {
            if w.iter().all(|&x| x == 0.0) {
                w[0] = 1.0;
            }
            w
        })
    }

    fn pmf_of(n: usize) -> impl Strategy<Value = Pmf> {
        weights(n).prop_map(|w| Pmf::normalize(w).unwrap())
    }

    fn pair() -> impl Strategy<Value = (Pmf, Pmf)> {
        (1usize..=12).prop_flat_map(|n| (pmf_of(n), pmf_of(n)))
    }

    fn triple() -> impl Strategy<Value = (Pmf, Pmf, Pmf)> {
        (1usize..=8).prop_flat_map(|n| (pmf_of(n), pmf_of(n), pmf_of(n)))
    }

    fn pair_and_permutation() -> impl Strategy<Value = (Pmf, Pmf, Vec<usize>)> {
        (1usize..=12).prop_flat_map(|n| {
            (
                pmf_of(n),
                pmf_of(n),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
    }

    /// |a − b| ≤ tol · (1 + |b|), with equal infinities equal.
    fn near(a: f64, b: f64, tol: f64) -> bool {
        a == b || (a - b).abs() <= tol * (1.0 + b.abs())
    }

    fn permuted(p: &Pmf, perm: &[usize]) -> Pmf {
        Pmf::new(perm.iter().map(|&i| p.probs()[i]).collect::<Vec<_>>()).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn gibbs_kl_is_nonnegative_and_zero_exactly_when_p_equals_q((p, q) in pair()) {
            let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
            prop_assert!(kl >= 0.0, "D_KL = {kl}");
            prop_assert_eq!(kl == 0.0, p == q);
            prop_assert_eq!(kl_divergence(&p, &p, Unit::Nats).unwrap(), 0.0);
            prop_assert_eq!(kl_divergence(&q, &q, Unit::Bits).unwrap(), 0.0);
        }

        #[test]
        fn cross_entropy_is_entropy_plus_kl((p, q) in pair()) {
            let h_pq = cross_entropy(&p, &q, Unit::Nats).unwrap();
            let sum = entropy(&p, Unit::Nats) + kl_divergence(&p, &q, Unit::Nats).unwrap();
            prop_assert!(near(h_pq, sum, 1e-12), "H(p,q) = {h_pq}, H(p) + D_KL = {sum}");
            prop_assert_eq!(h_pq.is_infinite(), sum.is_infinite());
        }

        #[test]
        fn bits_are_nats_over_ln_2((p, q) in pair()) {
            let pairs = [
                (entropy(&p, Unit::Bits), entropy(&p, Unit::Nats)),
                (cross_entropy(&p, &q, Unit::Bits).unwrap(), cross_entropy(&p, &q, Unit::Nats).unwrap()),
                (kl_divergence(&p, &q, Unit::Bits).unwrap(), kl_divergence(&p, &q, Unit::Nats).unwrap()),
                (js_divergence(&p, &q, Unit::Bits).unwrap(), js_divergence(&p, &q, Unit::Nats).unwrap()),
            ];
            for (bits, nats) in pairs {
                prop_assert!(near(bits, nats / LN_2, 1e-15), "{bits} bits vs {nats} nats");
            }
        }

        #[test]
        fn a_common_permutation_of_the_support_changes_nothing((p, q, perm) in pair_and_permutation()) {
            let (pp, qp) = (permuted(&p, &perm), permuted(&q, &perm));
            let u = Unit::Nats;
            prop_assert!(near(entropy(&pp, u), entropy(&p, u), 1e-13));
            let before = [
                cross_entropy(&p, &q, u).unwrap(),
                kl_divergence(&p, &q, u).unwrap(),
                js_divergence(&p, &q, u).unwrap(),
                total_variation(&p, &q).unwrap(),
            ];
            let after = [
                cross_entropy(&pp, &qp, u).unwrap(),
                kl_divergence(&pp, &qp, u).unwrap(),
                js_divergence(&pp, &qp, u).unwrap(),
                total_variation(&pp, &qp).unwrap(),
            ];
            for (a, b) in after.iter().zip(&before) {
                prop_assert!(near(*a, *b, 1e-13), "{a} vs {b}");
            }
        }

        #[test]
        fn entropy_is_between_zero_and_log_support_size((p, _q) in pair()) {
            let n = p.support_size() as f64;
            let h = entropy(&p, Unit::Nats);
            prop_assert!(h >= 0.0);
            prop_assert!(h <= n.ln() + 1e-13, "H = {h} > ln {n}");
            prop_assert!(entropy(&p, Unit::Bits) <= n.log2() + 1e-13);
            let u = Pmf::uniform(p.support_size()).unwrap();
            prop_assert!(near(entropy(&u, Unit::Nats), n.ln(), 1e-14));
        }

        #[test]
        fn js_and_tv_are_symmetric_and_bounded((p, q) in pair()) {
            let js = js_divergence(&p, &q, Unit::Bits).unwrap();
            prop_assert!((0.0..=1.0 + 1e-15).contains(&js), "JS = {js} bits");
            prop_assert!(near(js, js_divergence(&q, &p, Unit::Bits).unwrap(), 1e-15));
            let tv = total_variation(&p, &q).unwrap();
            prop_assert!((0.0..=1.0 + 1e-15).contains(&tv), "TV = {tv}");
            prop_assert_eq!(tv, total_variation(&q, &p).unwrap());
        }

        #[test]
        fn sqrt_js_and_tv_obey_the_triangle_inequality((p, q, r) in triple()) {
            let d = |a: &Pmf, b: &Pmf| js_distance(a, b, Unit::Nats).unwrap();
            prop_assert!(d(&p, &r) <= d(&p, &q) + d(&q, &r) + 1e-12);
            let t = |a: &Pmf, b: &Pmf| total_variation(a, b).unwrap();
            prop_assert!(t(&p, &r) <= t(&p, &q) + t(&q, &r) + 1e-12);
        }
    }

    #[test]
    fn pair_quantities_are_the_six_quantities_in_order() {
        let p = Pmf::new([0.5, 0.5]).unwrap();
        let q = Pmf::new([0.1, 0.9]).unwrap();
        let six = pair_quantities(&p, &q, Unit::Bits).unwrap();
        let want = [
            1.0,
            entropy(&q, Unit::Bits),
            (10.0_f64 / 3.0).log2(),
            1.0,
            (5.0_f64 / 3.0).log2(),
            (1.8 * 3.0_f64.ln() - 5.0_f64.ln()) / LN_2,
        ];
        for (got, want) in six.iter().zip(want) {
            assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        }
        assert!(pair_quantities(&p, &Pmf::uniform(3).unwrap(), Unit::Nats).is_err());
    }
}
