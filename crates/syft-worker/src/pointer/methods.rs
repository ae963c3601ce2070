//! The remote operations of [`PointerTensor`] and [`Pointer`], one per [`TensorOp`]: each
//! line of the table below becomes a method that runs the operation where the data lives
//! (see [`PointerTensor::apply`]).

use super::{Pointer, PointerTensor};
use crate::error::Result;
use crate::ops::TensorOp;
use syft_ring::Conv2dParams;

/// Generates the pointer methods from the operation table.
macro_rules! pointer_methods {
    ($( $(#[$doc:meta])* $method:ident ( $($arg:ident : $ty:ty),* ) $(, $other:ident)? => $op:expr ;)*) => {
        impl PointerTensor {
            $(
                $(#[$doc])*
                pub fn $method(&self $(, $other: &PointerTensor)? $(, $arg: $ty)*) -> Result<PointerTensor> {
                    self.apply($op, &[$($other)?])
                }
            )*
        }

        /// The same operations on typed pointers: the result points to a value of the
        /// same type (a chain's result is a chain of the same shape).
        impl<T> Pointer<T> {
            $(
                $(#[$doc])*
                pub fn $method(&self $(, $other: &Pointer<T>)? $(, $arg: $ty)*) -> Result<Pointer<T>> {
                    Ok(self.apply($op, &[$(&**$other)?])?.typed())
                }
            )*
        }
    };
}

pointer_methods! {
    /// `self + other`, computed where the data lives.
    add(), other => TensorOp::Add;
    /// `self − other`, computed where the data lives.
    sub(), other => TensorOp::Sub;
    /// `self ⊙ other`, computed where the data lives.
    mul(), other => TensorOp::Mul;
    /// `self · other`, computed where the data lives.
    matmul(), other => TensorOp::MatMul;
    /// 2-d convolution of `self` with the kernel `other`.
    conv2d(params: Conv2dParams), other => TensorOp::Conv2d(params);
    /// Cross-entropy of logits `self` against one-hot `other`.
    cross_entropy(), other => TensorOp::CrossEntropy;
    /// `−self`.
    neg() => TensorOp::Neg;
    /// Sum of all elements.
    sum() => TensorOp::Sum;
    /// Sum along `axis`.
    sum_axis(axis: usize, keepdim: bool) => TensorOp::SumAxis { axis, keepdim };
    /// Mean of all elements.
    mean() => TensorOp::Mean;
    /// `c · self`.
    mul_scalar(c: f64) => TensorOp::MulScalar(c);
    /// `self ⊙ self`.
    square() => TensorOp::Square;
    /// `max(self, 0)`.
    relu() => TensorOp::Relu;
    /// Same data under a new shape.
    reshape(shape: &[usize]) => TensorOp::Reshape(shape.to_vec());
    /// Swap the last two axes.
    transpose() => TensorOp::Transpose;
    /// Max pooling.
    max_pool2d(window: (usize, usize), params: Conv2dParams) => TensorOp::MaxPool2d { window, params };
    /// Average pooling.
    avg_pool2d(window: (usize, usize), params: Conv2dParams) => TensorOp::AvgPool2d { window, params };
    /// Log-softmax along `axis`.
    log_softmax(axis: usize) => TensorOp::LogSoftmax(axis);
}
