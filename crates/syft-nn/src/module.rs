//! The [`Module`] trait: forward, (named) parameters, train/eval, and conversion of a
//! whole module to another backend.

use syft_autograd::{Backend, OpResult, Var};

/// The conversion [`Module::map_parameters_under`] applies to each parameter:
/// `(full_name, tensor) -> converted tensor`.
pub type ParamMap<'a, B, B2, E> = dyn FnMut(&str, &<B as Backend>::Tensor) -> Result<<B2 as Backend>::Tensor, E> + 'a;

/// Joins a parameter path: `join("0", "weight") == "0.weight"`, `join("", "bias") == "bias"`.
#[must_use]
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// A network layer or a network, generic over the backend it computes on.
///
/// Parameter names follow PyTorch's `state_dict` (`0.weight`, `0.bias`, ... for a
/// [`Sequential`](crate::Sequential)), so weights move between the two.
pub trait Module<B: Backend> {
    /// The same module on another backend (what [`map_parameters`](Module::map_parameters)
    /// builds).
    type Mapped<B2: Backend>: Module<B2>;

    /// The forward pass.
    fn forward(&self, x: &Var<B>) -> OpResult<B, Var<B>>;

    /// Calls `f` with each parameter's full name (under `prefix`) and handle, in order.
    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<B>));

    /// Rebuilds the module on backend `backend`, converting each parameter tensor with
    /// `f(full_name, tensor)`, e.g. fixed-precision encoding then secret sharing,
    /// parameter by parameter. `requires_grad` is kept.
    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, B, B2, E>,
    ) -> Result<Self::Mapped<B2>, E>;

    /// Switches between training and evaluation behaviour (no layer here differs yet;
    /// the flag is kept for modules that do, as in PyTorch).
    fn set_training(&mut self, training: bool);

    /// Whether the module is in training mode.
    fn is_training(&self) -> bool;

    /// [`map_parameters_under`](Module::map_parameters_under) from the root.
    fn map_parameters<B2: Backend, E>(
        &self,
        backend: &B2,
        mut f: impl FnMut(&str, &B::Tensor) -> Result<B2::Tensor, E>,
    ) -> Result<Self::Mapped<B2>, E>
    where
        Self: Sized,
    {
        self.map_parameters_under("", backend, &mut f)
    }

    /// The parameters, in order (handles: updating them updates the module).
    fn parameters(&self) -> Vec<Var<B>> {
        let mut out = Vec::new();
        self.visit_parameters("", &mut |_, v| out.push(v.clone()));
        out
    }

    /// The parameters with their PyTorch-style names, in order.
    fn named_parameters(&self) -> Vec<(String, Var<B>)> {
        let mut out = Vec::new();
        self.visit_parameters("", &mut |name, v| out.push((name, v.clone())));
        out
    }

    /// The total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_parameters("", &mut |_, v| n += v.shape().iter().product::<usize>());
        n
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        self.visit_parameters("", &mut |_, v| v.zero_grad());
    }

    /// Training mode.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode.
    fn eval(&mut self) {
        self.set_training(false);
    }
}

/// Builds a parameter on another backend from a converted tensor, keeping `requires_grad`.
pub(crate) fn map_param<B: Backend, B2: Backend, E>(
    param: &Var<B>,
    name: &str,
    backend: &B2,
    f: &mut ParamMap<'_, B, B2, E>,
) -> Result<Var<B2>, E> {
    Ok(Var::new(backend, f(name, &param.value())?, param.requires_grad()))
}

/// Visits a layer's `weight` and optional `bias` under `prefix`, in that order (the
/// parameters of `Linear` and `Conv2d`).
pub(crate) fn visit_weight_bias<B: Backend>(
    prefix: &str,
    weight: &Var<B>,
    bias: Option<&Var<B>>,
    f: &mut dyn FnMut(String, &Var<B>),
) {
    f(join(prefix, "weight"), weight);
    if let Some(b) = bias {
        f(join(prefix, "bias"), b);
    }
}

/// Maps a layer's `weight` and optional `bias` to another backend
/// ([`Module::map_parameters_under`] of `Linear` and `Conv2d`).
pub(crate) fn map_weight_bias<B: Backend, B2: Backend, E>(
    prefix: &str,
    weight: &Var<B>,
    bias: Option<&Var<B>>,
    backend: &B2,
    f: &mut ParamMap<'_, B, B2, E>,
) -> Result<(Var<B2>, Option<Var<B2>>), E> {
    let weight = map_param(weight, &join(prefix, "weight"), backend, f)?;
    let bias = bias.map(|b| map_param(b, &join(prefix, "bias"), backend, f)).transpose()?;
    Ok((weight, bias))
}
