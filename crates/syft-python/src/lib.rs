//! The native module `syft_rs._native` of the Python package `syft_rs`: the facade
//! crate `syft` from Python, with PyO3.
//!
//! Workers (in-process, network by address and certificates, served from Python),
//! tensors from anything with `__array__` and back to NumPy, pointers and remote
//! execution with autograd, pointer chains and `move`, fixed precision and secret sharing
//! with a crypto provider, models (layers in a `Sequential`, weights from a state dict,
//! safetensors or ONNX) shared and trained under encryption, SGD and Adam. Every Rust
//! error arrives as a Python exception under `syft_rs.SyftError`, with the Rust message;
//! computations run with the GIL released.
//!
//! The Python layer (`python/syft_rs`) arranges these names as PySyft and PyTorch users
//! expect (`sy.VirtualWorker`, `sy.nn.Linear`, `sy.optim.SGD`, ...).

mod classes;
mod convert;
mod errors;
mod grad;
mod nn;
mod optim;
mod pointer;
mod reference;
mod shared;
mod tensor;
mod workers;

use pyo3::prelude::*;

/// The module's classes, functions and exceptions.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<workers::PyHub>()?;
    m.add_class::<workers::PyWorker>()?;
    m.add_class::<workers::PyVirtualWorker>()?;
    m.add_class::<workers::PyNetworkWorker>()?;
    m.add_class::<workers::PyWorkerServer>()?;
    m.add_class::<workers::PyLocalWorker>()?;
    m.add_class::<workers::PyTlsIdentity>()?;
    m.add_class::<workers::PyIssuedCert>()?;
    m.add_class::<workers::PyDevCa>()?;
    m.add_function(wrap_pyfunction!(workers::gen_certs, m)?)?;
    m.add_function(wrap_pyfunction!(workers::connect, m)?)?;
    m.add_class::<classes::PyTensor>()?;
    m.add_class::<classes::PyFixedPrecision>()?;
    m.add_class::<classes::PyPointer>()?;
    m.add_class::<classes::PyShared>()?;
    m.add_class::<grad::NoGrad>()?;
    m.add_function(wrap_pyfunction!(grad::is_grad_enabled, m)?)?;
    m.add_class::<nn::PyLayer>()?;
    m.add_class::<nn::PySequential>()?;
    m.add_class::<nn::PyFixedPrecisionModel>()?;
    m.add_class::<nn::PySharedModel>()?;
    m.add_function(wrap_pyfunction!(nn::manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(nn::linear, m)?)?;
    m.add_function(wrap_pyfunction!(nn::conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(nn::relu_layer, m)?)?;
    m.add_function(wrap_pyfunction!(nn::max_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(nn::avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(nn::flatten, m)?)?;
    m.add_function(wrap_pyfunction!(nn::mse_loss, m)?)?;
    m.add_function(wrap_pyfunction!(nn::nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(nn::cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(nn::onnx_load, m)?)?;
    m.add_function(wrap_pyfunction!(nn::onnx_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(nn::onnx_export, m)?)?;
    m.add_function(wrap_pyfunction!(nn::load_mnist, m)?)?;
    m.add_class::<optim::PySgd>()?;
    m.add_class::<optim::PyAdam>()?;
    m.add_function(wrap_pyfunction!(reference::part12_encrypted_losses, m)?)?;
    m.add_function(wrap_pyfunction!(reference::part12_plain_losses, m)?)?;
    m.add_function(wrap_pyfunction!(reference::part12_setup, m)?)?;
    m.add_function(wrap_pyfunction!(reference::part11_evaluate, m)?)?;
    m.add("local_worker", workers::PyLocalWorker)?;
    Ok(())
}
