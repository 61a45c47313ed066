//! The steps of the ELBO, one file each, every file holding the step's forward rule, its backward
//! rule right beside it, its fast `f32` kernel where it has one, and tests of value and gradient
//! (against finite differences, and fast against plain).
//!
//! Shapes: a mini-batch is a matrix with one example per row, `B × d`. Every backward function
//! receives the gradient of the loss with respect to the step's output and writes the gradient
//! with respect to its inputs and parameters. The loss is −ELBO summed over the batch, so each
//! example's gradient simply adds up.
//!
//! | file | step | forward | backward |
//! |---|---|---|---|
//! | [`linear`] | [`Linear`] | `Y = X W + b` | `∂W = Xᵀ ∂Y`, `∂b = Σ_rows ∂Y`, `∂X = ∂Y Wᵀ` |
//! | [`sparse`] | the same, first layer, X by its nonzeros ([`SparseInput`]) | `Y = X W + b` | `∂W = Xᵀ ∂Y`, `∂b = Σ_rows ∂Y` |
//! | [`activation`] | [`Activation`] | `H = f(A)` | `∂A = ∂H ⊙ f′(A)` (written in terms of `H`) |
//! | [`reparam`] | [`reparameterize`] | `z = μ + σ ⊙ ε`, `σ = exp(½ log σ²)` | `∂μ = ∂z`, `∂log σ² = ∂z ⊙ ε ⊙ σ / 2` |
//! | [`kl`] | KL(q_φ(z\|x) ‖ N(0, I)) | `½ Σ (μ² + σ² − 1 − log σ²)` | `∂μ = β μ`, `∂log σ² = β (σ² − 1) / 2` |
//! | [`bernoulli`] | [`bernoulli_log_likelihood`] | `log p(x\|z) = Σ x l − softplus(l)` | `∂(−log p)/∂l = σ(l) − x` |

pub mod activation;
pub mod bernoulli;
pub mod kl;
pub mod linear;
pub mod reparam;
pub mod sparse;

pub use activation::Activation;
pub use bernoulli::{bernoulli_log_likelihood, sigmoid, softplus};
pub use linear::Linear;
pub use reparam::{reparameterize, reparameterize_backward};
pub use sparse::{SPARSE_MAX_DENSITY, SparseInput};

use super::scalar::Real;
use ndarray::Array2;

/// Reshapes `a` to `rows × cols`, reusing its allocation (contents unspecified afterwards).
pub(crate) fn reshape<T: Real>(a: &mut Array2<T>, rows: usize, cols: usize) {
    if a.dim() == (rows, cols) {
        return;
    }
    let (mut v, _) = std::mem::take(a).into_raw_vec_and_offset();
    v.resize(rows * cols, T::zero());
    *a = Array2::from_shape_vec((rows, cols), v).expect("length is rows × cols");
}
