//! [`FixedEncoder`]: real numbers ↔ Z_2^64 with a fixed scale `s = base^precision`.
//!
//! Encoding follows docs/PROTOCOLS.md §5.1: `enc(v) = round(v · s)` (half away from zero)
//! as a two's-complement `i64`, rejecting `|v · s| ≥ 2^63`, NaN and infinities. Decoding is
//! `sgn(z) / s`. The product `v · s` is computed in `f64`.

use crate::error::{FixedError, Result};
use syft_ring::{Float, Tensor, signed};

/// 2^63 as an `f64` (exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The largest scale allowed: `s²` must stay below 2^63 so that the product of two encoded
/// values of magnitude ≥ 1 fits before truncation. `floor(sqrt(2^63 − 1))`.
pub const MAX_SCALE: u64 = 3_037_000_499;

/// A fixed-point encoding: `base` and the number of fractional digits in that base.
///
/// The default is PySyft's: base 10, 3 fractional digits (scale 1000). Binary scales
/// (base 2, e.g. 16 fractional bits) make truncation a shift.
///
/// ```
/// use syft_fixed::FixedEncoder;
/// use syft_ring::Tensor;
///
/// # fn main() -> syft_fixed::Result<()> {
/// let enc = FixedEncoder::default();
/// assert_eq!(enc.scale(), 1000);
/// let z = enc.encode(&Tensor::<f64>::from_vec(vec![1.0015, -2.5]))?;
/// assert_eq!(z.data(), &[1002, (-2500i64) as u64]); // round half away from zero
/// assert_eq!(enc.decode::<f64>(&z).data(), &[1.002, -2.5]);
/// assert!(enc.encode(&Tensor::<f64>::scalar(f64::NAN)).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "EncoderParams", into = "EncoderParams")]
pub struct FixedEncoder {
    base: u64,
    precision: u32,
    scale: u64,
}

/// The serialized form: base and precision only (the scale is recomputed and checked).
#[derive(serde::Serialize, serde::Deserialize)]
struct EncoderParams {
    base: u64,
    precision_fractional: u32,
}

impl TryFrom<EncoderParams> for FixedEncoder {
    type Error = FixedError;
    fn try_from(p: EncoderParams) -> Result<Self> {
        Self::new(p.base, p.precision_fractional)
    }
}

impl From<FixedEncoder> for EncoderParams {
    fn from(e: FixedEncoder) -> Self {
        Self { base: e.base, precision_fractional: e.precision }
    }
}

impl Default for FixedEncoder {
    fn default() -> Self {
        Self::PYSYFT
    }
}

impl std::fmt::Display for FixedEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}^{} (scale {})", self.base, self.precision, self.scale)
    }
}

impl FixedEncoder {
    /// PySyft's default: base 10, `precision_fractional = 3`.
    pub const PYSYFT: Self = Self { base: 10, precision: 3, scale: 1000 };

    /// An encoder with scale `base^precision_fractional`.
    ///
    /// Errors if `base < 2` or the scale exceeds [`MAX_SCALE`]. A precision of 0 (scale 1)
    /// encodes integers.
    pub fn new(base: u64, precision_fractional: u32) -> Result<Self> {
        let invalid = |reason: String| FixedError::InvalidEncoder { base, precision: precision_fractional, reason };
        if base < 2 {
            return Err(invalid("the base must be at least 2".into()));
        }
        let scale = base
            .checked_pow(precision_fractional)
            .filter(|&s| s <= MAX_SCALE)
            .ok_or_else(|| invalid(format!("the scale must be at most {MAX_SCALE} so that products fit")))?;
        Ok(Self { base, precision: precision_fractional, scale })
    }

    /// A binary encoder with `bits` fractional bits (scale `2^bits`, `bits ≤ 31`).
    pub fn binary(bits: u32) -> Result<Self> {
        Self::new(2, bits)
    }

    /// The base.
    #[must_use]
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The number of fractional digits in the base (PySyft's `precision_fractional`).
    #[must_use]
    pub fn precision_fractional(&self) -> u32 {
        self.precision
    }

    /// The scale `s = base^precision_fractional`: one unit in the last place is `1/s`.
    #[must_use]
    pub fn scale(&self) -> u64 {
        self.scale
    }

    /// The resolution `1/s`.
    #[must_use]
    pub fn resolution(&self) -> f64 {
        1.0 / self.scale as f64
    }

    /// The bound on encodable magnitudes: values must satisfy `|v| < 2^63 / s`.
    #[must_use]
    pub fn max_abs(&self) -> f64 {
        TWO_POW_63 / self.scale as f64
    }

    /// The bound on the magnitude of a product before truncation: `2^63 / s²`.
    /// Beyond it the double-scale product wraps around and the result is garbage.
    #[must_use]
    pub fn max_product_abs(&self) -> f64 {
        TWO_POW_63 / (self.scale as f64 * self.scale as f64)
    }

    /// Encodes one value; `index` only labels errors.
    pub fn encode_value(&self, v: f64, index: usize) -> Result<u64> {
        if !v.is_finite() {
            return Err(FixedError::NotFinite { value: v, index });
        }
        let r = (v * self.scale as f64).round();
        if r.abs() >= TWO_POW_63 {
            return Err(FixedError::OutOfRange { value: v, index, scale: self.scale, max: self.max_abs() });
        }
        #[allow(clippy::cast_possible_truncation, reason = "r is an integer with |r| < 2^63, so the cast is exact")]
        let z = r as i64;
        Ok(z as u64)
    }

    /// Encodes a float tensor into Z_2^64 (PySyft's `fix_precision`).
    pub fn encode<F: Float>(&self, x: &Tensor<F>) -> Result<Tensor<u64>> {
        let data =
            x.data().iter().enumerate().map(|(i, &v)| self.encode_value(v.to_f64(), i)).collect::<Result<_>>()?;
        Ok(Tensor::new(x.shape(), data)?)
    }

    /// Encodes a float scalar as a rank-0 tensor.
    pub fn encode_scalar(&self, v: f64) -> Result<Tensor<u64>> {
        Ok(Tensor::scalar(self.encode_value(v, 0)?))
    }

    /// Decodes one value: `sgn(z) / s`.
    #[must_use]
    pub fn decode_value(&self, z: u64) -> f64 {
        signed(z) as f64 / self.scale as f64
    }

    /// Decodes a ring tensor as signed fixed-point values (PySyft's `float_precision`).
    #[must_use]
    pub fn decode<F: Float>(&self, z: &Tensor<u64>) -> Tensor<F> {
        z.map(|v| F::from_f64(self.decode_value(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoders() {
        assert_eq!(FixedEncoder::default(), FixedEncoder::new(10, 3).unwrap());
        assert_eq!(FixedEncoder::binary(16).unwrap().scale(), 65536);
        assert_eq!(FixedEncoder::new(10, 0).unwrap().scale(), 1);
        assert!(FixedEncoder::new(1, 3).is_err());
        assert!(FixedEncoder::new(10, 10).is_err());
        assert!(FixedEncoder::binary(32).is_err());
        assert!(FixedEncoder::binary(31).is_ok());
        assert!(FixedEncoder::new(u64::MAX, 5).is_err());
        assert_eq!(FixedEncoder::default().to_string(), "10^3 (scale 1000)");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let e = FixedEncoder::new(10, 0).unwrap();
        let t = Tensor::<f64>::from_vec(vec![0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -0.49]);
        let z = e.encode(&t).unwrap();
        let got: Vec<i64> = z.data().iter().map(|&v| v as i64).collect();
        assert_eq!(got, vec![1, 2, 3, -1, -2, 0, 0]);
        // PySyft truncates toward zero instead: 1.0009 would become 1000 there.
        assert_eq!(FixedEncoder::default().encode_value(1.0009, 0).unwrap(), 1001);
    }

    #[test]
    fn range_limits() {
        let e = FixedEncoder::default();
        let max = e.max_abs();
        assert!(matches!(e.encode_value(max, 3), Err(FixedError::OutOfRange { index: 3, .. })));
        assert!(matches!(e.encode_value(-max, 0), Err(FixedError::OutOfRange { .. })));
        assert!(e.encode_value(max * (1.0 - 1e-15), 0).is_ok());
        assert!(e.encode_value(-max * (1.0 - 1e-15), 0).is_ok());
        assert!(matches!(e.encode_value(f64::INFINITY, 1), Err(FixedError::NotFinite { index: 1, .. })));
        assert!(matches!(e.encode_value(f64::NAN, 0), Err(FixedError::NotFinite { .. })));
        let t = Tensor::<f32>::from_vec(vec![1.0, f32::NEG_INFINITY]);
        assert!(matches!(e.encode(&t), Err(FixedError::NotFinite { index: 1, .. })));
    }

    #[test]
    fn serde_round_trip_checks_parameters() {
        let e = FixedEncoder::binary(13).unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"base":2,"precision_fractional":13}"#);
        assert_eq!(serde_json::from_str::<FixedEncoder>(&json).unwrap(), e);
        assert!(serde_json::from_str::<FixedEncoder>(r#"{"base":1,"precision_fractional":3}"#).is_err());
    }
}
