//! Float-only ops: `exp`, `log`, `sqrt`, `div`, `log_softmax`, `nll_loss`, `cross_entropy`.

use super::shape::inverse;
use super::{needs, unbroadcast};
use crate::backend::{FloatBackend, OpResult};
use crate::error::Error;
use crate::var::Var;
use std::sync::Arc;

impl<B: FloatBackend> Var<B> {
    /// `e^self`.
    pub fn exp(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = Arc::new(b.exp(&self.value())?);
        let y = Arc::clone(&value);
        Ok(Self::from_op("exp", b, value, vec![self.clone()], Box::new(move |b, g, _| Ok(vec![Some(b.mul(&g, &y)?)]))))
    }

    /// The natural logarithm.
    pub fn log(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let x = self.value();
        let value = b.log(&x)?;
        Ok(Self::from_op("log", b, value, vec![self.clone()], Box::new(move |b, g, _| Ok(vec![Some(b.div(&g, &x)?)]))))
    }

    /// The square root.
    pub fn sqrt(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = Arc::new(b.sqrt(&self.value())?);
        let y = Arc::clone(&value);
        Ok(Self::from_op(
            "sqrt",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul_scalar(&b.div(&g, &y)?, 0.5)?)])),
        ))
    }

    /// `self / rhs` with broadcasting.
    pub fn div(&self, rhs: &Self) -> OpResult<B, Self> {
        let b = self.backend();
        let (x, y) = (self.value(), rhs.value());
        let value = b.div(&x, &y)?;
        let (sa, sb) = (b.shape(&x), b.shape(&y));
        Ok(Self::from_op(
            "div",
            b,
            value,
            vec![self.clone(), rhs.clone()],
            Box::new(move |b, g, n| {
                let ga = if needs(n, 0) { Some(unbroadcast(b, b.div(&g, &y)?, &sa)?) } else { None };
                let gb = if needs(n, 1) {
                    // d(x/y)/dy = −x / y²
                    let q = b.div(&b.div(&b.mul(&g, &x)?, &y)?, &y)?;
                    Some(unbroadcast(b, b.neg(&q)?, &sb)?)
                } else {
                    None
                };
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// `self − logsumexp(self)` along `axis`, computed stably.
    pub fn log_softmax(&self, axis: usize) -> OpResult<B, Self> {
        let b = self.backend();
        let value = Arc::new(b.log_softmax(&self.value(), axis)?);
        let y = Arc::clone(&value);
        Ok(Self::from_op(
            "log_softmax",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| {
                // dx = g − softmax · Σ_axis g
                let total = b.sum_axis(&g, axis, true)?;
                let spread = b.mul(&b.exp(&y)?, &total)?;
                Ok(vec![Some(b.sub(&g, &spread)?)])
            }),
        ))
    }

    /// The mean negative log-likelihood of rows of log-probabilities `self: [n, k]`
    /// against one-hot targets `[n, k]` (PyTorch's `F.nll_loss`, `reduction='mean'`).
    pub fn nll_loss(&self, one_hot: &Self) -> OpResult<B, Self> {
        let shape = self.shape();
        let rows = match shape.as_slice() {
            [n, _] => *n,
            _ => {
                return Err(Error::InvalidArgument {
                    op: "nll_loss",
                    reason: format!("log-probabilities must be [n, classes], got {shape:?}"),
                }
                .into());
            }
        };
        self.mul(one_hot)?.sum()?.mul_scalar(-inverse("nll_loss", rows)?)
    }

    /// Cross-entropy of logits `self: [n, k]` against one-hot targets: `nll_loss` of
    /// `log_softmax` along the class axis.
    pub fn cross_entropy(&self, one_hot: &Self) -> OpResult<B, Self> {
        self.log_softmax(1)?.nll_loss(one_hot)
    }
}
