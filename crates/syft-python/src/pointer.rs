//! `PointerTensor`: a handle to an object on a worker. Operations run where the data
//! lives and return pointers; `get()` brings the object back; sending a pointer makes a
//! chain; `move` sends the data from worker to worker; autograd runs on the worker.

use crate::classes::{PyPointer, PyTensor};
use crate::errors::{invalid, run};
use crate::workers::{PyLocalWorker, PyWorker};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use syft::prelude::{Fetched, PointerTensor};

impl PyPointer {
    fn derived(&self, ptr: PointerTensor) -> Self {
        Self::new(ptr, self.hub.clone())
    }

    /// A remote operation with `others` as further operands.
    fn remote(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&PointerTensor) -> syft::worker::Result<PointerTensor> + Send,
    ) -> PyResult<Self> {
        let p = self.ptr.clone();
        Ok(self.derived(run(py, move || Ok(f(&p)?))?))
    }

    fn other(other: &Bound<'_, PyAny>, op: &'static str) -> PyResult<PointerTensor> {
        other.extract::<Bound<'_, PyPointer>>().map(|p| p.get().ptr.clone()).map_err(|_| {
            invalid(op, format!("the other operand must be a pointer on the same worker, not {}", other.get_type()))
        })
    }
}

#[pymethods]
impl PyPointer {
    /// The worker holding the object.
    #[getter]
    fn location(&self) -> PyResult<PyWorker> {
        PyWorker::reference(&self.hub, self.ptr.location())
    }

    /// The object's id on its worker.
    #[getter]
    fn id_at_location(&self) -> u64 {
        self.ptr.id_at_location()
    }

    /// This pointer's own id.
    #[getter]
    fn id(&self) -> u64 {
        self.ptr.id()
    }

    /// The worker holding this pointer: this program, `sy.local_worker`.
    #[getter]
    fn owner(&self) -> PyLocalWorker {
        PyLocalWorker
    }

    /// The shape of the remote object (empty for a pointer in a chain).
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let p = self.ptr.clone();
        let shape = run(py, move || Ok(p.shape()?))?;
        PyTuple::new(py, shape)
    }

    /// Whether dropping this pointer deletes the remote object.
    #[getter]
    fn garbage_collect_data(&self) -> bool {
        self.ptr.garbage_collect_data()
    }

    #[setter]
    fn set_garbage_collect_data(&self, on: bool) {
        self.ptr.set_garbage_collect_data(on);
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.ptr)
    }

    fn __str__(&self) -> String {
        self.ptr.to_string()
    }

    /// Brings the object back and removes it from the worker: a `Tensor` (with its
    /// gradient), or for a pointer to a pointer, the next pointer of the chain.
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.ptr.clone();
        match run(py, move || Ok(p.get()?))? {
            Fetched::Float(v) => Ok(Bound::new(py, PyTensor::from_var(v))?.into_any()),
            Fetched::Ring(t) => Ok(Bound::new(py, PyTensor::from_int(t))?.into_any()),
            Fetched::Pointer(p) => Ok(Bound::new(py, self.derived(p))?.into_any()),
            other => Err(invalid("get", format!("unexpected object {other:?}"))),
        }
    }

    /// Sends this pointer to `worker`: the data stays, `worker` holds a pointer to it, and
    /// the result points to that pointer (PySyft's `x_ptr.send(alice)`).
    fn send(&self, py: Python<'_>, worker: &Bound<'_, PyWorker>) -> PyResult<Self> {
        let w = worker.get().worker().clone();
        self.remote(py, move |p| p.clone().send(&w))
    }

    /// Moves the data from its worker straight to `worker` (PySyft's `x.move(alice)`).
    #[pyo3(name = "move")]
    fn move_to(&self, py: Python<'_>, worker: &Bound<'_, PyWorker>) -> PyResult<Self> {
        let w = worker.get().worker().clone();
        self.remote(py, move |p| p.clone().move_to(&w))
    }

    /// Backpropagates from this (scalar) remote tensor, on its worker.
    fn backward(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.ptr.clone();
        run(py, move || Ok(p.backward()?))
    }

    /// A pointer to the remote tensor's gradient.
    #[getter]
    fn grad(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, |p| p.grad())
    }

    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = Self::other(other, "add")?;
        self.remote(py, move |p| p.add(&o))
    }
    /// `self + other` on the worker (`torch.add`).
    fn add(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__add__(py, other)
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = Self::other(other, "sub")?;
        self.remote(py, move |p| p.sub(&o))
    }
    /// `self - other` on the worker.
    fn sub(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__sub__(py, other)
    }
    /// `self * other` on the worker (`other` a pointer or a number).
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(c) = other.extract::<f64>() {
            return self.remote(py, move |p| p.mul_scalar(c));
        }
        let o = Self::other(other, "mul")?;
        self.remote(py, move |p| p.mul(&o))
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__mul__(py, other)
    }
    /// `self * other` on the worker.
    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__mul__(py, other)
    }
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = Self::other(other, "matmul")?;
        self.remote(py, move |p| p.matmul(&o))
    }
    /// `self @ other` on the worker.
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__matmul__(py, other)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, PointerTensor::neg)
    }
    /// `self ** 2` on the worker (the only power workers compute).
    fn __pow__(&self, py: Python<'_>, n: u32, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if n != 2 || modulo.is_some() {
            return Err(invalid("pow", "workers compute the square (** 2) only"));
        }
        self.remote(py, PointerTensor::square)
    }
    /// The sum of all elements, or along `dim`, on the worker.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn sum(&self, py: Python<'_>, dim: Option<usize>, keepdim: bool) -> PyResult<Self> {
        match dim {
            None => self.remote(py, PointerTensor::sum),
            Some(d) => self.remote(py, move |p| p.sum_axis(d, keepdim)),
        }
    }
    /// The mean of all elements, on the worker.
    fn mean(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, PointerTensor::mean)
    }
    /// `max(self, 0)` on the worker.
    fn relu(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, PointerTensor::relu)
    }
    /// `self * self` on the worker.
    fn square(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, PointerTensor::square)
    }
    /// The same data under a new shape, on the worker.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: Vec<usize>) -> PyResult<Self> {
        self.remote(py, move |p| p.reshape(&shape))
    }
    /// The last two axes swapped, on the worker.
    fn t(&self, py: Python<'_>) -> PyResult<Self> {
        self.remote(py, PointerTensor::transpose)
    }
    /// Log-softmax along `dim`, on the worker.
    #[pyo3(signature = (dim = 1))]
    fn log_softmax(&self, py: Python<'_>, dim: usize) -> PyResult<Self> {
        self.remote(py, move |p| p.log_softmax(dim))
    }
}
