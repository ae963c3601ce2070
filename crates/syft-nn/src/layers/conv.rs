//! [`Conv2d`]: 2-d convolution with bias, PyTorch's `nn.Conv2d`.

use super::check_shape;
use crate::init::{default_bound, uniform};
use crate::module::{Module, ParamMap, map_weight_bias, visit_weight_bias};
use syft_autograd::{Backend, Conv2dParams, OpResult, Var};
use syft_ring::Prg;

/// A 2-d convolution: `weight: [out, in, kh, kw]`, `bias: [out]`, on `[N, C, H, W]`.
#[derive(Clone, Debug)]
pub struct Conv2d<B: Backend> {
    weight: Var<B>,
    bias: Option<Var<B>>,
    params: Conv2dParams,
    training: bool,
}

impl<B: Backend> Conv2d<B> {
    /// PyTorch's default initialisation: weight and bias from `U(−1/√fan_in, 1/√fan_in)`,
    /// `fan_in = in_channels · kh · kw`.
    pub fn new(
        backend: &B,
        in_channels: usize,
        out_channels: usize,
        kernel: (usize, usize),
        params: Conv2dParams,
        bias: bool,
        rng: &mut Prg,
    ) -> OpResult<B, Self> {
        let fan_in = in_channels * kernel.0 * kernel.1;
        let bound = default_bound(fan_in);
        let shape = [out_channels, in_channels, kernel.0, kernel.1];
        let w = backend.constant(&shape, &uniform(rng, out_channels * fan_in, bound))?;
        let bias = if bias {
            Some(Var::param(backend, backend.constant(&[out_channels], &uniform(rng, out_channels, bound))?))
        } else {
            None
        };
        Ok(Self { weight: Var::param(backend, w), bias, params, training: true })
    }

    /// A layer with the given parameters (`weight: [out, in, kh, kw]`, `bias: [out]`).
    pub fn from_parameters(weight: Var<B>, bias: Option<Var<B>>, params: Conv2dParams) -> OpResult<B, Self> {
        let shape = weight.shape();
        let &[out, _, _, _] = shape.as_slice() else {
            return Err(syft_autograd::Error::InvalidArgument {
                op: "Conv2d::from_parameters",
                reason: format!("weight must be [out, in, kh, kw], got {shape:?}"),
            }
            .into());
        };
        if let Some(b) = &bias {
            check_shape("Conv2d::from_parameters", "bias", b, &[out])?;
        }
        Ok(Self { weight, bias, params, training: true })
    }

    /// The kernel `[out, in, kh, kw]`.
    #[must_use]
    pub fn weight(&self) -> &Var<B> {
        &self.weight
    }

    /// The bias `[out]`, if any.
    #[must_use]
    pub fn bias(&self) -> Option<&Var<B>> {
        self.bias.as_ref()
    }

    /// Stride and padding.
    #[must_use]
    pub fn params(&self) -> Conv2dParams {
        self.params
    }
}

impl<B: Backend> Module<B> for Conv2d<B> {
    type Mapped<B2: Backend> = Conv2d<B2>;

    fn forward(&self, x: &Var<B>) -> OpResult<B, Var<B>> {
        let y = x.conv2d(&self.weight, self.params)?;
        match &self.bias {
            Some(b) => {
                let out = b.shape().first().copied().unwrap_or(0);
                y.add(&b.reshape(&[out, 1, 1])?)
            }
            None => Ok(y),
        }
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<B>)) {
        visit_weight_bias(prefix, &self.weight, self.bias.as_ref(), f);
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, B, B2, E>,
    ) -> Result<Conv2d<B2>, E> {
        let (weight, bias) = map_weight_bias(prefix, &self.weight, self.bias.as_ref(), backend, f)?;
        Ok(Conv2d { weight, bias, params: self.params, training: self.training })
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}
