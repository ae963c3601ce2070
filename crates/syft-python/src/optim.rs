//! Optimizers from Python: `optim.SGD(params=model.parameters(), lr=0.1)` over plaintext
//! or shared parameters (the update of shared parameters runs under encryption), and
//! `optim.Adam` over plaintext ones.

use crate::classes::{PyShared, PyTensor};
use crate::errors::{invalid, run};
use pyo3::prelude::*;
use std::sync::Mutex;
use syft::nn::Optimizer;
use syft::prelude::{Adam, AdamConfig, Cpu, Sgd, SgdConfig, SharedBackend, Var};

/// SGD over plaintext or over shared parameters.
enum AnySgd {
    Plain(Sgd<Cpu<f32>>),
    Shared(Sgd<SharedBackend>),
}

/// The parameters of `params`: all plaintext tensors or all shared ones.
enum Params {
    Plain(Vec<Var<Cpu<f32>>>),
    Shared(Vec<Var<SharedBackend>>),
}

fn params_of(params: &Bound<'_, PyAny>) -> PyResult<Params> {
    let items: Vec<Bound<'_, PyAny>> = params.try_iter()?.collect::<PyResult<_>>()?;
    if items.iter().all(|p| p.is_instance_of::<PyShared>()) && !items.is_empty() {
        return Ok(Params::Shared(
            items.iter().map(|p| Ok(p.extract::<Bound<'_, PyShared>>()?.get().var.clone())).collect::<PyResult<_>>()?,
        ));
    }
    let plain = items
        .iter()
        .map(|p| {
            let t = p
                .extract::<Bound<'_, PyTensor>>()
                .map_err(|_| invalid("optimizer", "parameters are all tensors or all shared tensors"))?;
            Ok(t.get().var("optimizer")?.clone())
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Params::Plain(plain))
}

fn locked<T>(m: &Mutex<T>) -> syft::Result<std::sync::MutexGuard<'_, T>> {
    m.lock().map_err(|_| {
        syft::worker::WorkerError::InvalidArgument { op: "optimizer", reason: "poisoned by an earlier panic".into() }
            .into()
    })
}

/// Stochastic gradient descent (PyTorch's `optim.SGD`).
#[pyclass(module = "syft_rs", name = "SGD", frozen)]
pub(crate) struct PySgd {
    opt: Mutex<AnySgd>,
}

#[pymethods]
impl PySgd {
    /// `SGD(params, lr, momentum=0, weight_decay=0)`.
    #[new]
    #[pyo3(signature = (params, lr, momentum = 0.0, weight_decay = 0.0))]
    fn new(params: &Bound<'_, PyAny>, lr: f64, momentum: f64, weight_decay: f64) -> PyResult<Self> {
        let config = SgdConfig::new(lr).momentum(momentum).weight_decay(weight_decay);
        let opt = match params_of(params)? {
            Params::Plain(p) => AnySgd::Plain(Sgd::new(p, config)),
            Params::Shared(p) => AnySgd::Shared(Sgd::new(p, config)),
        };
        Ok(Self { opt: Mutex::new(opt) })
    }

    /// PySyft's `optim.SGD(...).fix_precision()`: returns this optimizer, whose update of
    /// shared parameters already runs at their fixed precision.
    fn fix_precision(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Clears the parameters' gradients.
    fn zero_grad(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || {
            match &*locked(&self.opt)? {
                AnySgd::Plain(o) => o.zero_grad(),
                AnySgd::Shared(o) => o.zero_grad(),
            }
            Ok(())
        })
    }

    /// One update from the accumulated gradients.
    fn step(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || {
            match &mut *locked(&self.opt)? {
                AnySgd::Plain(o) => o.step()?,
                AnySgd::Shared(o) => o.step()?,
            }
            Ok(())
        })
    }
}

/// Adam over plaintext parameters (PyTorch's `optim.Adam`).
#[pyclass(module = "syft_rs", name = "Adam", frozen)]
pub(crate) struct PyAdam {
    opt: Mutex<Adam<Cpu<f32>>>,
}

#[pymethods]
impl PyAdam {
    /// `Adam(params, lr=0.001)`.
    #[new]
    #[pyo3(signature = (params, lr = 0.001))]
    fn new(params: &Bound<'_, PyAny>, lr: f64) -> PyResult<Self> {
        match params_of(params)? {
            Params::Plain(p) => Ok(Self { opt: Mutex::new(Adam::new(p, AdamConfig::new(lr))) }),
            Params::Shared(_) => Err(invalid("Adam", "Adam runs on plaintext parameters; use SGD on shared ones")),
        }
    }

    /// Clears the parameters' gradients.
    fn zero_grad(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || {
            locked(&self.opt)?.zero_grad();
            Ok(())
        })
    }

    /// One update from the accumulated gradients.
    fn step(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || Ok(locked(&self.opt)?.step()?))
    }
}
