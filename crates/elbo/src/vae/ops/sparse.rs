//! The first layer's sparse form: MNIST digits are about 80% exact zeros, so `X W` and `Xᵀ ∂Y`
//! — two of the five large matrix products of a training step — cost 5× fewer multiply-adds when
//! only the nonzeros of X are visited. [`SparseInput`] holds X by its nonzeros (by row for the
//! forward product, by column for the weight gradient); [`Linear::forward_sparse`] and
//! [`Linear::backward_sparse`] are the same rules as the dense ones in [`linear`](super::linear),
//! summed in another order, and the product has a plain generic form ([`spmm_generic`] without
//! FMA) beside its fast AVX2+FMA `f32` form.

use super::super::error::{VaeError, check_len};
use super::super::scalar::Real;
use super::{Activation, Linear, reshape};
use ndarray::{Array2, ArrayView2};

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
        // clamped: a density above 1 (or NaN, which becomes 0) must not overflow `cap` below
        let limit = (max_density.clamp(0.0, 1.0) * r.saturating_mul(c) as f64) as usize;
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
        check_len("x columns (the layer's fan_in)", self.fan_in(), x.cols)?;
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
        check_len("x columns (the layer's fan_in)", self.fan_in(), x.cols)?;
        check_len(
            "∂Y columns (the layer's fan_out)",
            self.fan_out(),
            dy.ncols(),
        )?;
        check_len("∂Y rows (one per row of x)", x.rows, dy.nrows())?;
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

/// `out = S · B` (see [`Real::spmm`]): each output row accumulates `v · B[c, :]` over the row's
/// nonzeros `(c, v)`, in column blocks of `W` held in registers.
#[inline(always)]
pub(crate) fn spmm_generic<T: Real, const FMA: bool>(
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

/// [`spmm_generic`] compiled for AVX2+FMA (with fused multiply-adds) when the CPU has them, and
/// a plain multiply and add elsewhere (where `mul_add` would be a slow call).
pub(crate) fn spmm_f32(
    ptr: &[usize],
    cols: &[u32],
    vals: &[f32],
    b: &[f32],
    n: usize,
    out: &mut [f32],
) {
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
            spmm_generic::<f32, true>(ptr, cols, vals, b, n, out)
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features `avx2` is compiled for.
            return unsafe { avx2(ptr, cols, vals, b, n, out) };
        }
    }
    spmm_generic::<f32, false>(ptr, cols, vals, b, n, out)
}
