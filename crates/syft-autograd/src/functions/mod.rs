//! The differentiable operations on [`Var`](crate::Var), one file per op family.
//!
//! Each op computes its value through the backend and records a backward function that
//! maps the output gradient to its inputs' gradients through the same backend, so the
//! gradient of an encrypted computation is itself computed under encryption.

mod arith;
mod float;
mod linalg;
mod loss;
mod nn;
mod shape;

use crate::backend::{Backend, OpResult};

/// Sums a gradient back to an input's shape when the forward op broadcast it.
pub(crate) fn unbroadcast<B: Backend>(b: &B, g: B::Tensor, shape: &[usize]) -> OpResult<B, B::Tensor> {
    if b.shape(&g) == shape { Ok(g) } else { b.sum_to_shape(&g, shape) }
}

/// The output gradient for each of two inputs that want it (cloned only when both do).
pub(crate) fn fan_out<T: Clone>(g: T, needs: &[bool]) -> (Option<T>, Option<T>) {
    match needs {
        [true, true] => (Some(g.clone()), Some(g)),
        [true, _] => (Some(g), None),
        [_, true] => (None, Some(g)),
        _ => (None, None),
    }
}

/// Whether input `i` wants a gradient.
pub(crate) fn needs(needs: &[bool], i: usize) -> bool {
    needs.get(i).copied().unwrap_or(false)
}
