//! Models from Python: layers (`Linear`, `Conv2d`, `ReLU`, pooling, `Flatten`) in a
//! `Sequential`, weights from a state dict of arrays, from safetensors or from ONNX;
//! `model.fix_precision().share(bob, alice, crypto_provider=james)` gives a model over
//! shared values, whose forward pass, loss, backward pass and SGD run under encryption.
//! Also the losses of `syft_rs.nn.functional` and MNIST loading.

use crate::classes::{PyShared, PyTensor, Value, attached, cpu, encoder, float_operand};
use crate::convert::{f32_tensor, to_numpy};
use crate::errors::{err, invalid, onnx_err, run};
use crate::workers::{PyWorker, dyns};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use syft::nn::{AvgPool2d, Conv2d, Flatten, Layer, MaxPool2d, Reduction};
use syft::prelude::{
    Conv2dParams, Cpu, FixedEncoder, Linear, Module, Prg, ReLU, Seed, Sequential, SharedBackend, SharedModel,
    decrypt_model, share_model,
};

type CpuModel = Sequential<Cpu<f32>>;
type SharedSequential = SharedModel<Sequential<SharedBackend>>;

/// The stream that initialises new layers (`manual_seed` resets it).
fn init_rng() -> &'static Mutex<Prg> {
    static RNG: OnceLock<Mutex<Prg>> = OnceLock::new();
    RNG.get_or_init(|| Mutex::new(Prg::from_entropy().unwrap_or_else(|_| Prg::new(&Seed::from_u64(0)))))
}

fn with_rng<T>(f: impl FnOnce(&mut Prg) -> T) -> PyResult<T> {
    let mut rng = init_rng().lock().map_err(|_| invalid("init", "the initialisation stream is poisoned"))?;
    Ok(f(&mut rng))
}

/// Seeds the initialisation of the layers created from now on (PyTorch's
/// `torch.manual_seed`).
#[pyfunction]
pub(crate) fn manual_seed(seed: u64) -> PyResult<()> {
    with_rng(|rng| *rng = Prg::new(&Seed::from_u64(seed)))
}

/// One layer (what `Linear(...)`, `ReLU()`, ... return), ready for a `Sequential`.
#[pyclass(module = "syft_rs", name = "Layer", frozen)]
pub(crate) struct PyLayer {
    layer: Layer<Cpu<f32>>,
    repr: String,
}

#[pymethods]
impl PyLayer {
    fn __repr__(&self) -> &str {
        &self.repr
    }

    /// The layer applied to a plaintext tensor.
    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let x = x.get().var("forward")?.clone();
        let layer = self.layer.clone();
        Ok(PyTensor::from_var(run(py, move || Ok(layer.forward(&x)?))?))
    }

    /// The parameters (weight, then bias), as tensors sharing the layer's storage.
    fn parameters(&self) -> Vec<PyTensor> {
        self.layer.parameters().into_iter().map(PyTensor::from_var).collect()
    }
}

/// A fully connected layer `y = x Wᵀ + b`, initialised as PyTorch does.
#[pyfunction(name = "Linear")]
#[pyo3(signature = (in_features, out_features, bias = true))]
pub(crate) fn linear(in_features: usize, out_features: usize, bias: bool) -> PyResult<PyLayer> {
    let layer = with_rng(|rng| Linear::new(&cpu(), in_features, out_features, bias, rng))?.map_err(err)?;
    Ok(PyLayer {
        layer: layer.into(),
        repr: format!("Linear(in_features={in_features}, out_features={out_features}, bias={})", py_bool(bias)),
    })
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A 2-d convolution over `[N, C, H, W]`, initialised as PyTorch does.
#[pyfunction(name = "Conv2d")]
#[pyo3(signature = (in_channels, out_channels, kernel_size, stride = 1, padding = 0, bias = true))]
pub(crate) fn conv2d(
    in_channels: usize,
    out_channels: usize,
    kernel_size: usize,
    stride: usize,
    padding: usize,
    bias: bool,
) -> PyResult<PyLayer> {
    let params = Conv2dParams::new(stride, padding);
    let layer =
        with_rng(|rng| Conv2d::new(&cpu(), in_channels, out_channels, (kernel_size, kernel_size), params, bias, rng))?
            .map_err(err)?;
    Ok(PyLayer {
        layer: layer.into(),
        repr: format!(
            "Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}, padding={padding}, \
             bias={})",
            py_bool(bias)
        ),
    })
}

/// `max(x, 0)`.
#[pyfunction(name = "ReLU")]
pub(crate) fn relu_layer() -> PyLayer {
    PyLayer { layer: ReLU::new().into(), repr: "ReLU()".into() }
}

/// The pooling layer `name` that `with_params` makes, with a `kernel_size` window (stride
/// defaults to the window).
fn pool2d<L: Into<Layer<Cpu<f32>>>>(
    name: &str,
    with_params: impl FnOnce((usize, usize), Conv2dParams) -> L,
    kernel_size: usize,
    stride: Option<usize>,
    padding: usize,
) -> PyLayer {
    let stride = stride.unwrap_or(kernel_size);
    PyLayer {
        layer: with_params((kernel_size, kernel_size), Conv2dParams::new(stride, padding)).into(),
        repr: format!("{name}(kernel_size={kernel_size}, stride={stride}, padding={padding})"),
    }
}

/// Max pooling with a `kernel_size` window (stride defaults to the window).
#[pyfunction(name = "MaxPool2d")]
#[pyo3(signature = (kernel_size, stride = None, padding = 0))]
pub(crate) fn max_pool2d(kernel_size: usize, stride: Option<usize>, padding: usize) -> PyLayer {
    pool2d("MaxPool2d", MaxPool2d::with_params, kernel_size, stride, padding)
}

/// Average pooling with a `kernel_size` window (stride defaults to the window).
#[pyfunction(name = "AvgPool2d")]
#[pyo3(signature = (kernel_size, stride = None, padding = 0))]
pub(crate) fn avg_pool2d(kernel_size: usize, stride: Option<usize>, padding: usize) -> PyLayer {
    pool2d("AvgPool2d", AvgPool2d::with_params, kernel_size, stride, padding)
}

/// Flattens the dimensions from `start_dim` on.
#[pyfunction(name = "Flatten")]
#[pyo3(signature = (start_dim = 1))]
pub(crate) fn flatten(start_dim: usize) -> PyLayer {
    PyLayer { layer: Flatten::from_dim(start_dim).into(), repr: format!("Flatten(start_dim={start_dim})") }
}

/// Layers applied in order (PyTorch's `nn.Sequential`); parameters are named `0.weight`,
/// `0.bias`, ... as in PyTorch's `state_dict`.
#[pyclass(module = "syft_rs", name = "Sequential", frozen)]
pub(crate) struct PySequential {
    model: CpuModel,
    training: AtomicBool,
}

impl PySequential {
    pub(crate) fn from_model(model: CpuModel) -> Self {
        Self { model, training: AtomicBool::new(true) }
    }

    pub(crate) fn model(&self) -> &CpuModel {
        &self.model
    }
}

/// The layers of `Sequential(*layers)`: layers or nested sequences.
fn layers_of(layers: &Bound<'_, PyTuple>) -> PyResult<CpuModel> {
    let mut model = Sequential::new();
    for l in layers.iter() {
        if let Ok(layer) = l.extract::<Bound<'_, PyLayer>>() {
            model.push(layer.get().layer.clone());
        } else if let Ok(seq) = l.extract::<Bound<'_, PySequential>>() {
            model.push(seq.get().model.clone());
        } else {
            return Err(invalid("Sequential", format!("{} is not a layer", l.get_type())));
        }
    }
    Ok(model)
}

/// Sets every parameter of `model` from `state` (`name -> array`); every name must be
/// there with the parameter's shape, and no other.
fn load_state(model: &CpuModel, state: &Bound<'_, PyDict>) -> PyResult<()> {
    let params = model.named_parameters();
    let mut values = Vec::with_capacity(params.len());
    for (name, var) in &params {
        let item =
            state.get_item(name)?.ok_or_else(|| err(syft::nn::Error::MissingParameter { name: name.clone() }))?;
        let t = f32_tensor(&item)?;
        if t.shape() != var.shape() {
            return Err(err(syft::nn::Error::ParameterShape {
                name: name.clone(),
                expected: var.shape(),
                stored: t.shape().to_vec(),
            }));
        }
        values.push(t);
    }
    for key in state.keys() {
        let key: String = key.extract()?;
        if !params.iter().any(|(n, _)| *n == key) {
            return Err(err(syft::nn::Error::UnexpectedParameter { name: key }));
        }
    }
    for ((_, var), t) in params.iter().zip(values) {
        var.set_value(t);
    }
    Ok(())
}

#[pymethods]
impl PySequential {
    /// `Sequential(Linear(784, 500), ReLU(), Linear(500, 10))`.
    #[new]
    #[pyo3(signature = (*layers))]
    fn new(layers: &Bound<'_, PyTuple>) -> PyResult<Self> {
        Ok(Self::from_model(layers_of(layers)?))
    }

    /// The forward pass on a plaintext tensor (recorded by autograd).
    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.forward(py, x)
    }

    /// The forward pass on a plaintext tensor (recorded by autograd).
    fn forward(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        // A shared tensor is never a `Tensor`: refused before it is read as an array.
        if x.is_instance_of::<PyShared>() {
            return Err(invalid("forward", "a plaintext model takes plaintext tensors: share the model first"));
        }
        let x = float_operand(x, "forward")?;
        let model = &self.model;
        Ok(PyTensor::from_var(run(py, move || Ok(model.forward(&x)?))?))
    }

    /// The parameters, in order, as tensors sharing the model's storage (for optimizers).
    fn parameters(&self) -> Vec<PyTensor> {
        self.model.parameters().into_iter().map(PyTensor::from_var).collect()
    }

    /// `(name, parameter)` pairs, PyTorch's names.
    fn named_parameters(&self) -> Vec<(String, PyTensor)> {
        self.model.named_parameters().into_iter().map(|(n, v)| (n, PyTensor::from_var(v))).collect()
    }

    /// The parameters as `{name: numpy array}` (PyTorch's `state_dict`).
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, var) in self.model.named_parameters() {
            dict.set_item(name, to_numpy(py, &var.value())?)?;
        }
        Ok(dict)
    }

    /// Sets the parameters from `{name: array}` (NumPy arrays, PyTorch tensors, ...):
    /// every parameter must be there with its shape, and nothing else.
    fn load_state_dict(&self, state: &Bound<'_, PyDict>) -> PyResult<()> {
        load_state(&self.model, state)
    }

    /// Loads the parameters from a safetensors file (PyTorch's names).
    fn load_safetensors(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let model = &self.model;
        run(py, move || Ok(syft::nn::load_safetensors(model, path)?))
    }

    /// Loads the parameters from safetensors bytes.
    fn load_safetensors_bytes(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        let model = &self.model;
        run(py, move || Ok(syft::nn::weights::load_safetensors_bytes(model, data)?))
    }

    /// Saves the parameters as a safetensors file.
    fn save_safetensors(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let model = &self.model;
        run(py, move || Ok(syft::nn::save_safetensors(model, path)?))
    }

    /// The parameters as safetensors bytes.
    fn to_safetensors_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let model = &self.model;
        let bytes = run(py, move || Ok(syft::nn::weights::to_safetensors_bytes(model)?))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Training mode (no layer here behaves differently in training; kept as in PyTorch).
    fn train(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf.training.store(true, Ordering::SeqCst);
        slf
    }

    /// Evaluation mode.
    fn eval(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf.training.store(false, Ordering::SeqCst);
        slf
    }

    /// Whether the model is in training mode.
    #[getter]
    fn training(&self) -> bool {
        self.training.load(Ordering::SeqCst)
    }

    /// The number of scalar parameters.
    fn num_parameters(&self) -> usize {
        self.model.num_parameters()
    }

    fn __len__(&self) -> usize {
        self.model.len()
    }

    fn __repr__(&self) -> String {
        let mut s = String::from("Sequential(\n");
        for (i, l) in self.model.layers().iter().enumerate() {
            s.push_str(&format!("  ({i}): {}\n", layer_repr(l)));
        }
        s.push(')');
        s
    }

    /// The model at fixed precision (PySyft's default: base 10, 3 fractional digits),
    /// ready to `share`.
    #[pyo3(signature = (precision_fractional = 3, base = 10))]
    fn fix_precision(&self, precision_fractional: u32, base: u64) -> PyResult<PyFixedPrecisionModel> {
        Ok(PyFixedPrecisionModel { model: self.model.clone(), encoder: encoder(precision_fractional, base)? })
    }
}

fn layer_repr(l: &Layer<Cpu<f32>>) -> String {
    match l {
        Layer::Linear(l) => format!("Linear(in_features={}, out_features={})", l.in_features(), l.out_features()),
        Layer::Conv2d(c) => format!("Conv2d(weight={:?})", c.weight().shape()),
        Layer::ReLU(_) => "ReLU()".into(),
        Layer::MaxPool2d(p) => format!("MaxPool2d({:?})", p.pool()),
        Layer::AvgPool2d(p) => format!("AvgPool2d({:?})", p.pool()),
        Layer::Flatten(_) => "Flatten()".into(),
        Layer::Sequential(s) => format!("Sequential({} layers)", s.len()),
        other => format!("{other:?}"),
    }
}

/// A plaintext model with the precision it will be shared at.
#[pyclass(module = "syft_rs", name = "FixedPrecisionModel", frozen)]
pub(crate) struct PyFixedPrecisionModel {
    model: CpuModel,
    encoder: FixedEncoder,
}

#[pymethods]
impl PyFixedPrecisionModel {
    /// Encodes and secret-shares every parameter among `owners`, `crypto_provider` dealing
    /// (PySyft's `model.fix_precision().share(bob, alice, crypto_provider=james)`). The
    /// parameters require gradients, as a model's do (`requires_grad=False` is refused:
    /// run inference under `sy.no_grad()` instead).
    #[pyo3(signature = (*owners, crypto_provider, requires_grad = true))]
    fn share(
        &self,
        py: Python<'_>,
        owners: &Bound<'_, PyTuple>,
        crypto_provider: &Bound<'_, PyWorker>,
        requires_grad: bool,
    ) -> PyResult<PySharedModel> {
        if !requires_grad {
            return Err(invalid("share", "a model's parameters require gradients; infer under sy.no_grad()"));
        }
        let (parties, cp) = attached(owners, crypto_provider)?;
        let (model, encoder) = (&self.model, self.encoder);
        let shared = run(py, move || share_model(model, encoder, &dyns(&parties), &cp))?;
        Ok(PySharedModel { model: shared, encoder, training: AtomicBool::new(true) })
    }

    /// The plaintext model.
    fn float_precision(&self) -> PySequential {
        PySequential::from_model(self.model.clone())
    }

    /// Fractional digits of the encoding.
    #[getter]
    fn precision_fractional(&self) -> u32 {
        self.encoder.precision_fractional()
    }
}

/// A model whose parameters are shared among workers: `model(x)` on a shared input runs
/// the forward pass under encryption (recorded for `backward` unless under
/// `sy.no_grad()`), `parameters()` feed `optim.SGD`, `get()` decrypts it.
#[pyclass(module = "syft_rs", name = "SharedModel", frozen)]
pub(crate) struct PySharedModel {
    model: SharedSequential,
    encoder: FixedEncoder,
    training: AtomicBool,
}

#[pymethods]
impl PySharedModel {
    /// The forward pass on a shared input.
    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyShared> {
        self.forward(py, x)
    }

    /// The forward pass on a shared input.
    fn forward(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyShared> {
        let x = x
            .extract::<Bound<'_, PyShared>>()
            .map_err(|_| invalid("forward", "a shared model takes shared tensors (fix_precision().share(...))"))?;
        let x = x.get().var.clone();
        let model = &self.model;
        Ok(PyShared::new(run(py, move || Ok(model.forward(&x)?))?))
    }

    /// The shared parameters, in order (for `optim.SGD`).
    fn parameters(&self) -> Vec<PyShared> {
        self.model.parameters().into_iter().map(PyShared::new).collect()
    }

    /// Decrypts every parameter (the owner's `model.get()`); `.float_precision()` of the
    /// result is the plaintext model. The shares are removed from the workers.
    fn get(&self, py: Python<'_>) -> PyResult<PyFixedPrecisionModel> {
        let module = self.model.module();
        let model = run(py, move || decrypt_model(module))?;
        Ok(PyFixedPrecisionModel { model, encoder: self.encoder })
    }

    /// Training mode (no layer behaves differently in training; kept as in PyTorch).
    fn train(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf.training.store(true, Ordering::SeqCst);
        slf
    }

    /// Evaluation mode.
    fn eval(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf.training.store(false, Ordering::SeqCst);
        slf
    }

    /// Whether the model is in training mode.
    #[getter]
    fn training(&self) -> bool {
        self.training.load(Ordering::SeqCst)
    }

    fn __repr__(&self) -> String {
        format!(
            "SharedModel({} parameters, precision_fractional={}, parties {:?}, crypto provider {})",
            self.model.num_parameters(),
            self.encoder.precision_fractional(),
            self.model.session().party_ids(),
            self.model.session().crypto_provider()
        )
    }
}

fn reduction(name: &str) -> PyResult<Reduction> {
    match name {
        "mean" => Ok(Reduction::Mean),
        "sum" => Ok(Reduction::Sum),
        other => Err(invalid("reduction", format!("{other:?} is not \"mean\" or \"sum\""))),
    }
}

/// The mean (or summed) squared error, on plaintext or on shared tensors.
#[pyfunction]
#[pyo3(signature = (input, target, reduction = "mean"))]
pub(crate) fn mse_loss<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    reduction: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let r = self::reduction(reduction)?;
    if let (Ok(a), Ok(b)) = (input.extract::<Bound<'_, PyShared>>(), target.extract::<Bound<'_, PyShared>>()) {
        let (a, b) = (a.get().var.clone(), b.get().var.clone());
        let loss = run(py, move || Ok(syft::nn::mse_loss(&a, &b, r)?))?;
        return Ok(Bound::new(py, PyShared::new(loss))?.into_any());
    }
    let a = input.extract::<Bound<'_, PyTensor>>()?.get().var("mse_loss")?.clone();
    let b = float_operand(target, "mse_loss")?;
    let loss = run(py, move || Ok(syft::nn::mse_loss(&a, &b, r)?))?;
    Ok(Bound::new(py, PyTensor::from_var(loss))?.into_any())
}

/// The class labels of `target` (an `int64` tensor or anything with `__array__`).
fn labels_of(target: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let t = match target.extract::<Bound<'_, PyTensor>>() {
        Ok(t) => match &t.get().value {
            Value::Int(t) => t.clone(),
            Value::Float(_) => return Err(invalid("labels", "class labels are an int64 tensor")),
        },
        Err(_) => crate::convert::int_tensor(target)?,
    };
    t.data()
        .iter()
        .map(|&l| usize::try_from(l).map_err(|_| invalid("labels", format!("{} is not a class", l.cast_signed()))))
        .collect()
}

/// The negative log-likelihood of `log_probs` (`[N, K]`, e.g. from `log_softmax`) at the
/// class labels `target`, averaged over the batch.
#[pyfunction]
pub(crate) fn nll_loss(
    py: Python<'_>,
    log_probs: &Bound<'_, PyTensor>,
    target: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let x = log_probs.get().var("nll_loss")?.clone();
    let labels = labels_of(target)?;
    Ok(PyTensor::from_var(run(py, move || {
        let k = x.shape().get(1).copied().unwrap_or(0);
        let one_hot = syft::nn::loss::one_hot(&cpu(), &labels, k)?;
        Ok(syft::nn::nll_loss(&x, &one_hot)?)
    })?))
}

/// The cross-entropy of logits `input` (`[N, K]`) at the class labels `target`, averaged
/// over the batch.
#[pyfunction]
pub(crate) fn cross_entropy(
    py: Python<'_>,
    input: &Bound<'_, PyTensor>,
    target: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let x = input.get().var("cross_entropy")?.clone();
    let labels = labels_of(target)?;
    Ok(PyTensor::from_var(run(py, move || Ok(syft::nn::cross_entropy_with_labels(&x, &labels)?))?))
}

/// An ONNX model (a chain of Gemm/MatMul/Conv/pooling/Flatten, as `torch.onnx.export`
/// writes) from a file, as a `Sequential`.
#[pyfunction]
pub(crate) fn onnx_load(py: Python<'_>, path: PathBuf) -> PyResult<PySequential> {
    let model = py.detach(move || syft_onnx::load(path)).map_err(|e| onnx_err(&e))?;
    Ok(PySequential::from_model(model.into_module()))
}

/// An ONNX model from bytes, as a `Sequential`.
#[pyfunction]
pub(crate) fn onnx_from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PySequential> {
    let model = py.detach(move || syft_onnx::from_bytes(data)).map_err(|e| onnx_err(&e))?;
    Ok(PySequential::from_model(model.into_module()))
}

/// A `Sequential` as ONNX bytes, for inputs of `input_shape` (one example, without the
/// batch axis: `[784]`, `[1, 28, 28]`).
#[pyfunction]
pub(crate) fn onnx_export<'py>(
    py: Python<'py>,
    model: &Bound<'py, PySequential>,
    input_shape: Vec<usize>,
) -> PyResult<Bound<'py, PyBytes>> {
    let m = &model.get().model;
    let bytes = py.detach(move || syft_onnx::export(m, &input_shape)).map_err(|e| onnx_err(&e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// MNIST from the IDX files in `data_dir` (gzip or not), normalised as the Rust examples
/// do (mean 0.1307, std 0.3081) and flattened to 784 values: a dict of `train_images`,
/// `train_labels`, `test_images`, `test_labels` (NumPy) and `test_split`. Without the
/// official test files, the last `held_out` training digits are the test split.
#[pyfunction]
#[pyo3(signature = (data_dir, held_out = syft::nn::mnist::DEFAULT_HELD_OUT))]
pub(crate) fn load_mnist<'py>(py: Python<'py>, data_dir: PathBuf, held_out: usize) -> PyResult<Bound<'py, PyDict>> {
    let (train, test, split) = run(py, move || {
        let mnist = syft::nn::Mnist::load_or_hold_out(&data_dir, held_out)?;
        Ok((mnist.train.to_dataset::<f32>(true)?, mnist.test.to_dataset::<f32>(true)?, mnist.test_split.to_string()))
    })?;
    let dict = PyDict::new(py);
    let labels = |d: &syft::nn::Dataset<f32>| d.labels().iter().map(|&l| l as i64).collect::<Vec<_>>();
    dict.set_item("train_images", to_numpy(py, train.inputs())?)?;
    dict.set_item("train_labels", numpy::PyArray1::from_vec(py, labels(&train)))?;
    dict.set_item("test_images", to_numpy(py, test.inputs())?)?;
    dict.set_item("test_labels", numpy::PyArray1::from_vec(py, labels(&test)))?;
    dict.set_item("test_split", split)?;
    Ok(dict)
}
