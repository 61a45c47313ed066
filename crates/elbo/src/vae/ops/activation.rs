//! Elementwise nonlinearities of the hidden layers: `H = f(A)`, backward `∂A = ∂H ⊙ f′(A)`.
//!
//! | f | f(a) | f′ from the output h = f(a) |
//! |---|---|---|
//! | ReLU | max(a, 0) | 𝟙(h > 0) |
//! | ELU | a for a > 0, eᵃ − 1 otherwise | 1 for h > 0, h + 1 (= eᵃ) otherwise |
//! | tanh | tanh a | 1 − h² |
//! | identity | a | 1 |
//!
//! The derivative is written through the output so that the forward pass need only keep H.
//! Each rule appears twice below, side by side: the plain generic form ([`Activation::apply`],
//! [`Activation::derivative_from_output`]: the `f64` reference) and the fast `f32` row kernels
//! in [`fast`] (fused with the bias add, exp by a polynomial); a test checks they agree, and
//! another checks the derivative against finite differences.

use super::super::scalar::{Real, dispatch, exp};
use ndarray::{Array1, Array2, ArrayView2};

/// Elementwise nonlinearity of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Activation {
    /// max(a, 0): the pytorch/examples VAE.
    #[default]
    Relu,
    /// a for a > 0, eᵃ − 1 otherwise: smooth, non-zero mean; trains deeper VAEs faster.
    Elu,
    /// tanh a.
    Tanh,
    /// a (no nonlinearity): the output layers.
    Identity,
}

impl Activation {
    /// Every activation, in declaration order.
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Elu,
        Activation::Tanh,
        Activation::Identity,
    ];

    /// f(a).
    pub fn apply<T: Real>(self, a: T) -> T {
        let zero = T::zero();
        match self {
            Activation::Relu => {
                if a > zero {
                    a
                } else {
                    zero
                }
            }
            Activation::Elu => {
                if a > zero {
                    a
                } else {
                    T::from_f64(a.to_f64().exp_m1())
                }
            }
            Activation::Tanh => T::from_f64(a.to_f64().tanh()),
            Activation::Identity => a,
        }
    }

    /// f′(a) expressed through the output h = f(a), so the forward pass need only keep H:
    /// ReLU 𝟙(h > 0); ELU 1 for h > 0 else h + 1 (= eᵃ); tanh 1 − h²; identity 1.
    pub fn derivative_from_output<T: Real>(self, h: T) -> T {
        let (zero, one) = (T::zero(), T::one());
        match self {
            Activation::Relu => {
                if h > zero {
                    one
                } else {
                    zero
                }
            }
            Activation::Elu => {
                if h > zero {
                    one
                } else {
                    h + one
                }
            }
            Activation::Tanh => one - h * h,
            Activation::Identity => one,
        }
    }

    /// The lowercase name used in checkpoints and tables (`relu`, `elu`, `tanh`, `identity`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Elu => "elu",
            Activation::Tanh => "tanh",
            Activation::Identity => "identity",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Forward, in place on a whole matrix of pre-activations: `H = f(A + b)` (the bias of the
    /// linear layer before it is added here, in the same pass). `b` must have `a.ncols()` entries.
    pub(crate) fn forward<T: Real>(self, a: &mut Array2<T>, b: &Array1<T>) {
        let b = b.as_slice().expect("bias is contiguous");
        for mut row in a.rows_mut() {
            match row.as_slice_mut() {
                Some(r) => T::bias_act_row(r, b, self),
                None => row.zip_mut_with(&ndarray::aview1(b), |h, &b| *h = self.apply(*h + b)),
            }
        }
    }

    /// Backward, in place: `∂A = ∂H ⊙ f′(A)`, with f′ computed from the forward output `h`
    /// (same shape as `dh`).
    pub(crate) fn backward<T: Real>(self, h: ArrayView2<'_, T>, dh: &mut Array2<T>) {
        if self == Activation::Identity {
            return;
        }
        for (h, mut d) in h.rows().into_iter().zip(dh.rows_mut()) {
            match (h.as_slice(), d.as_slice_mut()) {
                (Some(h), Some(d)) => T::act_backward_row(h, d, self),
                _ => d.zip_mut_with(&h, |d, &h| *d *= self.derivative_from_output(h)),
            }
        }
    }
}

/// The plain row forward `h ← f(h + b)`: [`Activation::apply`] per entry.
pub(crate) fn bias_act_plain<T: Real>(h: &mut [T], b: &[T], act: Activation) {
    for (h, &b) in h.iter_mut().zip(b) {
        *h = act.apply(*h + b);
    }
}

/// The plain row backward `dh ← dh ⊙ f′`: [`Activation::derivative_from_output`] per entry.
pub(crate) fn act_backward_plain<T: Real>(h: &[T], dh: &mut [T], act: Activation) {
    for (d, &h) in dh.iter_mut().zip(h) {
        *d *= act.derivative_from_output(h);
    }
}

/// The same rules as fast `f32` row kernels (the hot loops after every matrix product).
pub(crate) mod fast {
    use super::*;

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

    dispatch!(
        /// h ← act(h + b).
        bias_act = bias_act_body(h: &mut [f32], b: &[f32], act: Activation)
    );
    dispatch!(
        /// dh ← dh ⊙ act′(h).
        act_backward = act_backward_body(h: &[f32], dh: &mut [f32], act: Activation)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_activations_agree_with_the_plain_ones() {
        for act in Activation::ALL {
            let a: Vec<f32> = (0..101).map(|i| (i as f32 - 50.0) * 0.13).collect();
            let b = vec![0.25f32; a.len()];
            let mut h32 = a.clone();
            fast::bias_act(&mut h32, &b, act);
            let mut h64: Vec<f64> = a.iter().map(|&v| v.into()).collect();
            bias_act_plain(&mut h64, &[0.25; 101], act);
            for (x, y) in h32.iter().zip(&h64) {
                assert!((f64::from(*x) - y).abs() < 1e-6, "{act:?}: {x} vs {y}");
            }
            let mut d32 = vec![1.5f32; a.len()];
            fast::act_backward(&h32, &mut d32, act);
            let mut d64 = vec![1.5f64; a.len()];
            act_backward_plain(&h64, &mut d64, act);
            for (x, y) in d32.iter().zip(&d64) {
                assert!((f64::from(*x) - y).abs() < 1e-5, "{act:?}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn derivative_matches_finite_differences() {
        const H: f64 = 1e-6;
        for act in Activation::ALL {
            for i in 0..81 {
                let a = (i as f64 - 40.0) * 0.1 + 0.013; // avoids ReLU's kink at 0
                let fd = (act.apply(a + H) - act.apply(a - H)) / (2.0 * H);
                let d = act.derivative_from_output(act.apply(a));
                assert!((fd - d).abs() < 1e-8, "{act:?} at {a}: {fd} vs {d}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::from_name(a.name()), Some(a));
        }
        assert_eq!(Activation::from_name("gelu"), None);
    }
}
