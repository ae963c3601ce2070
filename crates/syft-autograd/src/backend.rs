//! The backend seam: [`Backend`] (associated types) and [`FloatBackend`].
//!
//! A backend is a *value* (`&self` on every op) so that it can carry context: nothing
//! for the plaintext [`Cpu`](crate::Cpu) backend; workers, a communicator and a crypto
//! provider for a secret-shared one. Every op returns `Result`, because under
//! encryption an op may do network I/O and fail.
//!
//! The ops are grouped into traits, one file each under [`ops`](crate::ops), in the
//! manner of burn: `Backend` requires them all, so `B: Backend` is the one bound that
//! generic code (autograd, modules, SGD) needs. Float-only extras live in
//! [`FloatOps`], required only by [`FloatBackend`].

use crate::error::Error;
use crate::ops::{ActivationOps, ConvOps, FloatOps, MatmulOps, ReduceOps, TensorOps};
use std::fmt::Debug;

/// A tensor backend: its tensor, mask and error types, and every op autograd needs.
///
/// Implementations: [`Cpu<f32>`](crate::Cpu) and [`Cpu<f64>`](crate::Cpu) here;
/// fixed-point and secret-shared fixed-point tensors in the crates above.
pub trait Backend:
    TensorOps<Self>
    + ReduceOps<Self>
    + MatmulOps<Self>
    + ConvOps<Self>
    + ActivationOps<Self>
    + Clone
    + Debug
    + Send
    + Sync
    + Sized
    + 'static
{
    /// The tensor type (for a shared backend: a handle to shares living on workers).
    type Tensor: Clone + Debug + Send + Sync + 'static;
    /// A 0/1 mask from a comparison (ReLU's derivative, max pool's window one-hots).
    ///
    /// Multiplying by a mask ([`ActivationOps::mul_mask`]) never rescales, which is what a
    /// fixed-point backend needs.
    type Mask: Clone + Debug + Send + Sync + 'static;
    /// The backend's error; autograd's own errors convert into it.
    type Error: std::error::Error + From<Error> + Send + Sync + 'static;

    /// A short human name ("cpu-f32", "shared-fixed"), for logs and `Debug`.
    fn name(&self) -> String;
}

/// A backend with real-number ops (exp, log, division, sqrt, log-softmax).
///
/// Encrypted backends need not implement it; losses and optimizers that need these ops
/// (cross-entropy, Adam) are bounded by it.
pub trait FloatBackend: Backend + FloatOps<Self> {}

impl<B: Backend + FloatOps<B>> FloatBackend for B {}

/// `Result` with a backend's error.
pub type OpResult<B, T> = std::result::Result<T, <B as Backend>::Error>;
