//! Element types: the numbers a [`Tensor`](crate::Tensor) holds.
//!
//! Three traits, from weakest to strongest:
//!
//! - [`Element`]: plain data with a fixed-width little-endian wire form.
//! - [`Scalar`]: an element with `+ - * neg`, zero and one. Floats and rings alike.
//! - [`Ring`]: exact modular arithmetic, sampled uniformly from 64-bit PRG words.
//!
//! The ring types are [`u64`] itself for Z_2^64 (wrapping arithmetic; the default ring of
//! every protocol), [`OddRing`] for Z_(2^64-1) and [`Zp`] for small prime fields
//! ([`Z67`] is SecureNN's p = 67).

use crate::gemm::{self, MatRef, Parallelism};
use std::fmt::Debug;

/// Plain data that a tensor can hold and ship as raw little-endian bytes.
pub trait Element: Copy + Send + Sync + PartialEq + Debug + Default + 'static {
    /// A short human name used in error messages ("u64", "Z67", "f32").
    const NAME: &'static str;
    /// Width of one element on the wire, in bytes.
    const BYTES: usize;
    /// Writes `self` into `out` (exactly [`Self::BYTES`] long), little-endian.
    fn write_le(self, out: &mut [u8]);
    /// Reads one element from `bytes` (exactly [`Self::BYTES`] long).
    /// Returns `None` when the bytes are not a canonical element (e.g. 67 for `Z67`).
    fn read_le(bytes: &[u8]) -> Option<Self>;
}

/// An element with arithmetic: `+`, `-`, `*`, negation, zero and one.
///
/// For rings the operations are modular; for floats they are IEEE arithmetic.
pub trait Scalar: Element {
    /// Additive identity.
    fn zero() -> Self;
    /// Multiplicative identity.
    fn one() -> Self;
    /// `self + rhs`.
    fn add(self, rhs: Self) -> Self;
    /// `self - rhs`.
    fn sub(self, rhs: Self) -> Self;
    /// `self * rhs`.
    fn mul(self, rhs: Self) -> Self;
    /// `-self`.
    fn neg(self) -> Self;
    /// The image of a signed integer (reduced modulo the ring, or converted for floats).
    fn from_i64(v: i64) -> Self;
    /// Total order used by argmax and max: signed order for Z_2^64, numeric order otherwise.
    fn greater_than(self, rhs: Self) -> bool;

    /// `c (+)= a · b` for row-major `c` of shape `a.rows × b.cols`.
    ///
    /// The default is a portable loop; `u64`, `f32` and `f64` override it with fast kernels.
    fn gemm(c: &mut [Self], a: MatRef<'_, Self>, b: MatRef<'_, Self>, accumulate: bool, par: Parallelism) {
        gemm::naive(c, a, b, accumulate, par);
    }
}

/// A finite ring with exact arithmetic whose elements are sampled from 64-bit words.
pub trait Ring: Scalar + Eq + std::hash::Hash {
    /// The modulus as a `u128` (2^64 for `u64`).
    const MODULUS: u128;
    /// Maps a uniform 64-bit word to a (nearly) uniform element (docs/PROTOCOLS.md §3.2).
    fn from_word(w: u64) -> Self;
    /// Reduces an unsigned integer into the ring.
    fn from_u64(v: u64) -> Self;
    /// The canonical representative as an unsigned integer.
    fn to_u64(self) -> u64;
}

/// Floating-point elements, for plaintext models.
pub trait Float: Scalar + PartialOrd {
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
}

// ---------------------------------------------------------------------------------------
// Z_2^64 as wrapping u64.

impl Element for u64 {
    const NAME: &'static str = "u64";
    const BYTES: usize = 8;
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Option<Self> {
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }
}

impl Scalar for u64 {
    #[inline]
    fn zero() -> Self {
        0
    }
    #[inline]
    fn one() -> Self {
        1
    }
    #[inline]
    fn add(self, rhs: Self) -> Self {
        self.wrapping_add(rhs)
    }
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        self.wrapping_sub(rhs)
    }
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        self.wrapping_mul(rhs)
    }
    #[inline]
    fn neg(self) -> Self {
        self.wrapping_neg()
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        v as u64
    }
    #[inline]
    fn greater_than(self, rhs: Self) -> bool {
        (self as i64) > (rhs as i64)
    }
    fn gemm(c: &mut [Self], a: MatRef<'_, Self>, b: MatRef<'_, Self>, accumulate: bool, par: Parallelism) {
        gemm::gemm_u64(c, a, b, accumulate, par);
    }
}

impl Ring for u64 {
    const MODULUS: u128 = 1 << 64;
    #[inline]
    fn from_word(w: u64) -> Self {
        w
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        v
    }
    #[inline]
    fn to_u64(self) -> u64 {
        self
    }
}

/// Signed (two's-complement) decoding of an element of Z_2^64.
#[inline]
#[must_use]
pub fn signed(v: u64) -> i64 {
    v as i64
}

/// Signed (two's-complement) encoding into Z_2^64.
#[inline]
#[must_use]
pub fn from_signed(v: i64) -> u64 {
    v as u64
}

// ---------------------------------------------------------------------------------------
// Z_(2^64 - 1), the odd ring of SecureNN's ShareConvert.

/// An element of the odd ring Z_(2^64-1), canonical in `0 ..= 2^64-2`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct OddRing(u64);

impl OddRing {
    /// The modulus 2^64 - 1.
    pub const M: u64 = u64::MAX;

    /// Reduces `v` modulo 2^64 - 1 (maps `u64::MAX` to 0).
    #[inline]
    #[must_use]
    pub const fn new(v: u64) -> Self {
        if v == u64::MAX { Self(0) } else { Self(v) }
    }

    /// The canonical representative.
    #[inline]
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl Debug for OddRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Element for OddRing {
    const NAME: &'static str = "Z_(2^64-1)";
    const BYTES: usize = 8;
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_le_bytes());
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Option<Self> {
        let v = u64::from_le_bytes(bytes.try_into().ok()?);
        (v != u64::MAX).then_some(Self(v))
    }
}

impl Scalar for OddRing {
    #[inline]
    fn zero() -> Self {
        Self(0)
    }
    #[inline]
    fn one() -> Self {
        Self(1)
    }
    #[inline]
    fn add(self, rhs: Self) -> Self {
        // End-around carry: 2^64 ≡ 1 (mod 2^64 - 1).
        let (s, c) = self.0.overflowing_add(rhs.0);
        Self::new(s.wrapping_add(u64::from(c)))
    }
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        self.add(rhs.neg())
    }
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        let p = u128::from(self.0) * u128::from(rhs.0);
        let r = p % u128::from(Self::M);
        #[allow(clippy::cast_possible_truncation, reason = "r < 2^64 - 1")]
        Self(r as u64)
    }
    #[inline]
    fn neg(self) -> Self {
        if self.0 == 0 { self } else { Self(Self::M - self.0) }
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        if v >= 0 { Self::new(v.unsigned_abs()) } else { Self::new(v.unsigned_abs()).neg() }
    }
    #[inline]
    fn greater_than(self, rhs: Self) -> bool {
        self.0 > rhs.0
    }
}

impl Ring for OddRing {
    const MODULUS: u128 = u64::MAX as u128;
    #[inline]
    fn from_word(w: u64) -> Self {
        Self(w % Self::M)
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        Self::new(v)
    }
    #[inline]
    fn to_u64(self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------------------------------
// Small prime fields Z_p.

/// An element of the prime field Z_P (P < 256), canonical in `0 .. P`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Zp<const P: u8>(u8);

/// SecureNN's field Z_67.
pub type Z67 = Zp<67>;

impl<const P: u8> Zp<P> {
    /// Reduces `v` modulo P.
    #[inline]
    #[must_use]
    pub const fn new(v: u64) -> Self {
        #[allow(clippy::cast_possible_truncation, reason = "v % P < P <= 255")]
        Self((v % P as u64) as u8)
    }

    /// The canonical representative.
    #[inline]
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl<const P: u8> Debug for Zp<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<const P: u8> Element for Zp<P> {
    const NAME: &'static str = "Z_p";
    const BYTES: usize = 1;
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out[0] = self.0;
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [b] if *b < P => Some(Self(*b)),
            _ => None,
        }
    }
}

impl<const P: u8> Scalar for Zp<P> {
    #[inline]
    fn zero() -> Self {
        Self(0)
    }
    #[inline]
    fn one() -> Self {
        Self(1 % P)
    }
    #[inline]
    fn add(self, rhs: Self) -> Self {
        Self::new(u64::from(self.0) + u64::from(rhs.0))
    }
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Self::new(u64::from(self.0) + u64::from(P) - u64::from(rhs.0))
    }
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        Self::new(u64::from(self.0) * u64::from(rhs.0))
    }
    #[inline]
    fn neg(self) -> Self {
        Self::new(u64::from(P) - u64::from(self.0))
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        #[allow(clippy::cast_possible_truncation, reason = "rem_euclid(P) < P")]
        Self(v.rem_euclid(i64::from(P)) as u8)
    }
    #[inline]
    fn greater_than(self, rhs: Self) -> bool {
        self.0 > rhs.0
    }
}

impl<const P: u8> Ring for Zp<P> {
    const MODULUS: u128 = P as u128;
    #[inline]
    fn from_word(w: u64) -> Self {
        Self::new(w)
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        Self::new(v)
    }
    #[inline]
    fn to_u64(self) -> u64 {
        u64::from(self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Floats.

macro_rules! float_element {
    ($t:ty, $bytes:expr, $name:expr) => {
        impl Element for $t {
            const NAME: &'static str = $name;
            const BYTES: usize = $bytes;
            #[inline]
            fn write_le(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn read_le(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
        }

        impl Scalar for $t {
            #[inline]
            fn zero() -> Self {
                0.0
            }
            #[inline]
            fn one() -> Self {
                1.0
            }
            #[inline]
            fn add(self, rhs: Self) -> Self {
                self + rhs
            }
            #[inline]
            fn sub(self, rhs: Self) -> Self {
                self - rhs
            }
            #[inline]
            fn mul(self, rhs: Self) -> Self {
                self * rhs
            }
            #[inline]
            fn neg(self) -> Self {
                -self
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation, reason = "float conversion rounds by design")]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline]
            fn greater_than(self, rhs: Self) -> bool {
                self > rhs
            }
            fn gemm(c: &mut [Self], a: MatRef<'_, Self>, b: MatRef<'_, Self>, accumulate: bool, par: Parallelism) {
                gemm::gemm_float(c, a, b, accumulate, par);
            }
        }

        impl Float for $t {
            #[inline]
            #[allow(clippy::cast_possible_truncation, reason = "float conversion rounds by design")]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
        }
    };
}

float_element!(f32, 4, "f32");
float_element!(f64, 8, "f64");

/// Indices (argmax results) are `usize` tensors on the host; on the wire they are u64.
impl Element for usize {
    const NAME: &'static str = "index";
    const BYTES: usize = 8;
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out.copy_from_slice(&(self as u64).to_le_bytes());
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Option<Self> {
        usize::try_from(u64::from_le_bytes(bytes.try_into().ok()?)).ok()
    }
}

/// Booleans (comparison results in plaintext); one byte on the wire, 0 or 1.
impl Element for bool {
    const NAME: &'static str = "bool";
    const BYTES: usize = 1;
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out[0] = u8::from(self);
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_ring_end_around_carry() {
        let a = OddRing::new(u64::MAX - 1);
        assert_eq!(a.add(OddRing::one()), OddRing::zero());
        assert_eq!(a.add(OddRing::new(2)), OddRing::one());
        assert_eq!(OddRing::new(u64::MAX), OddRing::zero());
        assert_eq!(OddRing::from_i64(-1), a);
    }

    #[test]
    fn zp_basics() {
        let a = Z67::new(66);
        assert_eq!(a.add(Z67::one()), Z67::zero());
        assert_eq!(Z67::from_i64(-1), a);
        assert_eq!(Z67::read_le(&[67]), None);
        assert_eq!(Z67::read_le(&[66]), Some(a));
    }

    #[test]
    fn signed_decoding() {
        assert_eq!(signed(u64::MAX), -1);
        assert_eq!(from_signed(-5), 5u64.wrapping_neg());
        assert!(u64::MAX.greater_than(u64::MAX - 1));
        assert!(!u64::MAX.greater_than(0));
    }
}
