//! [`FloatOps`]: real-number ops that encrypted backends need not provide.

use crate::backend::{Backend, OpResult};
use crate::ops::TensorOps;

/// The hyper-parameters of one Adam update (bias corrections already folded in).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamHyper {
    /// Step size.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// `1 - beta1^t`.
    pub bias_correction1: f64,
    /// `1 - beta2^t`.
    pub bias_correction2: f64,
}

/// Exp, log, sqrt, division, log-softmax and a fused Adam update.
pub trait FloatOps<B: Backend> {
    /// `e^x` elementwise.
    fn exp(&self, x: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// Natural logarithm elementwise.
    fn log(&self, x: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// Square root elementwise.
    fn sqrt(&self, x: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `a / b` with broadcasting.
    fn div(&self, a: &B::Tensor, b: &B::Tensor) -> OpResult<B, B::Tensor>;

    /// `x - logsumexp(x)` along `axis` (numerically stable).
    fn log_softmax(&self, x: &B::Tensor, axis: usize) -> OpResult<B, B::Tensor>;

    /// One Adam step in place: `m = β1·m + (1−β1)·g`, `v = β2·v + (1−β2)·g²`,
    /// `p -= lr · (m / bc1) / (sqrt(v / bc2) + eps)` (PyTorch's formula).
    ///
    /// The default composes the ops above; plaintext backends fuse it into one pass.
    fn adam_update(
        &self,
        param: &mut B::Tensor,
        grad: &B::Tensor,
        m: &mut B::Tensor,
        v: &mut B::Tensor,
        h: AdamHyper,
    ) -> OpResult<B, ()>
    where
        Self: TensorOps<B>,
    {
        *m = self.add(&self.mul_scalar(m, h.beta1)?, &self.mul_scalar(grad, 1.0 - h.beta1)?)?;
        let g2 = self.mul(grad, grad)?;
        *v = self.add(&self.mul_scalar(v, h.beta2)?, &self.mul_scalar(&g2, 1.0 - h.beta2)?)?;
        let denom = self.sqrt(&self.mul_scalar(v, 1.0 / h.bias_correction2)?)?;
        let denom = self.add(&denom, &self.full(&[], h.eps)?)?;
        let step = self.div(&self.mul_scalar(m, h.lr / h.bias_correction1)?, &denom)?;
        *param = self.sub(param, &step)?;
        Ok(())
    }
}
