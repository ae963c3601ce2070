//! [`Pointer<T>`]: a pointer that knows what it points to, so `get()` returns it.
//!
//! `Tensor::<f32>::from_vec(..).send(bob)?` is a `Pointer<Tensor<f32>>`; its remote
//! operations return pointers of the same type, and `get()` brings back a `Tensor<f32>`.
//! Sending a pointer makes a chain whose type says so: `x_ptr.send(alice)?` is a
//! `Pointer<Pointer<Tensor<f32>>>`, whose `get()` returns the `Pointer<Tensor<f32>>` on
//! bob. A pointer to a variable (`Var` with `requires_grad`) is a `Pointer<FloatVar>`: its
//! `get()` returns the variable with its gradient.
//!
//! A `Pointer<T>` dereferences to the untyped [`PointerTensor`] (metadata, `apply`,
//! `grant`, ...); [`Pointer::into_untyped`] and [`PointerTensor::typed`] convert. What
//! arrives is still checked: a `get()` that finds another kind of object is a typed error.

use super::{Fetched, PointerTensor};
use crate::error::Result;
use crate::ops::FloatVar;
use crate::transport::Worker;
use std::marker::PhantomData;
use syft_ring::Tensor;

/// What a [`Pointer`] can point to: a value `get()` brings back.
pub trait Fetch: Sized {
    /// The value, from what the worker sent back (a typed error if it is another kind).
    fn from_fetched(fetched: Fetched) -> Result<Self>;
}

impl Fetch for Tensor<f32> {
    fn from_fetched(fetched: Fetched) -> Result<Self> {
        fetched.into_tensor()
    }
}

impl Fetch for Tensor<u64> {
    fn from_fetched(fetched: Fetched) -> Result<Self> {
        fetched.into_ring()
    }
}

impl Fetch for FloatVar {
    fn from_fetched(fetched: Fetched) -> Result<Self> {
        fetched.into_float()
    }
}

impl<T: Fetch> Fetch for Pointer<T> {
    fn from_fetched(fetched: Fetched) -> Result<Self> {
        Ok(fetched.into_pointer()?.typed())
    }
}

impl Fetch for Fetched {
    fn from_fetched(fetched: Fetched) -> Result<Self> {
        Ok(fetched)
    }
}

/// A pointer to a remote `T`: `get()` returns the `T`, remote operations return a `Pointer<T>`,
/// and sending it makes a chain (`Pointer<Pointer<T>>`).
pub struct Pointer<T> {
    inner: PointerTensor,
    points_to: PhantomData<fn() -> T>,
}

impl<T> Clone for Pointer<T> {
    fn clone(&self) -> Self {
        self.inner.clone().typed()
    }
}

impl<T> std::fmt::Debug for Pointer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> std::fmt::Display for Pointer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

impl<T> std::ops::Deref for Pointer<T> {
    type Target = PointerTensor;

    fn deref(&self) -> &PointerTensor {
        &self.inner
    }
}

impl<T> From<Pointer<T>> for PointerTensor {
    fn from(p: Pointer<T>) -> Self {
        p.inner
    }
}

impl PointerTensor {
    /// This pointer, typed as pointing to a `T` (checked when the value is fetched).
    #[must_use]
    pub fn typed<T>(self) -> Pointer<T> {
        Pointer { inner: self, points_to: PhantomData }
    }

    /// This pointer (already untyped): lets code that handles pointers of every depth
    /// alike write `.into_untyped()` whatever it holds.
    #[must_use]
    pub fn into_untyped(self) -> PointerTensor {
        self
    }
}

impl<T> Pointer<T> {
    /// The untyped pointer.
    #[must_use]
    pub fn into_untyped(self) -> PointerTensor {
        self.inner
    }

    /// Sends this pointer to `worker` ([`PointerTensor::send`]): the result points to the
    /// pointer now held by `worker`.
    pub fn send(self, worker: &(impl Worker + ?Sized)) -> Result<Pointer<Self>> {
        Ok(self.inner.send(worker)?.typed())
    }

    /// Moves the value straight to `worker` ([`PointerTensor::move_to`]).
    pub fn move_to(self, worker: &(impl Worker + ?Sized)) -> Result<Self> {
        Ok(self.inner.move_to(worker)?.typed())
    }

    /// A pointer to the gradient of the remote variable ([`PointerTensor::grad`]).
    pub fn grad(&self) -> Result<Pointer<Tensor<f32>>> {
        Ok(self.inner.grad()?.typed())
    }
}

impl<T: Fetch> Pointer<T> {
    /// Brings the value back and removes it from the worker (PySyft's `get()`); for a
    /// chain, the next pointer.
    pub fn get(self) -> Result<T> {
        T::from_fetched(self.inner.get()?)
    }
}
