//! [`Party`] as a fixed-point backend: `syft_fixed::Fixed` values over one party's
//! shares, with Beaver products and protocol truncation. The local operations come from
//! syft-fixed's blanket implementation for every [`RingBackend`].

use crate::error::{Result, SpdzError};
use crate::protocols::Party;
use syft_fixed::RingBackend;
use syft_ring::{Tensor, broadcast_shapes};

impl RingBackend for Party<'_> {
    type Error = SpdzError;

    fn shares_mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        if a.shape() == b.shape() {
            return Party::mul(self, a, b);
        }
        // Broadcasting is linear: expand both shares locally, then one Beaver product.
        let shape = broadcast_shapes("mul", a.shape(), b.shape())?;
        Party::mul(self, &a.broadcast_to(&shape)?, &b.broadcast_to(&shape)?)
    }
    fn shares_matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Party::matmul(self, a, b)
    }
    fn shares_add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        Party::add_public(self, a, c)
    }
    fn shares_truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        if scale == 1 {
            return Ok(a.clone());
        }
        Party::truncate(self, a, scale)
    }
}
