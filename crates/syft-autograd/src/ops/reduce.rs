//! [`ReduceOps`]: sums (the adjoints of broadcasting).

use crate::backend::{Backend, OpResult};

/// Sums over axes. All local for an additively shared backend.
pub trait ReduceOps<B: Backend> {
    /// The sum of all elements, as a rank-0 tensor.
    fn sum_all(&self, x: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// The sum along `axis`; with `keepdim` the axis stays with size 1.
    fn sum_axis(&self, x: &B::Tensor, axis: usize, keepdim: bool) -> OpResult<B, B::Tensor>;

    /// Sums a broadcast result back down to `shape` (the adjoint of broadcasting).
    fn sum_to_shape(&self, x: &B::Tensor, shape: &[usize]) -> OpResult<B, B::Tensor>;
}
