//! Neural-network ops: `relu` (mask from the forward pass), `mul_mask`, `conv2d`,
//! `max_pool2d` (mask from the forward pass), `avg_pool2d`.

use super::shape::inverse;
use crate::backend::{Backend, OpResult};
use crate::ops::Pool2d;
use crate::var::Var;
use syft_ring::Conv2dParams;

impl<B: Backend> Var<B> {
    /// `max(self, 0)`. The derivative mask comes from the forward comparison; backward
    /// only multiplies by it.
    pub fn relu(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let (value, mask) = b.relu_with_mask(&self.value())?;
        Ok(Self::from_op(
            "relu",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul_mask(&g, &mask)?)])),
        ))
    }

    /// `self ⊙ mask` for a 0/1 mask (no rescaling); the mask is a constant.
    pub fn mul_mask(&self, mask: &B::Mask) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.mul_mask(&self.value(), mask)?;
        let mask = mask.clone();
        Ok(Self::from_op(
            "mul_mask",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul_mask(&g, &mask)?)])),
        ))
    }

    /// 2-d convolution `self ⋆ kernel` (`[N, C, H, W] ⋆ [O, C, KH, KW]`), no bias.
    pub fn conv2d(&self, kernel: &Self, p: Conv2dParams) -> OpResult<B, Self> {
        let b = self.backend();
        let (x, w) = (self.value(), kernel.value());
        let value = b.conv2d(&x, &w, p)?;
        let (sx, sw) = (b.shape(&x), b.shape(&w));
        Ok(Self::from_op(
            "conv2d",
            b,
            value,
            vec![self.clone(), kernel.clone()],
            Box::new(move |b, g, n| {
                let gx = if super::needs(n, 0) { Some(b.conv2d_input_grad(&g, &w, &sx, p)?) } else { None };
                let gw = if super::needs(n, 1) { Some(b.conv2d_kernel_grad(&x, &g, &sw, p)?) } else { None };
                Ok(vec![gx, gw])
            }),
        ))
    }

    /// Max pooling over `[N, C, H, W]`; the window one-hots come from the forward pass.
    pub fn max_pool2d(&self, pool: Pool2d) -> OpResult<B, Self> {
        let b = self.backend();
        let (value, mask) = b.max_pool2d_with_mask(&self.value(), pool)?;
        let sx = self.shape();
        Ok(Self::from_op(
            "max_pool2d",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.max_pool2d_backward(&g, &mask, &sx, pool)?)])),
        ))
    }

    /// The sum over each pooling window (padding counts as zeros).
    pub fn sum_pool2d(&self, pool: Pool2d) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.sum_pool2d(&self.value(), pool)?;
        let sx = self.shape();
        Ok(Self::from_op(
            "sum_pool2d",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.sum_pool2d_backward(&g, &sx, pool)?)])),
        ))
    }

    /// Average pooling: the window sum times the public constant `1 / taps` (PyTorch's
    /// default `count_include_pad=True`).
    pub fn avg_pool2d(&self, pool: Pool2d) -> OpResult<B, Self> {
        self.sum_pool2d(pool)?.mul_scalar(inverse("avg_pool2d", pool.taps())?)
    }
}
