//! The layers: [`Linear`], [`Conv2d`], [`ReLU`], [`MaxPool2d`], [`AvgPool2d`],
//! [`GlobalAvgPool2d`], [`Flatten`], and the container [`Sequential`].

mod activation;
mod conv;
mod flatten;
mod linear;
mod pool;
mod sequential;

pub use activation::ReLU;
pub use conv::Conv2d;
pub use flatten::Flatten;
pub use linear::Linear;
pub use pool::{AvgPool2d, GlobalAvgPool2d, MaxPool2d};
pub use sequential::{Layer, Sequential};

use syft_autograd::{Backend, Error as AutogradError, OpResult, Var};

/// Checks a parameter's shape, for constructors that take tensors.
pub(crate) fn check_shape<B: Backend>(op: &'static str, what: &str, v: &Var<B>, expected: &[usize]) -> OpResult<B, ()> {
    let shape = v.shape();
    if shape == expected {
        Ok(())
    } else {
        Err(AutogradError::InvalidArgument { op, reason: format!("{what} has shape {shape:?}, expected {expected:?}") }
            .into())
    }
}
