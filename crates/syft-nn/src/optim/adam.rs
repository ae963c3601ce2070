//! [`Adam`] (PyTorch's formula, with bias correction and optional L2 weight decay).

use super::Optimizer;
use syft_autograd::ops::AdamHyper;
use syft_autograd::{FloatBackend, OpResult, Var};

/// Hyper-parameters of [`Adam`] (PyTorch's names and defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moments (default 0.9, 0.999).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0 }
    }
}

impl AdamConfig {
    /// The defaults with learning rate `lr`.
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// Adam. Each step is one fused [`adam_update`](syft_autograd::ops::FloatOps::adam_update)
/// per parameter, in place.
#[derive(Debug)]
pub struct Adam<B: FloatBackend> {
    params: Vec<Var<B>>,
    config: AdamConfig,
    moments: Vec<Option<(B::Tensor, B::Tensor)>>,
    steps: Vec<i32>,
}

impl<B: FloatBackend> Adam<B> {
    /// An optimizer over `params`.
    #[must_use]
    pub fn new(params: Vec<Var<B>>, config: AdamConfig) -> Self {
        let n = params.len();
        Self { params, config, moments: vec![None; n], steps: vec![0; n] }
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// Changes the learning rate (schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

impl<B: FloatBackend> Optimizer<B> for Adam<B> {
    fn step(&mut self) -> OpResult<B, ()> {
        let c = self.config;
        for ((p, state), t) in self.params.iter().zip(&mut self.moments).zip(&mut self.steps) {
            let Some(grad) = p.grad() else { continue };
            let b = p.backend();
            let grad = if c.weight_decay == 0.0 {
                grad
            } else {
                std::sync::Arc::new(b.add(&grad, &b.mul_scalar(&p.value(), c.weight_decay)?)?)
            };
            let (mut m, mut v) = match state.take() {
                Some(mv) => mv,
                None => {
                    let shape = p.shape();
                    (b.full(&shape, 0.0)?, b.full(&shape, 0.0)?)
                }
            };
            *t = t.saturating_add(1);
            let h = AdamHyper {
                lr: c.lr,
                beta1: c.betas.0,
                beta2: c.betas.1,
                eps: c.eps,
                bias_correction1: 1.0 - c.betas.0.powi(*t),
                bias_correction2: 1.0 - c.betas.1.powi(*t),
            };
            p.update_value(|value| b.adam_update(value, &grad, &mut m, &mut v, h))?;
            *state = Some((m, v));
        }
        Ok(())
    }

    fn parameters(&self) -> &[Var<B>] {
        &self.params
    }
}
