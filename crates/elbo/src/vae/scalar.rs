//! The number type of the VAE, and the shared pieces of its fast `f32` kernels.
//!
//! Training runs in `f32`. Every op is generic over [`Real`] so that the very same forward and
//! backward code also runs in `f64`, which is what the finite-difference gradient check needs
//! (in `f32` a central difference of a sum of 784 log-likelihoods is mostly rounding noise).
//!
//! Each op's rule is written in its file under [`ops`](super::ops), in a plain generic form (the
//! `f64` reference, calling the standard library) and, where it is a hot loop of training, a fast
//! `f32` form beside it with a test that they agree. This file holds what those fast forms
//! share: branch-free polynomial approximations of `exp` and `log1p` (relative error ≈ 1e-7, see
//! the tests) that the compiler vectorizes, and the [`dispatch!`] macro that compiles a kernel
//! twice, for baseline x86-64 and for AVX2+FMA, and picks one at run time.

use super::ops::Activation;
use ndarray::{LinalgScalar, ScalarOperand};
use std::fmt::{Debug, Display};
use std::ops::{AddAssign, MulAssign, Neg, SubAssign};

/// A floating-point type the VAE can run in: `f32` (training) or `f64` (gradient checks).
///
/// The row kernels default to the plain rules of [`ops`](super::ops); `f32` overrides them with
/// the fast forms written beside those rules.
pub trait Real:
    LinalgScalar
    + ScalarOperand
    + PartialOrd
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Default
    + Debug
    + Display
    + Send
    + Sync
{
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exactly).
    fn to_f64(self) -> f64;
    /// eˣ.
    fn exp(self) -> Self;
    /// ln x.
    fn ln(self) -> Self;
    /// √x.
    fn sqrt(self) -> Self;
    /// `self · a + b` rounded once (a fused multiply-add instruction where the CPU has one).
    fn fused_mul_add(self, a: Self, b: Self) -> Self;

    /// One row of the Bernoulli decoder likelihood (see [`ops::bernoulli`](super::ops::bernoulli)).
    fn bernoulli_row(l: &[Self], x: &[Self], grad: Option<&mut [Self]>) -> f64 {
        super::ops::bernoulli::row_plain(l, x, grad)
    }

    /// `h ← act(h + b)` for one row (see [`ops::activation`](super::ops::activation)).
    fn bias_act_row(h: &mut [Self], b: &[Self], act: Activation) {
        super::ops::activation::bias_act_plain(h, b, act)
    }

    /// `dh ← dh ⊙ act′` for one row, the derivative computed from the output `h`.
    fn act_backward_row(h: &[Self], dh: &mut [Self], act: Activation) {
        super::ops::activation::act_backward_plain(h, dh, act)
    }

    /// Sparse × dense product `out = S · B` (see [`ops::sparse`](super::ops::sparse)).
    fn spmm(ptr: &[usize], cols: &[u32], vals: &[Self], b: &[Self], n: usize, out: &mut [Self]) {
        super::ops::sparse::spmm_generic::<Self, false>(ptr, cols, vals, b, n, out);
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn fused_mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn exp(self) -> Self {
        f32::exp(self)
    }
    fn ln(self) -> Self {
        f32::ln(self)
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn fused_mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
    fn bernoulli_row(l: &[f32], x: &[f32], grad: Option<&mut [f32]>) -> f64 {
        use super::ops::bernoulli::fast;
        match grad {
            Some(g) => fast::row_grad(l, x, g),
            None => fast::row(l, x),
        }
    }
    fn bias_act_row(h: &mut [f32], b: &[f32], act: Activation) {
        super::ops::activation::fast::bias_act(h, b, act)
    }
    fn act_backward_row(h: &[f32], dh: &mut [f32], act: Activation) {
        super::ops::activation::fast::act_backward(h, dh, act)
    }
    fn spmm(ptr: &[usize], cols: &[u32], vals: &[f32], b: &[f32], n: usize, out: &mut [f32]) {
        super::ops::sparse::spmm_f32(ptr, cols, vals, b, n, out)
    }
}

/// Lanes processed together by the fast kernels; a multiple of the AVX2 width so the loops
/// vectorize cleanly.
pub(crate) const LANES: usize = 16;

/// eˣ for x ∈ [−87, 88], relative error ≈ 1e-7; 0 below −87 (where eˣ < 2⁻¹²⁵) and e⁸⁸ above 88.
///
/// exp(x) = 2ⁿ · exp(r) with n = round(x / ln 2) and r = x − n ln 2 ∈ [−ln2/2, ln2/2]; exp(r)
/// is a degree-7 polynomial (Taylor-like coefficients tuned for minimax error on that
/// interval, as in Cephes' `expf`), 2ⁿ is built in the exponent bits. Rounding uses the
/// 1.5·2²³ trick: adding it leaves n in the low mantissa bits, without a branch.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let underflow = x < -87.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let ni = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let y = er * f32::from_bits(((ni + 127) as u32) << 23);
    if underflow { 0.0 } else { y }
}

/// ln(1 + e) for e ∈ [0, 1], relative error ≈ 1e-7.
///
/// ln(1 + e) = 2 artanh(s) with s = e / (2 + e) ∈ [0, 1/3], and 2 artanh(s) = 2s(1 + s²/3 +
/// s⁴/5 + …): with s² ≤ 1/9 seven terms leave a relative error below (1/9)⁷/15 ≈ 1.4e-8, and
/// no cancellation happens for small e (unlike ln(1 + e) with 1 + e rounded).
#[inline(always)]
pub(crate) fn ln_1p_unit(e: f32) -> f32 {
    let s = e / (2.0 + e);
    let s2 = s * s;
    let mut p = 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    2.0 * s * p
}

/// Defines `$name`, which runs `$body` compiled for AVX2+FMA when the CPU has them (checked
/// once and cached by the standard library) and for baseline x86-64 otherwise.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident = $body:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features `avx2` is compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn fast_exp_matches_std_to_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let got = f64::from(exp(x));
            worst = worst.max(rel(got, f64::from(x).exp()));
            x += 0.00731;
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn fast_log1p_is_accurate_on_the_unit_interval_including_tiny_arguments() {
        let mut worst = 0.0f64;
        for i in 0..=100_000 {
            let e = i as f32 / 100_000.0;
            worst = worst.max(rel(f64::from(ln_1p_unit(e)), f64::from(e).ln_1p()));
        }
        for e in [1e-30f32, 1e-12, 1e-7, 3e-5] {
            worst = worst.max(rel(f64::from(ln_1p_unit(e)), f64::from(e).ln_1p()));
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }
}
