//! [`Fixed`]: fixed-point tensors over any [`IntBackend`].

use crate::backend::IntBackend;
use crate::encoder::FixedEncoder;
use crate::error::{FixedError, Result};
use syft_ring::{Float, Tensor, from_signed};

/// A fixed-point tensor: an integer tensor `T` (plaintext or a share) holding values at the
/// scale of its [`FixedEncoder`].
///
/// Operations take the backend as context (`&mut B` with `B: IntBackend<Tensor = T>`);
/// products divide the scale out at once with [`IntBackend::truncate`], so every `Fixed`
/// is at its encoder's scale. Mixing encoders is a [`FixedError::PrecisionMismatch`].
///
/// ```
/// use syft_fixed::{Fixed, FixedEncoder, PlainRing};
/// use syft_ring::Tensor;
///
/// # fn main() -> syft_fixed::Result<()> {
/// let mut ring = PlainRing::default();
/// let enc = FixedEncoder::default();
/// let x = Fixed::encode(&Tensor::<f64>::new(&[1, 2], vec![0.5, -1.25])?, enc)?;
/// let w = Fixed::encode(&Tensor::<f64>::new(&[2, 1], vec![2.0, 4.0])?, enc)?;
/// let y = x.matmul(&w, &mut ring)?.add_public(&Tensor::<f64>::scalar(0.1), &mut ring)?;
/// assert_eq!(y.decode::<f64>().data(), &[-3.9]); // 0.5·2 − 1.25·4 + 0.1
///
/// let other = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::binary(16)?)?;
/// assert!(x.add(&other, &mut ring).is_err()); // different encodings
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Fixed<T> {
    value: T,
    encoder: FixedEncoder,
}

impl<T> Fixed<T> {
    /// Wraps an integer tensor already at `encoder`'s scale.
    #[must_use]
    pub fn from_raw(value: T, encoder: FixedEncoder) -> Self {
        Self { value, encoder }
    }

    /// The integer tensor (plaintext or share).
    #[must_use]
    pub fn raw(&self) -> &T {
        &self.value
    }

    /// The integer tensor, consuming `self`.
    #[must_use]
    pub fn into_raw(self) -> T {
        self.value
    }

    /// The encoder.
    #[must_use]
    pub fn encoder(&self) -> FixedEncoder {
        self.encoder
    }

    /// The shape.
    pub fn shape<'a, B: IntBackend<Tensor = T>>(&'a self, backend: &B) -> &'a [usize] {
        backend.shape(&self.value)
    }

    fn with(&self, value: T) -> Self {
        Self { value, encoder: self.encoder }
    }

    /// `self + rhs`.
    pub fn add<B: IntBackend<Tensor = T>>(&self, rhs: &Self, b: &mut B) -> Result<Self, B::Error> {
        let encoder = FixedEncoder::sum_encoding("add", self.encoder, rhs.encoder)?;
        Ok(Self { value: b.add(&self.value, &rhs.value)?, encoder })
    }

    /// `self − rhs`.
    pub fn sub<B: IntBackend<Tensor = T>>(&self, rhs: &Self, b: &mut B) -> Result<Self, B::Error> {
        let encoder = FixedEncoder::sum_encoding("sub", self.encoder, rhs.encoder)?;
        Ok(Self { value: b.sub(&self.value, &rhs.value)?, encoder })
    }

    /// `−self`.
    pub fn neg<B: IntBackend<Tensor = T>>(&self, b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.neg(&self.value)?))
    }

    /// Elementwise `self ⊙ rhs`, truncated back to the encoder's scale (a product with an
    /// integer-encoded operand needs no truncation; [`FixedEncoder::product_encoding`]).
    pub fn mul<B: IntBackend<Tensor = T>>(&self, rhs: &Self, b: &mut B) -> Result<Self, B::Error> {
        let (encoder, divisor) = FixedEncoder::product_encoding("mul", self.encoder, rhs.encoder)?;
        let p = b.mul(&self.value, &rhs.value)?;
        let value = if divisor == 1 { p } else { b.truncate(&p, divisor)? };
        Ok(Self { value, encoder })
    }

    /// Matrix product `self · rhs`, truncated back to the encoder's scale.
    pub fn matmul<B: IntBackend<Tensor = T>>(&self, rhs: &Self, b: &mut B) -> Result<Self, B::Error> {
        let (encoder, divisor) = FixedEncoder::product_encoding("matmul", self.encoder, rhs.encoder)?;
        let p = b.matmul(&self.value, &rhs.value)?;
        let value = if divisor == 1 { p } else { b.truncate(&p, divisor)? };
        Ok(Self { value, encoder })
    }

    /// The sum of all elements (rank 0; no truncation needed).
    pub fn sum<B: IntBackend<Tensor = T>>(&self, b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.sum(&self.value)?))
    }

    /// The sum along `axis`.
    pub fn sum_axis<B: IntBackend<Tensor = T>>(&self, axis: usize, keepdim: bool, b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.sum_axis(&self.value, axis, keepdim)?))
    }

    /// `self + c` for public real values `c` (encoded with this encoder; broadcasting).
    pub fn add_public<F: Float, B: IntBackend<Tensor = T>>(&self, c: &Tensor<F>, b: &mut B) -> Result<Self, B::Error> {
        let c = self.encoder.encode(c)?;
        Ok(self.with(b.add_public(&self.value, &c)?))
    }

    /// `self − c` for public real values `c`.
    pub fn sub_public<F: Float, B: IntBackend<Tensor = T>>(&self, c: &Tensor<F>, b: &mut B) -> Result<Self, B::Error> {
        let c = self.encoder.encode(c)?.neg();
        Ok(self.with(b.add_public(&self.value, &c)?))
    }

    /// `self ⊙ c` for public real values `c` (encoded, multiplied locally, truncated).
    pub fn mul_public<F: Float, B: IntBackend<Tensor = T>>(&self, c: &Tensor<F>, b: &mut B) -> Result<Self, B::Error> {
        let c = self.encoder.encode(c)?;
        let p = b.mul_public(&self.value, &c)?;
        Ok(self.with(b.truncate(&p, self.encoder.scale())?))
    }

    /// `self ⊙ c` for public *integers* `c` (two's complement in Z_2^64; no truncation).
    /// Use this for bits, counts and indices, which are not fixed-point values.
    pub fn mul_int<B: IntBackend<Tensor = T>>(&self, c: &Tensor<u64>, b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.mul_public(&self.value, c)?))
    }

    /// `c · self` for one public integer `c` (no truncation).
    pub fn scale_int<B: IntBackend<Tensor = T>>(&self, c: i64, b: &mut B) -> Result<Self, B::Error> {
        self.mul_int(&Tensor::scalar(from_signed(c)), b)
    }

    /// `self / d` for a public integer `d ≥ 1` (e.g. a mean over a batch), rounded as the
    /// backend's truncation rounds.
    pub fn div_int<B: IntBackend<Tensor = T>>(&self, d: u64, b: &mut B) -> Result<Self, B::Error> {
        if d == 0 {
            return Err(FixedError::InvalidArgument { op: "div_int", reason: "division by zero".into() }.into());
        }
        Ok(self.with(b.truncate(&self.value, d)?))
    }

    /// The same values under a new shape.
    pub fn reshape<B: IntBackend<Tensor = T>>(&self, shape: &[usize], b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.reshape(&self.value, shape)?))
    }

    /// Swaps the last two axes.
    pub fn transpose<B: IntBackend<Tensor = T>>(&self, b: &mut B) -> Result<Self, B::Error> {
        Ok(self.with(b.transpose(&self.value)?))
    }
}

impl Fixed<Tensor<u64>> {
    /// Encodes real values (PySyft's `fix_precision`).
    pub fn encode<F: Float>(x: &Tensor<F>, encoder: FixedEncoder) -> Result<Self> {
        Ok(Self { value: encoder.encode(x)?, encoder })
    }

    /// Decodes as signed fixed-point values.
    ///
    /// Meaningful for plaintext values only: on one party's share it decodes noise.
    #[must_use]
    pub fn decode<F: Float>(&self) -> Tensor<F> {
        self.encoder.decode(&self.value)
    }

    /// Decodes as `f64` (PySyft's `float_precision()`): what a shared value's `get()`
    /// returns is decoded this way.
    #[must_use]
    pub fn float_precision(&self) -> Tensor<f64> {
        self.decode()
    }
}
