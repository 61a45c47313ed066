//! The fully connected layer, `Y = X W + b` for a batch with one example per row (`B × fan_in`):
//!
//! ```text
//! forward   Y = X W + b                       (then the activation, fused: see `activation`)
//! backward  ∂W = Xᵀ ∂Y,   ∂b = Σ_rows ∂Y,   ∂X = ∂Y Wᵀ
//! ```
//!
//! The products run in the `gemm` crate's `unsafe` kernels (AVX-512/AVX2 picked at run time), so
//! shapes are checked at every public entry point ([`VaeError::Shape`] naming the argument) and
//! asserted again right before the `unsafe` call. The first layer's form that visits only the
//! nonzeros of X is in [`sparse`](super::sparse).
//!
//! ```
//! use elbo::vae::{Activation, Linear};
//! use elbo::ndarray::Array2;
//! let layer = Linear::<f32>::new(784, 400, 0);
//! let x = Array2::<f32>::zeros((128, 784)); // B × 784
//! let mut h = Array2::zeros((0, 0));
//! layer.forward(x.view(), Activation::Relu, &mut h)?;
//! assert_eq!(h.dim(), (128, 400)); // B × 400
//! # Ok::<(), elbo::vae::VaeError>(())
//! ```

use super::super::error::{VaeError, check_len};
use super::super::scalar::Real;
use super::{Activation, reshape};
use crate::rand::rngs::SmallRng;
use crate::rand::{Rng, SeedableRng};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// A fully connected layer `y = x W + b`, with `W` stored `fan_in × fan_out` so that a batch
/// (one example per row) multiplies on the left.
///
/// Its public methods check every shape and return [`VaeError::Shape`] naming the argument
/// before any product is computed (the products run in `unsafe` GEMM kernels, which must never
/// see a mismatched shape). The engine, whose shapes hold by construction, calls the crate-private
/// `*_unchecked` forms; the GEMM wrapper still asserts its shapes as a last line of defence. The
/// fields are private so that `w` and `b` always agree (`fan_in × fan_out` and `fan_out`).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<T = f32> {
    /// Weights, `fan_in × fan_out`.
    pub(crate) w: Array2<T>,
    /// Bias, `fan_out`.
    pub(crate) b: Array1<T>,
}

impl<T: Real> Linear<T> {
    /// PyTorch's default initialization: every weight and bias drawn from U(−1/√fan_in, 1/√fan_in),
    /// seeded by `seed`.
    pub fn new(fan_in: usize, fan_out: usize, seed: u64) -> Self {
        Self::init(fan_in, fan_out, &mut SmallRng::seed_from_u64(seed))
    }

    /// [`new`](Self::new) drawing from `rng` (a model draws all its layers from one stream).
    pub(crate) fn init(fan_in: usize, fan_out: usize, rng: &mut SmallRng) -> Self {
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        let mut draw = || T::from_f64(rng.random_range(-bound..bound));
        let w = Array2::from_shape_simple_fn((fan_in, fan_out), &mut draw);
        let b = Array1::from_shape_simple_fn(fan_out, &mut draw);
        Linear { w, b }
    }

    /// All-zero weights and bias (the shape of a gradient).
    pub fn zeros(fan_in: usize, fan_out: usize) -> Self {
        Linear {
            w: Array2::zeros((fan_in, fan_out)),
            b: Array1::zeros(fan_out),
        }
    }

    /// Input width.
    pub fn fan_in(&self) -> usize {
        self.w.nrows()
    }

    /// Output width.
    pub fn fan_out(&self) -> usize {
        self.w.ncols()
    }

    /// A layer from its weights `w` (`fan_in × fan_out`) and bias `b` (`fan_out`).
    pub fn from_parts(w: Array2<T>, b: Array1<T>) -> Result<Self, VaeError> {
        check_len("bias length (the weights' columns)", w.ncols(), b.len())?;
        // The GEMM kernels take any strides, but the optimizer and checkpoints want rows.
        let w = w.as_standard_layout().into_owned();
        Ok(Linear { w, b })
    }

    /// The weights `W`, `fan_in × fan_out`.
    pub fn weights(&self) -> ArrayView2<'_, T> {
        self.w.view()
    }

    /// The bias `b`, `fan_out`.
    pub fn bias(&self) -> ArrayView1<'_, T> {
        self.b.view()
    }

    /// The weights, writable in place (their shape cannot change).
    pub fn weights_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.w.view_mut()
    }

    /// The bias, writable in place.
    pub fn bias_mut(&mut self) -> ArrayViewMut1<'_, T> {
        self.b.view_mut()
    }

    /// Forward: `Y = act(X W + b)`, written into `y` (reshaped to `B × fan_out`, reusing its
    /// allocation). `x` must have `fan_in` columns.
    pub fn forward(
        &self,
        x: ArrayView2<'_, T>,
        act: Activation,
        y: &mut Array2<T>,
    ) -> Result<(), VaeError> {
        check_len("x columns (the layer's fan_in)", self.fan_in(), x.ncols())?;
        self.forward_unchecked(x, act, y);
        Ok(())
    }

    pub(crate) fn forward_unchecked(
        &self,
        x: ArrayView2<'_, T>,
        act: Activation,
        y: &mut Array2<T>,
    ) {
        reshape(y, x.nrows(), self.fan_out());
        matmul(x, self.w.view(), y);
        act.forward(y, &self.b);
    }

    /// Backward, given the input `X` of the forward pass and `∂Y` (after the activation's own
    /// backward): writes `∂W = Xᵀ ∂Y` and `∂b = Σ_rows ∂Y` into `grad` (overwriting), and
    /// `∂X = ∂Y Wᵀ` into `dx` when the caller needs it (not for the first layer: x is data).
    /// `x` must be `B × fan_in`, `dy` `B × fan_out` and `grad` shaped like this layer.
    pub fn backward(
        &self,
        x: ArrayView2<'_, T>,
        dy: ArrayView2<'_, T>,
        grad: &mut Linear<T>,
        dx: Option<&mut Array2<T>>,
    ) -> Result<(), VaeError> {
        check_len("x columns (the layer's fan_in)", self.fan_in(), x.ncols())?;
        check_len(
            "∂Y columns (the layer's fan_out)",
            self.fan_out(),
            dy.ncols(),
        )?;
        check_len("∂Y rows (one per row of x)", x.nrows(), dy.nrows())?;
        self.check_grad(grad)?;
        self.backward_unchecked(x, dy, grad, dx);
        Ok(())
    }

    pub(crate) fn check_grad(&self, grad: &Linear<T>) -> Result<(), VaeError> {
        check_len(
            "gradient rows (the layer's fan_in)",
            self.fan_in(),
            grad.fan_in(),
        )?;
        check_len(
            "gradient columns (the layer's fan_out)",
            self.fan_out(),
            grad.fan_out(),
        )
    }

    pub(crate) fn backward_unchecked(
        &self,
        x: ArrayView2<'_, T>,
        dy: ArrayView2<'_, T>,
        grad: &mut Linear<T>,
        dx: Option<&mut Array2<T>>,
    ) {
        matmul(x.t(), dy, &mut grad.w);
        grad.b.fill(T::zero());
        for row in dy.rows() {
            grad.b += &row;
        }
        if let Some(dx) = dx {
            reshape(dx, dy.nrows(), self.fan_in());
            matmul(dy, self.w.t(), dx);
        }
    }
}

/// `c = a · b` (shapes already agreeing), by ndarray's `matrixmultiply`, or with the `gemm`
/// feature by the `gemm` crate.
fn matmul<T: Real>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, c: &mut Array2<T>) {
    // The public entry points return a typed error before a mismatch gets here; this assertion
    // keeps the `unsafe` below sound even if an internal caller were wrong.
    assert!(
        a.ncols() == b.nrows() && c.dim() == (a.nrows(), b.ncols()),
        "matmul: shapes {:?} · {:?} → {:?} do not agree",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if c.is_empty() {
        return;
    }
    if a.ncols() == 0 {
        // an empty sum: no kernel needed for zero multiply-adds
        c.fill(T::zero());
        return;
    }
    #[cfg(feature = "gemm")]
    {
        let (m, k) = a.dim();
        let n = b.ncols();
        let (rsc, csc) = (c.strides()[0], c.strides()[1]);
        // SAFETY: the pointers and strides describe the live arrays a (m × k), b (k × n) and
        // c (m × n) (asserted above), c is not aliased, and every index stays inside them.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                csc,
                rsc,
                false,
                a.as_ptr(),
                a.strides()[1],
                a.strides()[0],
                b.as_ptr(),
                b.strides()[1],
                b.strides()[0],
                T::zero(),
                T::one(),
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        }
    }
    #[cfg(not(feature = "gemm"))]
    ndarray::linalg::general_mat_mul(T::one(), &a, &b, T::zero(), c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vae::ops::SparseInput;
    use ndarray::array;

    #[test]
    fn linear_forward_is_xw_plus_b() {
        let layer = Linear {
            w: array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            b: array![0.5, -100.0],
        };
        let x = array![[1.0, 0.0, -1.0]];
        let mut y = Array2::zeros((0, 0));
        layer
            .forward(x.view(), Activation::Identity, &mut y)
            .unwrap();
        assert_eq!(y, array![[-3.5, -104.0]]);
        layer.forward(x.view(), Activation::Relu, &mut y).unwrap();
        assert_eq!(y, array![[0.0, 0.0]]);
    }

    #[test]
    fn gradients_match_finite_differences_dense_and_sparse() {
        const H: f64 = 1e-6;
        let layer = Linear::<f64>::new(3, 2, 4);
        let x = array![
            [0.5, 0.0, -1.0],
            [0.0, 0.0, 2.0],
            [1.5, -0.3, 0.0],
            [0.0, 0.7, 0.1]
        ];
        let c = array![[1.0, -2.0], [0.5, 0.3], [-1.2, 0.8], [0.1, 1.1]];
        // f = ⟨C, X W + b⟩, whose gradient is what backward returns for ∂Y = C
        let f = |l: &Linear<f64>, x: &Array2<f64>| {
            let mut y = Array2::zeros((0, 0));
            l.forward(x.view(), Activation::Identity, &mut y).unwrap();
            (&y * &c).sum()
        };
        let mut g = Linear::zeros(3, 2);
        let mut dx = Array2::zeros((0, 0));
        layer
            .backward(x.view(), c.view(), &mut g, Some(&mut dx))
            .unwrap();
        let fd = |f_up: f64, f_down: f64| (f_up - f_down) / (2.0 * H);
        for i in 0..3 {
            for j in 0..2 {
                let (mut up, mut down) = (layer.clone(), layer.clone());
                up.w[[i, j]] += H;
                down.w[[i, j]] -= H;
                assert!((fd(f(&up, &x), f(&down, &x)) - g.w[[i, j]]).abs() < 1e-8);
            }
        }
        for j in 0..2 {
            let (mut up, mut down) = (layer.clone(), layer.clone());
            up.b[j] += H;
            down.b[j] -= H;
            assert!((fd(f(&up, &x), f(&down, &x)) - g.b[j]).abs() < 1e-8);
        }
        for i in 0..4 {
            for j in 0..3 {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[[i, j]] += H;
                down[[i, j]] -= H;
                assert!((fd(f(&layer, &up), f(&layer, &down)) - dx[[i, j]]).abs() < 1e-8);
            }
        }
        // the sparse forms visit only the nonzeros and give the same values and gradients
        let mut sx = SparseInput::default();
        assert!(sx.fill(x.view(), 1.0));
        let (mut y, mut ys) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        layer.forward(x.view(), Activation::Relu, &mut y).unwrap();
        layer
            .forward_sparse(&sx, Activation::Relu, &mut ys)
            .unwrap();
        assert!(y.iter().zip(&ys).all(|(a, b)| (a - b).abs() < 1e-15));
        let mut gs = Linear::zeros(3, 2);
        layer.backward_sparse(&sx, c.view(), &mut gs).unwrap();
        assert!(g.w.iter().zip(&gs.w).all(|(a, b)| (a - b).abs() < 1e-15));
        assert_eq!(g.b, gs.b);
    }

    #[test]
    fn linear_backward_matches_the_matrix_calculus() {
        let layer = Linear {
            w: array![[1.0, 2.0], [3.0, 4.0]],
            b: array![0.0, 0.0],
        };
        let x = array![[1.0, 2.0], [3.0, 5.0]];
        let dy = array![[1.0, 0.0], [0.0, 2.0]];
        let mut g = Linear::zeros(2, 2);
        let mut dx = Array2::zeros((0, 0));
        layer
            .backward(x.view(), dy.view(), &mut g, Some(&mut dx))
            .unwrap();
        assert_eq!(g.w, x.t().dot(&dy));
        assert_eq!(g.b, array![1.0, 2.0]);
        assert_eq!(dx, dy.dot(&layer.w.t()));
    }

    /// Every public entry point that reaches the `unsafe` GEMM kernels refuses a mismatched
    /// shape with a typed error naming the argument (before, a wrong shape read or wrote out of
    /// bounds).
    #[test]
    fn mismatched_shapes_are_typed_errors_not_out_of_bounds_access() {
        let layer = Linear::<f32>::zeros(3, 2);
        let shape = |r: Result<(), VaeError>| match r {
            Err(VaeError::Shape { what, .. }) => what,
            other => panic!("expected a shape error, got {other:?}"),
        };
        let mut y = Array2::zeros((0, 0));
        let wide = Array2::<f32>::ones((4, 5));
        assert!(shape(layer.forward(wide.view(), Activation::Relu, &mut y)).contains("x columns"));

        let x = Array2::<f32>::ones((4, 3));
        let mut g = Linear::zeros(3, 2);
        let dy_cols = Array2::<f32>::ones((4, 7));
        let dy_rows = Array2::<f32>::ones((9, 2));
        assert!(
            shape(layer.backward(wide.view(), dy_rows.view(), &mut g, None)).contains("x columns")
        );
        assert!(
            shape(layer.backward(x.view(), dy_cols.view(), &mut g, None)).contains("∂Y columns")
        );
        assert!(shape(layer.backward(x.view(), dy_rows.view(), &mut g, None)).contains("∂Y rows"));
        let mut wrong_grad = Linear::zeros(2, 3);
        let dy = Array2::<f32>::ones((4, 2));
        assert!(
            shape(layer.backward(x.view(), dy.view(), &mut wrong_grad, None)).contains("gradient")
        );
        layer.backward(x.view(), dy.view(), &mut g, None).unwrap();

        let mut sparse = SparseInput::default();
        assert!(sparse.fill(wide.view(), 1.0));
        assert!(
            shape(layer.forward_sparse(&sparse, Activation::Relu, &mut y)).contains("x columns")
        );
        assert!(shape(layer.backward_sparse(&sparse, dy.view(), &mut g)).contains("x columns"));
        assert!(sparse.fill(x.view(), 1.0));
        assert!(shape(layer.backward_sparse(&sparse, dy_rows.view(), &mut g)).contains("∂Y rows"));
        assert!(
            shape(layer.backward_sparse(&sparse, dy_cols.view(), &mut g)).contains("∂Y columns")
        );
        assert!(
            shape(layer.backward_sparse(&sparse, dy.view(), &mut wrong_grad)).contains("gradient")
        );
        layer
            .forward_sparse(&sparse, Activation::Relu, &mut y)
            .unwrap();
        assert_eq!(y.dim(), (4, 2));

        let bad = Linear::from_parts(Array2::<f32>::zeros((3, 2)), Array1::zeros(5));
        assert!(matches!(
            bad,
            Err(VaeError::Shape {
                expected: 2,
                found: 5,
                ..
            })
        ));
    }

    #[test]
    fn a_layer_from_parts_computes_with_those_parts() {
        let w = array![[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
        // a transposed (column-major) view is accepted and laid out by rows
        let layer =
            Linear::from_parts(w.t().to_owned().reversed_axes(), array![0.5, -100.0]).unwrap();
        assert_eq!(layer.weights(), w);
        let mut y = Array2::zeros((0, 0));
        layer
            .forward(
                array![[1.0, 0.0, -1.0]].view(),
                Activation::Identity,
                &mut y,
            )
            .unwrap();
        assert_eq!(y, array![[-3.5, -104.0]]);
    }

    mod properties {
        use super::super::*;
        use crate::vae::ops::SparseInput;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// For any shapes, every public entry point either computes (exactly when the shapes
            /// agree) or returns a shape error: never a panic, never an out-of-bounds access.
            #[test]
            fn public_entry_points_accept_exactly_the_agreeing_shapes(
                fan_in in 0usize..5, fan_out in 0usize..5,
                rows in 0usize..5, x_cols in 0usize..6,
                dy_rows in 0usize..5, dy_cols in 0usize..6,
                g_in in 0usize..5, g_out in 0usize..5,
                density in prop_oneof![Just(f64::NAN), Just(-1.0), 0.0..1.5f64, Just(1e300)],
            ) {
                let layer = Linear::<f32>::new(fan_in, fan_out, 1);
                let x = Array2::<f32>::from_elem((rows, x_cols), 0.5);
                let dy = Array2::<f32>::ones((dy_rows, dy_cols));
                let mut g = Linear::zeros(g_in, g_out);
                let mut y = Array2::zeros((0, 0));
                let mut dx = Array2::zeros((0, 0));
                let fwd_ok = x_cols == fan_in;
                prop_assert_eq!(layer.forward(x.view(), Activation::Elu, &mut y).is_ok(), fwd_ok);
                if fwd_ok {
                    prop_assert_eq!(y.dim(), (rows, fan_out));
                }
                let bwd_ok = fwd_ok && dy_cols == fan_out && dy_rows == rows
                    && (g_in, g_out) == (fan_in, fan_out);
                let r = layer.backward(x.view(), dy.view(), &mut g, Some(&mut dx));
                prop_assert_eq!(r.is_ok(), bwd_ok);
                let mut sx = SparseInput::default();
                if sx.fill(x.view(), density) {
                    prop_assert_eq!(layer.forward_sparse(&sx, Activation::Relu, &mut y).is_ok(), fwd_ok);
                    prop_assert_eq!(layer.backward_sparse(&sx, dy.view(), &mut g).is_ok(), bwd_ok);
                }
            }
        }
    }
}
