//! `with sy.no_grad():` — operations record no autograd graph on this thread (PyTorch's
//! `torch.no_grad()`), for encrypted inference and manual updates.

use pyo3::prelude::*;
use std::cell::RefCell;
use syft::autograd::NoGradGuard;

thread_local! {
    /// The guards of the open `no_grad` blocks of this thread, innermost last.
    static GUARDS: RefCell<Vec<NoGradGuard>> = const { RefCell::new(Vec::new()) };
}

/// A context manager: inside `with sy.no_grad():`, operations on this thread record no
/// graph. Blocks nest.
#[pyclass(module = "syft_rs", name = "no_grad")]
#[derive(Default)]
pub(crate) struct NoGrad;

#[pymethods]
impl NoGrad {
    #[new]
    fn new() -> Self {
        Self
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        GUARDS.with(|g| g.borrow_mut().push(NoGradGuard::new()));
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        GUARDS.with(|g| drop(g.borrow_mut().pop()));
        false
    }
}

/// Whether operations on this thread record gradients (`False` inside `no_grad`).
#[pyfunction]
pub(crate) fn is_grad_enabled() -> bool {
    syft::autograd::is_grad_enabled()
}
