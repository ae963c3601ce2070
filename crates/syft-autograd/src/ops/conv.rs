//! [`ConvOps`]: 2-d convolution with its adjoints, and pooling.

use crate::backend::{Backend, OpResult};
use syft_ring::Conv2dParams;

/// The geometry of a 2-d pooling: window, stride and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2d {
    /// Window height and width.
    pub window: (usize, usize),
    /// Stride and padding.
    pub params: Conv2dParams,
}

impl Pool2d {
    /// PyTorch's default: a `k × k` window with stride `k` and no padding.
    #[must_use]
    pub fn square(k: usize) -> Self {
        Self { window: (k, k), params: Conv2dParams::new(k, 0) }
    }

    /// The number of taps in one window.
    #[must_use]
    pub fn taps(&self) -> usize {
        self.window.0 * self.window.1
    }
}

/// Convolution and pooling over `[N, C, H, W]` inputs (PyTorch layouts).
///
/// Convolution and sum pooling are linear, so under sharing convolution is one Beaver
/// op and pooling is local; max pooling needs comparisons and returns its one-hot
/// window mask for the backward pass.
pub trait ConvOps<B: Backend> {
    /// `x ⋆ w` for `x: [N, C, H, W]`, `w: [O, C, KH, KW]` (cross-correlation).
    fn conv2d(&self, x: &B::Tensor, w: &B::Tensor, p: Conv2dParams) -> OpResult<B, B::Tensor>;

    /// The gradient of [`conv2d`](Self::conv2d) with respect to its input.
    fn conv2d_input_grad(
        &self,
        grad_out: &B::Tensor,
        w: &B::Tensor,
        input_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<B, B::Tensor>;

    /// The gradient of [`conv2d`](Self::conv2d) with respect to its kernel.
    fn conv2d_kernel_grad(
        &self,
        x: &B::Tensor,
        grad_out: &B::Tensor,
        kernel_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<B, B::Tensor>;

    /// Max pooling, returning the one-hot mask of each window's maximum (first on ties),
    /// whose layout only [`max_pool2d_backward`](Self::max_pool2d_backward) needs to know.
    fn max_pool2d_with_mask(&self, x: &B::Tensor, pool: Pool2d) -> OpResult<B, (B::Tensor, B::Mask)>;

    /// Routes each output gradient to its window's maximum.
    fn max_pool2d_backward(
        &self,
        grad_out: &B::Tensor,
        mask: &B::Mask,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<B, B::Tensor>;

    /// The sum over each window (padding counts as zeros). Average pooling is this times
    /// `1 / taps` (PyTorch's `count_include_pad=True`).
    fn sum_pool2d(&self, x: &B::Tensor, pool: Pool2d) -> OpResult<B, B::Tensor>;

    /// The adjoint of [`sum_pool2d`](Self::sum_pool2d): each output gradient to all taps.
    fn sum_pool2d_backward(&self, grad_out: &B::Tensor, input_shape: &[usize], pool: Pool2d) -> OpResult<B, B::Tensor>;
}
