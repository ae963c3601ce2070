//! [`MatmulOps`]: matrix products with transposed operands, and a fused `linear`.

use crate::backend::{Backend, OpResult};
use crate::ops::TensorOps;
use syft_ring::Transpose;

/// Matrix products. For a shared backend, one Beaver matmul (one round) each.
pub trait MatmulOps<B: Backend> {
    /// `op(a) · op(b)` of shapes `[..., m, k] · [..., k, n]`, with the transposes applied
    /// without copies and the batch axes broadcast.
    fn matmul(&self, a: &B::Tensor, ta: Transpose, b: &B::Tensor, tb: Transpose) -> OpResult<B, B::Tensor>;

    /// `x · wᵀ (+ bias)` for `x: [n, in]`, `w: [out, in]`, `bias: [out]` (PyTorch's
    /// `F.linear`). Backends may fuse the bias into the product.
    fn linear(&self, x: &B::Tensor, w: &B::Tensor, bias: Option<&B::Tensor>) -> OpResult<B, B::Tensor>
    where
        Self: TensorOps<B>,
    {
        let y = self.matmul(x, Transpose::No, w, Transpose::Yes)?;
        match bias {
            Some(b) => self.add(&y, b),
            None => Ok(y),
        }
    }
}
