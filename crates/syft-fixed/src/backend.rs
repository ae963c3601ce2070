//! [`IntBackend`]: the integer-tensor operations [`Fixed`](crate::Fixed) is built on.
//!
//! A backend owns whatever context its operations need (nothing for plaintext; a party's
//! `Comm`, dealer material and PRG seeds for secret shares) and exposes ring operations on
//! its tensor handles. Every operation is fallible and takes `&mut self`, so that a
//! shared-tensor backend can communicate. The fixed-point layer adds the scale bookkeeping:
//! it calls [`truncate`](IntBackend::truncate) after each product.
//!
//! Implementations: [`PlainRing`](crate::PlainRing) for plaintext `Tensor<u64>`; `syft-spdz`
//! implements it for one party's shares (Beaver products, protocol truncation).

use crate::error::FixedError;
use syft_ring::Tensor;

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
