//! [`Sequential`]: layers applied in order, named `0`, `1`, ... as in PyTorch.

use super::{AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU};
use crate::module::{Module, ParamMap, join};
use syft_autograd::{Backend, OpResult, Var};

/// One layer of a [`Sequential`]. A closed set, so that a whole network converts to
/// another backend ([`Module::map_parameters`]) without trait objects.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Layer<B: Backend> {
    /// A fully connected layer.
    Linear(Linear<B>),
    /// A 2-d convolution.
    Conv2d(Conv2d<B>),
    /// ReLU.
    ReLU(ReLU),
    /// Max pooling.
    MaxPool2d(MaxPool2d),
    /// Average pooling.
    AvgPool2d(AvgPool2d),
    /// Global average pooling (one mean per channel).
    GlobalAvgPool2d(GlobalAvgPool2d),
    /// Flattening.
    Flatten(Flatten),
    /// A nested sequence (its parameters are named `i.j.weight`).
    Sequential(Sequential<B>),
}

macro_rules! layer_from {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl<B: Backend> From<$ty> for Layer<B> {
            fn from(layer: $ty) -> Self {
                Self::$variant(layer)
            }
        }
    )*};
}

layer_from!(
    Linear(Linear<B>),
    Conv2d(Conv2d<B>),
    ReLU(ReLU),
    MaxPool2d(MaxPool2d),
    AvgPool2d(AvgPool2d),
    GlobalAvgPool2d(GlobalAvgPool2d),
    Flatten(Flatten),
    Sequential(Sequential<B>),
);

/// Dispatches a `Module` method to the layer inside.
macro_rules! each_layer {
    ($layer:expr, |$l:ident| $body:expr) => {
        match $layer {
            Layer::Linear($l) => $body,
            Layer::Conv2d($l) => $body,
            Layer::ReLU($l) => $body,
            Layer::MaxPool2d($l) => $body,
            Layer::AvgPool2d($l) => $body,
            Layer::GlobalAvgPool2d($l) => $body,
            Layer::Flatten($l) => $body,
            Layer::Sequential($l) => $body,
        }
    };
}

impl<B: Backend> Module<B> for Layer<B> {
    type Mapped<B2: Backend> = Layer<B2>;

    fn forward(&self, x: &Var<B>) -> OpResult<B, Var<B>> {
        each_layer!(self, |l| l.forward(x))
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<B>)) {
        each_layer!(self, |l| l.visit_parameters(prefix, f));
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, B, B2, E>,
    ) -> Result<Layer<B2>, E> {
        Ok(match self {
            Layer::Linear(l) => Layer::Linear(l.map_parameters_under(prefix, backend, f)?),
            Layer::Conv2d(l) => Layer::Conv2d(l.map_parameters_under(prefix, backend, f)?),
            Layer::ReLU(l) => Layer::ReLU(*l),
            Layer::MaxPool2d(l) => Layer::MaxPool2d(*l),
            Layer::AvgPool2d(l) => Layer::AvgPool2d(*l),
            Layer::GlobalAvgPool2d(l) => Layer::GlobalAvgPool2d(*l),
            Layer::Flatten(l) => Layer::Flatten(*l),
            Layer::Sequential(l) => Layer::Sequential(l.map_parameters_under(prefix, backend, f)?),
        })
    }

    fn set_training(&mut self, training: bool) {
        each_layer!(self, |l| Module::<B>::set_training(l, training));
    }

    fn is_training(&self) -> bool {
        each_layer!(self, |l| Module::<B>::is_training(l))
    }
}

/// Layers applied in order (PyTorch's `nn.Sequential`).
#[derive(Clone, Debug)]
pub struct Sequential<B: Backend> {
    layers: Vec<Layer<B>>,
    training: bool,
}

impl<B: Backend> Default for Sequential<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Sequential<B> {
    /// An empty sequence (the identity).
    #[must_use]
    pub fn new() -> Self {
        Self { layers: Vec::new(), training: true }
    }

    /// Appends a layer (builder style).
    #[must_use]
    pub fn with(mut self, layer: impl Into<Layer<B>>) -> Self {
        self.push(layer);
        self
    }

    /// Appends a layer.
    pub fn push(&mut self, layer: impl Into<Layer<B>>) {
        let mut layer = layer.into();
        layer.set_training(self.training);
        self.layers.push(layer);
    }

    /// The layers.
    #[must_use]
    pub fn layers(&self) -> &[Layer<B>] {
        &self.layers
    }

    /// The number of layers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl<B: Backend> FromIterator<Layer<B>> for Sequential<B> {
    fn from_iter<I: IntoIterator<Item = Layer<B>>>(iter: I) -> Self {
        let mut s = Self::new();
        for layer in iter {
            s.push(layer);
        }
        s
    }
}

impl<B: Backend> Module<B> for Sequential<B> {
    type Mapped<B2: Backend> = Sequential<B2>;

    fn forward(&self, x: &Var<B>) -> OpResult<B, Var<B>> {
        let mut h = x.clone();
        for layer in &self.layers {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<B>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            layer.visit_parameters(&join(prefix, &i.to_string()), f);
        }
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, B, B2, E>,
    ) -> Result<Sequential<B2>, E> {
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| l.map_parameters_under(&join(prefix, &i.to_string()), backend, f))
            .collect::<Result<_, E>>()?;
        Ok(Sequential { layers, training: self.training })
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
}
