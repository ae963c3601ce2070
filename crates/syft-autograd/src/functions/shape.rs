//! Shape ops and reductions: `reshape`, `flatten`, `transpose`, `broadcast_to`, `sum`,
//! `sum_axis`, `mean`, `mean_axis`.

use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::var::Var;

impl<B: Backend> Var<B> {
    /// The same elements under a new shape.
    pub fn reshape(&self, shape: &[usize]) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.reshape(&self.value(), shape)?;
        let orig = self.shape();
        Ok(Self::from_op(
            "reshape",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.reshape(&g, &orig)?)])),
        ))
    }

    /// Flattens axes `start..` into one (PyTorch's `flatten(start_dim)`).
    pub fn flatten(&self, start: usize) -> OpResult<B, Self> {
        let shape = self.shape();
        if start >= shape.len() {
            return Err(Error::InvalidArgument {
                op: "flatten",
                reason: format!("start axis {start} out of range for shape {shape:?}"),
            }
            .into());
        }
        let mut new_shape = shape[..start].to_vec();
        new_shape.push(shape[start..].iter().product());
        self.reshape(&new_shape)
    }

    /// Swaps the last two axes.
    pub fn transpose(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.transpose(&self.value())?;
        Ok(Self::from_op(
            "transpose",
            b,
            value,
            vec![self.clone()],
            Box::new(|b, g, _| Ok(vec![Some(b.transpose(&g)?)])),
        ))
    }

    /// Broadcasts to `shape` (numpy rules).
    pub fn broadcast_to(&self, shape: &[usize]) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.broadcast_to(&self.value(), shape)?;
        let orig = self.shape();
        Ok(Self::from_op(
            "broadcast_to",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.sum_to_shape(&g, &orig)?)])),
        ))
    }

    /// The sum of all elements (a rank-0 result).
    pub fn sum(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.sum_all(&self.value())?;
        let orig = self.shape();
        Ok(Self::from_op(
            "sum",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.broadcast_to(&g, &orig)?)])),
        ))
    }

    /// The sum along `axis`; with `keepdim` the axis stays with size 1.
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.sum_axis(&self.value(), axis, keepdim)?;
        let orig = self.shape();
        let mut kept = orig.clone();
        if let Some(d) = kept.get_mut(axis) {
            *d = 1;
        }
        Ok(Self::from_op(
            "sum_axis",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| {
                let g = if keepdim { g } else { b.reshape(&g, &kept)? };
                Ok(vec![Some(b.broadcast_to(&g, &orig)?)])
            }),
        ))
    }

    /// The mean of all elements (the sum times the public constant `1/n`).
    pub fn mean(&self) -> OpResult<B, Self> {
        let n = self.shape().iter().product::<usize>();
        self.sum()?.mul_scalar(inverse("mean", n)?)
    }

    /// The mean along `axis`.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> OpResult<B, Self> {
        let n = self.shape().get(axis).copied().unwrap_or(0);
        self.sum_axis(axis, keepdim)?.mul_scalar(inverse("mean_axis", n)?)
    }
}

/// `1 / n` as a public constant, or an error for an empty reduction.
#[allow(clippy::cast_precision_loss, reason = "element counts are far below 2^52")]
pub(crate) fn inverse(op: &'static str, n: usize) -> Result<f64, Error> {
    if n == 0 {
        return Err(Error::InvalidArgument { op, reason: "mean of zero elements".into() });
    }
    Ok(1.0 / n as f64)
}
