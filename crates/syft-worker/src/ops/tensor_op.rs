//! [`TensorOp`]: the operations of remote execution on a worker's stored tensors, with
//! their names, operand counts, rules on granted data, result shapes and semantics.

use super::shape::{conv_out, four, sum_axis_shape};
use crate::access::Flow;
use crate::error::{Result, WorkerError};
use serde::{Deserialize, Serialize};
use syft_autograd::{Cpu, Pool2d, Var};
use syft_ring::{Conv2dParams, Tensor};

/// The float backend objects use on workers.
pub type FloatBackend = Cpu<f32>;
/// A float tensor with autograd state, as stored on a worker.
pub type FloatVar = Var<Cpu<f32>>;

/// A tensor operation that a worker can run on its stored objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TensorOp {
    /// `a + b` (broadcasting).
    Add,
    /// `a − b` (broadcasting).
    Sub,
    /// `a ⊙ b` (broadcasting).
    Mul,
    /// Matrix product `a · b`.
    MatMul,
    /// `−a`.
    Neg,
    /// Sum of all elements.
    Sum,
    /// Sum along an axis.
    SumAxis {
        /// The axis.
        axis: usize,
        /// Keep the axis with size 1.
        keepdim: bool,
    },
    /// Mean of all elements (float).
    Mean,
    /// `c · a` for a public constant.
    MulScalar(f64),
    /// `a ⊙ a`.
    Square,
    /// `max(a, 0)` (float).
    Relu,
    /// Same data, new shape.
    Reshape(Vec<usize>),
    /// Swap the last two axes.
    Transpose,
    /// 2-d convolution `input ⋆ kernel` (float).
    Conv2d(Conv2dParams),
    /// Max pooling (float).
    MaxPool2d {
        /// Window height and width.
        window: (usize, usize),
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// Average pooling (float).
    AvgPool2d {
        /// Window height and width.
        window: (usize, usize),
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// Log-softmax along an axis (float).
    LogSoftmax(usize),
    /// Cross-entropy of logits `a` against one-hot targets `b` (float).
    CrossEntropy,
}

impl TensorOp {
    /// A short name for errors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sub => "sub",
            Self::Mul => "mul",
            Self::MatMul => "matmul",
            Self::Neg => "neg",
            Self::Sum => "sum",
            Self::SumAxis { .. } => "sum_axis",
            Self::Mean => "mean",
            Self::MulScalar(_) => "mul_scalar",
            Self::Square => "square",
            Self::Relu => "relu",
            Self::Reshape(_) => "reshape",
            Self::Transpose => "transpose",
            Self::Conv2d(_) => "conv2d",
            Self::MaxPool2d { .. } => "max_pool2d",
            Self::AvgPool2d { .. } => "avg_pool2d",
            Self::LogSoftmax(_) => "log_softmax",
            Self::CrossEntropy => "cross_entropy",
        }
    }

    /// What the operation does, for the rules on granted data ([`crate::access::flow`]).
    #[must_use]
    pub fn flow(&self) -> Flow {
        match self {
            Self::MatMul | Self::Conv2d(_) => Flow::Product,
            Self::Add => Flow::Add,
            Self::Reshape(_) | Self::Transpose => Flow::Shape,
            Self::Relu
            | Self::MaxPool2d { .. }
            | Self::AvgPool2d { .. }
            | Self::Sum
            | Self::SumAxis { .. }
            | Self::Mean
            | Self::MulScalar(_) => Flow::Layer,
            Self::Sub | Self::Mul | Self::Neg | Self::Square | Self::LogSoftmax(_) | Self::CrossEntropy => Flow::Other,
        }
    }

    /// Number of operands.
    #[must_use]
    pub fn arity(&self) -> usize {
        match self {
            Self::Add | Self::Sub | Self::Mul | Self::MatMul | Self::Conv2d(_) | Self::CrossEntropy => 2,
            _ => 1,
        }
    }

    /// Runs the operation on float tensors (through autograd).
    pub fn apply_float(&self, args: &[&FloatVar]) -> Result<FloatVar> {
        let a = self.operand(args, 0)?;
        let b = || self.operand(args, 1);
        let r = match self {
            Self::Add => a.add(b()?),
            Self::Sub => a.sub(b()?),
            Self::Mul => a.mul(b()?),
            Self::MatMul => a.matmul(b()?),
            Self::Neg => a.neg(),
            Self::Sum => a.sum(),
            Self::SumAxis { axis, keepdim } => a.sum_axis(*axis, *keepdim),
            Self::Mean => a.mean(),
            Self::MulScalar(c) => a.mul_scalar(*c),
            Self::Square => a.square(),
            Self::Relu => a.relu(),
            Self::Reshape(shape) => a.reshape(shape),
            Self::Transpose => a.transpose(),
            Self::Conv2d(p) => a.conv2d(b()?, *p),
            Self::MaxPool2d { window, params } => a.max_pool2d(Pool2d { window: *window, params: *params }),
            Self::AvgPool2d { window, params } => a.avg_pool2d(Pool2d { window: *window, params: *params }),
            Self::LogSoftmax(axis) => a.log_softmax(*axis),
            Self::CrossEntropy => a.cross_entropy(b()?),
        };
        Ok(r?)
    }

    /// Operand `i` of `args`, or an error naming the operation.
    fn operand<'a, T: ?Sized>(&self, args: &[&'a T], i: usize) -> Result<&'a T> {
        args.get(i).copied().ok_or_else(|| WorkerError::InvalidArgument {
            op: self.name(),
            reason: format!("missing operand {i} of {}", self.arity()),
        })
    }

    /// Whether the operation is defined on ring tensors (integers modulo 2^64).
    #[must_use]
    pub fn defined_on_ring(&self) -> bool {
        !matches!(
            self,
            Self::Mean
                | Self::MulScalar(_)
                | Self::Relu
                | Self::MaxPool2d { .. }
                | Self::AvgPool2d { .. }
                | Self::LogSoftmax(_)
                | Self::CrossEntropy
        )
    }

    /// The shapes of what the operation allocates (its result, and the im2col or window
    /// buffers of convolution and pooling) for operands of `inputs` shapes, computed with
    /// checked arithmetic so that a worker can check them against its limits before
    /// running it. Operands of unknown shape (pointers, forwarded) give no shapes.
    pub fn result_shapes(&self, inputs: &[Vec<usize>]) -> Result<Vec<Vec<usize>>> {
        if inputs.len() != self.arity() {
            return Ok(Vec::new());
        }
        let a = &inputs[0];
        Ok(match self {
            Self::Add | Self::Sub | Self::Mul | Self::CrossEntropy => {
                vec![syft_ring::broadcast_shapes(self.name(), a, &inputs[1])?]
            }
            Self::MatMul => {
                let b = &inputs[1];
                if a.len() < 2 || b.len() < 2 {
                    return Ok(Vec::new());
                }
                let Ok(mut out) = syft_ring::broadcast_shapes("matmul", &a[..a.len() - 2], &b[..b.len() - 2]) else {
                    return Ok(Vec::new());
                };
                out.extend([a[a.len() - 2], b[b.len() - 1]]);
                vec![out]
            }
            Self::Reshape(shape) => vec![shape.clone()],
            Self::SumAxis { axis, keepdim } => vec![sum_axis_shape(a, *axis, *keepdim)],
            Self::Transpose => vec![a.clone()],
            Self::Conv2d(p) => {
                let k = &inputs[1];
                let [n, c, h, w] = four(self.name(), a)?;
                let [o, _, kh, kw] = four(self.name(), k)?;
                let (oh, ow) = conv_out(h, w, kh, kw, *p)?;
                vec![vec![n, o, oh, ow], vec![n, oh, ow, c, kh, kw]]
            }
            Self::MaxPool2d { window, params } | Self::AvgPool2d { window, params } => {
                let [n, c, h, w] = four(self.name(), a)?;
                let (oh, ow) = conv_out(h, w, window.0, window.1, *params)?;
                vec![vec![n, c, oh, ow], vec![n, c, oh, ow, window.0, window.1]]
            }
            _ => Vec::new(),
        })
    }

    /// Runs the operation on ring tensors (exact arithmetic modulo 2^64).
    pub fn apply_ring(&self, args: &[&Tensor<u64>]) -> Result<Tensor<u64>> {
        let a = self.operand(args, 0)?;
        let b = || self.operand(args, 1);
        let r = match self {
            Self::Add => a.add(b()?),
            Self::Sub => a.sub(b()?),
            Self::Mul => a.mul(b()?),
            Self::MatMul => a.matmul(b()?),
            Self::Neg => Ok(a.neg()),
            Self::Sum => Ok(Tensor::scalar(a.sum_all())),
            Self::SumAxis { axis, keepdim } => a.sum_axis(*axis, *keepdim),
            Self::Square => a.mul(a),
            Self::Reshape(shape) => a.reshape(shape),
            Self::Transpose => a.transpose(),
            Self::Conv2d(p) => a.conv2d(b()?, *p),
            other => {
                return Err(WorkerError::InvalidArgument {
                    op: other.name(),
                    reason: "not defined on ring tensors".into(),
                });
            }
        };
        Ok(r?)
    }
}
