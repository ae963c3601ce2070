//! [`FixedEncoder`]: real numbers ↔ Z_2^64 with a fixed scale `s = base^precision`.
//!
//! Encoding follows docs/PROTOCOLS.md §5.1: `enc(v) = round(v · s)` (half away from zero)
//! as a two's-complement `i64`, rejecting `|v · s| ≥ 2^63`, NaN and infinities. Decoding is
//! `sgn(z) / s`. The product `v · s` is computed in `f64`.

use crate::error::{FixedError, Result};
use syft_ring::{Float, Tensor, signed};

/// 2^63 as an `f64` (exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The failure exponent the documented safe ranges use: a truncation on shares fails with
/// probability at most `2^-40` per element (see [`FixedEncoder::safe_product_abs`]).
pub const SAFE_FAILURE_EXPONENT: u32 = 40;

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
///
/// # Range for products on shares
///
/// Two bounds apply to a product `v1 · v2` (for a matmul or a convolution: to each output
/// sum), whose ring value before truncation is `x ≈ v1 · v2 · s²`:
///
/// - **fits** ([`max_product_abs`](Self::max_product_abs), `2^63 / s²`): beyond it `x`
///   wraps around even in the clear. It is not a safe range for shared values: truncating
///   a shared `x` fails with probability `|x| / 2^64`, so at this edge half of the
///   products come back as garbage.
/// - **safe** ([`safe_product_abs`](Self::safe_product_abs)`(40)`, `2^24 / s²`): below it
///   the truncation on shares fails with probability at most `2^-40` per element (the
///   failure probability grows linearly: at ten times the bound it is `10 · 2^-40`).
///
/// | encoding | scale `s` | safe \|v1·v2\| at 2^-40 (`2^24/s²`) | safe if \|v1\|, \|v2\| ≤ | fits \|v1·v2\| (`2^63/s²`) |
/// | --- | --- | --- | --- | --- |
/// | 10^2 | 100 | 1.68e3 | 4.10e1 | 9.22e14 |
/// | 10^3 | 1000 | 1.68e1 | 4.10e0 | 9.22e12 |
/// | 10^4 | 10000 | 1.68e-1 | 4.10e-1 | 9.22e10 |
/// | 10^5 | 100000 | 1.68e-3 | 4.10e-2 | 9.22e8 |
/// | 10^6 | 1000000 | 1.68e-5 | 4.10e-3 | 9.22e6 |
/// | 2^16 | 65536 | 3.91e-3 | 6.25e-2 | 2.15e9 |
///
/// (A unit test regenerates these rows from the functions above.) Plaintext
/// [`PlainRing`](crate::PlainRing) arithmetic is exact, so only the fits bound applies
/// there; the `syft` facade's debug backend runs a model in the clear with this encoding
/// and reports every truncation whose input leaves the safe range.
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

    /// Integers (scale 1): bits, counts, indices and one-hot labels, the values that are
    /// not fixed-point. A product with an integer keeps the other operand's encoding and
    /// needs no truncation ([`product_encoding`](Self::product_encoding)).
    pub const INTEGER: Self = Self { base: 10, precision: 0, scale: 1 };

    /// Whether this encoding is an integer one (scale 1, any base).
    #[must_use]
    pub fn is_integer(&self) -> bool {
        self.scale == 1
    }

    /// The encoding of `lhs ± rhs`: the operands must share one encoding (all integer
    /// encodings count as one).
    ///
    /// This and [`product_encoding`](Self::product_encoding) are the only place the
    /// precision rules of fixed-point arithmetic live: plaintext [`Fixed`](crate::Fixed)
    /// values and shared tensors both follow them.
    pub fn sum_encoding(op: &'static str, lhs: Self, rhs: Self) -> Result<Self> {
        if lhs == rhs || (lhs.is_integer() && rhs.is_integer()) {
            Ok(lhs)
        } else {
            Err(FixedError::PrecisionMismatch { op, lhs, rhs })
        }
    }

    /// The encoding of a product `lhs · rhs` (elementwise, matrix, convolution) and the
    /// divisor that brings the raw product back to it: fixed × fixed (one encoding) is
    /// divided by the scale once; a product with an integer keeps the other operand's
    /// encoding and divisor 1.
    pub fn product_encoding(op: &'static str, lhs: Self, rhs: Self) -> Result<(Self, u64)> {
        if lhs.is_integer() {
            Ok((rhs, 1))
        } else if rhs.is_integer() {
            Ok((lhs, 1))
        } else if lhs == rhs {
            Ok((lhs, lhs.scale))
        } else {
            Err(FixedError::PrecisionMismatch { op, lhs, rhs })
        }
    }

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

    /// The bound on the magnitude of a product before truncation: `2^63 / s²` (the
    /// "fits" bound). Beyond it the double-scale product wraps around and the result is
    /// garbage even in the clear.
    ///
    /// This is *not* a safe range for shared values: at its edge a two-party local
    /// truncation fails for half of the products (probability `2^63 / 2^64`). See
    /// [`safe_product_abs`](Self::safe_product_abs) for the bound that keeps failures
    /// negligible.
    #[must_use]
    pub fn max_product_abs(&self) -> f64 {
        TWO_POW_63 / (self.scale as f64 * self.scale as f64)
    }

    /// The largest magnitude of a ring value *before truncation* (in units of the ring,
    /// i.e. at scale `s²` for a product) for which truncating it fails with probability at
    /// most `2^-failure_exponent`: `2^(64 − failure_exponent)`, capped at `2^63` (the
    /// representable bound).
    ///
    /// Truncation of an additively shared value `x` (two-party local truncation,
    /// docs/PROTOCOLS.md §5.2, and the dealer's truncation pairs, §5.3) fails exactly when
    /// the uniformly random shares wrap around `2^64`, which happens with probability
    /// `|x| / 2^64` per element. The bound does not depend on the scale; in real units see
    /// [`safe_product_abs`](Self::safe_product_abs).
    ///
    /// ```
    /// use syft_fixed::FixedEncoder;
    /// assert_eq!(FixedEncoder::safe_truncation_input(40), 16_777_216.0); // 2^24
    /// assert_eq!(FixedEncoder::safe_truncation_input(0), 2f64.powi(63));
    /// ```
    #[must_use]
    pub fn safe_truncation_input(failure_exponent: u32) -> f64 {
        let e = i32::try_from(failure_exponent).unwrap_or(i32::MAX).min(1200);
        2f64.powi(64 - e).min(TWO_POW_63)
    }

    /// The largest `|v1 · v2|` (in real units) whose product, truncated on shares, fails
    /// with probability at most `2^-failure_exponent` per element:
    /// `2^(64 − failure_exponent) / s²` (for `failure_exponent ≥ 1`).
    ///
    /// The product of two encoded values is `x = enc(v1) · enc(v2) ≈ v1 · v2 · s²` before
    /// truncation, and truncating the shared `x` fails (the result is off by about
    /// `2^64 / s`, garbage rather than a small error) with probability `|x| / 2^64`,
    /// whatever the number of parties. For a matmul or a convolution, `x` is each output
    /// sum, so the bound applies to the dot products, not to the individual terms. The
    /// bound at `2^-40` for common encodings ([`SAFE_FAILURE_EXPONENT`]) is tabulated in the
    /// [type docs](FixedEncoder#range-for-products-on-shares).
    ///
    /// Products by a public real constant (`SharedTensor::mul_scalar` in `syft-worker`)
    /// write the constant as `m / 2^k` with `2^15 ≤ |m| < 2^16` and truncate `x · m`, so
    /// there the bound on the encoded operand's ring value is this bound's `x` divided by
    /// `|m|`: about `2^8` to `2^9` units, `256/s` to `512/s` in real units, for `2^-40`.
    ///
    /// ```
    /// use syft_fixed::FixedEncoder;
    /// let enc = FixedEncoder::default(); // scale 1000
    /// assert_eq!(enc.safe_product_abs(40), 16.777216); // 2^24 / 10^6
    /// assert!(enc.safe_product_abs(40) < enc.max_product_abs());
    /// assert_eq!(enc.truncation_failure_probability(enc.safe_product_abs(40)), 2f64.powi(-40));
    /// ```
    #[must_use]
    pub fn safe_product_abs(&self, failure_exponent: u32) -> f64 {
        Self::safe_truncation_input(failure_exponent) / (self.scale as f64 * self.scale as f64)
    }

    /// The probability that truncating, on shares, a product of real magnitude
    /// `product_abs = |v1 · v2|` fails: `min(1, |v1 · v2| · s² / 2^64)`.
    #[must_use]
    pub fn truncation_failure_probability(&self, product_abs: f64) -> f64 {
        (product_abs.abs() * self.scale as f64 * self.scale as f64 / (2.0 * TWO_POW_63)).min(1.0)
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

    /// One row of the safe-range table in the type docs and the README.
    fn table_row(enc: FixedEncoder) -> String {
        let safe = enc.safe_product_abs(SAFE_FAILURE_EXPONENT);
        format!(
            "| {}^{} | {} | {:.2e} | {:.2e} | {:.2e} |",
            enc.base(),
            enc.precision_fractional(),
            enc.scale(),
            safe,
            safe.sqrt(),
            enc.max_product_abs()
        )
    }

    #[test]
    fn safe_range_table_matches_the_docs() {
        let encoders = [(10, 2), (10, 3), (10, 4), (10, 5), (10, 6), (2, 16)];
        let docs = include_str!("encoder.rs");
        let readme = include_str!("../README.md");
        for (base, precision) in encoders {
            let enc = FixedEncoder::new(base, precision).unwrap();
            let row = table_row(enc);
            assert!(docs.contains(&format!("/// {row}\n")), "encoder docs lack the row {row}");
            assert!(readme.contains(&format!("{row}\n")), "README lacks the row {row}");
        }
        // The values behind the rows, exactly.
        let s3 = FixedEncoder::default();
        assert_eq!(s3.safe_product_abs(40), 16.777216);
        assert_eq!(FixedEncoder::new(10, 2).unwrap().safe_product_abs(40), 1677.7216);
        assert_eq!(FixedEncoder::new(10, 6).unwrap().safe_product_abs(40), 1.6777216e-5);
        assert_eq!(FixedEncoder::binary(16).unwrap().safe_product_abs(40), 2f64.powi(-8));
        assert_eq!(FixedEncoder::binary(16).unwrap().max_product_abs(), 2f64.powi(31));
    }

    #[test]
    fn failure_probability_at_the_bounds() {
        for enc in [FixedEncoder::default(), FixedEncoder::binary(16).unwrap(), FixedEncoder::new(10, 5).unwrap()] {
            let p = enc.truncation_failure_probability(enc.safe_product_abs(SAFE_FAILURE_EXPONENT));
            assert!((p - 2f64.powi(-40)).abs() <= 2f64.powi(-40) * 1e-12, "{enc}: {p}");
            // At the fits bound half of the truncations fail.
            assert!((enc.truncation_failure_probability(enc.max_product_abs()) - 0.5).abs() < 1e-12);
            assert_eq!(enc.truncation_failure_probability(-enc.max_product_abs() * 4.0), 1.0);
            assert_eq!(enc.safe_product_abs(30), enc.safe_product_abs(40) * 1024.0);
        }
        assert_eq!(FixedEncoder::safe_truncation_input(64), 1.0);
        assert_eq!(FixedEncoder::safe_truncation_input(1), 2f64.powi(63));
        assert!(FixedEncoder::safe_truncation_input(u32::MAX) < 1e-300);
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
