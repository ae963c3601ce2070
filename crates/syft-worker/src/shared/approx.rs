//! Numerical approximations on shared tensors, built only from the public operations of
//! [`SharedTensor`]: exponential, reciprocal, logarithm, softmax and cross-entropy. They
//! are kept apart from the protocols so that they can move into the protocol layer as
//! they are.

use super::SharedTensor;
use crate::error::{Result, WorkerError};
use syft_ring::Tensor;

impl SharedTensor {
    /// `e^self` by the limit `(1 + x/2^n)^(2^n)` with `n = 8` squarings (CrypTen's method):
    /// relative error about `x²/2^9`, for inputs up to a few tens in magnitude. Eight
    /// rounds.
    pub fn exp(&self) -> Result<Self> {
        const SQUARINGS: u32 = 8;
        let ones = Tensor::<f64>::ones(self.shape());
        let mut t = self.mul_scalar(1.0 / f64::from(1u32 << SQUARINGS))?.add_public(&ones)?;
        for _ in 0..SQUARINGS {
            t = t.mul(&t)?;
        }
        Ok(t)
    }

    /// `1/self` by Newton–Raphson, `y ← y·(2 − x·y)` from the public start `init`; it
    /// converges when `0 < init < 2/x`, quadratically, so `iterations` of 6 to 10 reach
    /// the fixed-point resolution. Two rounds per iteration.
    pub fn reciprocal(&self, init: f64, iterations: usize) -> Result<Self> {
        let enc = self.encoder().ok_or_else(|| WorkerError::InvalidArgument {
            op: "reciprocal",
            reason: "needs a fixed-point tensor".into(),
        })?;
        let mut y = Self::public(&enc.encode(&Tensor::full(self.shape(), init))?, Some(enc), self.session())?;
        let twos = Tensor::<f64>::full(self.shape(), 2.0);
        for _ in 0..iterations {
            let xy = self.mul(&y)?;
            y = y.mul(&xy.neg()?.add_public(&twos)?)?;
        }
        Ok(y)
    }

    /// The softmax along the last axis of a `[rows, k]` tensor: the row maximum is
    /// subtracted first (SecureNN max), so the exponentials lie in `(0, 1]` and their sum
    /// in `[1, k]`, where Newton–Raphson from `1/k` converges.
    pub fn softmax(&self) -> Result<Self> {
        let (rows, k) = match self.shape() {
            &[r, k] if k > 0 => (r, k),
            _ => {
                return Err(syft_ring::RingError::RankMismatch {
                    op: "softmax",
                    expected: "2",
                    shape: self.shape().to_vec(),
                }
                .into());
            }
        };
        let m = self.max(1)?.reshape(&[rows, 1])?;
        let e = self.sub(&m)?.exp()?;
        let s = e.sum_axis(1, true)?;
        #[allow(clippy::cast_precision_loss, reason = "class counts are small")]
        let r = s.reciprocal(1.0 / k as f64, 8)?;
        e.mul(&r)
    }

    /// `ln(self)` for values in `[1, 2^10]` by Newton's method on `e^y = x`:
    /// `y ← y − 1 + x·e^{−y}`, from `y = 1.5`. Nine rounds per iteration.
    pub fn ln(&self, iterations: usize) -> Result<Self> {
        let enc = self
            .encoder()
            .ok_or_else(|| WorkerError::InvalidArgument { op: "ln", reason: "needs a fixed-point tensor".into() })?;
        let mut y = Self::public(&enc.encode(&Tensor::full(self.shape(), 1.5))?, Some(enc), self.session())?;
        let minus_ones = Tensor::<f64>::full(self.shape(), -1.0);
        for _ in 0..iterations {
            let inv = y.neg()?.exp()?;
            y = y.add(&self.mul(&inv)?)?.add_public(&minus_ones)?;
        }
        Ok(y)
    }

    /// The summed cross-entropy `−Σ y·log softmax(self)` of `[rows, k]` logits against
    /// one-hot targets (both shared fixed point), computed as
    /// `Σ_rows (max + ln Σ e^{z−max}) − Σ y·z`.
    pub fn cross_entropy(&self, one_hot: &Self) -> Result<Self> {
        let rows = match self.shape() {
            &[r, _] => r,
            _ => {
                return Err(syft_ring::RingError::RankMismatch {
                    op: "cross_entropy",
                    expected: "2",
                    shape: self.shape().to_vec(),
                }
                .into());
            }
        };
        let m = self.max(1)?.reshape(&[rows, 1])?;
        let s = self.sub(&m)?.exp()?.sum_axis(1, true)?;
        let lse = m.add(&s.ln(6)?)?;
        lse.sum()?.sub(&self.mul(one_hot)?.sum()?)
    }
}
