//! The VAE's building blocks, each with its backward rule written right beside its forward rule.
//!
//! Shapes: a mini-batch is a matrix with one example per row, `B × d`. Every backward function
//! receives the gradient of the loss with respect to the block's output and returns (or writes)
//! the gradient with respect to its inputs and parameters. The loss is −ELBO summed over the
//! batch, so each example's gradient simply adds up.
//!
//! | block | forward | backward |
//! |---|---|---|
//! | [`Linear`] | `Y = X W + b` | `∂W = Xᵀ ∂Y`, `∂b = Σ_rows ∂Y`, `∂X = ∂Y Wᵀ` |
//! | [`Activation`] | `H = f(A)` | `∂A = ∂H ⊙ f′(A)` (written in terms of `H`) |
//! | [`reparameterize`] | `z = μ + σ ⊙ ε`, `σ = exp(½ log σ²)` | `∂μ = ∂z`, `∂log σ² = ∂z ⊙ ε ⊙ σ / 2` |
//! | [`gaussian_kl`] | `KL = ½ Σ (μ² + σ² − 1 − log σ²)` | `∂μ = μ`, `∂log σ² = (σ² − 1) / 2` |
//! | [`bernoulli_log_likelihood`] | `log p(x|z) = Σ x l − softplus(l)` | `∂(−log p)/∂l = σ(l) − x` |
//!
//! ```
//! use elbo::vae::{Activation, Linear};
//! use elbo::ndarray::Array2;
//! let layer = Linear::<f32>::new(784, 400, &mut elbo::data::rng(0));
//! let x = Array2::<f32>::zeros((128, 784)); // B × 784
//! let mut h = Array2::zeros((0, 0));
//! layer.forward(x.view(), Activation::Relu, &mut h);
//! assert_eq!(h.dim(), (128, 400)); // B × 400
//! ```

use super::model::VaeError;
use super::scalar::{Real, sigmoid};
use crate::rand::Rng;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

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
        [
            Activation::Relu,
            Activation::Elu,
            Activation::Tanh,
            Activation::Identity,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }

    /// Forward, in place on a whole matrix of pre-activations plus bias: `H = f(A + b)`.
    pub fn forward<T: Real>(self, a: &mut Array2<T>, b: &Array1<T>) {
        let b = b.as_slice().expect("bias is contiguous");
        for mut row in a.rows_mut() {
            match row.as_slice_mut() {
                Some(r) => T::bias_act_row(r, b, self),
                None => row.zip_mut_with(&ndarray::aview1(b), |h, &b| *h = self.apply(*h + b)),
            }
        }
    }

    /// Backward, in place: `∂A = ∂H ⊙ f′(A)`, with f′ computed from the forward output `h`.
    pub fn backward<T: Real>(self, h: ArrayView2<'_, T>, dh: &mut Array2<T>) {
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
    /// PyTorch's default initialization: every weight and bias drawn from U(−1/√fan_in, 1/√fan_in).
    pub fn new(fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> Self {
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
        check("bias length (the weights' columns)", w.ncols(), b.len())?;
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
        check("x columns (the layer's fan_in)", self.fan_in(), x.ncols())?;
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
        check("x columns (the layer's fan_in)", self.fan_in(), x.ncols())?;
        check(
            "∂Y columns (the layer's fan_out)",
            self.fan_out(),
            dy.ncols(),
        )?;
        check("∂Y rows (one per row of x)", x.nrows(), dy.nrows())?;
        self.check_grad(grad)?;
        self.backward_unchecked(x, dy, grad, dx);
        Ok(())
    }

    fn check_grad(&self, grad: &Linear<T>) -> Result<(), VaeError> {
        check(
            "gradient rows (the layer's fan_in)",
            self.fan_in(),
            grad.fan_in(),
        )?;
        check(
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

/// `Ok` if `found == expected`, else the [`VaeError::Shape`] that names `what`.
fn check(what: &'static str, expected: usize, found: usize) -> Result<(), VaeError> {
    if expected == found {
        Ok(())
    } else {
        Err(VaeError::Shape {
            what,
            expected,
            found,
        })
    }
}

/// A batch of inputs stored by its nonzeros, both by row and by column, for the first layer.
///
/// MNIST digits are about 80% exactly-zero pixels, so `X W` and `Xᵀ ∂Y` — two of the five large
/// matrix products of a training step — cost 5× fewer multiply-adds when only the nonzeros of X
/// are visited. The trainer uses this form automatically when a batch is sparse enough
/// (density ≤ [`SPARSE_MAX_DENSITY`]); the results are the same sums, in another order.
#[derive(Debug, Clone, Default)]
pub struct SparseInput<T> {
    rows: usize,
    cols: usize,
    row_ptr: Vec<usize>,
    row_col: Vec<u32>,
    row_val: Vec<T>,
    col_ptr: Vec<usize>,
    col_row: Vec<u32>,
    col_val: Vec<T>,
}

/// Largest fraction of nonzero inputs for which the sparse first layer is used: below it, visiting
/// only the nonzeros (at about half the speed per multiply-add of a dense product) wins.
pub const SPARSE_MAX_DENSITY: f64 = 0.3;

impl<T: Real> SparseInput<T> {
    /// Rebuilds from `x` if at most `max_density` of its entries are nonzero; returns whether it
    /// did (if not, `self` must not be used for this `x`).
    pub fn fill(&mut self, x: ArrayView2<'_, T>, max_density: f64) -> bool {
        let (r, c) = x.dim();
        let limit = (max_density * (r * c) as f64) as usize;
        if c > u32::MAX as usize || r > u32::MAX as usize {
            return false;
        }
        self.rows = r;
        self.cols = c;
        self.row_ptr.clear();
        self.row_ptr.push(0);
        // Branch-free compaction: every entry is written at the next free slot, which only
        // advances past nonzeros; the buffers have room for a whole row beyond the limit.
        let cap = limit + c + 1;
        self.row_col.resize(cap, 0);
        self.row_val.resize(cap, T::zero());
        let mut len = 0;
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                self.row_col[len] = j as u32;
                self.row_val[len] = v;
                len += usize::from(v != T::zero());
            }
            if len > limit {
                return false;
            }
            self.row_ptr.push(len);
        }
        self.row_col.truncate(len);
        self.row_val.truncate(len);
        // the same nonzeros by column (a counting sort of the row form)
        self.col_ptr.clear();
        self.col_ptr.resize(c + 1, 0);
        for &j in &self.row_col {
            self.col_ptr[j as usize + 1] += 1;
        }
        for j in 0..c {
            self.col_ptr[j + 1] += self.col_ptr[j];
        }
        let nnz = self.row_col.len();
        self.col_row.clear();
        self.col_row.resize(nnz, 0);
        self.col_val.clear();
        self.col_val.resize(nnz, T::zero());
        let mut next = self.col_ptr.clone();
        for i in 0..r {
            for k in self.row_ptr[i]..self.row_ptr[i + 1] {
                let j = self.row_col[k] as usize;
                self.col_row[next[j]] = i as u32;
                self.col_val[next[j]] = self.row_val[k];
                next[j] += 1;
            }
        }
        true
    }

    /// Fraction of nonzero entries.
    pub fn density(&self) -> f64 {
        self.row_col.len() as f64 / (self.rows * self.cols).max(1) as f64
    }
}

impl<T: Real> Linear<T> {
    /// [`forward`](Self::forward) for a sparse input: `Y = act(X W + b)`, visiting only the
    /// nonzeros of X, which must have `fan_in` columns.
    pub fn forward_sparse(
        &self,
        x: &SparseInput<T>,
        act: Activation,
        y: &mut Array2<T>,
    ) -> Result<(), VaeError> {
        check("x columns (the layer's fan_in)", self.fan_in(), x.cols)?;
        self.forward_sparse_unchecked(x, act, y);
        Ok(())
    }

    pub(crate) fn forward_sparse_unchecked(
        &self,
        x: &SparseInput<T>,
        act: Activation,
        y: &mut Array2<T>,
    ) {
        reshape(y, x.rows, self.fan_out());
        let (w, out) = (
            self.w.as_slice().expect("contiguous"),
            y.as_slice_mut().expect("contiguous"),
        );
        T::spmm(&x.row_ptr, &x.row_col, &x.row_val, w, self.fan_out(), out);
        act.forward(y, &self.b);
    }

    /// The parameter part of [`backward`](Self::backward) for a sparse input:
    /// `∂W = Xᵀ ∂Y` (visiting only the nonzeros of X, column by column) and `∂b = Σ_rows ∂Y`.
    pub fn backward_sparse(
        &self,
        x: &SparseInput<T>,
        dy: ArrayView2<'_, T>,
        grad: &mut Linear<T>,
    ) -> Result<(), VaeError> {
        check("x columns (the layer's fan_in)", self.fan_in(), x.cols)?;
        check(
            "∂Y columns (the layer's fan_out)",
            self.fan_out(),
            dy.ncols(),
        )?;
        check("∂Y rows (one per row of x)", x.rows, dy.nrows())?;
        self.check_grad(grad)?;
        self.backward_sparse_unchecked(x, dy, grad);
        Ok(())
    }

    pub(crate) fn backward_sparse_unchecked(
        &self,
        x: &SparseInput<T>,
        dy: ArrayView2<'_, T>,
        grad: &mut Linear<T>,
    ) {
        let dy = dy.as_standard_layout();
        let d = dy.as_slice().expect("standard layout");
        let out = grad.w.as_slice_mut().expect("contiguous");
        T::spmm(&x.col_ptr, &x.col_row, &x.col_val, d, self.fan_out(), out);
        grad.b.fill(T::zero());
        for row in dy.rows() {
            grad.b += &row;
        }
    }
}

/// Reparameterization, forward: `z = μ + σ ⊙ ε` with `σ = exp(½ log σ²)`; also returns σ in
/// `sigma` for the backward pass. All arguments are `B × L`.
pub fn reparameterize<T: Real>(
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

/// Reparameterization, backward: `∂μ += ∂z`, `∂log σ² += ∂z ⊙ ε ⊙ σ / 2` (since
/// ∂z/∂log σ² = ε · ∂σ/∂log σ² = ε σ / 2). Accumulates, because the KL term also feeds μ, log σ².
pub fn reparameterize_backward<T: Real>(
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

/// KL(q_φ(z|x) ‖ N(0, I)) for each row, in closed form for a diagonal Gaussian
/// q = N(μ, diag σ²): `½ Σⱼ (μⱼ² + σⱼ² − 1 − log σⱼ²)`.
pub fn gaussian_kl<T: Real>(mu: ArrayView2<'_, T>, log_var: ArrayView2<'_, T>, out: &mut Vec<f64>) {
    out.clear();
    for (m, lv) in mu.rows().into_iter().zip(log_var.rows()) {
        let mut s = 0.0;
        for (&m, &lv) in m.iter().zip(lv.iter()) {
            let (m, lv) = (m.to_f64(), lv.to_f64());
            s += m * m + lv.exp() - 1.0 - lv;
        }
        out.push(0.5 * s);
    }
}

/// KL backward, scaled by `beta` (the KL weight of warm-up): `∂μ = β μ`, `∂log σ² = β (σ² − 1)/2`.
/// Overwrites `dmu` and `dlog_var` (it is the first contribution to them).
pub fn gaussian_kl_backward<T: Real>(
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

/// Bernoulli decoder likelihood for each row, forward and backward fused (both need e^{−|l|}):
/// `log p_θ(x|z) = Σⱼ xⱼ lⱼ − softplus(lⱼ)` (the numerically stable form of binary cross-entropy
/// with logits, valid for grey levels xⱼ ∈ [0, 1]) is pushed to `out`, and when `grad` is given
/// `∂(−log p)/∂lⱼ = σ(lⱼ) − xⱼ` is written into it (it may be `logits`' own buffer afterwards).
pub fn bernoulli_log_likelihood<T: Real>(
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
                    .map(|(&l, &x)| (x * l - super::scalar::softplus(l)).to_f64())
                    .sum()
            }
        };
        out.push(ll);
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

/// Reshapes `a` to `rows × cols`, reusing its allocation (contents unspecified afterwards).
pub(crate) fn reshape<T: Real>(a: &mut Array2<T>, rows: usize, cols: usize) {
    if a.dim() == (rows, cols) {
        return;
    }
    let (mut v, _) = std::mem::take(a).into_raw_vec_and_offset();
    v.resize(rows * cols, T::zero());
    *a = Array2::from_shape_vec((rows, cols), v).expect("length is rows × cols");
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn activation_names_round_trip() {
        for a in [
            Activation::Relu,
            Activation::Elu,
            Activation::Tanh,
            Activation::Identity,
        ] {
            assert_eq!(Activation::from_name(a.name()), Some(a));
        }
        assert_eq!(Activation::from_name("gelu"), None);
    }

    #[test]
    fn kl_is_zero_at_the_prior_and_positive_elsewhere() {
        let mut out = Vec::new();
        gaussian_kl(
            array![[0.0f64, 0.0]].view(),
            array![[0.0, 0.0]].view(),
            &mut out,
        );
        assert_eq!(out, [0.0]);
        gaussian_kl(array![[1.0f64]].view(), array![[0.0]].view(), &mut out);
        assert_eq!(out, [0.5]);
    }
}
