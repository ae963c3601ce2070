//! `Tensor`: a local tensor, `float32` with autograd (PyTorch's float tensors with
//! `requires_grad`) or `int64` (ring words, PyTorch's long tensors), made from anything
//! with `__array__`; `send`, `fix_precision` and `share` start the tutorials' flows.
//! `FixedPrecisionTensor` is a fixed-point encoded tensor in plaintext.

use crate::classes::{PyFixedPrecision, PyPointer, PyShared, PyTensor, Value, cpu, encoder, float_constant};
use crate::convert::{f32_tensor, int_tensor, int_to_numpy, is_integer, resolve_shape, to_numpy};
use crate::errors::{invalid, run};
use crate::workers::PyWorker;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use syft::prelude::{FixPrecision, Sendable, Tensor, Var};
use syft::worker::FloatVar;

/// The right operand of an arithmetic operator.
pub(crate) enum Rhs {
    Value(Value),
    Scalar(f64),
}

/// A Python operand: a `Tensor`, a number, or anything with `__array__`.
pub(crate) fn rhs(other: &Bound<'_, PyAny>) -> PyResult<Rhs> {
    if let Ok(t) = other.extract::<Bound<'_, PyTensor>>() {
        return Ok(Rhs::Value(t.get().value.clone()));
    }
    if let Ok(c) = other.extract::<f64>() {
        return Ok(Rhs::Scalar(c));
    }
    Ok(Rhs::Value(value_of(other)?))
}

/// The value of anything with `__array__`: integers become `int64`, the rest `float32`.
fn value_of(data: &Bound<'_, PyAny>) -> PyResult<Value> {
    if is_integer(data)? { Ok(Value::Int(int_tensor(data)?)) } else { Ok(Value::Float(float_constant(data)?)) }
}

/// An arithmetic operator.
#[derive(Clone, Copy)]
pub(crate) enum BinOp {
    Add,
    Sub,
    /// `other - self`.
    RSub,
    Mul,
    Div,
    /// `other / self`.
    RDiv,
    MatMul,
}

impl BinOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sub | Self::RSub => "sub",
            Self::Mul => "mul",
            Self::Div | Self::RDiv => "div",
            Self::MatMul => "matmul",
        }
    }
}

#[allow(clippy::cast_possible_truncation, reason = "a scalar operand of a float32 tensor")]
fn scalar_var(c: f64) -> FloatVar {
    Var::constant(&cpu(), Tensor::scalar(c as f32))
}

fn float_op(a: &FloatVar, b: &FloatVar, op: BinOp) -> syft::Result<FloatVar> {
    Ok(match op {
        BinOp::Add => a.add(b)?,
        BinOp::Sub => a.sub(b)?,
        BinOp::RSub => b.sub(a)?,
        BinOp::Mul => a.mul(b)?,
        BinOp::Div => a.div(b)?,
        BinOp::RDiv => b.div(a)?,
        BinOp::MatMul => a.matmul(b)?,
    })
}

fn int_op(a: &Tensor<u64>, b: &Tensor<u64>, op: BinOp) -> syft::Result<Tensor<u64>> {
    Ok(match op {
        BinOp::Add => a.add(b)?,
        BinOp::Sub => a.sub(b)?,
        BinOp::RSub => b.sub(a)?,
        BinOp::Mul => a.mul(b)?,
        BinOp::MatMul => a.matmul(b)?,
        BinOp::Div | BinOp::RDiv => {
            return Err(syft::worker::WorkerError::InvalidArgument {
                op: "div",
                reason: "integer tensors do not divide; convert with .float()".into(),
            }
            .into());
        }
    })
}

/// `a op b` on local values.
pub(crate) fn binary(py: Python<'_>, a: &Value, b: Rhs, op: BinOp) -> PyResult<Value> {
    match (a, b) {
        (Value::Float(a), Rhs::Scalar(c)) => {
            let a = a.clone();
            run(py, move || {
                Ok(Value::Float(match op {
                    BinOp::Mul => a.mul_scalar(c)?,
                    BinOp::Div => a.mul_scalar(1.0 / c)?,
                    BinOp::Add => a.add(&scalar_var(c))?,
                    BinOp::Sub => a.add(&scalar_var(-c))?,
                    BinOp::RSub => a.neg()?.add(&scalar_var(c))?,
                    BinOp::RDiv => scalar_var(c).div(&a)?,
                    BinOp::MatMul => {
                        return Err(syft::worker::WorkerError::InvalidArgument {
                            op: "matmul",
                            reason: "an operand is a scalar".into(),
                        }
                        .into());
                    }
                }))
            })
        }
        (Value::Float(a), Rhs::Value(Value::Float(b))) => {
            let (a, b) = (a.clone(), b);
            run(py, move || Ok(Value::Float(float_op(&a, &b, op)?)))
        }
        (Value::Int(a), Rhs::Scalar(c)) => {
            #[allow(clippy::cast_possible_truncation, reason = "checked to be an integer in range first")]
            let k = if c.fract() == 0.0 && c.abs() < 9.2e18 {
                c as i64
            } else {
                return Err(invalid(op.name(), format!("{c} is not an integer; convert the tensor with .float()")));
            };
            let b = Tensor::scalar(k.cast_unsigned());
            let a = a.clone();
            run(py, move || Ok(Value::Int(int_op(&a, &b, op)?)))
        }
        (Value::Int(a), Rhs::Value(Value::Int(b))) => {
            let a = a.clone();
            run(py, move || Ok(Value::Int(int_op(&a, &b, op)?)))
        }
        _ => Err(invalid(op.name(), "operands are float32 and int64 tensors; convert one with .float() or .long()")),
    }
}

impl PyTensor {
    fn shape_vec(&self) -> Vec<usize> {
        match &self.value {
            Value::Float(v) => v.shape(),
            Value::Int(t) => t.shape().to_vec(),
        }
    }

    /// A float op that autograd records.
    fn float_unary(
        &self,
        py: Python<'_>,
        op: &'static str,
        f: impl FnOnce(&FloatVar) -> syft::Result<FloatVar> + Send,
    ) -> PyResult<Self> {
        let v = self.var(op)?.clone();
        Ok(Self::from_var(run(py, move || f(&v))?))
    }

    fn numpy_of<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.value {
            Value::Float(v) => to_numpy(py, &v.value()),
            Value::Int(t) => int_to_numpy(py, t),
        }
    }

    fn op(&self, py: Python<'_>, other: &Bound<'_, PyAny>, op: BinOp) -> PyResult<Self> {
        Ok(Self { value: binary(py, &self.value, rhs(other)?, op)? })
    }
}

#[pymethods]
impl PyTensor {
    /// `Tensor(data, dtype=None, requires_grad=False)`: `data` is anything NumPy converts
    /// (arrays, lists, PyTorch tensors through `__array__`); `dtype` is `"float32"` or
    /// `"int64"` (by default, integers stay integers and the rest is `float32`).
    #[new]
    #[pyo3(signature = (data, dtype = None, requires_grad = false))]
    fn new(data: &Bound<'_, PyAny>, dtype: Option<&str>, requires_grad: bool) -> PyResult<Self> {
        let value = match dtype {
            Some("float32" | "float") => Value::Float(float_constant(data)?),
            Some("int64" | "long") => Value::Int(int_tensor(data)?),
            Some(other) => return Err(invalid("Tensor", format!("dtype {other:?} is not float32 or int64"))),
            None => value_of(data)?,
        };
        match value {
            Value::Float(v) if requires_grad => Ok(Self::from_var(Var::new(&cpu(), (*v.value()).clone(), true))),
            Value::Int(_) if requires_grad => Err(invalid("Tensor", "only float32 tensors can require gradients")),
            value => Ok(Self { value }),
        }
    }

    /// The values as a NumPy array (`float32` or `int64`).
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.numpy_of(py)
    }

    /// NumPy's protocol: `np.asarray(tensor)`.
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy; // Always a fresh array.
        let a = self.numpy_of(py)?;
        match dtype {
            Some(d) => a.call_method1("astype", (d,)),
            None => Ok(a),
        }
    }

    /// The values as nested lists.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.numpy_of(py)?.call_method0("tolist")
    }

    /// The one value of a one-element tensor.
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.value {
            Value::Float(v) => {
                Ok(f64::from(v.value().item().map_err(crate::errors::err)?).into_pyobject(py)?.into_any())
            }
            Value::Int(t) => Ok(t.item().map_err(crate::errors::err)?.cast_signed().into_pyobject(py)?.into_any()),
        }
    }

    /// The shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.shape_vec())
    }

    /// The shape (PyTorch's spelling).
    fn size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.shape(py)
    }

    /// `"float32"` or `"int64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.value {
            Value::Float(_) => "float32",
            Value::Int(_) => "int64",
        }
    }

    /// The number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.shape_vec().len()
    }

    fn __len__(&self) -> PyResult<usize> {
        self.shape_vec().first().copied().ok_or_else(|| invalid("len", "a 0-d tensor has no length"))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let np = PyModule::import(py, "numpy")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("separator", ", ")?;
        kwargs.set_item("prefix", "tensor(")?;
        let body: String = np.call_method("array2string", (self.numpy_of(py)?,), Some(&kwargs))?.extract()?;
        let suffix = match &self.value {
            Value::Float(v) if v.requires_grad() => ", requires_grad=True",
            Value::Int(_) => ", dtype=int64",
            Value::Float(_) => "",
        };
        Ok(format!("tensor({body}{suffix})"))
    }

    /// Whether autograd accumulates a gradient for this tensor.
    #[getter]
    fn requires_grad(&self) -> bool {
        matches!(&self.value, Value::Float(v) if v.requires_grad())
    }

    /// The accumulated gradient, or `None`.
    #[getter]
    fn grad(&self) -> Option<Self> {
        match &self.value {
            Value::Float(v) => v.grad().map(|g| Self::from_var(Var::constant(&cpu(), (*g).clone()))),
            Value::Int(_) => None,
        }
    }

    /// Backpropagates from this tensor (a scalar, or with `gradient` of its shape).
    #[pyo3(signature = (gradient = None))]
    fn backward(&self, py: Python<'_>, gradient: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let v = self.var("backward")?.clone();
        let g = gradient.map(f32_tensor).transpose()?;
        run(py, move || {
            match g {
                Some(g) => v.backward_with(g)?,
                None => v.backward()?,
            }
            Ok(())
        })
    }

    /// Clears the gradient.
    fn zero_grad(&self) {
        if let Value::Float(v) = &self.value {
            v.zero_grad();
        }
    }

    /// The same values outside the graph.
    fn detach(&self) -> Self {
        match &self.value {
            Value::Float(v) => Self::from_var(v.detach()),
            Value::Int(t) => Self::from_int(t.clone()),
        }
    }

    /// As `float32` (outside the graph).
    fn float(&self) -> Self {
        match &self.value {
            Value::Float(v) => Self::from_var(v.clone()),
            #[allow(clippy::cast_precision_loss, reason = "PyTorch's .float()")]
            Value::Int(t) => Self::from_var(Var::constant(&cpu(), t.map(|x| x.cast_signed() as f32))),
        }
    }

    /// As `int64`, truncating toward zero (outside the graph).
    fn long(&self) -> Self {
        match &self.value {
            #[allow(clippy::cast_possible_truncation, reason = "PyTorch's .long() truncates")]
            Value::Float(v) => Self::from_int(v.value().map(|x| (x as i64).cast_unsigned())),
            Value::Int(t) => Self::from_int(t.clone()),
        }
    }

    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Add)
    }
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Add)
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Sub)
    }
    fn __rsub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::RSub)
    }
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Mul)
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Mul)
    }
    fn __truediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Div)
    }
    fn __rtruediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::RDiv)
    }
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::MatMul)
    }
    /// `self @ other`.
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::MatMul)
    }
    /// `self + other` (`torch.add`).
    fn add(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Add)
    }
    /// `self - other`.
    fn sub(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Sub)
    }
    /// `self * other`.
    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.op(py, other, BinOp::Mul)
    }

    fn __neg__(&self, py: Python<'_>) -> PyResult<Self> {
        match &self.value {
            Value::Float(_) => self.float_unary(py, "neg", |v| Ok(v.neg()?)),
            Value::Int(t) => Ok(Self::from_int(t.neg())),
        }
    }

    /// `self ** n` for an integer `n ≥ 0`.
    fn __pow__(&self, py: Python<'_>, n: u32, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if modulo.is_some() {
            return Err(invalid("pow", "no modulus"));
        }
        match n {
            2 => self.float_unary(py, "pow", |v| Ok(v.square()?)),
            n => self.float_unary(py, "pow", move |v| Ok(v.pow(n)?)),
        }
    }

    /// The sum of all elements, or along `dim`.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn sum(&self, py: Python<'_>, dim: Option<usize>, keepdim: bool) -> PyResult<Self> {
        match (&self.value, dim) {
            (Value::Float(_), None) => self.float_unary(py, "sum", |v| Ok(v.sum()?)),
            (Value::Float(_), Some(d)) => self.float_unary(py, "sum", move |v| Ok(v.sum_axis(d, keepdim)?)),
            (Value::Int(t), None) => Ok(Self::from_int(Tensor::scalar(t.sum_all()))),
            (Value::Int(t), Some(d)) => Ok(Self::from_int(t.sum_axis(d, keepdim).map_err(crate::errors::err)?)),
        }
    }

    /// The mean of all elements, or along `dim`.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn mean(&self, py: Python<'_>, dim: Option<usize>, keepdim: bool) -> PyResult<Self> {
        match dim {
            None => self.float_unary(py, "mean", |v| Ok(v.mean()?)),
            Some(d) => self.float_unary(py, "mean", move |v| Ok(v.mean_axis(d, keepdim)?)),
        }
    }

    /// `max(self, 0)`.
    fn relu(&self, py: Python<'_>) -> PyResult<Self> {
        self.float_unary(py, "relu", |v| Ok(v.relu()?))
    }

    /// `self * self`.
    fn square(&self, py: Python<'_>) -> PyResult<Self> {
        self.float_unary(py, "square", |v| Ok(v.square()?))
    }

    /// `exp(self)`.
    fn exp(&self, py: Python<'_>) -> PyResult<Self> {
        self.float_unary(py, "exp", |v| Ok(v.exp()?))
    }

    /// `log(self)`.
    fn log(&self, py: Python<'_>) -> PyResult<Self> {
        self.float_unary(py, "log", |v| Ok(v.log()?))
    }

    /// Log-softmax along `dim`.
    #[pyo3(signature = (dim = 1))]
    fn log_softmax(&self, py: Python<'_>, dim: usize) -> PyResult<Self> {
        self.float_unary(py, "log_softmax", move |v| Ok(v.log_softmax(dim)?))
    }

    /// The same data under a new shape (one dimension may be `-1`).
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: Vec<i64>) -> PyResult<Self> {
        let numel = self.shape_vec().iter().product();
        let shape = resolve_shape("reshape", numel, &shape)?;
        match &self.value {
            Value::Float(_) => self.float_unary(py, "reshape", move |v| Ok(v.reshape(&shape)?)),
            Value::Int(t) => Ok(Self::from_int(t.reshape(&shape).map_err(crate::errors::err)?)),
        }
    }

    /// The same data under a new shape (PyTorch's `view`).
    #[pyo3(signature = (*shape))]
    fn view(&self, py: Python<'_>, shape: Vec<i64>) -> PyResult<Self> {
        self.reshape(py, shape)
    }

    /// The last two axes swapped.
    fn t(&self, py: Python<'_>) -> PyResult<Self> {
        match &self.value {
            Value::Float(_) => self.float_unary(py, "t", |v| Ok(v.transpose()?)),
            Value::Int(t) => Ok(Self::from_int(t.transpose().map_err(crate::errors::err)?)),
        }
    }

    /// The index of the maximum along `dim` (an `int64` tensor).
    #[pyo3(signature = (dim = 1))]
    fn argmax(&self, dim: usize) -> PyResult<Self> {
        let v = self.var("argmax")?;
        let idx = v.value().argmax_axis(dim).map_err(crate::errors::err)?;
        Ok(Self::from_int(idx.map(|i| i as u64)))
    }

    /// Sends the tensor to `worker` and returns a pointer to it (PySyft's `x.send(bob)`);
    /// a tensor that requires grad keeps its autograd state there.
    fn send(&self, py: Python<'_>, worker: &Bound<'_, PyWorker>) -> PyResult<PyPointer> {
        let w = worker.get();
        let value = self.value.clone();
        let ptr = run(py, || {
            Ok(match value {
                Value::Float(v) => v.send(w.worker())?.into_untyped(),
                Value::Int(t) => t.send(w.worker())?.into_untyped(),
            })
        })?;
        Ok(PyPointer::new(ptr, w.hub().clone()))
    }

    /// Encodes in fixed point (PySyft's default: base 10, 3 fractional digits).
    #[pyo3(signature = (precision_fractional = 3, base = 10))]
    fn fix_precision(&self, precision_fractional: u32, base: u64) -> PyResult<PyFixedPrecision> {
        let encoder = encoder(precision_fractional, base)?;
        let fixed = match &self.value {
            Value::Float(v) => v.value().fix_precision_with(encoder),
            #[allow(clippy::cast_precision_loss, reason = "integers are encoded as reals")]
            Value::Int(t) => t.map(|x| x.cast_signed() as f64).fix_precision_with(encoder),
        }
        .map_err(crate::errors::err)?;
        Ok(PyFixedPrecision { fixed })
    }

    /// Secret-shares an integer tensor among `owners` (raw ring words, no scale); float
    /// tensors are shared after `fix_precision()`.
    #[pyo3(signature = (*owners, crypto_provider, requires_grad = false))]
    fn share(
        &self,
        py: Python<'_>,
        owners: &Bound<'_, PyTuple>,
        crypto_provider: &Bound<'_, PyWorker>,
        requires_grad: bool,
    ) -> PyResult<PyShared> {
        match &self.value {
            Value::Int(t) => PyShared::share(py, t, None, owners, crypto_provider, requires_grad),
            Value::Float(_) => Err(invalid("share", "a float tensor is shared after .fix_precision()")),
        }
    }
}

#[pymethods]
impl PyFixedPrecision {
    /// The decoded values, as a `float32` tensor.
    fn float_precision(&self) -> PyTensor {
        #[allow(clippy::cast_possible_truncation, reason = "decoded into float32 tensors")]
        let t = self.fixed.float_precision().map(|v| v as f32);
        PyTensor::from_var(Var::constant(&cpu(), t))
    }

    /// The one decoded value of a one-element tensor, in double precision.
    fn item(&self) -> PyResult<f64> {
        self.fixed.float_precision().item().map_err(crate::errors::err)
    }

    /// The encoded ring words as NumPy `int64` (two's complement).
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int_to_numpy(py, self.fixed.raw())
    }

    /// The shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.fixed.raw().shape())
    }

    /// Fractional digits of the encoding.
    #[getter]
    fn precision_fractional(&self) -> u32 {
        self.fixed.encoder().precision_fractional()
    }

    /// The base of the encoding.
    #[getter]
    fn base(&self) -> u64 {
        self.fixed.encoder().base()
    }

    /// Secret-shares the encoded tensor among `owners`, `crypto_provider` dealing the
    /// material for products (PySyft's `.share(bob, alice, crypto_provider=james)`).
    #[pyo3(signature = (*owners, crypto_provider, requires_grad = false))]
    fn share(
        &self,
        py: Python<'_>,
        owners: &Bound<'_, PyTuple>,
        crypto_provider: &Bound<'_, PyWorker>,
        requires_grad: bool,
    ) -> PyResult<PyShared> {
        let encoder = self.fixed.encoder();
        let encoder = (!encoder.is_integer()).then_some(encoder);
        PyShared::share(py, self.fixed.raw(), encoder, owners, crypto_provider, requires_grad)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let decoded = self.float_precision().__repr__(py)?;
        Ok(format!(
            "FixedPrecisionTensor(base={}, precision_fractional={}) {decoded}",
            self.fixed.encoder().base(),
            self.fixed.encoder().precision_fractional()
        ))
    }
}
