//! The Bernoulli decoder likelihood and its gradient with respect to the logits:
//!
//! ```text
//! log p_θ(x|z) = Σⱼ xⱼ lⱼ − softplus(lⱼ),      ∂(−log p)/∂lⱼ = σ(lⱼ) − xⱼ,
//! ```
//!
//! the numerically stable form of binary cross-entropy with logits, a log-probability (≤ 0) for
//! grey levels xⱼ ∈ [0, 1]. softplus(l) = ln(1 + eˡ) and the sigmoid σ(l) = 1/(1 + e^{−l}) are
//! defined here once: in plain generic form ([`softplus`], [`sigmoid`], [`row_plain`]: the `f64`
//! reference) and as the fast `f32` kernel [`fast`] (both from one e^{−|l|}, by polynomials),
//! with tests that they agree and that the gradient matches finite differences.

use super::super::error::{VaeError, check_len, check_pixels};
use super::super::scalar::{LANES, Real, dispatch, exp, ln_1p_unit};
use super::reshape;
use ndarray::{Array2, ArrayView2, Zip};

/// softplus(l) = ln(1 + eˡ), computed without overflow as max(l, 0) + ln(1 + e^{−|l|}).
pub fn softplus<T: Real>(l: T) -> T {
    let zero = T::zero();
    let a = if l < zero { -l } else { l };
    let m = if l > zero { l } else { zero };
    m + T::from_f64((-a).exp().to_f64().ln_1p())
}

/// The logistic sigmoid σ(l) = 1 / (1 + e^{−l}), without overflow for large |l|.
pub fn sigmoid<T: Real>(l: T) -> T {
    let one = T::one();
    if l >= T::zero() {
        one / (one + (-l).exp())
    } else {
        let e = l.exp();
        e / (one + e)
    }
}

/// One row, plain form: returns Σⱼ xⱼ lⱼ − softplus(lⱼ) and, when `grad` is given, writes
/// σ(lⱼ) − xⱼ into it.
pub(crate) fn row_plain<T: Real>(l: &[T], x: &[T], grad: Option<&mut [T]>) -> f64 {
    let mut sum = 0.0;
    match grad {
        Some(g) => {
            for ((&l, &x), g) in l.iter().zip(x).zip(g) {
                sum += (x * l - softplus(l)).to_f64();
                *g = sigmoid(l) - x;
            }
        }
        None => {
            for (&l, &x) in l.iter().zip(x) {
                sum += (x * l - softplus(l)).to_f64();
            }
        }
    }
    sum
}

/// The same row as a fast `f32` kernel: the hot loop of training (every pixel of every example
/// at every step). Partial sums in `f32` lanes, added up in `f64`.
pub(crate) mod fast {
    use super::*;

    /// (x l − softplus(l), σ(l)) for one logit.
    #[inline(always)]
    fn bern1(l: f32, x: f32) -> (f32, f32) {
        let e = exp(-l.abs());
        let inv = 1.0 / (1.0 + e);
        let sig = if l >= 0.0 { inv } else { e * inv };
        let sp = l.max(0.0) + ln_1p_unit(e);
        (x * l - sp, sig)
    }

    #[inline(always)]
    fn bernoulli_grad_body(l: &[f32], x: &[f32], g: &mut [f32]) -> f64 {
        let n = l.len().min(x.len()).min(g.len());
        let (l, x, g) = (&l[..n], &x[..n], &mut g[..n]);
        let mut acc = [0f32; LANES];
        let mut lc = l.chunks_exact(LANES);
        let mut xc = x.chunks_exact(LANES);
        let mut gc = g.chunks_exact_mut(LANES);
        for ((l, x), g) in (&mut lc).zip(&mut xc).zip(&mut gc) {
            for k in 0..LANES {
                let (ll, sig) = bern1(l[k], x[k]);
                acc[k] += ll;
                g[k] = sig - x[k];
            }
        }
        let mut sum: f64 = acc.iter().map(|&a| f64::from(a)).sum();
        for ((&l, &x), g) in lc
            .remainder()
            .iter()
            .zip(xc.remainder())
            .zip(gc.into_remainder())
        {
            let (ll, sig) = bern1(l, x);
            sum += f64::from(ll);
            *g = sig - x;
        }
        sum
    }

    #[inline(always)]
    fn bernoulli_body(l: &[f32], x: &[f32]) -> f64 {
        let n = l.len().min(x.len());
        let (l, x) = (&l[..n], &x[..n]);
        let mut acc = [0f32; LANES];
        let mut lc = l.chunks_exact(LANES);
        let mut xc = x.chunks_exact(LANES);
        for (l, x) in (&mut lc).zip(&mut xc) {
            for k in 0..LANES {
                acc[k] += bern1(l[k], x[k]).0;
            }
        }
        let mut sum: f64 = acc.iter().map(|&a| f64::from(a)).sum();
        for (&l, &x) in lc.remainder().iter().zip(xc.remainder()) {
            sum += f64::from(bern1(l, x).0);
        }
        sum
    }

    dispatch!(
        /// Σⱼ xⱼ lⱼ − softplus(lⱼ) and gⱼ = σ(lⱼ) − xⱼ.
        row_grad = bernoulli_grad_body(l: &[f32], x: &[f32], g: &mut [f32]) -> f64
    );
    dispatch!(
        /// Σⱼ xⱼ lⱼ − softplus(lⱼ).
        row = bernoulli_body(l: &[f32], x: &[f32]) -> f64
    );
}

/// log p_θ(xᵢ|zᵢ) for each row i of a batch, pushed to `out` (cleared first), from the decoder
/// logits (`B × D`) and the data x (`B × D`, grey levels in [0, 1]); when `grad` is given,
/// ∂(−log p)/∂lᵢⱼ = σ(lᵢⱼ) − xᵢⱼ is written into it (reshaped to `B × D`).
///
/// Fails with [`VaeError::Shape`] if `x` is not shaped like `logits`, and with
/// [`VaeError::Data`] naming the first entry of `x` that is NaN or outside [0, 1] (there the
/// formula is no log-probability: it can be positive). NaN or infinite logits propagate.
///
/// ```
/// use elbo::ndarray::array;
/// use elbo::vae::ops::bernoulli_log_likelihood;
/// let mut out = Vec::new();
/// bernoulli_log_likelihood(array![[0.0f64, 0.0]].view(), array![[1.0, 0.0]].view(), None, &mut out)?;
/// assert!((out[0] + 2.0 * 2f64.ln()).abs() < 1e-15); // two fair coins
/// assert!(bernoulli_log_likelihood(array![[0.0f64]].view(), array![[2.0]].view(), None, &mut out).is_err());
/// # Ok::<(), elbo::vae::VaeError>(())
/// ```
pub fn bernoulli_log_likelihood<T: Real>(
    logits: ArrayView2<'_, T>,
    x: ArrayView2<'_, T>,
    grad: Option<&mut Array2<T>>,
    out: &mut Vec<f64>,
) -> Result<(), VaeError> {
    check_len("x rows (one per row of logits)", logits.nrows(), x.nrows())?;
    check_len("x columns (the logits' columns)", logits.ncols(), x.ncols())?;
    check_pixels("x", x)?;
    bernoulli_log_likelihood_unchecked(logits, x, grad, out);
    Ok(())
}

/// [`bernoulli_log_likelihood`] for shapes and pixels the caller has checked.
pub(crate) fn bernoulli_log_likelihood_unchecked<T: Real>(
    logits: ArrayView2<'_, T>,
    x: ArrayView2<'_, T>,
    mut grad: Option<&mut Array2<T>>,
    out: &mut Vec<f64>,
) {
    out.clear();
    if let Some(g) = grad.as_deref_mut() {
        reshape(g, logits.nrows(), logits.ncols());
    }
    for i in 0..logits.nrows() {
        let (l, xr) = (logits.row(i), x.row(i));
        let ll = match (l.as_slice(), xr.as_slice(), grad.as_deref_mut()) {
            (Some(l), Some(xr), Some(g)) => {
                let mut grow = g.row_mut(i);
                let gs = grow.as_slice_mut().expect("fresh buffer is contiguous");
                T::bernoulli_row(l, xr, Some(gs))
            }
            (Some(l), Some(xr), None) => T::bernoulli_row(l, xr, None),
            (_, _, g) => {
                if let Some(g) = g {
                    Zip::from(g.row_mut(i))
                        .and(&l)
                        .and(&xr)
                        .for_each(|g, &l, &x| *g = sigmoid(l) - x);
                }
                l.iter()
                    .zip(xr.iter())
                    .map(|(&l, &x)| (x * l - softplus(l)).to_f64())
                    .sum()
            }
        };
        out.push(ll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn fast_row_agrees_with_the_plain_f64_one() {
        let n = 1000;
        let l: Vec<f32> = (0..n).map(|i| (i as f32 - 500.0) * 0.05).collect();
        let x: Vec<f32> = (0..n).map(|i| (i % 17) as f32 / 16.0).collect();
        let mut g = vec![0f32; n];
        let got = fast::row_grad(&l, &x, &mut g);
        let l64: Vec<f64> = l.iter().map(|&v| v.into()).collect();
        let x64: Vec<f64> = x.iter().map(|&v| v.into()).collect();
        let mut g64 = vec![0f64; n];
        let want = row_plain(&l64, &x64, Some(&mut g64));
        assert!(rel(got, want) < 1e-6, "{got} vs {want}");
        assert!(rel(fast::row(&l, &x), want) < 1e-6);
        for (a, b) in g.iter().zip(&g64) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{a} vs {b}");
        }
        // extreme logits stay finite: log p(x=1 | l=-200) = -200, log p(x=0 | l=-200) ≈ 0
        let mut g2 = [0f32; 2];
        let v = fast::row_grad(&[-200.0, -200.0], &[1.0, 0.0], &mut g2);
        assert!((v + 200.0).abs() < 1e-3, "{v}");
        assert_eq!(g2, [-1.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        const H: f64 = 1e-6;
        let x = [0.0, 1.0, 0.3, 0.75, 1.0];
        let l = [-3.0, 2.5, 0.1, -0.7, 8.0];
        let mut g = [0.0; 5];
        row_plain(&l, &x, Some(&mut g));
        for j in 0..5 {
            let (mut up, mut down) = (l, l);
            up[j] += H;
            down[j] -= H;
            let fd = -(row_plain(&up, &x, None) - row_plain(&down, &x, None)) / (2.0 * H);
            assert!((fd - g[j]).abs() < 1e-8, "{j}: {fd} vs {}", g[j]);
        }
    }

    #[test]
    fn softplus_and_sigmoid_are_stable_and_consistent() {
        for l in [-800.0f64, -30.0, -1.0, 0.0, 0.5, 30.0, 800.0] {
            assert!(softplus(l).is_finite() && sigmoid(l).is_finite());
            // softplus′ = σ
            let fd = (softplus(l + 1e-6) - softplus(l - 1e-6)) / 2e-6;
            assert!((fd - sigmoid(l)).abs() < 1e-8, "{l}");
        }
        assert_eq!(softplus(0.0f64), 2f64.ln());
    }

    #[test]
    fn bad_shapes_and_pixels_are_typed_errors() {
        let mut out = Vec::new();
        let l = array![[0.0f32, 1.0], [2.0, 3.0]];
        let e = bernoulli_log_likelihood(l.view(), array![[0.0f32, 1.0]].view(), None, &mut out);
        assert!(matches!(e, Err(VaeError::Shape { what, .. }) if what.contains("rows")));
        let e = bernoulli_log_likelihood(l.view(), array![[0.0f32], [1.0]].view(), None, &mut out);
        assert!(matches!(e, Err(VaeError::Shape { what, .. }) if what.contains("columns")));
        for bad in [f32::NAN, -0.5, 1.5, f32::INFINITY] {
            let x = array![[0.0f32, 1.0], [0.5, bad]];
            let e = bernoulli_log_likelihood(l.view(), x.view(), None, &mut out);
            assert!(
                matches!(e, Err(VaeError::Data { row: 1, col: 1, .. })),
                "{bad}: {e:?}"
            );
        }
        let x = array![[0.0f32, 1.0], [0.5, 0.25]];
        bernoulli_log_likelihood(l.view(), x.view(), None, &mut out).unwrap();
        assert!(out.iter().all(|&v| v <= 0.0));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// For grey levels in [0, 1] and any finite logits, the fast and plain rows are
            /// log-probabilities (≤ 0) that agree, and the gradient σ(l) − x lies in [−1, 1].
            #[test]
            fn rows_are_log_probabilities_and_the_forms_agree(
                lx in proptest::collection::vec((-60.0f32..60.0, 0.0f32..=1.0), 0..70),
            ) {
                let (l, x): (Vec<f32>, Vec<f32>) = lx.into_iter().unzip();
                let mut g = vec![0.0f32; l.len()];
                let fast_value = fast::row_grad(&l, &x, &mut g);
                let (l64, x64): (Vec<f64>, Vec<f64>) =
                    l.iter().zip(&x).map(|(&a, &b)| (f64::from(a), f64::from(b))).unzip();
                let plain = row_plain(&l64, &x64, None);
                prop_assert!(plain <= 0.0);
                prop_assert!(fast_value <= 1e-4 * (1.0 + plain.abs()));
                prop_assert!((fast_value - plain).abs() <= 1e-5 * (1.0 + plain.abs()));
                prop_assert!(g.iter().all(|v| (-1.0..=1.0).contains(v)));
            }
        }
    }
}
