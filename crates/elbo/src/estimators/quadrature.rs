//! Gauss–Hermite quadrature: reference values of expectations under a Gaussian, without Monte
//! Carlo noise.

use super::EstimatorError;
use crate::gaussian::Gaussian;
use std::sync::OnceLock;

/// The n-point Gauss–Hermite rule for the standard normal: nodes $\varepsilon_i$ and weights
/// $w_i$ (summing to 1) with
///
/// $$\mathbb E_{\varepsilon\sim\mathcal N(0,1)}[g(\varepsilon)] \approx \sum_{i=1}^n w_i\, g(\varepsilon_i),$$
///
/// exact when g is a polynomial of degree ≤ 2n − 1, and converging fast for smooth g.
/// Under $\mathcal N(\mu, \sigma^2)$ substitute $x = \mu + \sigma\varepsilon$
/// ([`GaussHermite::expectation`]).
///
/// **How the rule is computed** (Golub & Welsch 1969). The orthonormal probabilists' Hermite
/// polynomials $q_k = \mathrm{He}_k/\sqrt{k!}$ satisfy
/// $\varepsilon\, q_k = \sqrt{k+1}\, q_{k+1} + \sqrt k\, q_{k-1}$, so the nodes are the eigenvalues
/// of the symmetric tridiagonal Jacobi matrix $J$ with zero diagonal and off-diagonal
/// $\sqrt1, \dots, \sqrt{n-1}$. We find them by bisection on Sturm sequence counts (robust: the
/// k-th eigenvalue is bracketed by counting sign changes), polish each with Newton's method on
/// $q_n$ (using $q_n' = \sqrt n\, q_{n-1}$), and take the weights from the Christoffel function
/// $w_i = 1 / \sum_{k=0}^{n-1} q_k(\varepsilon_i)^2$. The rule is made exactly symmetric
/// ($\varepsilon_{n+1-i} = -\varepsilon_i$).
///
/// ```
/// use elbo::estimators::GaussHermite;
/// use elbo::gaussian::Gaussian;
/// let gh = GaussHermite::new(10)?;
/// // E[ε⁴] = 3 exactly (degree 4 ≤ 19)
/// assert!((gh.standard_expectation(|e| e.powi(4)) - 3.0).abs() < 1e-12);
/// // E[x²] = μ² + σ² under N(1, 2²)
/// let p = Gaussian::new(1.0, 2.0)?;
/// assert!((gh.expectation(p, |x| x * x) - 5.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaussHermite {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl GaussHermite {
    /// The largest supported number of nodes (beyond it $q_k(\varepsilon)^2$ can overflow).
    pub const MAX_NODES: usize = 256;

    /// The n-point rule, 1 ≤ n ≤ [`GaussHermite::MAX_NODES`].
    ///
    /// # Errors
    /// [`EstimatorError::QuadratureNodes`] outside that range.
    pub fn new(n: usize) -> Result<Self, EstimatorError> {
        if n == 0 || n > Self::MAX_NODES {
            return Err(EstimatorError::QuadratureNodes { n });
        }
        let mut nodes = vec![0.0; n];
        // Gershgorin: every eigenvalue lies in [−(√(n−2) + √(n−1)), +…].
        let radius = 2.0 * ((n - 1) as f64).sqrt() + 1.0;
        for k in 0..n / 2 {
            let x = newton_polish(n, bisect_eigenvalue(n, k, radius));
            nodes[k] = x;
            nodes[n - 1 - k] = -x;
        }
        // For odd n the middle node is exactly 0 (q_n is odd).
        let weights = nodes.iter().map(|&x| christoffel_weight(n, x)).collect();
        Ok(GaussHermite { nodes, weights })
    }

    /// A shared 64-point rule (exact for polynomials of degree ≤ 127), built on first use.
    pub fn default_rule() -> &'static GaussHermite {
        static RULE: OnceLock<GaussHermite> = OnceLock::new();
        RULE.get_or_init(|| GaussHermite::new(64).expect("64 is a valid node count"))
    }

    /// Number of nodes n.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a rule has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The nodes $\varepsilon_1 < \dots < \varepsilon_n$.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The weights $w_1, \dots, w_n$ (positive, summing to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// $\mathbb E_{\varepsilon\sim\mathcal N(0,1)}[g(\varepsilon)] \approx \sum_i w_i g(\varepsilon_i)$.
    pub fn standard_expectation(&self, g: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&e, &w)| w * g(e))
            .sum()
    }

    /// $\mathbb E_{x\sim\mathcal N(\mu,\sigma^2)}[f(x)] \approx \sum_i w_i f(\mu + \sigma\varepsilon_i)$.
    pub fn expectation(&self, p: Gaussian, f: impl Fn(f64) -> f64) -> f64 {
        self.standard_expectation(|e| f(p.reparameterize(e)))
    }
}

/// Number of eigenvalues of the n × n Jacobi matrix that are < x (Sturm count from the pivots
/// of the LDLᵀ factorisation of J − xI).
fn count_below(n: usize, x: f64) -> usize {
    let mut count = 0;
    let mut d = -x;
    for k in 0..n {
        if k > 0 {
            d = -x - (k as f64) / d; // b_k² = k
        }
        if d == 0.0 {
            d = -f64::EPSILON * (1.0 + x.abs());
        }
        if d < 0.0 {
            count += 1;
        }
    }
    count
}

/// The k-th smallest eigenvalue (k from 0) by bisection on Sturm counts.
fn bisect_eigenvalue(n: usize, k: usize, radius: f64) -> f64 {
    let (mut lo, mut hi) = (-radius, radius);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if count_below(n, mid) > k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// $(q_{n-1}(x), q_n(x))$ by the three-term recurrence, $q_0 = 1$.
fn orthonormal_hermite(n: usize, x: f64) -> (f64, f64) {
    let (mut prev, mut cur) = (0.0, 1.0);
    for k in 0..n {
        // q_{k+1} = (x q_k − √k q_{k−1}) / √(k+1)
        let next = (x * cur - (k as f64).sqrt() * prev) / ((k + 1) as f64).sqrt();
        prev = cur;
        cur = next;
    }
    (prev, cur)
}

fn newton_polish(n: usize, mut x: f64) -> f64 {
    for _ in 0..3 {
        let (qm1, q) = orthonormal_hermite(n, x);
        let dq = (n as f64).sqrt() * qm1;
        if dq == 0.0 || !dq.is_finite() {
            break;
        }
        let step = q / dq;
        x -= step;
        if step.abs() <= 1e-16 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// $w = 1 / \sum_{k<n} q_k(x)^2$.
fn christoffel_weight(n: usize, x: f64) -> f64 {
    let (mut prev, mut cur) = (0.0, 1.0);
    let mut sum = 0.0;
    for k in 0..n {
        sum += cur * cur;
        let next = (x * cur - (k as f64).sqrt() * prev) / ((k + 1) as f64).sqrt();
        prev = cur;
        cur = next;
    }
    1.0 / sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double_factorial_odd(k: u32) -> f64 {
        // (2k − 1)!! = E[ε^{2k}]
        (1..=k).map(|i| (2 * i - 1) as f64).product()
    }

    #[test]
    fn small_rules_match_their_closed_forms() {
        let r1 = GaussHermite::new(1).unwrap();
        assert_eq!((r1.nodes(), r1.weights()), (&[0.0][..], &[1.0][..]));
        let r2 = GaussHermite::new(2).unwrap();
        assert!((r2.nodes()[1] - 1.0).abs() < 1e-15 && (r2.weights()[0] - 0.5).abs() < 1e-15);
        let r3 = GaussHermite::new(3).unwrap();
        let s3 = 3f64.sqrt();
        assert!((r3.nodes()[0] + s3).abs() < 1e-14 && r3.nodes()[1] == 0.0);
        assert!((r3.weights()[0] - 1.0 / 6.0).abs() < 1e-15);
        assert!((r3.weights()[1] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn moments_are_exact_up_to_degree_2n_minus_1() {
        for n in [4, 10, 33, 64] {
            let gh = GaussHermite::new(n).unwrap();
            for k in 0..(n as u32) {
                let even = gh.standard_expectation(|e| e.powi(2 * k as i32));
                let want = double_factorial_odd(k);
                assert!(
                    (even / want - 1.0).abs() < 1e-11,
                    "n = {n}, E[ε^{}] = {even}",
                    2 * k
                );
                let odd = gh.standard_expectation(|e| e.powi(2 * k as i32 + 1));
                assert!(
                    odd.abs() < 1e-12 * want.max(1.0),
                    "n = {n}, odd moment {odd}"
                );
            }
        }
    }

    #[test]
    fn largest_rule_is_a_valid_quadrature() {
        let gh = GaussHermite::new(GaussHermite::MAX_NODES).unwrap();
        assert!(gh.weights().iter().all(|&w| w > 0.0 && w.is_finite()));
        assert!(gh.nodes().windows(2).all(|w| w[0] < w[1]));
        assert!((gh.weights().iter().sum::<f64>() - 1.0).abs() < 1e-13);
        assert!((gh.standard_expectation(|e| e * e) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn smooth_non_polynomial_expectations_converge() {
        // E[e^{tε}] = e^{t²/2} and E[cos ε] = e^{−1/2}
        let gh = GaussHermite::new(40).unwrap();
        assert!((gh.standard_expectation(|e| (0.7 * e).exp()) - (0.245_f64).exp()).abs() < 1e-13);
        assert!((gh.standard_expectation(f64::cos) - (-0.5_f64).exp()).abs() < 1e-14);
        let p = Gaussian::new(0.3, 0.8).unwrap();
        let want = 0.3_f64.sin() * (-0.32_f64).exp(); // E[sin x] = sin μ e^{−σ²/2}
        assert!((gh.expectation(p, f64::sin) - want).abs() < 1e-14);
    }

    #[test]
    fn node_count_is_validated() {
        assert!(matches!(
            GaussHermite::new(0),
            Err(EstimatorError::QuadratureNodes { n: 0 })
        ));
        assert!(GaussHermite::new(257).is_err());
    }
}
