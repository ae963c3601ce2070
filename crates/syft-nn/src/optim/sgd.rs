//! [`Sgd`]: stochastic gradient descent with momentum and weight decay (PyTorch's).

use super::Optimizer;
use syft_autograd::{Backend, OpResult, Var};

/// Hyper-parameters of [`Sgd`] (PyTorch's names and defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (0: none).
    pub momentum: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl SgdConfig {
    /// Plain SGD with learning rate `lr`.
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }

    /// With momentum.
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// With weight decay.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// With Nesterov momentum.
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

/// SGD: `p ← p − lr · g` with optional weight decay and (Nesterov) momentum, computed
/// with `mul_scalar`, `add` and `sub` only, so it also updates shared parameters.
#[derive(Debug)]
pub struct Sgd<B: Backend> {
    params: Vec<Var<B>>,
    config: SgdConfig,
    velocity: Vec<Option<B::Tensor>>,
}

impl<B: Backend> Sgd<B> {
    /// An optimizer over `params`.
    #[must_use]
    pub fn new(params: Vec<Var<B>>, config: SgdConfig) -> Self {
        let velocity = vec![None; params.len()];
        Self { params, config, velocity }
    }

    /// The hyper-parameters.
    #[must_use]
    pub fn config(&self) -> SgdConfig {
        self.config
    }

    /// Changes the learning rate (schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

impl<B: Backend> Optimizer<B> for Sgd<B> {
    fn step(&mut self) -> OpResult<B, ()> {
        let c = self.config;
        for (p, vel) in self.params.iter().zip(&mut self.velocity) {
            let Some(grad) = p.grad() else { continue };
            let b = p.backend();
            let value = p.value();
            let mut g = if c.weight_decay == 0.0 {
                (*grad).clone()
            } else {
                b.add(&grad, &b.mul_scalar(&value, c.weight_decay)?)?
            };
            if c.momentum != 0.0 {
                let buf = match vel.take() {
                    None => g.clone(),
                    Some(v) => b.add(&b.mul_scalar(&v, c.momentum)?, &b.mul_scalar(&g, 1.0 - c.dampening)?)?,
                };
                g = if c.nesterov { b.add(&g, &b.mul_scalar(&buf, c.momentum)?)? } else { buf.clone() };
                *vel = Some(buf);
            }
            let updated = b.sub(&value, &b.mul_scalar(&g, c.lr)?)?;
            drop(value);
            p.set_value(updated);
        }
        Ok(())
    }

    fn parameters(&self) -> &[Var<B>] {
        &self.params
    }
}
