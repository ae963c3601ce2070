//! Matrix products: `matmul`, `matmul_ex` (transposed operands) and fused `linear`.

use super::{needs, unbroadcast};
use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::var::Var;
use syft_ring::Transpose;

fn flip(t: Transpose) -> Transpose {
    match t {
        Transpose::No => Transpose::Yes,
        Transpose::Yes => Transpose::No,
    }
}

impl<B: Backend> Var<B> {
    /// `self · rhs` for `[..., m, k] · [..., k, n]` (batch axes broadcast).
    pub fn matmul(&self, rhs: &Self) -> OpResult<B, Self> {
        self.matmul_ex(Transpose::No, rhs, Transpose::No)
    }

    /// `op(self) · op(rhs)` with transposes applied without copies, forward and backward.
    pub fn matmul_ex(&self, ta: Transpose, rhs: &Self, tb: Transpose) -> OpResult<B, Self> {
        let b = self.backend();
        let (x, y) = (self.value(), rhs.value());
        let value = b.matmul(&x, ta, &y, tb)?;
        let (sa, sb) = (b.shape(&x), b.shape(&y));
        Ok(Self::from_op(
            "matmul",
            b,
            value,
            vec![self.clone(), rhs.clone()],
            Box::new(move |b, g, n| {
                // C = op(A)·op(B): dop(A) = G·op(B)ᵀ, dop(B) = op(A)ᵀ·G, then undo each op.
                let ga = if needs(n, 0) {
                    let d = match ta {
                        Transpose::No => b.matmul(&g, Transpose::No, &y, flip(tb))?,
                        Transpose::Yes => b.matmul(&y, tb, &g, Transpose::Yes)?,
                    };
                    Some(unbroadcast(b, d, &sa)?)
                } else {
                    None
                };
                let gb = if needs(n, 1) {
                    let d = match tb {
                        Transpose::No => b.matmul(&x, flip(ta), &g, Transpose::No)?,
                        Transpose::Yes => b.matmul(&g, Transpose::Yes, &x, ta)?,
                    };
                    Some(unbroadcast(b, d, &sb)?)
                } else {
                    None
                };
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// PyTorch's `F.linear`: `self · weightᵀ + bias` for `self: [..., in]`,
    /// `weight: [out, in]`, `bias: [out]`. One fused node; the weight is never transposed
    /// in memory, and the input's gradient is skipped when it does not require one.
    pub fn linear(&self, weight: &Self, bias: Option<&Self>) -> OpResult<B, Self> {
        let shape = self.shape();
        let Some((&features, lead)) = shape.split_last().filter(|_| shape.len() >= 2) else {
            return Err(Error::InvalidArgument {
                op: "linear",
                reason: format!("input must have rank >= 2, got shape {shape:?}"),
            }
            .into());
        };
        if shape.len() > 2 {
            let rows = lead.iter().product();
            let y = self.reshape(&[rows, features])?.linear(weight, bias)?;
            let mut out = lead.to_vec();
            out.push(y.shape().last().copied().unwrap_or(0));
            return y.reshape(&out);
        }
        let b = self.backend();
        let (x, w) = (self.value(), weight.value());
        let bv = bias.map(Var::value);
        let value = b.linear(&x, &w, bv.as_deref())?;
        let mut parents = vec![self.clone(), weight.clone()];
        parents.extend(bias.cloned());
        Ok(Self::from_op(
            "linear",
            b,
            value,
            parents,
            Box::new(move |b, g, n| {
                let gx = if needs(n, 0) { Some(b.matmul(&g, Transpose::No, &w, Transpose::No)?) } else { None };
                let gw = if needs(n, 1) { Some(b.matmul(&g, Transpose::Yes, &x, Transpose::No)?) } else { None };
                let mut grads = vec![gx, gw];
                if bv.is_some() {
                    grads.push(if needs(n, 2) { Some(b.sum_axis(&g, 0, false)?) } else { None });
                }
                Ok(grads)
            }),
        ))
    }
}
