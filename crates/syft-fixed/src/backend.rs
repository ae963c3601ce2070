//! [`IntBackend`]: the integer-tensor operations [`Fixed`](crate::Fixed) is built on.
//!
//! A backend owns whatever context its operations need (nothing for plaintext; a party's
//! `Comm`, dealer material and PRG seeds for secret shares) and exposes ring operations on
//! its tensor handles. Every operation is fallible and takes `&mut self`, so that a
//! shared-tensor backend can communicate. The fixed-point layer adds the scale bookkeeping:
//! it calls [`truncate`](IntBackend::truncate) after each product.
//!
//! Backends whose tensors are `Tensor<u64>` (plaintext values, or one party's additive
//! shares) implement [`RingBackend`] instead: the local operations are the same for both
//! and are written once, in the blanket [`IntBackend`] implementation; the backend supplies
//! only the operations that differ (products, adding a public value, truncation).
//! [`PlainRing`](crate::PlainRing) is the plaintext one; `syft-spdz` implements it for one
//! party's shares (Beaver products, protocol truncation).

use crate::error::FixedError;
use syft_ring::{RingError, Tensor};

/// Integer (Z_2^64) tensor operations with the backend as context.
///
/// Semantics are those of plaintext ring tensors: wrapping arithmetic modulo 2^64, numpy
/// broadcasting for elementwise operations, `[.., m, k] · [.., k, n]` for matmul. A
/// shared backend computes the same functions on shares.
pub trait IntBackend {
    /// The tensor handle: a plaintext ring tensor, or this party's share.
    type Tensor: Clone;
    /// The backend's error type; it must be able to carry fixed-point errors (precision
    /// mismatches, unencodable public values) raised by [`Fixed`](crate::Fixed).
    type Error: std::error::Error + From<FixedError>;

    /// The shape of `t`.
    fn shape<'t>(&self, t: &'t Self::Tensor) -> &'t [usize];
    /// `a + b`.
    fn add(&mut self, a: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// `a − b`.
    fn sub(&mut self, a: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// `−a`.
    fn neg(&mut self, a: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// Elementwise ring product `a ⊙ b` (a Beaver multiplication for shares).
    fn mul(&mut self, a: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// Ring matrix product `a · b` (batched over leading axes).
    fn matmul(&mut self, a: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// The sum of all elements (a rank-0 tensor).
    fn sum(&mut self, a: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
    /// The sum along `axis` (kept with size 1 when `keepdim`).
    fn sum_axis(&mut self, a: &Self::Tensor, axis: usize, keepdim: bool) -> Result<Self::Tensor, Self::Error>;
    /// Elementwise product with a public integer tensor `c` (broadcasting; local for shares).
    fn mul_public(&mut self, a: &Self::Tensor, c: &Tensor<u64>) -> Result<Self::Tensor, Self::Error>;
    /// `a + c` for a public integer tensor `c` (broadcasting; party 0 adds it for shares).
    fn add_public(&mut self, a: &Self::Tensor, c: &Tensor<u64>) -> Result<Self::Tensor, Self::Error>;
    /// Divides by the public `scale` (≥ 1), reading `a` as signed: the result is
    /// `floor(a/scale)` or `floor(a/scale) + 1` (exact when `scale` divides `a`). Plaintext
    /// backends may compute it exactly; shared ones run a truncation protocol
    /// (docs/PROTOCOLS.md §5.2, §5.3), which fails with probability about `|a| / 2^64`:
    /// at most `2^-40` for `|a| ≤ 2^24` ([`FixedEncoder::safe_truncation_input`](crate::FixedEncoder::safe_truncation_input)).
    fn truncate(&mut self, a: &Self::Tensor, scale: u64) -> Result<Self::Tensor, Self::Error>;
    /// The same elements under a new shape.
    fn reshape(&mut self, a: &Self::Tensor, shape: &[usize]) -> Result<Self::Tensor, Self::Error>;
    /// Swaps the last two axes.
    fn transpose(&mut self, a: &Self::Tensor) -> Result<Self::Tensor, Self::Error>;
}

/// An [`IntBackend`] over `Tensor<u64>` handles, given by the operations that differ
/// between plaintext values and one party's shares. Sums, differences, negation, sums of
/// elements, products with public integers, reshapes and transposes are local ring
/// operations on a share exactly as on a plaintext value, and are implemented once for
/// every `RingBackend`.
pub trait RingBackend {
    /// The backend's error type: it carries ring errors of the local operations and the
    /// fixed-point errors raised by [`Fixed`](crate::Fixed).
    type Error: std::error::Error + From<FixedError> + From<RingError>;

    /// Elementwise `a ⊙ b` with broadcasting ([`IntBackend::mul`]).
    fn shares_mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, Self::Error>;
    /// `a · b` ([`IntBackend::matmul`]).
    fn shares_matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, Self::Error>;
    /// `a + c` for a public `c` ([`IntBackend::add_public`]).
    fn shares_add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>, Self::Error>;
    /// Division by a public `scale` ([`IntBackend::truncate`]).
    fn shares_truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>, Self::Error>;
}

impl<R: RingBackend> IntBackend for R {
    type Tensor = Tensor<u64>;
    type Error = R::Error;

    fn shape<'t>(&self, t: &'t Tensor<u64>) -> &'t [usize] {
        t.shape()
    }
    fn add(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(a.add(b)?)
    }
    fn sub(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(a.sub(b)?)
    }
    fn neg(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(a.neg())
    }
    fn mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        self.shares_mul(a, b)
    }
    fn matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        self.shares_matmul(a, b)
    }
    fn sum(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(Tensor::scalar(a.sum_all()))
    }
    fn sum_axis(&mut self, a: &Tensor<u64>, axis: usize, keepdim: bool) -> Result<Tensor<u64>, R::Error> {
        Ok(a.sum_axis(axis, keepdim)?)
    }
    fn mul_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(a.mul(c)?)
    }
    fn add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        self.shares_add_public(a, c)
    }
    fn truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>, R::Error> {
        self.shares_truncate(a, scale)
    }
    fn reshape(&mut self, a: &Tensor<u64>, shape: &[usize]) -> Result<Tensor<u64>, R::Error> {
        Ok(a.reshape(shape)?)
    }
    fn transpose(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, R::Error> {
        Ok(a.transpose()?)
    }
}
