//! [`Mlp`]: a stack of [`Linear`] layers with an activation between them, forward and backward
//! (each layer's own rules are in [`ops`](super::ops)).

use super::ops::{Activation, Linear, SparseInput};
use super::scalar::Real;
use crate::rand::rngs::SmallRng;
use ndarray::{Array2, ArrayView2};

/// A multilayer perceptron: linear layers with `activation` between them and none after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<T = f32> {
    pub(crate) layers: Vec<Linear<T>>,
    pub(crate) activation: Activation,
}

impl<T: Real> Mlp<T> {
    pub(crate) fn new(sizes: &[usize], activation: Activation, rng: &mut SmallRng) -> Self {
        let layers = sizes
            .windows(2)
            .map(|w| Linear::init(w[0], w[1], rng))
            .collect();
        Mlp { layers, activation }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Linear<T>] {
        &self.layers
    }

    /// The hidden nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    fn act(&self, i: usize) -> Activation {
        if i + 1 == self.layers.len() {
            Activation::Identity
        } else {
            self.activation
        }
    }

    /// Forward: `outs[i]` receives the output of layer `i` (the last one without activation).
    /// `sparse`, if given, is `x` by its nonzeros, used by the first layer.
    pub(crate) fn forward(
        &self,
        x: ArrayView2<'_, T>,
        sparse: Option<&SparseInput<T>>,
        outs: &mut Vec<Array2<T>>,
    ) {
        outs.resize_with(self.layers.len(), || Array2::zeros((0, 0)));
        for (i, layer) in self.layers.iter().enumerate() {
            let (done, rest) = outs.split_at_mut(i);
            match (i, sparse) {
                (0, Some(sx)) => layer.forward_sparse_unchecked(sx, self.act(0), &mut rest[0]),
                (0, None) => layer.forward_unchecked(x, self.act(0), &mut rest[0]),
                _ => layer.forward_unchecked(done[i - 1].view(), self.act(i), &mut rest[0]),
            }
        }
    }

    /// Backward from `d` = ∂loss/∂(last output); writes the layer gradients into `grads` and,
    /// when `dx` is given, ∂loss/∂x into it. `scratch` is a reusable buffer; `sparse` as in
    /// [`forward`](Self::forward) (only used when `dx` is not wanted).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward(
        &self,
        x: ArrayView2<'_, T>,
        sparse: Option<&SparseInput<T>>,
        outs: &[Array2<T>],
        d: &mut Array2<T>,
        scratch: &mut Array2<T>,
        grads: &mut [Linear<T>],
        mut dx: Option<&mut Array2<T>>,
    ) {
        for i in (0..self.layers.len()).rev() {
            let input = if i == 0 { x } else { outs[i - 1].view() };
            if i == 0 {
                match (sparse, dx.as_deref_mut()) {
                    (Some(sx), None) => {
                        self.layers[0].backward_sparse_unchecked(sx, d.view(), &mut grads[0])
                    }
                    (_, dx) => {
                        self.layers[0].backward_unchecked(input, d.view(), &mut grads[0], dx)
                    }
                }
            } else {
                self.layers[i].backward_unchecked(input, d.view(), &mut grads[i], Some(scratch));
                self.activation.backward(outs[i - 1].view(), scratch);
                std::mem::swap(d, scratch);
            }
        }
    }
}
