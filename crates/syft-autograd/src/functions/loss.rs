//! The fused loss: `softmax_cross_entropy` (the backend's [`LossOps`]).

use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::ops::LossOps;
use crate::var::Var;

impl<B: Backend + LossOps<B>> Var<B> {
    /// The summed softmax cross-entropy `Σ_rows −Σ_k y·log softmax(self)` of logits
    /// `self: [n, k]` against one-hot targets `[n, k]`, a one-element tensor of shape `[]`
    /// (PyTorch's `F.cross_entropy(z, y, reduction='sum')` with probabilities as targets).
    ///
    /// One backend op computes the loss and its gradient `softmax(self) − y` together
    /// ([`LossOps::softmax_cross_entropy`]); backward scales that stored gradient by the
    /// upstream one. The targets get no gradient (they are data).
    pub fn softmax_cross_entropy(&self, one_hot: &Self) -> OpResult<B, Self> {
        let (zs, ys) = (self.shape(), one_hot.shape());
        if zs.len() != 2 || zs != ys {
            return Err(Error::InvalidArgument {
                op: "softmax_cross_entropy",
                reason: format!("needs logits [n, k] and one-hot targets of the same shape, got {zs:?} and {ys:?}"),
            }
            .into());
        }
        let b = self.backend();
        let (loss, grad) = b.softmax_cross_entropy(&self.value(), &one_hot.value())?;
        Ok(Self::from_op(
            "softmax_cross_entropy",
            b,
            loss,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul(&grad, &g)?)])),
        ))
    }
}
