//! [`Flatten`], PyTorch's `nn.Flatten` (and the `x.view(-1, 784)` of the tutorials).

use super::activation::parameterless_module;

/// Flattens axes `start_dim..` into one (default `start_dim = 1`: keep the batch axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten {
    start_dim: usize,
    training: bool,
}

impl Default for Flatten {
    fn default() -> Self {
        Self::new()
    }
}

impl Flatten {
    /// Flattens everything but the batch axis.
    #[must_use]
    pub fn new() -> Self {
        Self::from_dim(1)
    }

    /// Flattens axes `start_dim..`.
    #[must_use]
    pub fn from_dim(start_dim: usize) -> Self {
        Self { start_dim, training: true }
    }
}

parameterless_module!(Flatten, |layer, x| x.flatten(layer.start_dim));
