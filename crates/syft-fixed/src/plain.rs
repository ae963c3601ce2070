//! [`PlainRing`]: the plaintext [`IntBackend`](crate::IntBackend) over `Tensor<u64>`, with exact truncation.

use crate::backend::RingBackend;
use crate::error::{FixedError, Result};
use syft_ring::Tensor;

/// How [`PlainRing`] divides out the scale after a product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Signed floor division, `floor(a/s)`: the lower of the two results a shared
    /// truncation protocol may return, and what the dealer's truncation pairs use.
    #[default]
    Floor,
    /// Round to nearest, ties away from zero (as encoding does): at most half a unit of
    /// error per product instead of one.
    Nearest,
}

/// Plaintext ring tensors: exact Z_2^64 arithmetic and exact truncation.
///
/// ```
/// use syft_fixed::{Fixed, FixedEncoder, PlainRing, Rounding};
/// use syft_ring::Tensor;
///
/// # fn main() -> syft_fixed::Result<()> {
/// let enc = FixedEncoder::default();
/// let a = Fixed::encode(&Tensor::<f64>::scalar(0.002), enc)?; // 2
/// let b = Fixed::encode(&Tensor::<f64>::scalar(0.4), enc)?; // 400
/// // 2 · 400 = 800 at scale 10^6: 0.0008, which is 0.8 units at scale 10^3.
/// let mut floor = PlainRing::default();
/// assert_eq!(a.mul(&b, &mut floor)?.decode::<f64>().item()?, 0.0);
/// let mut nearest = PlainRing::new(Rounding::Nearest);
/// assert_eq!(a.mul(&b, &mut nearest)?.decode::<f64>().item()?, 0.001);
/// // Negative values floor towards −∞: −0.0008 becomes −0.001.
/// assert_eq!(a.neg(&mut floor)?.mul(&b, &mut floor)?.decode::<f64>().item()?, -0.001);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PlainRing {
    /// The rounding used by [`truncate`](crate::IntBackend::truncate).
    pub rounding: Rounding,
}

impl PlainRing {
    /// A plaintext backend with the given rounding.
    #[must_use]
    pub fn new(rounding: Rounding) -> Self {
        Self { rounding }
    }
}

/// `a / s` for signed `a` and `s ≥ 1`, rounded as asked.
#[must_use]
pub fn divide(a: u64, s: u64, rounding: Rounding) -> u64 {
    let (a, s) = (i128::from(a as i64), i128::from(s));
    let q = a.div_euclid(s);
    let r = a.rem_euclid(s);
    let q = match rounding {
        Rounding::Floor => q,
        // a/s = q + r/s with 0 ≤ r < s: round up past the midpoint, and at the midpoint
        // away from zero (up exactly when the value q + 1/2 is positive, i.e. q ≥ 0).
        Rounding::Nearest if 2 * r > s || (2 * r == s && q >= 0) => q + 1,
        Rounding::Nearest => q,
    };
    #[allow(clippy::cast_possible_truncation, reason = "|q| ≤ |a| < 2^63, back to two's complement")]
    let q = q as i64 as u64;
    q
}

impl RingBackend for PlainRing {
    type Error = FixedError;

    fn shares_mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.mul(b)?)
    }
    fn shares_matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.matmul(b)?)
    }
    fn shares_add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.add(c)?)
    }
    fn shares_truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        if scale == 0 {
            return Err(FixedError::InvalidArgument { op: "truncate", reason: "division by zero".into() });
        }
        let rounding = self.rounding;
        Ok(a.map(|x| divide(x, scale, rounding)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IntBackend;

    fn d(a: i64, s: u64, r: Rounding) -> i64 {
        divide(a as u64, s, r) as i64
    }

    #[test]
    fn division_modes() {
        use Rounding::{Floor, Nearest};
        assert_eq!(d(7, 2, Floor), 3);
        assert_eq!(d(-7, 2, Floor), -4);
        assert_eq!(d(7, 2, Nearest), 4);
        assert_eq!(d(-7, 2, Nearest), -4);
        assert_eq!(d(5, 2, Nearest), 3);
        assert_eq!(d(-5, 2, Nearest), -3);
        assert_eq!(d(1499, 1000, Nearest), 1);
        assert_eq!(d(1500, 1000, Nearest), 2);
        assert_eq!(d(-1499, 1000, Nearest), -1);
        assert_eq!(d(-1501, 1000, Nearest), -2);
        assert_eq!(d(-1, 1000, Floor), -1);
        assert_eq!(d(i64::MIN, 1, Floor), i64::MIN);
        assert_eq!(d(i64::MIN, 2, Nearest), i64::MIN / 2);
        assert_eq!(d(i64::MAX, 3, Nearest), i64::MAX / 3);
        let mut p = PlainRing::default();
        assert!(p.truncate(&Tensor::from_vec(vec![1]), 0).is_err());
    }
}
