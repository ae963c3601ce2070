//! [`TensorOps`]: elementwise arithmetic, public constants and shape ops.

use crate::backend::{Backend, OpResult};

/// Elementwise arithmetic with numpy broadcasting, public constants and shape ops.
///
/// All of these are local (no communication) for an additively shared backend, except
/// [`mul`](TensorOps::mul), which is a Beaver multiplication there.
pub trait TensorOps<B: Backend> {
    /// The shape of a tensor.
    fn shape(&self, x: &B::Tensor) -> Vec<usize>;

    /// A public constant tensor from row-major real values (for fixed point: encoded).
    fn constant(&self, shape: &[usize], values: &[f64]) -> OpResult<B, B::Tensor>;

    /// A public tensor with every element equal to `value`.
    fn full(&self, shape: &[usize], value: f64) -> OpResult<B, B::Tensor> {
        let n = shape.iter().product::<usize>();
        self.constant(shape, &vec![value; n])
    }

    /// `a + b` with broadcasting.
    fn add(&self, a: &B::Tensor, b: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `a - b` with broadcasting.
    fn sub(&self, a: &B::Tensor, b: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `-a`.
    fn neg(&self, a: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `a ⊙ b` with broadcasting (for fixed point: rescaled after the product).
    fn mul(&self, a: &B::Tensor, b: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `c · a` for a public real constant `c` (learning rates, `1/n`).
    fn mul_scalar(&self, a: &B::Tensor, c: f64) -> OpResult<B, B::Tensor>;

    /// `a += b` in place, `b` broadcasting to `a`'s shape (gradient accumulation).
    fn add_assign(&self, a: &mut B::Tensor, b: &B::Tensor) -> OpResult<B, ()> {
        *a = self.add(a, b)?;
        Ok(())
    }

    /// The same elements under a new shape.
    fn reshape(&self, a: &B::Tensor, shape: &[usize]) -> OpResult<B, B::Tensor>;

    /// Swaps the last two axes.
    fn transpose(&self, a: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// Broadcasts to `shape` (numpy rules), materialising the copies.
    fn broadcast_to(&self, a: &B::Tensor, shape: &[usize]) -> OpResult<B, B::Tensor>;
}
