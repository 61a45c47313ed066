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
pub(crate) fn ln_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_normal() {
        r.ln()
    } else {
        a.ln() - b.ln()
    }
}

mod gaussian_kl;
pub(crate) use gaussian_kl::kl_to_standard_normal_term;
pub use gaussian_kl::{GaussianKlError, kl_diag_gaussians, kl_to_standard_normal};

#[cfg(test)]
mod tests;
