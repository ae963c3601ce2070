//! The finite-difference reference: numerical gradients by central differences on the
//! `f64` [`Cpu`] backend, and a checker that compares them with backward's.
//!
//! Every differentiable op is tested against it, and other backends (fixed point,
//! shared) can be checked against the `Cpu<f64>` gradients it certifies.

use crate::cpu::Cpu;
use crate::error::{Error, Result};
use crate::no_grad::no_grad;
use crate::var::Var;
use syft_ring::Tensor;

/// The backend the reference runs on.
pub type RefBackend = Cpu<f64>;

/// The gradients of a scalar function at `inputs`, by backward.
pub fn analytic_gradients<F>(f: F, inputs: &[Tensor<f64>]) -> Result<Vec<Tensor<f64>>>
where
    F: Fn(&[Var<RefBackend>]) -> Result<Var<RefBackend>>,
{
    let backend = RefBackend::default();
    let vars: Vec<_> = inputs.iter().map(|t| Var::param(&backend, t.clone())).collect();
    f(&vars)?.backward()?;
    Ok(vars
        .iter()
        .zip(inputs)
        .map(|(v, t)| v.grad().map_or_else(|| Tensor::zeros(t.shape()), |g| (*g).clone()))
        .collect())
}

/// The gradients of a scalar function at `inputs` by central differences with step `eps`:
/// `(f(x + eps·e_i) − f(x − eps·e_i)) / 2eps` for every element `i` of every input.
pub fn numeric_gradients<F>(f: F, inputs: &[Tensor<f64>], eps: f64) -> Result<Vec<Tensor<f64>>>
where
    F: Fn(&[Var<RefBackend>]) -> Result<Var<RefBackend>>,
{
    let backend = RefBackend::default();
    let eval = |xs: &[Tensor<f64>]| -> Result<f64> {
        no_grad(|| {
            let vars: Vec<_> = xs.iter().map(|t| Var::constant(&backend, t.clone())).collect();
            Ok(f(&vars)?.value().item()?)
        })
    };
    let mut xs = inputs.to_vec();
    let mut grads = Vec::with_capacity(inputs.len());
    for k in 0..xs.len() {
        let mut g = Tensor::zeros(xs[k].shape());
        for i in 0..xs[k].len() {
            let orig = xs[k].data()[i];
            xs[k].data_mut()[i] = orig + eps;
            let up = eval(&xs)?;
            xs[k].data_mut()[i] = orig - eps;
            let down = eval(&xs)?;
            xs[k].data_mut()[i] = orig;
            g.data_mut()[i] = (up - down) / (2.0 * eps);
        }
        grads.push(g);
    }
    Ok(grads)
}

/// The outcome of a gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Gradients by backward.
    pub analytic: Vec<Tensor<f64>>,
    /// Gradients by central differences.
    pub numeric: Vec<Tensor<f64>>,
    /// The largest `|analytic − numeric| / max(1, |numeric|)` over all elements.
    pub max_error: f64,
}

impl GradCheck {
    /// Whether every element agrees within `tol` (absolute, or relative above 1).
    #[must_use]
    pub fn passes(&self, tol: f64) -> bool {
        self.max_error <= tol
    }
}

/// Compares backward's gradients of the scalar function `f` at `inputs` with central
/// differences of step `eps`.
pub fn check_gradients<F>(f: F, inputs: &[Tensor<f64>], eps: f64) -> Result<GradCheck>
where
    F: Fn(&[Var<RefBackend>]) -> Result<Var<RefBackend>>,
{
    let analytic = analytic_gradients(&f, inputs)?;
    let numeric = numeric_gradients(&f, inputs, eps)?;
    let mut max_error = 0.0f64;
    for (a, n) in analytic.iter().zip(&numeric) {
        if a.shape() != n.shape() {
            return Err(Error::InvalidArgument {
                op: "check_gradients",
                reason: format!("gradient shape {:?} differs from input shape {:?}", a.shape(), n.shape()),
            });
        }
        for (&x, &y) in a.data().iter().zip(n.data()) {
            max_error = max_error.max((x - y).abs() / y.abs().max(1.0));
        }
    }
    Ok(GradCheck { analytic, numeric, max_error })
}
