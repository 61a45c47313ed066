//! The number type of the VAE and its elementwise kernels.
//!
//! Training runs in `f32`. Every layer is generic over [`Real`] so that the very same forward and
//! backward code also runs in `f64`, which is what the finite-difference gradient check needs
//! (in `f32` a central difference of a sum of 784 log-likelihoods is mostly rounding noise).
//!
//! The `f64` kernels call the standard library (`exp`, `ln_1p`, …), so they are the reference.
//! The `f32` kernels are the hot loops of training (the Bernoulli log-likelihood touches every
//! pixel of every example at every step): they use branch-free polynomial approximations of
//! `exp` and `log1p` (relative error ≈ 1e-7, see the tests) that the compiler vectorizes, and are
//! compiled twice, for baseline x86-64 and for AVX2+FMA, the latter picked at run time.

use ndarray::{LinalgScalar, ScalarOperand};
use std::fmt::{Debug, Display};
use std::ops::{AddAssign, MulAssign, Neg, SubAssign};

/// A floating-point type the VAE can run in: `f32` (training) or `f64` (gradient checks).
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

    /// One row of the Bernoulli decoder likelihood, for logits `l` and targets `x ∈ [0, 1]`:
    /// returns `log p_θ(x|z) = Σⱼ xⱼ lⱼ − softplus(lⱼ)` and, when `grad` is given, writes
    /// `∂(−log p)/∂lⱼ = σ(lⱼ) − xⱼ` into it.
    fn bernoulli_row(l: &[Self], x: &[Self], grad: Option<&mut [Self]>) -> f64 {
        bernoulli_exact(l, x, grad)
    }

    /// `h ← act(h + b)` for one row: bias and activation fused after a matrix product.
    fn bias_act_row(h: &mut [Self], b: &[Self], act: super::Activation) {
        for (h, &b) in h.iter_mut().zip(b) {
            *h = act.apply(*h + b);
        }
    }

    /// `dh ← dh ⊙ act′` for one row, where the derivative is computed from the output `h`.
    fn act_backward_row(h: &[Self], dh: &mut [Self], act: super::Activation) {
        for (d, &h) in dh.iter_mut().zip(h) {
            *d *= act.derivative_from_output(h);
        }
    }

    /// `self · a + b` rounded once (a fused multiply-add instruction where the CPU has one).
    fn fused_mul_add(self, a: Self, b: Self) -> Self;

    /// Sparse × dense: `out = S · B` where `S` (`r × k`) is given row by row (compressed sparse
    /// rows: the nonzeros of row `i` are `cols[ptr[i]..ptr[i+1]]`, `vals[..]`) and `B` is a dense
    /// row-major `k × n` matrix; `out` is row-major `r × n`, overwritten.
    fn spmm(ptr: &[usize], cols: &[u32], vals: &[Self], b: &[Self], n: usize, out: &mut [Self]) {
        spmm_generic::<Self, false>(ptr, cols, vals, b, n, out);
    }
}

/// `out = S · B` (see [`Real::spmm`]): each output row accumulates `v · B[c, :]` over the row's
/// nonzeros `(c, v)`, in column blocks of `W` held in registers.
#[inline(always)]
fn spmm_generic<T: Real, const FMA: bool>(
    ptr: &[usize],
    cols: &[u32],
    vals: &[T],
    b: &[T],
    n: usize,
    out: &mut [T],
) {
    if n == 0 {
        return;
    }
    for (r, row) in out.chunks_exact_mut(n).enumerate() {
        let (Some(&s), Some(&e)) = (ptr.get(r), ptr.get(r + 1)) else {
            row.fill(T::zero());
            continue;
        };
        let (cs, vs) = (&cols[s..e], &vals[s..e]);
        let mut c0 = 0;
        c0 = spmm_block::<T, 64, FMA>(cs, vs, b, n, row, c0);
        c0 = spmm_block::<T, 8, FMA>(cs, vs, b, n, row, c0);
        spmm_block::<T, 1, FMA>(cs, vs, b, n, row, c0);
    }
}

/// Columns `c0..` of one output row in blocks of `W`, as far as whole blocks fit; returns the
/// first column not done.
#[inline(always)]
fn spmm_block<T: Real, const W: usize, const FMA: bool>(
    cs: &[u32],
    vs: &[T],
    b: &[T],
    n: usize,
    row: &mut [T],
    mut c0: usize,
) -> usize {
    while c0 + W <= n {
        let mut acc = [T::zero(); W];
        for (&c, &v) in cs.iter().zip(vs) {
            let start = c as usize * n + c0;
            let brow = &b[start..start + W];
            for k in 0..W {
                acc[k] = if FMA {
                    v.fused_mul_add(brow[k], acc[k])
                } else {
                    acc[k] + v * brow[k]
                };
            }
        }
        row[c0..c0 + W].copy_from_slice(&acc);
        c0 += W;
    }
    c0
}

/// softplus(l) = ln(1 + eˡ), computed without overflow as max(l, 0) + ln(1 + e^{−|l|}).
pub fn softplus<T: Real>(l: T) -> T {
    let zero = T::zero();
    let a = if l < zero { -l } else { l };
    let m = if l > zero { l } else { zero };
    m + ln_1p((-a).exp())
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

fn ln_1p<T: Real>(v: T) -> T {
    T::from_f64(v.to_f64().ln_1p())
}

fn bernoulli_exact<T: Real>(l: &[T], x: &[T], grad: Option<&mut [T]>) -> f64 {
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
        match grad {
            Some(g) => fast::bernoulli_grad(l, x, g),
            None => fast::bernoulli(l, x),
        }
    }
    fn bias_act_row(h: &mut [f32], b: &[f32], act: super::Activation) {
        fast::bias_act(h, b, act)
    }
    fn act_backward_row(h: &[f32], dh: &mut [f32], act: super::Activation) {
        fast::act_backward(h, dh, act)
    }
    fn spmm(ptr: &[usize], cols: &[u32], vals: &[f32], b: &[f32], n: usize, out: &mut [f32]) {
        fast::spmm(ptr, cols, vals, b, n, out)
    }
}

/// Vectorizable `f32` kernels.
pub(crate) mod fast {
    use crate::vae::Activation;

    /// Lanes processed together; a multiple of the AVX2 width so the loops vectorize cleanly.
    const LANES: usize = 16;

    /// eˣ for x ∈ [−87, 88], relative error ≈ 1e-7; 0 below −87 (where eˣ < 2⁻¹²⁵) and e⁸⁸ above 88.
    ///
    /// exp(x) = 2ⁿ · exp(r) with n = round(x / ln 2) and r = x − n ln 2 ∈ [−ln2/2, ln2/2]; exp(r)
    /// is a degree-7 polynomial (Taylor-like coefficients tuned for minimax error on that
    /// interval, as in Cephes' `expf`), 2ⁿ is built in the exponent bits. Rounding uses the
    /// 1.5·2²³ trick: adding it leaves n in the low mantissa bits, without a branch.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
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
    pub fn ln_1p_unit(e: f32) -> f32 {
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

    #[inline(always)]
    fn bias_act_body(h: &mut [f32], b: &[f32], act: Activation) {
        match act {
            Activation::Relu => {
                for (h, &b) in h.iter_mut().zip(b) {
                    *h = (*h + b).max(0.0);
                }
            }
            Activation::Elu => {
                for (h, &b) in h.iter_mut().zip(b) {
                    let a = *h + b;
                    let neg = exp(a.min(0.0)) - 1.0;
                    *h = if a > 0.0 { a } else { neg };
                }
            }
            Activation::Tanh => {
                for (h, &b) in h.iter_mut().zip(b) {
                    // tanh(a) = 1 − 2 / (e^{2a} + 1), clamped exp keeps it finite
                    let e = exp(2.0 * (*h + b));
                    *h = 1.0 - 2.0 / (e + 1.0);
                }
            }
            Activation::Identity => {
                for (h, &b) in h.iter_mut().zip(b) {
                    *h += b;
                }
            }
        }
    }

    #[inline(always)]
    fn act_backward_body(h: &[f32], dh: &mut [f32], act: Activation) {
        match act {
            Activation::Relu => {
                for (d, &h) in dh.iter_mut().zip(h) {
                    *d = if h > 0.0 { *d } else { 0.0 };
                }
            }
            Activation::Elu => {
                for (d, &h) in dh.iter_mut().zip(h) {
                    *d *= if h > 0.0 { 1.0 } else { h + 1.0 };
                }
            }
            Activation::Tanh => {
                for (d, &h) in dh.iter_mut().zip(h) {
                    *d *= 1.0 - h * h;
                }
            }
            Activation::Identity => {}
        }
    }

    /// The constants of one Adam update (see `vae::adam`).
    #[derive(Debug, Clone, Copy)]
    pub struct AdamConsts {
        pub b1: f32,
        pub b2: f32,
        /// lr / (1 − β₁ᵗ)
        pub step: f32,
        /// 1 / √(1 − β₂ᵗ)
        pub inv_sqrt_bc2: f32,
        pub eps: f32,
    }

    #[inline(always)]
    fn adam_body(
        p: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        g: &[f32],
        g2: &[f32],
        c: AdamConsts,
    ) {
        let n = p.len().min(m.len()).min(v.len()).min(g.len());
        let (p, m, v, g) = (&mut p[..n], &mut m[..n], &mut v[..n], &g[..n]);
        let one = |p: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
            *m = c.b1 * *m + (1.0 - c.b1) * g;
            *v = c.b2 * *v + (1.0 - c.b2) * g * g;
            *p -= c.step * *m / (v.sqrt() * c.inv_sqrt_bc2 + c.eps);
        };
        if g2.len() >= n {
            // indexed over slices of one length: the bounds checks vanish and the loop vectorizes
            // (a five-way zip does not)
            let g2 = &g2[..n];
            for i in 0..n {
                one(&mut p[i], &mut m[i], &mut v[i], g[i] + g2[i]);
            }
        } else {
            for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                one(p, m, v, g);
            }
        }
    }

    /// Defines `$name`, which runs `$body` compiled for AVX2+FMA when the CPU has them (checked
    /// once and cached by the standard library) and for baseline x86-64 otherwise.
    macro_rules! dispatch {
        ($(#[$doc:meta])* $name:ident = $body:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) $(-> $ret)? {
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

    dispatch!(
        /// Σⱼ xⱼ lⱼ − softplus(lⱼ) and gⱼ = σ(lⱼ) − xⱼ.
        bernoulli_grad = bernoulli_grad_body(l: &[f32], x: &[f32], g: &mut [f32]) -> f64
    );
    dispatch!(
        /// Σⱼ xⱼ lⱼ − softplus(lⱼ).
        bernoulli = bernoulli_body(l: &[f32], x: &[f32]) -> f64
    );
    dispatch!(
        /// h ← act(h + b).
        bias_act = bias_act_body(h: &mut [f32], b: &[f32], act: Activation)
    );
    /// out = S · B for a sparse S (compressed rows) and dense B; with fused multiply-adds on
    /// AVX2+FMA CPUs (a plain multiply and add elsewhere, where `mul_add` would be a slow call).
    pub fn spmm(ptr: &[usize], cols: &[u32], vals: &[f32], b: &[f32], n: usize, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2(
                ptr: &[usize],
                cols: &[u32],
                vals: &[f32],
                b: &[f32],
                n: usize,
                out: &mut [f32],
            ) {
                super::spmm_generic::<f32, true>(ptr, cols, vals, b, n, out)
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports the features `avx2` is compiled for.
                return unsafe { avx2(ptr, cols, vals, b, n, out) };
            }
        }
        super::spmm_generic::<f32, false>(ptr, cols, vals, b, n, out)
    }
    dispatch!(
        /// One Adam update of `p` with moments `m`, `v` and gradient `g + g2` (`g2` empty: `g`).
        adam = adam_body(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], g2: &[f32], c: AdamConsts)
    );
    dispatch!(
        /// dh ← dh ⊙ act′(h).
        act_backward = act_backward_body(h: &[f32], dh: &mut [f32], act: Activation)
    );
}

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
            let got = f64::from(fast::exp(x));
            worst = worst.max(rel(got, f64::from(x).exp()));
            x += 0.00731;
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(fast::exp(0.0), 1.0);
    }

    #[test]
    fn fast_log1p_is_accurate_on_the_unit_interval_including_tiny_arguments() {
        let mut worst = 0.0f64;
        for i in 0..=100_000 {
            let e = i as f32 / 100_000.0;
            worst = worst.max(rel(f64::from(fast::ln_1p_unit(e)), f64::from(e).ln_1p()));
        }
        for e in [1e-30f32, 1e-12, 1e-7, 3e-5] {
            worst = worst.max(rel(f64::from(fast::ln_1p_unit(e)), f64::from(e).ln_1p()));
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn fast_bernoulli_row_agrees_with_the_exact_f64_one() {
        let n = 1000;
        let l: Vec<f32> = (0..n).map(|i| (i as f32 - 500.0) * 0.05).collect();
        let x: Vec<f32> = (0..n).map(|i| (i % 17) as f32 / 16.0).collect();
        let mut g = vec![0f32; n];
        let got = f32::bernoulli_row(&l, &x, Some(&mut g));
        let l64: Vec<f64> = l.iter().map(|&v| v.into()).collect();
        let x64: Vec<f64> = x.iter().map(|&v| v.into()).collect();
        let mut g64 = vec![0f64; n];
        let want = f64::bernoulli_row(&l64, &x64, Some(&mut g64));
        assert!(rel(got, want) < 1e-6, "{got} vs {want}");
        assert!(rel(f32::bernoulli_row(&l, &x, None), want) < 1e-6);
        for (a, b) in g.iter().zip(&g64) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{a} vs {b}");
        }
        // extreme logits stay finite: log p(x=1 | l=-200) = -200, log p(x=0 | l=-200) ≈ 0
        let mut g2 = [0f32; 2];
        let v = f32::bernoulli_row(&[-200.0, -200.0], &[1.0, 0.0], Some(&mut g2));
        assert!((v + 200.0).abs() < 1e-3, "{v}");
        assert_eq!(g2, [-1.0, 0.0]);
    }

    #[test]
    fn fast_activations_agree_with_the_exact_ones() {
        use crate::vae::Activation;
        for act in [
            Activation::Relu,
            Activation::Elu,
            Activation::Tanh,
            Activation::Identity,
        ] {
            let a: Vec<f32> = (0..101).map(|i| (i as f32 - 50.0) * 0.13).collect();
            let b = vec![0.25f32; a.len()];
            let mut h32 = a.clone();
            f32::bias_act_row(&mut h32, &b, act);
            let mut h64: Vec<f64> = a.iter().map(|&v| v.into()).collect();
            f64::bias_act_row(&mut h64, &[0.25; 101], act);
            for (x, y) in h32.iter().zip(&h64) {
                assert!((f64::from(*x) - y).abs() < 1e-6, "{act:?}: {x} vs {y}");
            }
            let mut d32 = vec![1.5f32; a.len()];
            f32::act_backward_row(&h32, &mut d32, act);
            let mut d64 = vec![1.5f64; a.len()];
            f64::act_backward_row(&h64, &mut d64, act);
            for (x, y) in d32.iter().zip(&d64) {
                assert!((f64::from(*x) - y).abs() < 1e-5, "{act:?}: {x} vs {y}");
            }
        }
    }
}
