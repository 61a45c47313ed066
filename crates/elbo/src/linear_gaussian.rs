//! The linear-Gaussian latent variable model: the one latent variable model in which every term
//! of the ELBO, the evidence $\log p(x)$ and the true posterior are known in closed form.
//!
//! The model (probabilistic PCA, Tipping & Bishop 1999) has a latent $z \in \mathbb R^d$ and an
//! observation $x \in \mathbb R^D$:
//!
//! $$p(z) = \mathcal N(0, I_d), \qquad p(x \mid z) = \mathcal N(Wz + b,\ s^2 I_D),$$
//!
//! with $W$ a $D \times d$ matrix, $b \in \mathbb R^D$ and noise standard deviation $s > 0$.
//! Everything a variational argument talks about is then a Gaussian integral:
//!
//! | quantity | closed form | here |
//! |---|---|---|
//! | evidence | $p(x) = \mathcal N(x;\ b,\ C)$, $C = WW^\top + s^2 I_D$ | [`LinearGaussian::log_evidence`] |
//! | posterior | $p(z \mid x) = \mathcal N(m, S)$, $S = (I_d + W^\top W / s^2)^{-1}$, $m = S W^\top (x - b)/s^2$ | [`LinearGaussian::posterior`] |
//! | ELBO of $q = \mathcal N(\mu, \Sigma)$ | $\mathbb E_q[\log p(x \mid z)] - D_{KL}(q \,\|\, p(z))$, both terms exact | [`LinearGaussian::elbo`] |
//! | $D_{KL}(q \,\|\, q')$ between full-covariance Gaussians | $\tfrac12[\operatorname{tr}(\Sigma'^{-1}\Sigma) + (\mu' - \mu)^\top \Sigma'^{-1}(\mu' - \mu) - d + \ln\frac{\det\Sigma'}{\det\Sigma}]$ | [`FullGaussian::kl`] |
//!
//! so the identity behind the ELBO,
//!
//! $$\log p(x) = \mathrm{ELBO}(q) + D_{KL}\big(q(z) \,\|\, p(z \mid x)\big) \quad\text{for every } q,$$
//!
//! can be checked to rounding error, with the three quantities computed along independent routes
//! (a Cholesky factor of the $D \times D$ matrix $C$ for the evidence, one of the $d \times d$
//! posterior precision for the posterior, and moments of $q$ for the ELBO).
//!
//! ```
//! use elbo::linear_gaussian::{FullGaussian, LinearGaussian};
//! use elbo::ndarray::array;
//!
//! let model = LinearGaussian::new(array![[1.0, 0.5], [0.0, 2.0], [-1.0, 1.0]], array![0.0, 1.0, 0.0], 0.5)?;
//! let x = array![0.3, 2.0, -0.4];
//! let log_px = model.log_evidence(x.view())?;
//! // any Gaussian q: ELBO + KL(q ‖ posterior) = log p(x)
//! let q = FullGaussian::new(array![0.1, -0.2], array![[0.5, 0.1], [0.1, 0.3]])?;
//! let gap = q.kl(&model.posterior(x.view())?)?;
//! assert!((model.elbo(x.view(), &q)?.elbo + gap - log_px).abs() < 1e-12);
//! // the bound is tight at the posterior
//! assert!((model.elbo(x.view(), &model.posterior(x.view())?)?.elbo - log_px).abs() < 1e-12);
//! # Ok::<(), elbo::linear_gaussian::LinearGaussianError>(())
//! ```
//!
//! All arithmetic is `f64`; every constructor validates its input and every method that takes a
//! point checks its length, returning a [`LinearGaussianError`] rather than panicking.

use crate::rand::rngs::SmallRng;
use crate::rand::{Rng, SeedableRng};
use crate::rand_distr::StandardNormal;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Relative tolerance of the symmetry check of a covariance matrix.
const SYMMETRY_TOL: f64 = 1e-10;

/// Why a linear-Gaussian model or a Gaussian could not be built or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearGaussianError {
    /// A dimension is zero.
    #[error("{what} must have dimension ≥ 1")]
    Empty {
        /// What was empty: "z", "x", …
        what: &'static str,
    },
    /// A vector or matrix has the wrong size.
    #[error("{what} has {got} entries where {expected} were expected")]
    Shape {
        /// What was passed, e.g. "x", "b", "covariance columns".
        what: &'static str,
        /// Its size.
        got: usize,
        /// The size required.
        expected: usize,
    },
    /// An entry is NaN or infinite.
    #[error("{what}[{index}] = {value} is not finite")]
    NotFinite {
        /// Which argument.
        what: &'static str,
        /// Index of the entry (row-major for a matrix).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The noise standard deviation is not finite and positive.
    #[error("noise standard deviation s = {0} must be finite and > 0")]
    BadNoise(f64),
    /// A covariance matrix is not symmetric.
    #[error("{what} is not symmetric: entry ({i}, {j}) is {a} but ({j}, {i}) is {b}")]
    NotSymmetric {
        /// Which matrix.
        what: &'static str,
        /// Row of the offending entry.
        i: usize,
        /// Column of the offending entry.
        j: usize,
        /// Entry (i, j).
        a: f64,
        /// Entry (j, i).
        b: f64,
    },
    /// A covariance matrix is not positive definite (its Cholesky factorization breaks down).
    #[error("{what} is not positive definite: Cholesky pivot {index} is {pivot}")]
    NotPositiveDefinite {
        /// Which matrix.
        what: &'static str,
        /// The pivot (diagonal position) where the factorization failed.
        index: usize,
        /// The value under the square root there.
        pivot: f64,
    },
}

type Result<T> = std::result::Result<T, LinearGaussianError>;

fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(LinearGaussianError::Shape {
            what,
            got,
            expected,
        })
    }
}

fn check_finite<'a>(what: &'static str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(LinearGaussianError::NotFinite { what, index, value }),
        None => Ok(()),
    }
}

/// The lower-triangular Cholesky factor L of a symmetric positive-definite `a` (a = L Lᵀ).
fn cholesky(what: &'static str, a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut pivot = a[[j, j]];
        for k in 0..j {
            pivot -= l[[j, k]] * l[[j, k]];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return Err(LinearGaussianError::NotPositiveDefinite {
                what,
                index: j,
                pivot,
            });
        }
        let d = pivot.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / d;
        }
    }
    Ok(l)
}

/// Solves L y = v for lower-triangular L (forward substitution).
fn solve_lower(l: &Array2<f64>, v: ArrayView1<'_, f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        let mut s = v[i];
        for k in 0..i {
            s -= l[[i, k]] * y[k];
        }
        y[i] = s / l[[i, i]];
    }
    y
}

/// Solves Lᵀ x = y for lower-triangular L (back substitution).
fn solve_lower_transpose(l: &Array2<f64>, y: ArrayView1<'_, f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[[k, i]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    x
}

/// ln det A = 2 Σᵢ ln Lᵢᵢ from the Cholesky factor of A.
fn log_det(l: &Array2<f64>) -> f64 {
    2.0 * l.diag().iter().map(|d| d.ln()).sum::<f64>()
}

/// A⁻¹ from the Cholesky factor of A, column by column (A⁻¹ eⱼ = L⁻ᵀ L⁻¹ eⱼ), symmetrized.
fn inverse(l: &Array2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut inv = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut e = Array1::<f64>::zeros(n);
        e[j] = 1.0;
        let col = solve_lower_transpose(l, solve_lower(l, e.view()).view());
        inv.column_mut(j).assign(&col);
    }
    let t = inv.t().to_owned();
    (inv + t) * 0.5
}

/// A Gaussian $\mathcal N(\mu, \Sigma)$ on $\mathbb R^d$ with a full covariance matrix, held with
/// its Cholesky factor $\Sigma = LL^\top$: the family of the linear-Gaussian posterior, and of the
/// arbitrary variational distributions $q$ the ELBO identity is checked on.
///
/// ```
/// use elbo::linear_gaussian::FullGaussian;
/// use elbo::ndarray::array;
/// let q = FullGaussian::new(array![1.0, 0.0], array![[2.0, 0.5], [0.5, 1.0]])?;
/// assert!(q.kl(&q)?.abs() < 1e-15);                       // KL(q ‖ q) = 0
/// assert!(q.kl(&FullGaussian::standard(2)?)? > 0.0);      // KL(q ‖ N(0, I)) > 0
/// assert!(FullGaussian::new(array![0.0, 0.0], array![[1.0, 2.0], [2.0, 1.0]]).is_err()); // not PD
/// # Ok::<(), elbo::linear_gaussian::LinearGaussianError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FullGaussian {
    mean: Array1<f64>,
    cov: Array2<f64>,
    chol: Array2<f64>,
}

impl FullGaussian {
    /// $\mathcal N(\mu, \Sigma)$; `cov` must be `d × d`, finite, symmetric (to a relative 1e-10)
    /// and positive definite.
    pub fn new(mean: Array1<f64>, cov: Array2<f64>) -> Result<Self> {
        let d = mean.len();
        if d == 0 {
            return Err(LinearGaussianError::Empty { what: "the mean" });
        }
        check_len("covariance rows", cov.nrows(), d)?;
        check_len("covariance columns", cov.ncols(), d)?;
        check_finite("μ", &mean)?;
        check_finite("Σ", &cov)?;
        let scale = cov.diag().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..d {
            for j in i + 1..d {
                let (a, b) = (cov[[i, j]], cov[[j, i]]);
                if (a - b).abs() > SYMMETRY_TOL * scale.max(a.abs()).max(f64::MIN_POSITIVE) {
                    return Err(LinearGaussianError::NotSymmetric {
                        what: "Σ",
                        i,
                        j,
                        a,
                        b,
                    });
                }
            }
        }
        let chol = cholesky("Σ", cov.view())?;
        Ok(FullGaussian { mean, cov, chol })
    }

    /// $\mathcal N(\mu, \operatorname{diag}(\sigma^2))$ from the variances $\sigma_j^2 > 0$.
    pub fn diagonal(mean: Array1<f64>, variances: Array1<f64>) -> Result<Self> {
        check_len("variances", variances.len(), mean.len())?;
        FullGaussian::new(mean, Array2::from_diag(&variances))
    }

    /// The standard normal $\mathcal N(0, I_d)$, the prior $p(z)$.
    pub fn standard(dim: usize) -> Result<Self> {
        FullGaussian::new(Array1::zeros(dim), Array2::eye(dim))
    }

    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean μ.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The covariance Σ.
    pub fn cov(&self) -> ArrayView2<'_, f64> {
        self.cov.view()
    }

    /// The lower-triangular Cholesky factor L, Σ = LLᵀ.
    pub fn cholesky(&self) -> ArrayView2<'_, f64> {
        self.chol.view()
    }

    /// $\ln\det\Sigma$.
    pub fn log_det_cov(&self) -> f64 {
        log_det(&self.chol)
    }

    /// The entropy $H = \frac12\big(d(1 + \ln 2\pi) + \ln\det\Sigma\big)$ in nats.
    pub fn entropy(&self) -> f64 {
        let d = self.dim() as f64;
        d * (0.5 + HALF_LN_2PI) + 0.5 * self.log_det_cov()
    }

    /// $\ln \mathcal N(z; \mu, \Sigma) = -\frac12\big(d \ln 2\pi + \ln\det\Sigma + \lVert L^{-1}(z - \mu)\rVert^2\big)$.
    pub fn log_density(&self, z: ArrayView1<'_, f64>) -> Result<f64> {
        check_len("z", z.len(), self.dim())?;
        check_finite("z", z)?;
        let r = solve_lower(&self.chol, (&z - &self.mean).view());
        Ok(-(self.dim() as f64) * HALF_LN_2PI - 0.5 * self.log_det_cov() - 0.5 * r.dot(&r))
    }

    /// $D_{KL}(\text{self} \,\|\, \text{other})$ in nats, in closed form:
    ///
    /// $$\tfrac12\Big[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1) + (\mu_2 - \mu_1)^\top\Sigma_2^{-1}(\mu_2 - \mu_1) -
    ///   d + \ln\det\Sigma_2 - \ln\det\Sigma_1\Big].$$
    pub fn kl(&self, other: &FullGaussian) -> Result<f64> {
        check_len("the other Gaussian's dimension", other.dim(), self.dim())?;
        let d = self.dim();
        // tr(Σ₂⁻¹Σ₁) = ‖L₂⁻¹L₁‖²_F, one triangular solve per column of L₁
        let trace: f64 = (0..d)
            .map(|j| {
                let c = solve_lower(&other.chol, self.chol.column(j));
                c.dot(&c)
            })
            .sum();
        let r = solve_lower(&other.chol, (&other.mean - &self.mean).view());
        let kl = 0.5 * (trace + r.dot(&r) - d as f64 + other.log_det_cov() - self.log_det_cov());
        // KL ≥ 0; rounding can leave −1e-16 when the two coincide
        Ok(kl.max(0.0))
    }

    /// `n` independent draws (n × d): row i is $\mu + L\varepsilon_i$, $\varepsilon_i \sim \mathcal N(0, I)$.
    pub fn sample(&self, n: usize, seed: u64) -> Array2<f64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let d = self.dim();
        let eps = Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal));
        let mut z = eps.dot(&self.chol.t());
        for mut row in z.rows_mut() {
            row += &self.mean;
        }
        z
    }
}

/// The three numbers of the ELBO of a Gaussian q, in nats: `elbo = rec − kl` — the same
/// [`ElboTerms`](crate::vae::ElboTerms) the VAE reports, for one x.
pub use crate::vae::ElboTerms;

/// The model $p(z) = \mathcal N(0, I_d)$, $p(x \mid z) = \mathcal N(Wz + b, s^2 I_D)$ (see the
/// [module documentation](self) for the closed forms).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGaussian {
    w: Array2<f64>,
    b: Array1<f64>,
    s: f64,
}

impl LinearGaussian {
    /// The model with loading matrix `w` (`D × d`), offset `b` (length D) and noise standard
    /// deviation `s > 0`.
    pub fn new(w: Array2<f64>, b: Array1<f64>, s: f64) -> Result<Self> {
        if w.nrows() == 0 {
            return Err(LinearGaussianError::Empty {
                what: "x (rows of W)",
            });
        }
        if w.ncols() == 0 {
            return Err(LinearGaussianError::Empty {
                what: "z (columns of W)",
            });
        }
        check_len("b", b.len(), w.nrows())?;
        check_finite("W", &w)?;
        check_finite("b", &b)?;
        if !(s.is_finite() && s > 0.0) {
            return Err(LinearGaussianError::BadNoise(s));
        }
        Ok(LinearGaussian { w, b, s })
    }

    /// A model with `W` and `b` drawn with independent standard normal entries (seeded), for
    /// examples and tests.
    pub fn random(data_dim: usize, latent_dim: usize, s: f64, seed: u64) -> Result<Self> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut draw = || rng.sample::<f64, _>(StandardNormal);
        let w = Array2::from_shape_simple_fn((data_dim, latent_dim), &mut draw);
        let b = Array1::from_shape_simple_fn(data_dim, &mut draw);
        LinearGaussian::new(w, b, s)
    }

    /// Dimension D of x.
    pub fn data_dim(&self) -> usize {
        self.w.nrows()
    }

    /// Dimension d of z.
    pub fn latent_dim(&self) -> usize {
        self.w.ncols()
    }

    /// The loading matrix W (`D × d`).
    pub fn weights(&self) -> ArrayView2<'_, f64> {
        self.w.view()
    }

    /// The offset b.
    pub fn bias(&self) -> ArrayView1<'_, f64> {
        self.b.view()
    }

    /// The noise standard deviation s.
    pub fn noise_std(&self) -> f64 {
        self.s
    }

    /// The prior $p(z) = \mathcal N(0, I_d)$.
    pub fn prior(&self) -> FullGaussian {
        let d = self.latent_dim();
        FullGaussian {
            mean: Array1::zeros(d),
            cov: Array2::eye(d),
            chol: Array2::eye(d),
        }
    }

    /// The marginal $p(x) = \mathcal N(b, WW^\top + s^2 I_D)$: x = Wz + b + sη with z, η
    /// independent standard normals, so its covariance is $W\,\mathrm{Cov}(z)W^\top + s^2 I$.
    pub fn marginal(&self) -> Result<FullGaussian> {
        let mut c = self.w.dot(&self.w.t());
        c.diag_mut().mapv_inplace(|v| v + self.s * self.s);
        let chol = cholesky("WWᵀ + s²I", c.view())?;
        Ok(FullGaussian {
            mean: self.b.clone(),
            cov: c,
            chol,
        })
    }

    /// The log evidence $\log p(x) = \log\mathcal N(x; b, WW^\top + s^2 I_D)$, in nats.
    pub fn log_evidence(&self, x: ArrayView1<'_, f64>) -> Result<f64> {
        check_len("x", x.len(), self.data_dim())?;
        self.marginal()?.log_density(x)
    }

    /// $\log p(x \mid z) = -\frac D2 \ln(2\pi s^2) - \lVert x - Wz - b\rVert^2 / (2s^2)$.
    pub fn log_likelihood(&self, x: ArrayView1<'_, f64>, z: ArrayView1<'_, f64>) -> Result<f64> {
        self.check_x(x)?;
        check_len("z", z.len(), self.latent_dim())?;
        check_finite("z", z)?;
        let r = &x - &self.w.dot(&z) - &self.b;
        let dd = self.data_dim() as f64;
        Ok(-dd * (HALF_LN_2PI + self.s.ln()) - r.dot(&r) / (2.0 * self.s * self.s))
    }

    /// $\log p(x, z) = \log p(x \mid z) + \log p(z)$.
    pub fn log_joint(&self, x: ArrayView1<'_, f64>, z: ArrayView1<'_, f64>) -> Result<f64> {
        Ok(self.log_likelihood(x, z)? + self.prior().log_density(z)?)
    }

    /// The exact posterior $p(z \mid x) = \mathcal N(m, S)$ with precision
    /// $S^{-1} = I_d + W^\top W / s^2$ and mean $m = S W^\top (x - b)/s^2$.
    ///
    /// (Completing the square in $\log p(z) + \log p(x \mid z)
    /// = -\frac12 z^\top(I + W^\top W/s^2)z + z^\top W^\top(x - b)/s^2 + \text{const}$.)
    pub fn posterior(&self, x: ArrayView1<'_, f64>) -> Result<FullGaussian> {
        self.check_x(x)?;
        let s2 = self.s * self.s;
        let mut precision = self.w.t().dot(&self.w) / s2;
        precision.diag_mut().mapv_inplace(|v| v + 1.0);
        let lp = cholesky("the posterior precision", precision.view())?;
        let h = self.w.t().dot(&(&x - &self.b)) / s2;
        let mean = solve_lower_transpose(&lp, solve_lower(&lp, h.view()).view());
        FullGaussian::new(mean, inverse(&lp))
    }

    /// The ELBO of a Gaussian $q = \mathcal N(\mu, \Sigma)$ on z, exactly:
    ///
    /// $$\mathbb E_q[\log p(x \mid z)] = -\frac D2\ln(2\pi s^2) -
    ///   \frac{\lVert x - W\mu - b\rVert^2 + \operatorname{tr}(W\Sigma W^\top)}{2s^2},\qquad
    /// D_{KL}(q \,\|\, p(z)) = \tfrac12\big(\operatorname{tr}\Sigma + \lVert\mu\rVert^2 - d - \ln\det\Sigma\big).$$
    ///
    /// (The first: $x - Wz - b$ has mean $x - W\mu - b$ and covariance $W\Sigma W^\top$ under q,
    /// and $\mathbb E\lVert v\rVert^2 = \lVert\mathbb E v\rVert^2 + \operatorname{tr}\operatorname{Cov} v$.)
    pub fn elbo(&self, x: ArrayView1<'_, f64>, q: &FullGaussian) -> Result<ElboTerms<f64>> {
        self.check_x(x)?;
        check_len("q's dimension", q.dim(), self.latent_dim())?;
        let r = &x - &self.w.dot(&q.mean) - &self.b;
        // tr(W Σ Wᵀ) = ‖W L‖²_F
        let wl = self.w.dot(&q.chol);
        let trace = wl.iter().map(|v| v * v).sum::<f64>();
        let dd = self.data_dim() as f64;
        let rec = -dd * (HALF_LN_2PI + self.s.ln()) - (r.dot(&r) + trace) / (2.0 * self.s * self.s);
        let kl = 0.5
            * (q.cov.diag().sum() + q.mean.dot(&q.mean)
                - self.latent_dim() as f64
                - q.log_det_cov())
            .max(0.0);
        Ok(ElboTerms::new(rec, kl))
    }

    /// `n` draws from the joint: `(z, x)`, each with one draw per row, z ∼ p(z), x ∼ p(x | z).
    pub fn sample(&self, n: usize, seed: u64) -> (Array2<f64>, Array2<f64>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut draw = || rng.sample::<f64, _>(StandardNormal);
        let z = Array2::from_shape_simple_fn((n, self.latent_dim()), &mut draw);
        let noise = Array2::from_shape_simple_fn((n, self.data_dim()), &mut draw);
        let mut x = z.dot(&self.w.t()) + noise * self.s;
        for mut row in x.rows_mut() {
            row += &self.b;
        }
        (z, x)
    }

    fn check_x(&self, x: ArrayView1<'_, f64>) -> Result<()> {
        check_len("x", x.len(), self.data_dim())?;
        check_finite("x", x)
    }
}

#[cfg(test)]
mod tests;
