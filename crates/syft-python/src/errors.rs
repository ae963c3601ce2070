//! The Python exceptions: one class per variant of [`syft::Error`] under a base
//! `SyftError`, each carrying the Rust error's message, and the conversions from every
//! Rust error of the stack.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{PyErr, create_exception};
use syft::worker::WorkerError as RustWorkerError;

create_exception!(syft_rs, SyftError, PyException, "Any error of syft-rs (the base of every other).");
create_exception!(syft_rs, RingError, SyftError, "Tensors: shapes, axes, ranges, decoding.");
create_exception!(syft_rs, FixedPrecisionError, SyftError, "Fixed-point encoding (NaN, infinities, range).");
create_exception!(syft_rs, ShareError, SyftError, "Secret sharing and communication between parties.");
create_exception!(syft_rs, SpdzError, SyftError, "SPDZ protocols and their material.");
create_exception!(syft_rs, SecureNNError, SyftError, "SecureNN protocols (comparisons, ReLU, argmax, pooling).");
create_exception!(syft_rs, AutogradError, SyftError, "Autograd (a second backward, a missing gradient).");
create_exception!(syft_rs, NNError, SyftError, "Modules, data files and weights.");
create_exception!(
    syft_rs,
    WorkerError,
    SyftError,
    "Workers, pointers and shared tensors: a refused request, a stopped worker, a bad argument."
);
create_exception!(syft_rs, NetError, SyftError, "Network workers: sockets, TLS, certificates.");
create_exception!(syft_rs, OnnxError, SyftError, "ONNX import: an unreadable, malformed or unsupported model.");

/// The Python exception for any error of the stack (the facade's variant decides the
/// class; the message is the Rust error's).
pub(crate) fn err(e: impl Into<syft::Error>) -> PyErr {
    let e: syft::Error = e.into();
    let message = e.to_string();
    match e {
        syft::Error::Ring(_) => RingError::new_err(message),
        syft::Error::Fixed(_) => FixedPrecisionError::new_err(message),
        syft::Error::Share(_) => ShareError::new_err(message),
        syft::Error::Spdz(_) => SpdzError::new_err(message),
        syft::Error::Securenn(_) => SecureNNError::new_err(message),
        syft::Error::Autograd(_) => AutogradError::new_err(message),
        syft::Error::Nn(_) => NNError::new_err(message),
        syft::Error::Worker(_) => WorkerError::new_err(message),
        syft::Error::Net(_) => NetError::new_err(message),
        _ => SyftError::new_err(message),
    }
}

/// The Python exception for an ONNX import error.
pub(crate) fn onnx_err(e: &syft_onnx::Error) -> PyErr {
    OnnxError::new_err(e.to_string())
}

/// An invalid argument of operation `op`, as the worker layer reports it.
pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> PyErr {
    err(RustWorkerError::InvalidArgument { op, reason: reason.into() })
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SyftError", py.get_type::<SyftError>())?;
    m.add("RingError", py.get_type::<RingError>())?;
    m.add("FixedPrecisionError", py.get_type::<FixedPrecisionError>())?;
    m.add("ShareError", py.get_type::<ShareError>())?;
    m.add("SpdzError", py.get_type::<SpdzError>())?;
    m.add("SecureNNError", py.get_type::<SecureNNError>())?;
    m.add("AutogradError", py.get_type::<AutogradError>())?;
    m.add("NNError", py.get_type::<NNError>())?;
    m.add("WorkerError", py.get_type::<WorkerError>())?;
    m.add("NetError", py.get_type::<NetError>())?;
    m.add("OnnxError", py.get_type::<OnnxError>())?;
    Ok(())
}

/// Runs `f` with the GIL released (other Python threads go on while the stack computes
/// or waits for workers), and turns its error into the Python exception.
pub(crate) fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> syft::Result<T> + Send) -> PyResult<T> {
    py.detach(f).map_err(err)
}
