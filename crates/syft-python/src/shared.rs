//! `AdditiveSharingTensor`: a tensor secret-shared among workers, in the autograd graph
//! when shared with `requires_grad=True`. Arithmetic and products run as SPDZ protocols,
//! ReLU, argmax, max and comparisons as SecureNN protocols among the workers; `get()`
//! reconstructs the fixed-point value here.

use crate::classes::{PyFixedPrecision, PyShared, PyTensor, Value, attached};
use crate::errors::{invalid, run};
use crate::workers::{PyWorker, dyns};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use syft::prelude::{FixedEncoder, MpcSession, SharedBackend, SharedTensor, Tensor, Var};

/// A shared operator's other operand.
enum Operand {
    Shared(Var<SharedBackend>),
    /// A public value (a number or a plaintext tensor), as `f64`.
    Public(Tensor<f64>),
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    RSub,
    Mul,
    MatMul,
}

impl PyShared {
    /// Shares `raw` (ring words, encoded with `encoder`, or integers with `None`) among
    /// `owners`.
    pub(crate) fn share(
        py: Python<'_>,
        raw: &Tensor<u64>,
        encoder: Option<FixedEncoder>,
        owners: &Bound<'_, PyTuple>,
        crypto_provider: &Bound<'_, PyWorker>,
        requires_grad: bool,
    ) -> PyResult<Self> {
        let (parties, cp) = attached(owners, crypto_provider)?;
        let raw = raw.clone();
        let var = run(py, move || {
            let session = MpcSession::get_or_create(&dyns(&parties), &cp)?;
            let shared = SharedTensor::share(&raw, encoder, &session)?;
            let backend = SharedBackend::new(session, encoder.unwrap_or(FixedEncoder::INTEGER));
            Ok(Var::new(&backend, shared, requires_grad))
        })?;
        Ok(Self { var })
    }

    /// A result computed on the shared value outside the graph (comparisons, argmax).
    fn value_op(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&SharedTensor) -> syft::worker::Result<SharedTensor> + Send,
    ) -> PyResult<Self> {
        let v = self.var.clone();
        let out = run(py, move || Ok(f(&v.value())?))?;
        Ok(Self { var: Var::constant(self.var.backend(), out) })
    }

    /// An operation that autograd records.
    fn graph_op(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Var<SharedBackend>) -> syft::worker::Result<Var<SharedBackend>> + Send,
    ) -> PyResult<Self> {
        let v = self.var.clone();
        Ok(Self { var: run(py, move || Ok(f(&v)?))? })
    }

    fn operand(other: &Bound<'_, PyAny>, op: &'static str) -> PyResult<Operand> {
        if let Ok(s) = other.extract::<Bound<'_, PyShared>>() {
            return Ok(Operand::Shared(s.get().var.clone()));
        }
        if let Ok(c) = other.extract::<f64>() {
            return Ok(Operand::Public(Tensor::scalar(c)));
        }
        if let Ok(t) = other.extract::<Bound<'_, PyTensor>>() {
            return Ok(Operand::Public(match &t.get().value {
                Value::Float(v) => v.value().map(f64::from),
                #[allow(clippy::cast_precision_loss, reason = "a public integer operand")]
                Value::Int(t) => t.map(|x| x.cast_signed() as f64),
            }));
        }
        Err(invalid(op, format!("cannot combine a shared tensor with {}", other.get_type())))
    }

    fn binary(&self, py: Python<'_>, other: &Bound<'_, PyAny>, op: Op, name: &'static str) -> PyResult<Self> {
        let other = Self::operand(other, name)?;
        let a = self.var.clone();
        let var = run(py, move || {
            // A scalar factor needs no protocol.
            if let (Op::Mul, Operand::Public(c)) = (op, &other)
                && c.shape().is_empty()
            {
                return Ok(a.mul_scalar(c.item()?)?);
            }
            let b = match other {
                Operand::Shared(b) => b,
                Operand::Public(c) => Var::constant(a.backend(), public_like(&a.value(), &c)?),
            };
            Ok(match op {
                Op::Add => a.add(&b)?,
                Op::Sub => a.sub(&b)?,
                Op::RSub => b.sub(&a)?,
                Op::Mul => a.mul(&b)?,
                Op::MatMul => a.matmul(&b)?,
            })
        })?;
        Ok(Self { var })
    }
}

/// A public value with the encoding of `like` (its fixed-point scale, or raw integers).
fn public_like(like: &SharedTensor, c: &Tensor<f64>) -> syft::Result<SharedTensor> {
    Ok(match like.encoder() {
        Some(e) => SharedTensor::public(&e.encode(c)?, Some(e), like.session())?,
        None => {
            #[allow(clippy::cast_possible_truncation, reason = "a public integer operand")]
            let raw = c.map(|v| (v.round() as i64).cast_unsigned());
            SharedTensor::public(&raw, None, like.session())?
        }
    })
}

#[pymethods]
impl PyShared {
    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::Add, "add")
    }
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::Add, "add")
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::Sub, "sub")
    }
    fn __rsub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::RSub, "sub")
    }
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::Mul, "mul")
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::Mul, "mul")
    }
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::MatMul, "matmul")
    }
    /// `self @ other` (a SPDZ product).
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.binary(py, other, Op::MatMul, "matmul")
    }
    /// `self / c` for a public number `c`.
    fn __truediv__(&self, py: Python<'_>, c: f64) -> PyResult<Self> {
        self.graph_op(py, move |v| v.mul_scalar(1.0 / c))
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<Self> {
        self.graph_op(py, Var::neg)
    }
    /// `self ** 2` (the only power computed on shares).
    fn __pow__(&self, py: Python<'_>, n: u32, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if n != 2 || modulo.is_some() {
            return Err(invalid("pow", "shared tensors compute the square (** 2) only"));
        }
        self.graph_op(py, Var::square)
    }
    /// The sum of all elements, or along `dim` (local to each party).
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn sum(&self, py: Python<'_>, dim: Option<usize>, keepdim: bool) -> PyResult<Self> {
        match dim {
            None => self.graph_op(py, Var::sum),
            Some(d) => self.graph_op(py, move |v| v.sum_axis(d, keepdim)),
        }
    }
    /// `max(self, 0)` (SecureNN).
    fn relu(&self, py: Python<'_>) -> PyResult<Self> {
        self.graph_op(py, Var::relu)
    }
    /// `self * self`.
    fn square(&self, py: Python<'_>) -> PyResult<Self> {
        self.graph_op(py, Var::square)
    }
    /// The same data under a new shape.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: Vec<i64>) -> PyResult<Self> {
        let numel = self.var.shape().iter().product();
        let shape = crate::convert::resolve_shape("reshape", numel, &shape)?;
        self.graph_op(py, move |v| v.reshape(&shape))
    }
    /// The same data under a new shape (PyTorch's `view`).
    #[pyo3(signature = (*shape))]
    fn view(&self, py: Python<'_>, shape: Vec<i64>) -> PyResult<Self> {
        self.reshape(py, shape)
    }
    /// The same data under the shape of `other`.
    fn view_as(&self, py: Python<'_>, other: &Bound<'_, PyShared>) -> PyResult<Self> {
        let shape = other.get().var.shape();
        self.graph_op(py, move |v| v.reshape(&shape))
    }
    /// The last two axes swapped.
    fn t(&self, py: Python<'_>) -> PyResult<Self> {
        self.graph_op(py, Var::transpose)
    }
    /// The index of the maximum along `dim`, shared (raw integers; SecureNN).
    #[pyo3(signature = (dim = 1))]
    fn argmax(&self, py: Python<'_>, dim: usize) -> PyResult<Self> {
        self.value_op(py, move |v| v.argmax(dim))
    }
    /// The one-hot of the maximum along `dim`, shared (raw bits; SecureNN).
    #[pyo3(signature = (dim = 1))]
    fn argmax_one_hot(&self, py: Python<'_>, dim: usize) -> PyResult<Self> {
        self.value_op(py, move |v| v.argmax_one_hot(dim))
    }
    /// The maximum along `dim` (SecureNN).
    #[pyo3(signature = (dim = 1))]
    fn max(&self, py: Python<'_>, dim: usize) -> PyResult<Self> {
        self.value_op(py, move |v| v.max(dim))
    }
    /// The bits `self == other`, shared (SecureNN).
    fn eq(&self, py: Python<'_>, other: &Bound<'_, PyShared>) -> PyResult<Self> {
        let o = other.get().var.value();
        self.value_op(py, move |v| v.eq(&o))
    }
    /// The bits `self > other`, shared (SecureNN).
    fn gt(&self, py: Python<'_>, other: &Bound<'_, PyShared>) -> PyResult<Self> {
        let o = other.get().var.value();
        self.value_op(py, move |v| v.gt(&o))
    }
    /// A copy with shares of its own (`get()` on it leaves this one on the workers).
    fn copy(&self, py: Python<'_>) -> PyResult<Self> {
        self.value_op(py, |v| v.mul_int(1))
    }

    /// Backpropagates from this (scalar) shared tensor: gradients under encryption.
    fn backward(&self, py: Python<'_>) -> PyResult<()> {
        let v = self.var.clone();
        run(py, move || Ok(v.backward()?))
    }

    /// The accumulated gradient (shared), or `None`.
    #[getter]
    fn grad(&self) -> Option<Self> {
        self.var.grad().map(|g| Self { var: Var::constant(self.var.backend(), (*g).clone()) })
    }

    /// Whether autograd accumulates a gradient for this tensor.
    #[getter]
    fn requires_grad(&self) -> bool {
        self.var.requires_grad()
    }

    /// Brings every share back and reconstructs the fixed-point value here; the shares
    /// are removed from the workers (`loss.get().float_precision()`).
    fn get(&self, py: Python<'_>) -> PyResult<PyFixedPrecision> {
        let v = self.var.clone();
        let fixed = run(py, move || Ok((*v.value()).clone().get()?))?;
        Ok(PyFixedPrecision { fixed })
    }

    /// The shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.var.shape())
    }

    /// The ids of the workers holding the shares.
    #[getter]
    fn locations(&self) -> Vec<String> {
        self.var.value().share_pointers().iter().map(|p| p.location().to_owned()).collect()
    }

    /// The crypto provider of the session.
    #[getter]
    fn crypto_provider(&self) -> String {
        self.var.value().session().crypto_provider().to_owned()
    }

    /// Fractional digits of the encoding (`None` for raw integers).
    #[getter]
    fn precision_fractional(&self) -> Option<u32> {
        self.var.value().encoder().map(|e| e.precision_fractional())
    }

    fn __repr__(&self) -> String {
        let grad = if self.var.requires_grad() { " (requires_grad)" } else { "" };
        format!("{:?}{grad}", self.var.value())
    }
}
