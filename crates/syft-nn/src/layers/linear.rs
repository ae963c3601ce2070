//! [`Linear`]: `y = x · Wᵀ + b`, PyTorch's `nn.Linear`.

use super::check_shape;
use crate::init::{default_bound, uniform};
use crate::module::{Module, ParamMap, map_weight_bias, visit_weight_bias};
use syft_autograd::{Backend, OpResult, Var};
use syft_ring::Prg;

/// A fully connected layer: `weight: [out, in]` (PyTorch's layout), `bias: [out]`.
#[derive(Clone, Debug)]
pub struct Linear<B: Backend> {
    weight: Var<B>,
    bias: Option<Var<B>>,
    training: bool,
}

impl<B: Backend> Linear<B> {
    /// PyTorch's default initialisation: weight and bias from `U(−1/√in, 1/√in)`.
    pub fn new(backend: &B, in_features: usize, out_features: usize, bias: bool, rng: &mut Prg) -> OpResult<B, Self> {
        let bound = default_bound(in_features);
        let w = backend.constant(&[out_features, in_features], &uniform(rng, out_features * in_features, bound))?;
        let bias = if bias {
            Some(Var::param(backend, backend.constant(&[out_features], &uniform(rng, out_features, bound))?))
        } else {
            None
        };
        Ok(Self { weight: Var::param(backend, w), bias, training: true })
    }

    /// A layer with the given parameters (`weight: [out, in]`, `bias: [out]`).
    pub fn from_parameters(weight: Var<B>, bias: Option<Var<B>>) -> OpResult<B, Self> {
        let shape = weight.shape();
        let &[out, _] = shape.as_slice() else {
            return Err(syft_autograd::Error::InvalidArgument {
                op: "Linear::from_parameters",
                reason: format!("weight must be [out, in], got {shape:?}"),
            }
            .into());
        };
        if let Some(b) = &bias {
            check_shape("Linear::from_parameters", "bias", b, &[out])?;
        }
        Ok(Self { weight, bias, training: true })
    }

    /// The weight `[out, in]`.
    #[must_use]
    pub fn weight(&self) -> &Var<B> {
        &self.weight
    }

    /// The bias `[out]`, if any.
    #[must_use]
    pub fn bias(&self) -> Option<&Var<B>> {
        self.bias.as_ref()
    }

    /// Input features.
    #[must_use]
    pub fn in_features(&self) -> usize {
        self.weight.shape().get(1).copied().unwrap_or(0)
    }

    /// Output features.
    #[must_use]
    pub fn out_features(&self) -> usize {
        self.weight.shape().first().copied().unwrap_or(0)
    }
}

impl<B: Backend> Module<B> for Linear<B> {
    type Mapped<B2: Backend> = Linear<B2>;

    fn forward(&self, x: &Var<B>) -> OpResult<B, Var<B>> {
        x.linear(&self.weight, self.bias.as_ref())
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<B>)) {
        visit_weight_bias(prefix, &self.weight, self.bias.as_ref(), f);
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, B, B2, E>,
    ) -> Result<Linear<B2>, E> {
        let (weight, bias) = map_weight_bias(prefix, &self.weight, self.bias.as_ref(), backend, f)?;
        Ok(Linear { weight, bias, training: self.training })
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}
