//! The reparameterization trick: a sample of q_φ(z|x) = N(μ, diag σ²) as a differentiable
//! function of (μ, log σ²) and noise ε ∼ N(0, I) that does not depend on φ:
//!
//! ```text
//! forward   z = μ + σ ⊙ ε,   σ = exp(½ log σ²)
//! backward  ∂μ += ∂z,        ∂log σ² += ∂z ⊙ ε ⊙ σ / 2     (∂z/∂log σ² = ε ∂σ/∂log σ² = ε σ/2)
//! ```
//!
//! All matrices are `B × L`. The backward pass accumulates, because the KL term also feeds
//! ∂μ and ∂log σ² (see [`kl`](super::kl)).

use super::super::error::{VaeError, check_len};
use super::super::scalar::Real;
use super::reshape;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};

fn check_same(what: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<(), VaeError> {
    check_len(what, a.0, b.0)?;
    check_len(what, a.1, b.1)
}

/// Forward: `z = μ + σ ⊙ ε` with `σ = exp(½ log σ²)`; σ is written into `sigma` too, for the
/// backward pass. `mu`, `log_var` and `eps` must all be `B × L` (else [`VaeError::Shape`]);
/// `sigma` and `z` are reshaped to `B × L`.
///
/// ```
/// use elbo::ndarray::{array, Array2};
/// use elbo::vae::ops::reparameterize;
/// let (mut sigma, mut z) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
/// let log_var = array![[4f64.ln()]]; // σ = 2
/// reparameterize(array![[1.0]].view(), log_var.view(), array![[0.5]].view(), &mut sigma, &mut z)?;
/// assert_eq!(z, array![[2.0]]); // 1 + 2 · 0.5
/// # Ok::<(), elbo::vae::VaeError>(())
/// ```
pub fn reparameterize<T: Real>(
    mu: ArrayView2<'_, T>,
    log_var: ArrayView2<'_, T>,
    eps: ArrayView2<'_, T>,
    sigma: &mut Array2<T>,
    z: &mut Array2<T>,
) -> Result<(), VaeError> {
    check_same("log σ² shape (μ's)", mu.dim(), log_var.dim())?;
    check_same("ε shape (μ's)", mu.dim(), eps.dim())?;
    reparameterize_unchecked(mu, log_var, eps, sigma, z);
    Ok(())
}

/// [`reparameterize`] for shapes the caller has checked (ndarray's `Zip` still asserts them).
pub(crate) fn reparameterize_unchecked<T: Real>(
    mu: ArrayView2<'_, T>,
    log_var: ArrayView2<'_, T>,
    eps: ArrayView2<'_, T>,
    sigma: &mut Array2<T>,
    z: &mut Array2<T>,
) {
    let half = T::from_f64(0.5);
    reshape(sigma, mu.nrows(), mu.ncols());
    reshape(z, mu.nrows(), mu.ncols());
    Zip::from(&mut *sigma)
        .and(&log_var)
        .for_each(|s, &lv| *s = (half * lv).exp());
    Zip::from(&mut *z)
        .and(&mu)
        .and(&*sigma)
        .and(&eps)
        .for_each(|z, &m, &s, &e| *z = m + s * e);
}

/// Backward: `∂μ += ∂z`, `∂log σ² += ∂z ⊙ ε ⊙ σ / 2`, accumulating into `dmu` and `dlog_var`.
/// Every argument must be `B × L` (else [`VaeError::Shape`], nothing written).
pub fn reparameterize_backward<T: Real>(
    eps: ArrayView2<'_, T>,
    sigma: ArrayView2<'_, T>,
    dz: ArrayView2<'_, T>,
    dmu: ArrayViewMut2<'_, T>,
    dlog_var: ArrayViewMut2<'_, T>,
) -> Result<(), VaeError> {
    check_same("σ shape (ε's)", eps.dim(), sigma.dim())?;
    check_same("∂z shape (ε's)", eps.dim(), dz.dim())?;
    check_same("∂μ shape (ε's)", eps.dim(), dmu.dim())?;
    check_same("∂log σ² shape (ε's)", eps.dim(), dlog_var.dim())?;
    reparameterize_backward_unchecked(eps, sigma, dz, dmu, dlog_var);
    Ok(())
}

pub(crate) fn reparameterize_backward_unchecked<T: Real>(
    eps: ArrayView2<'_, T>,
    sigma: ArrayView2<'_, T>,
    dz: ArrayView2<'_, T>,
    mut dmu: ArrayViewMut2<'_, T>,
    mut dlog_var: ArrayViewMut2<'_, T>,
) {
    let half = T::from_f64(0.5);
    dmu += &dz;
    Zip::from(&mut dlog_var)
        .and(&dz)
        .and(&eps)
        .and(&sigma)
        .for_each(|d, &g, &e, &s| *d += g * e * s * half);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// ⟨c, z(μ, log σ²)⟩ for a fixed cotangent c: its gradient is what the backward pass returns
    /// for ∂z = c.
    fn f(mu: &Array2<f64>, lv: &Array2<f64>, eps: &Array2<f64>, c: &Array2<f64>) -> f64 {
        let (mut s, mut z) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        reparameterize(mu.view(), lv.view(), eps.view(), &mut s, &mut z).unwrap();
        (&z * c).sum()
    }

    #[test]
    fn value_and_gradient_match_the_formula_and_finite_differences() {
        const H: f64 = 1e-6;
        let mu: Array2<f64> = array![[0.3, -1.0], [2.0, 0.0]];
        let lv: Array2<f64> = array![[0.0, -2.0], [1.5, 0.4]];
        let eps = array![[1.0, -0.5], [0.25, 2.0]];
        let c = array![[0.7, -1.3], [2.0, 0.5]];
        let (mut s, mut z) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        reparameterize(mu.view(), lv.view(), eps.view(), &mut s, &mut z).unwrap();
        for ((z, m), (l, e)) in z.iter().zip(&mu).zip(lv.iter().zip(&eps)) {
            let want: f64 = m + (0.5 * l).exp() * e;
            assert!((z - want).abs() < 1e-15);
        }
        let (mut dmu, mut dlv) = (Array2::zeros((2, 2)), Array2::zeros((2, 2)));
        reparameterize_backward(
            eps.view(),
            s.view(),
            c.view(),
            dmu.view_mut(),
            dlv.view_mut(),
        )
        .unwrap();
        for i in 0..2 {
            for j in 0..2 {
                for (param, grad) in [(0, dmu[[i, j]]), (1, dlv[[i, j]])] {
                    let (mut up, mut down) = ([mu.clone(), lv.clone()], [mu.clone(), lv.clone()]);
                    up[param][[i, j]] += H;
                    down[param][[i, j]] -= H;
                    let fd =
                        (f(&up[0], &up[1], &eps, &c) - f(&down[0], &down[1], &eps, &c)) / (2.0 * H);
                    assert!(
                        (fd - grad).abs() < 1e-8,
                        "({i},{j}) param {param}: {fd} vs {grad}"
                    );
                }
            }
        }
    }

    #[test]
    fn mismatched_shapes_are_typed_errors() {
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((2, 4));
        let (mut s, mut z) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let shape = |r: Result<(), VaeError>| matches!(r, Err(VaeError::Shape { .. }));
        assert!(shape(reparameterize(
            a.view(),
            b.view(),
            a.view(),
            &mut s,
            &mut z
        )));
        assert!(shape(reparameterize(
            a.view(),
            a.view(),
            b.view(),
            &mut s,
            &mut z
        )));
        let (mut d1, mut d2) = (a.clone(), b.clone());
        assert!(shape(reparameterize_backward(
            a.view(),
            a.view(),
            a.view(),
            d1.view_mut(),
            d2.view_mut()
        )));
    }
}
