//! [`SharedBackend`]: shared fixed-point tensors as an autograd backend, so that
//! `syft_autograd::Var<SharedBackend>` differentiates encrypted computations and
//! `syft_nn` modules run on shared parameters.
//!
//! Every op is a [`SharedTensor`] operation (local, or one protocol among the workers);
//! public constants become shares held by party 0 alone. Masks (ReLU derivatives, max-pool
//! one-hots) are shared raw bits, and multiplying by them does not rescale.

use crate::error::{Result, WorkerError};
use crate::shared::{MpcSession, SharedTensor};
use std::sync::Arc;
use syft_autograd::ops::{ActivationOps, ConvOps, LossOps, MatmulOps, ReduceOps, TensorOps};
use syft_autograd::{Backend, Conv2dParams, OpResult, Pool2d, Transpose};
use syft_fixed::FixedEncoder;
use syft_ring::Tensor;

/// The backend of shared fixed-point tensors in one session, at one precision.
#[derive(Clone)]
pub struct SharedBackend {
    session: Arc<MpcSession>,
    encoder: FixedEncoder,
}

impl std::fmt::Debug for SharedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBackend").field("session", &self.session).field("encoder", &self.encoder).finish()
    }
}

impl SharedBackend {
    /// A backend for `session` with fixed-point `encoder`.
    #[must_use]
    pub fn new(session: Arc<MpcSession>, encoder: FixedEncoder) -> Self {
        Self { session, encoder }
    }

    /// The session.
    #[must_use]
    pub fn session(&self) -> &Arc<MpcSession> {
        &self.session
    }

    /// The encoder.
    #[must_use]
    pub fn encoder(&self) -> FixedEncoder {
        self.encoder
    }

    /// Secret-shares a float tensor at this backend's precision.
    pub fn share(&self, x: &Tensor<f64>) -> Result<SharedTensor> {
        SharedTensor::share(&self.encoder.encode(x)?, Some(self.encoder), &self.session)
    }

    /// Secret-shares an `f32` tensor at this backend's precision.
    pub fn share_f32(&self, x: &Tensor<f32>) -> Result<SharedTensor> {
        self.share(&x.map(f64::from))
    }
}

impl Backend for SharedBackend {
    type Tensor = SharedTensor;
    type Mask = SharedTensor;
    type Error = WorkerError;

    fn name(&self) -> String {
        format!("shared-fixed({} parties, precision {})", self.session.parties(), self.encoder.precision_fractional())
    }
}

impl TensorOps<SharedBackend> for SharedBackend {
    fn shape(&self, x: &SharedTensor) -> Vec<usize> {
        x.shape().to_vec()
    }
    fn constant(&self, shape: &[usize], values: &[f64]) -> OpResult<Self, SharedTensor> {
        let t = Tensor::new(shape, values.to_vec())?;
        SharedTensor::public(&self.encoder.encode(&t)?, Some(self.encoder), &self.session)
    }
    fn add(&self, a: &SharedTensor, b: &SharedTensor) -> OpResult<Self, SharedTensor> {
        a.add(b)
    }
    fn sub(&self, a: &SharedTensor, b: &SharedTensor) -> OpResult<Self, SharedTensor> {
        a.sub(b)
    }
    fn neg(&self, a: &SharedTensor) -> OpResult<Self, SharedTensor> {
        a.neg()
    }
    fn mul(&self, a: &SharedTensor, b: &SharedTensor) -> OpResult<Self, SharedTensor> {
        a.mul(b)
    }
    fn mul_scalar(&self, a: &SharedTensor, c: f64) -> OpResult<Self, SharedTensor> {
        a.mul_scalar(c)
    }
    fn reshape(&self, a: &SharedTensor, shape: &[usize]) -> OpResult<Self, SharedTensor> {
        a.reshape(shape)
    }
    fn transpose(&self, a: &SharedTensor) -> OpResult<Self, SharedTensor> {
        a.transpose()
    }
    fn broadcast_to(&self, a: &SharedTensor, shape: &[usize]) -> OpResult<Self, SharedTensor> {
        a.broadcast_to(shape)
    }
}

impl ReduceOps<SharedBackend> for SharedBackend {
    fn sum_all(&self, x: &SharedTensor) -> OpResult<Self, SharedTensor> {
        x.sum()
    }
    fn sum_axis(&self, x: &SharedTensor, axis: usize, keepdim: bool) -> OpResult<Self, SharedTensor> {
        x.sum_axis(axis, keepdim)
    }
    fn sum_to_shape(&self, x: &SharedTensor, shape: &[usize]) -> OpResult<Self, SharedTensor> {
        x.sum_to_shape(shape)
    }
}

impl MatmulOps<SharedBackend> for SharedBackend {
    fn matmul(&self, a: &SharedTensor, ta: Transpose, b: &SharedTensor, tb: Transpose) -> OpResult<Self, SharedTensor> {
        // An operand that is already opened (a weight used in the forward pass) is reused.
        let reuse = b.is_reusable();
        a.matmul_ex(ta == Transpose::Yes, b, tb == Transpose::Yes, reuse)
    }
}

impl ConvOps<SharedBackend> for SharedBackend {
    fn conv2d(&self, x: &SharedTensor, w: &SharedTensor, p: Conv2dParams) -> OpResult<Self, SharedTensor> {
        x.conv2d(w, p)
    }
    fn conv2d_input_grad(
        &self,
        grad_out: &SharedTensor,
        w: &SharedTensor,
        input_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, SharedTensor> {
        grad_out.conv2d_input_grad(w, input_shape, p)
    }
    fn conv2d_kernel_grad(
        &self,
        x: &SharedTensor,
        grad_out: &SharedTensor,
        kernel_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, SharedTensor> {
        x.conv2d_kernel_grad(grad_out, kernel_shape, p)
    }
    fn max_pool2d_with_mask(&self, x: &SharedTensor, pool: Pool2d) -> OpResult<Self, (SharedTensor, SharedTensor)> {
        if pool.params.padding != (0, 0) {
            return Err(WorkerError::InvalidArgument {
                op: "max_pool2d",
                reason: format!(
                    "padded max pooling is not supported on shared tensors (padding {:?})",
                    pool.params.padding
                ),
            });
        }
        x.max_pool2d_with_mask(pool.window, pool.params.stride)
    }
    fn max_pool2d_backward(
        &self,
        grad_out: &SharedTensor,
        mask: &SharedTensor,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, SharedTensor> {
        // Each output gradient to its window's maximum: spread over the taps, times the
        // one-hot mask (a Beaver product; the mask is unscaled, so no truncation), then
        // scattered back.
        let spread = spread_over_taps(grad_out, pool)?;
        spread.mul(mask)?.pool_windows_adjoint(input_shape, pool.window, pool.params)
    }
    fn sum_pool2d(&self, x: &SharedTensor, pool: Pool2d) -> OpResult<Self, SharedTensor> {
        x.pool_windows(pool.window, pool.params)?.sum_axis(4, false)
    }
    fn sum_pool2d_backward(
        &self,
        grad_out: &SharedTensor,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, SharedTensor> {
        spread_over_taps(grad_out, pool)?.pool_windows_adjoint(input_shape, pool.window, pool.params)
    }
}

impl ActivationOps<SharedBackend> for SharedBackend {
    fn relu_with_mask(&self, x: &SharedTensor) -> OpResult<Self, (SharedTensor, SharedTensor)> {
        x.relu_with_mask()
    }
    fn mul_mask(&self, x: &SharedTensor, mask: &SharedTensor) -> OpResult<Self, SharedTensor> {
        x.mul(mask)
    }
}

impl LossOps<SharedBackend> for SharedBackend {
    /// One operation in the session ([`SharedTensor::softmax_cross_entropy`]: SecureNN's
    /// row maximum and the approximations, run whole at the parties).
    fn softmax_cross_entropy(
        &self,
        logits: &SharedTensor,
        one_hot: &SharedTensor,
    ) -> OpResult<Self, (SharedTensor, SharedTensor)> {
        logits.softmax_cross_entropy(one_hot)
    }
}

/// `[N, C, OH, OW]` → `[N, C, OH, OW, KH·KW]`, each value repeated over its window's taps.
fn spread_over_taps(g: &SharedTensor, pool: Pool2d) -> Result<SharedTensor> {
    let mut shape = g.shape().to_vec();
    shape.push(1);
    let column = g.reshape(&shape)?;
    shape.pop();
    shape.push(pool.taps());
    column.broadcast_to(&shape)
}
