//! [`ReLU`], PyTorch's `nn.ReLU`.

/// `max(x, 0)` elementwise; its derivative mask comes from the forward comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReLU {
    training: bool,
}

impl Default for ReLU {
    fn default() -> Self {
        Self::new()
    }
}

impl ReLU {
    /// A ReLU layer.
    #[must_use]
    pub fn new() -> Self {
        Self { training: true }
    }
}

/// `Module` for a layer without parameters: the same value on every backend.
macro_rules! parameterless_module {
    ($ty:ty, |$layer:ident, $x:ident| $body:expr) => {
        impl<B: syft_autograd::Backend> $crate::module::Module<B> for $ty {
            type Mapped<B2: syft_autograd::Backend> = $ty;

            fn forward(&self, $x: &syft_autograd::Var<B>) -> syft_autograd::OpResult<B, syft_autograd::Var<B>> {
                let $layer = self;
                $body
            }

            fn visit_parameters(&self, _prefix: &str, _f: &mut dyn FnMut(String, &syft_autograd::Var<B>)) {}

            fn map_parameters_under<B2: syft_autograd::Backend, E>(
                &self,
                _prefix: &str,
                _backend: &B2,
                _f: &mut $crate::module::ParamMap<'_, B, B2, E>,
            ) -> Result<$ty, E> {
                Ok(*self)
            }

            fn set_training(&mut self, training: bool) {
                self.training = training;
            }

            fn is_training(&self) -> bool {
                self.training
            }
        }
    };
}
pub(crate) use parameterless_module;

parameterless_module!(ReLU, |_layer, x| x.relu());
