//! [`ActivationOps`]: ReLU with its derivative mask, and multiplication by a mask.

use crate::backend::{Backend, OpResult};

/// ReLU and masks.
///
/// The comparison behind ReLU is the expensive part under encryption (a SecureNN
/// protocol), so ReLU returns its derivative mask from the forward pass and the backward
/// pass only multiplies by it.
pub trait ActivationOps<B: Backend> {
    /// `(max(x, 0), [x > 0])`: the activation and its derivative mask.
    fn relu_with_mask(&self, x: &B::Tensor) -> OpResult<B, (B::Tensor, B::Mask)>;

    /// `x ⊙ mask` for a 0/1 mask of `x`'s shape. Never rescales (for fixed point the mask
    /// is an integer 0/1, not an encoded real), so it is not [`mul`](crate::ops::TensorOps::mul).
    fn mul_mask(&self, x: &B::Tensor, mask: &B::Mask) -> OpResult<B, B::Tensor>;
}
