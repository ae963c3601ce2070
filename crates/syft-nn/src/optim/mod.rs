//! Optimizers, generic over the backend: [`Sgd`] (momentum, weight decay) runs on any
//! backend, including secret-shared parameters, because it needs only `mul_scalar`,
//! `add` and `sub`; [`Adam`] needs a [`FloatBackend`](syft_autograd::FloatBackend).

mod adam;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{Sgd, SgdConfig};

use syft_autograd::{Backend, OpResult, Var};

/// Updates parameters from their accumulated gradients.
pub trait Optimizer<B: Backend> {
    /// One update of every parameter that has a gradient.
    fn step(&mut self) -> OpResult<B, ()>;

    /// The parameters it updates.
    fn parameters(&self) -> &[Var<B>];

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }
}
