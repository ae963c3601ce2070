//! [`MaxPool2d`] and [`AvgPool2d`], PyTorch's pooling layers.

use super::activation::parameterless_module;
use syft_autograd::{Conv2dParams, Pool2d};

/// Max pooling over `[N, C, H, W]`; the window one-hots come from the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    pool: Pool2d,
    training: bool,
}

impl MaxPool2d {
    /// A `k × k` window with stride `k` (PyTorch's `nn.MaxPool2d(k)`).
    #[must_use]
    pub fn new(k: usize) -> Self {
        Self::with_params((k, k), Conv2dParams::new(k, 0))
    }

    /// Any window, stride and padding.
    #[must_use]
    pub fn with_params(window: (usize, usize), params: Conv2dParams) -> Self {
        Self { pool: Pool2d { window, params }, training: true }
    }

    /// The pooling geometry.
    #[must_use]
    pub fn pool(&self) -> Pool2d {
        self.pool
    }
}

/// Average pooling over `[N, C, H, W]` (padding counts as zeros, `count_include_pad=True`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    pool: Pool2d,
    training: bool,
}

impl AvgPool2d {
    /// A `k × k` window with stride `k` (PyTorch's `nn.AvgPool2d(k)`).
    #[must_use]
    pub fn new(k: usize) -> Self {
        Self::with_params((k, k), Conv2dParams::new(k, 0))
    }

    /// Any window, stride and padding.
    #[must_use]
    pub fn with_params(window: (usize, usize), params: Conv2dParams) -> Self {
        Self { pool: Pool2d { window, params }, training: true }
    }

    /// The pooling geometry.
    #[must_use]
    pub fn pool(&self) -> Pool2d {
        self.pool
    }
}

parameterless_module!(MaxPool2d, |layer, x| x.max_pool2d(layer.pool));
parameterless_module!(AvgPool2d, |layer, x| x.avg_pool2d(layer.pool));
