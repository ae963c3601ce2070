//! The op traits a [`Backend`](crate::Backend) implements, one file each.
//!
//! Each trait is generic over the backend `B` it belongs to (burn style), so method
//! signatures can name `B::Tensor`, `B::Mask` and `B::Error`.
//!
//! | trait | ops |
//! | --- | --- |
//! | [`TensorOps`] | shape, public constants, `add`/`sub`/`neg`/`mul`, `mul_scalar`, reshape, transpose, broadcast |
//! | [`ReduceOps`] | `sum_all`, `sum_axis`, `sum_to_shape` |
//! | [`MatmulOps`] | `matmul` with transposed operands, fused `linear` |
//! | [`ConvOps`] | conv2d and its two adjoints, max pool with mask, sum pool |
//! | [`ActivationOps`] | `relu_with_mask`, `mul_mask` |
//! | [`FloatOps`] | exp, log, sqrt, division, log-softmax, fused Adam update |
//! | [`LossOps`] | the summed softmax cross-entropy with its gradient (not required by [`Backend`](crate::Backend)) |

mod activation;
mod conv;
mod float;
mod loss;
mod matmul;
mod reduce;
mod tensor;

pub use activation::ActivationOps;
pub use conv::{ConvOps, Pool2d};
pub use float::{AdamHyper, FloatOps};
pub use loss::LossOps;
pub use matmul::MatmulOps;
pub use reduce::ReduceOps;
pub use tensor::TensorOps;
