//! [`LossOps`]: the softmax cross-entropy and its gradient as one op.

use crate::backend::{Backend, OpResult};

/// The softmax cross-entropy of logits against one-hot targets, with its gradient, as one
/// op.
///
/// Under encryption the softmax and the logarithm are iterative approximations with many
/// rounds; computing the loss and the gradient together shares the row maxima and the
/// exponentials, and lets a secret-shared backend run the whole of it as one protocol.
/// The gradient is returned from the forward pass (like ReLU's mask), so backward is one
/// product with the upstream gradient.
///
/// Not every backend has it: generic code that needs it bounds `B: LossOps<B>`
/// ([`Var::softmax_cross_entropy`](crate::Var::softmax_cross_entropy)). Implemented by the
/// plaintext [`Cpu`](crate::Cpu) backend (through [`log_softmax`](crate::ops::FloatOps::log_softmax))
/// and by the fixed-point and secret-shared backends of the crates above.
pub trait LossOps<B: Backend> {
    /// For `[n, k]` logits `z` and one-hot targets `y` of the same shape: the summed loss
    /// `Σ_rows −Σ_k y·log softmax(z)` (a one-element tensor of shape `[]`) and its
    /// gradient with respect to the logits, `softmax(z) − y` (shape `[n, k]`).
    fn softmax_cross_entropy(&self, logits: &B::Tensor, one_hot: &B::Tensor) -> OpResult<B, (B::Tensor, B::Tensor)>;
}
