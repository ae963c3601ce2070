//! [`OnnxModel`], the imported network with what the file says about it.

use crate::error::{Error, Result};
use syft_autograd::{Backend, Cpu, OpResult, Var};
use syft_nn::module::ParamMap;
use syft_nn::{Module, Sequential};
use syft_ring::Tensor;

/// An activation at the model's output that the importer records instead of computing:
/// it keeps a classifier's argmax, so encrypted inference can stop at the logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputActivation {
    /// `Softmax` over the class axis.
    Softmax,
    /// `LogSoftmax` over the class axis.
    LogSoftmax,
}

/// An imported ONNX model: a [`Sequential`] of plaintext `f32` modules, and what the file
/// says about its input, output and operator set.
///
/// The module computes the graph up to, not including, a final `Softmax` or
/// `LogSoftmax` (see [`output_activation`](Self::output_activation)). `OnnxModel` is a
/// [`Module`] itself, delegating to the sequence, so [`Module::map_parameters`] converts
/// it (to fixed point, to shares) like any syft-nn network.
#[derive(Clone, Debug)]
pub struct OnnxModel {
    pub(crate) module: Sequential<Cpu<f32>>,
    pub(crate) input_name: String,
    pub(crate) input_shape: Vec<Option<usize>>,
    pub(crate) output_name: String,
    pub(crate) output_shape: Vec<Option<usize>>,
    pub(crate) opset: i64,
    pub(crate) ir_version: i64,
    pub(crate) producer: String,
    pub(crate) output_activation: Option<OutputActivation>,
}

impl OnnxModel {
    /// The network.
    #[must_use]
    pub fn module(&self) -> &Sequential<Cpu<f32>> {
        &self.module
    }

    /// The network, by value.
    #[must_use]
    pub fn into_module(self) -> Sequential<Cpu<f32>> {
        self.module
    }

    /// The graph input's name.
    #[must_use]
    pub fn input_name(&self) -> &str {
        &self.input_name
    }

    /// The input's shape; `None` for a symbolic dimension (the batch axis, e.g.
    /// `torch.onnx.export(..., dynamic_axes=...)`).
    #[must_use]
    pub fn input_shape(&self) -> &[Option<usize>] {
        &self.input_shape
    }

    /// The graph output's name.
    #[must_use]
    pub fn output_name(&self) -> &str {
        &self.output_name
    }

    /// The output's shape, as computed through the layers; `None` where it follows a
    /// symbolic input dimension.
    #[must_use]
    pub fn output_shape(&self) -> &[Option<usize>] {
        &self.output_shape
    }

    /// The model's opset version for the default (`ai.onnx`) domain.
    #[must_use]
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// The file's IR version.
    #[must_use]
    pub fn ir_version(&self) -> i64 {
        self.ir_version
    }

    /// The producer named in the file (e.g. `pytorch 2.3.0`), possibly empty.
    #[must_use]
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// The `Softmax` or `LogSoftmax` the graph ended with, if any; the module stops before it.
    #[must_use]
    pub fn output_activation(&self) -> Option<OutputActivation> {
        self.output_activation
    }

    /// Runs the module on a plaintext input (without the output activation), after
    /// checking the input against the model's declared shape.
    pub fn forward_tensor(&self, input: &Tensor<f32>) -> Result<Tensor<f32>> {
        let fits = input.shape().len() == self.input_shape.len()
            && input.shape().iter().zip(&self.input_shape).all(|(&got, want)| want.is_none_or(|w| w == got));
        if !fits {
            return Err(Error::InputShape { expected: self.input_shape.clone(), got: input.shape().to_vec() });
        }
        let cpu = Cpu::<f32>::default();
        let y = self.module.forward(&Var::constant(&cpu, input.clone()))?;
        Ok(y.value().as_ref().clone())
    }

    /// Applies the recorded output activation (if any) to the module's output, over the
    /// last axis: what the ONNX graph itself outputs.
    pub fn apply_output_activation(&self, logits: &Tensor<f32>) -> Result<Tensor<f32>> {
        let Some(activation) = self.output_activation else { return Ok(logits.clone()) };
        let cpu = Cpu::<f32>::default();
        let axis = logits
            .shape()
            .len()
            .checked_sub(1)
            .ok_or_else(|| Error::InputShape { expected: self.output_shape.clone(), got: logits.shape().to_vec() })?;
        let log_p = Var::constant(&cpu, logits.clone()).log_softmax(axis)?;
        let out = match activation {
            OutputActivation::LogSoftmax => log_p,
            OutputActivation::Softmax => log_p.exp()?,
        };
        Ok(out.value().as_ref().clone())
    }
}

impl Module<Cpu<f32>> for OnnxModel {
    type Mapped<B2: Backend> = Sequential<B2>;

    fn forward(&self, x: &Var<Cpu<f32>>) -> OpResult<Cpu<f32>, Var<Cpu<f32>>> {
        self.module.forward(x)
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<Cpu<f32>>)) {
        self.module.visit_parameters(prefix, f);
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, Cpu<f32>, B2, E>,
    ) -> std::result::Result<Sequential<B2>, E> {
        self.module.map_parameters_under(prefix, backend, f)
    }

    fn set_training(&mut self, training: bool) {
        self.module.set_training(training);
    }

    fn is_training(&self) -> bool {
        self.module.is_training()
    }
}
