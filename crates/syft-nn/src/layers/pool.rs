//! [`MaxPool2d`], [`AvgPool2d`] and [`GlobalAvgPool2d`], PyTorch's pooling layers.

use super::activation::parameterless_module;
use syft_autograd::{Backend, Conv2dParams, OpResult, Pool2d, Var};

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

/// The mean of each channel over its whole `H × W` plane: `[N, C, H, W] -> [N, C, 1, 1]`
/// (PyTorch's `nn.AdaptiveAvgPool2d(1)`, ONNX's `GlobalAveragePool`).
///
/// An average pool whose window is the input's plane, so it needs no shape when built
/// and, like [`AvgPool2d`], runs on any backend: a local window sum times the public
/// constant `1 / (H·W)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalAvgPool2d {
    training: bool,
}

impl Default for GlobalAvgPool2d {
    fn default() -> Self {
        Self::new()
    }
}

impl GlobalAvgPool2d {
    /// A global average pool.
    #[must_use]
    pub fn new() -> Self {
        Self { training: true }
    }
}

/// The average pool over each whole plane of a `[N, C, H, W]` input.
fn global_avg_pool2d<B: Backend>(x: &Var<B>) -> OpResult<B, Var<B>> {
    let shape = x.shape();
    let &[_, _, h, w] = shape.as_slice() else {
        return Err(syft_autograd::Error::InvalidArgument {
            op: "GlobalAvgPool2d",
            reason: format!("input must be [N, C, H, W], got {shape:?}"),
        }
        .into());
    };
    x.avg_pool2d(Pool2d { window: (h, w), params: Conv2dParams { stride: (h.max(1), w.max(1)), padding: (0, 0) } })
}

parameterless_module!(MaxPool2d, |layer, x| x.max_pool2d(layer.pool));
parameterless_module!(AvgPool2d, |layer, x| x.avg_pool2d(layer.pool));
parameterless_module!(GlobalAvgPool2d, |_layer, x| global_avg_pool2d(x));
