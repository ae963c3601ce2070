//! The Python classes' data, apart from their methods (in `tensor`, `pointer`, `shared`),
//! so that the modules that return one another's classes do not depend on one another:
//! `Tensor`, `FixedPrecisionTensor`, `PointerTensor`, `AdditiveSharingTensor`, and the
//! helpers they share.

use crate::convert::f32_tensor;
use crate::errors::invalid;
use crate::workers::{Attached, PyWorker, workers_of};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::Arc;
use syft::prelude::{Cpu, FixedEncoder, FixedPrecisionTensor, Hub, PointerTensor, SharedBackend, Tensor, Var};
use syft::worker::FloatVar;

/// The plaintext float backend.
pub(crate) fn cpu() -> Cpu<f32> {
    Cpu::<f32>::default()
}

/// A local tensor's value.
#[derive(Clone)]
pub(crate) enum Value {
    /// `float32`, in the autograd graph.
    Float(FloatVar),
    /// `int64` as ring words (two's complement).
    Int(Tensor<u64>),
}

/// A local tensor: `Tensor([1., 2.], requires_grad=True)`, `Tensor(np_array)`.
#[pyclass(module = "syft_rs", name = "Tensor", frozen)]
pub(crate) struct PyTensor {
    pub(crate) value: Value,
}

impl PyTensor {
    pub(crate) fn from_var(var: FloatVar) -> Self {
        Self { value: Value::Float(var) }
    }

    pub(crate) fn from_int(t: Tensor<u64>) -> Self {
        Self { value: Value::Int(t) }
    }

    /// The float variable, or an error naming `op`.
    pub(crate) fn var(&self, op: &'static str) -> PyResult<&FloatVar> {
        match &self.value {
            Value::Float(v) => Ok(v),
            Value::Int(_) => Err(invalid(op, "defined on float32 tensors; convert with .float()")),
        }
    }
}

/// A float constant from anything NumPy converts to `float32`.
pub(crate) fn float_constant(data: &Bound<'_, PyAny>) -> PyResult<FloatVar> {
    Ok(Var::constant(&cpu(), f32_tensor(data)?))
}

/// A float operand: a `Tensor`'s variable (an error naming `op` for an `int64` one), or
/// a constant from anything with `__array__`.
pub(crate) fn float_operand(x: &Bound<'_, PyAny>, op: &'static str) -> PyResult<FloatVar> {
    match x.extract::<Bound<'_, PyTensor>>() {
        Ok(t) => Ok(t.get().var(op)?.clone()),
        Err(_) => float_constant(x),
    }
}

/// The encoder of `fix_precision(precision_fractional, base)`.
pub(crate) fn encoder(precision_fractional: u32, base: u64) -> PyResult<FixedEncoder> {
    FixedEncoder::new(base, precision_fractional).map_err(crate::errors::err)
}

/// A fixed-point encoded tensor in plaintext (what `fix_precision()` returns and what
/// `get()` on a shared tensor brings back); `float_precision()` decodes it.
#[pyclass(module = "syft_rs", name = "FixedPrecisionTensor", frozen)]
pub(crate) struct PyFixedPrecision {
    pub(crate) fixed: FixedPrecisionTensor,
}

/// A pointer to an object on a worker (`x.send(bob)`).
#[pyclass(module = "syft_rs", name = "PointerTensor", frozen)]
pub(crate) struct PyPointer {
    pub(crate) ptr: PointerTensor,
    pub(crate) hub: Arc<Hub>,
}

impl PyPointer {
    pub(crate) fn new(ptr: PointerTensor, hub: Arc<Hub>) -> Self {
        Self { ptr, hub }
    }
}

/// A secret-shared tensor (`x.fix_precision().share(bob, alice, crypto_provider=james)`).
#[pyclass(module = "syft_rs", name = "AdditiveSharingTensor", frozen)]
pub(crate) struct PyShared {
    pub(crate) var: Var<SharedBackend>,
}

impl PyShared {
    pub(crate) fn new(var: Var<SharedBackend>) -> Self {
        Self { var }
    }
}

/// The workers of `owners` and the crypto provider, for the stack.
pub(crate) fn attached(
    owners: &Bound<'_, PyTuple>,
    crypto_provider: &Bound<'_, PyWorker>,
) -> PyResult<(Vec<Attached>, Attached)> {
    let parties = workers_of(owners)?.iter().map(|w| w.get().worker().clone()).collect();
    Ok((parties, crypto_provider.get().worker().clone()))
}
