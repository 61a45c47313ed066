//! The KL term of the ELBO: q_φ(z|x) = N(μ, diag σ²) against the prior p(z) = N(0, I), per
//! example, in closed form, and its gradient scaled by the KL weight β:
//!
//! ```text
//! forward   KL = ½ Σⱼ (μⱼ² + σⱼ² − 1 − log σⱼ²)
//! backward  ∂(β KL)/∂μ = β μ,    ∂(β KL)/∂log σ² = β (σ² − 1) / 2
//! ```
//!
//! The value is computed by [`crate::info::kl_to_standard_normal`]'s own per-dimension term
//! (e^ℓ − 1 − ℓ summed as a series near ℓ = 0, so it stays accurate and ≥ 0 as σ² → 1): one KL
//! formula for the notebooks and the engine.

use super::super::scalar::Real;
use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// KL(q_φ(z|xᵢ) ‖ N(0, I)) for each row i of `mu` and `log_var` (`B × L`), pushed to `out`
/// (cleared first). NaN entries give a NaN KL; rows are paired up to the shorter of the two.
pub(crate) fn gaussian_kl<T: Real>(
    mu: ArrayView2<'_, T>,
    log_var: ArrayView2<'_, T>,
    out: &mut Vec<f64>,
) {
    out.clear();
    for (m, lv) in mu.rows().into_iter().zip(log_var.rows()) {
        let mut s = 0.0;
        for (&m, &lv) in m.iter().zip(lv.iter()) {
            s += crate::info::kl_to_standard_normal_term(m.to_f64(), lv.to_f64());
        }
        out.push(0.5 * s);
    }
}

/// Backward, scaled by `beta` (the KL weight of warm-up): `∂μ = β μ`, `∂log σ² = β (σ² − 1)/2`,
/// from μ and σ (all `B × L`). Overwrites `dmu` and `dlog_var` (it is the first contribution to
/// them; [`reparameterize_backward`](super::reparameterize_backward) adds the second).
pub(crate) fn gaussian_kl_backward<T: Real>(
    mu: ArrayView2<'_, T>,
    sigma: ArrayView2<'_, T>,
    beta: T,
    mut dmu: ArrayViewMut2<'_, T>,
    mut dlog_var: ArrayViewMut2<'_, T>,
) {
    let half_beta = beta * T::from_f64(0.5);
    Zip::from(&mut dmu).and(&mu).for_each(|d, &m| *d = beta * m);
    Zip::from(&mut dlog_var)
        .and(&sigma)
        .for_each(|d, &s| *d = half_beta * (s * s - T::one()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn value_is_zero_at_the_prior_and_matches_the_formula() {
        let mut out = Vec::new();
        gaussian_kl(
            array![[0.0f64, 0.0]].view(),
            array![[0.0, 0.0]].view(),
            &mut out,
        );
        assert_eq!(out, [0.0]);
        gaussian_kl(array![[1.0f64]].view(), array![[0.0]].view(), &mut out);
        assert_eq!(out, [0.5]);
        let (m, lv) = (0.7f64, -1.3f64);
        gaussian_kl(array![[m]].view(), array![[lv]].view(), &mut out);
        assert!((out[0] - 0.5 * (m * m + lv.exp() - 1.0 - lv)).abs() < 1e-15);
        // nearly the prior: accurate and positive, not rounding noise
        gaussian_kl(array![[0.0f64]].view(), array![[1e-9]].view(), &mut out);
        assert!((out[0] / 0.25e-18 - 1.0).abs() < 1e-8, "{}", out[0]);
    }

    #[test]
    fn value_agrees_with_the_naive_formula_away_from_the_prior() {
        // the engine used the naive form until issue 11; the careful series differs by rounding
        let mut out = Vec::new();
        for i in 0..=100 {
            for j in 0..=20 {
                let (m, lv) = (i as f64 * 0.05 - 2.5, j as f64 * 0.5 - 5.0);
                gaussian_kl(array![[m, 0.3]].view(), array![[lv, -0.7]].view(), &mut out);
                let naive =
                    0.5 * ((m * m + lv.exp() - 1.0 - lv) + (0.09 + (-0.7f64).exp() - 1.0 + 0.7));
                assert!((out[0] - naive).abs() <= 1e-14 * naive, "{m} {lv}");
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        const H: f64 = 1e-6;
        let beta = 0.6;
        let mu = array![[0.3, -1.0, 2.0]];
        let lv = array![[0.0, -2.0, 1.5]];
        let kl = |mu: &Array2<f64>, lv: &Array2<f64>| {
            let mut out = Vec::new();
            gaussian_kl(mu.view(), lv.view(), &mut out);
            beta * out[0]
        };
        let sigma = lv.mapv(|v: f64| (0.5 * v).exp());
        let (mut dmu, mut dlv) = (Array2::zeros((1, 3)), Array2::zeros((1, 3)));
        gaussian_kl_backward(
            mu.view(),
            sigma.view(),
            beta,
            dmu.view_mut(),
            dlv.view_mut(),
        );
        for j in 0..3 {
            let (mut up, mut down) = (mu.clone(), mu.clone());
            up[[0, j]] += H;
            down[[0, j]] -= H;
            let fd = (kl(&up, &lv) - kl(&down, &lv)) / (2.0 * H);
            assert!((fd - dmu[[0, j]]).abs() < 1e-8, "μ {j}");
            let (mut up, mut down) = (lv.clone(), lv.clone());
            up[[0, j]] += H;
            down[[0, j]] -= H;
            let fd = (kl(&mu, &up) - kl(&mu, &down)) / (2.0 * H);
            assert!((fd - dlv[[0, j]]).abs() < 1e-8, "log σ² {j}");
        }
    }

    mod properties {
        use super::super::*;
        use ndarray::Array2;
        use proptest::prelude::*;

        proptest! {
            /// KL(q ‖ N(0, I)) ≥ 0, = 0 exactly at q = N(0, I), and equal to
            /// `info::kl_to_standard_normal` (one formula) for every row.
            #[test]
            fn kl_is_nonnegative_and_is_infos_formula(
                ml in proptest::collection::vec((-10.0f64..10.0, -20.0f64..20.0), 1..12),
            ) {
                let (mu, lv): (Vec<f64>, Vec<f64>) = ml.into_iter().unzip();
                let n = mu.len();
                let m2 = Array2::from_shape_vec((1, n), mu.clone()).unwrap();
                let l2 = Array2::from_shape_vec((1, n), lv.clone()).unwrap();
                let mut out = Vec::new();
                gaussian_kl(m2.view(), l2.view(), &mut out);
                prop_assert!(out[0] >= 0.0);
                prop_assert_eq!(out[0], crate::info::kl_to_standard_normal(&mu, &lv).unwrap());
                gaussian_kl(Array2::<f64>::zeros((1, n)).view(), Array2::zeros((1, n)).view(), &mut out);
                prop_assert_eq!(out[0], 0.0);
            }
        }
    }
}
