//! [`Party`] as an [`IntBackend`]: `syft_fixed::Fixed` values over one party's shares,
//! with Beaver products and protocol truncation.

use crate::error::{Result, SpdzError};
use crate::protocols::Party;
use syft_fixed::IntBackend;
use syft_ring::{Tensor, broadcast_shapes};

impl IntBackend for Party<'_> {
    type Tensor = Tensor<u64>;
    type Error = SpdzError;

    fn shape<'t>(&self, t: &'t Tensor<u64>) -> &'t [usize] {
        t.shape()
    }
    fn add(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.add(b)?)
    }
    fn sub(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.sub(b)?)
    }
    fn neg(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.neg())
    }
    fn mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        if a.shape() == b.shape() {
            return Party::mul(self, a, b);
        }
        // Broadcasting is linear: expand both shares locally, then one Beaver product.
        let shape = broadcast_shapes("mul", a.shape(), b.shape())?;
        Party::mul(self, &a.broadcast_to(&shape)?, &b.broadcast_to(&shape)?)
    }
    fn matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>> {
        Party::matmul(self, a, b)
    }
    fn sum(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(Tensor::scalar(a.sum_all()))
    }
    fn sum_axis(&mut self, a: &Tensor<u64>, axis: usize, keepdim: bool) -> Result<Tensor<u64>> {
        Ok(a.sum_axis(axis, keepdim)?)
    }
    fn mul_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.mul(c)?)
    }
    fn add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        Party::add_public(self, a, c)
    }
    fn truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        if scale == 1 {
            return Ok(a.clone());
        }
        Party::truncate(self, a, scale)
    }
    fn reshape(&mut self, a: &Tensor<u64>, shape: &[usize]) -> Result<Tensor<u64>> {
        Ok(a.reshape(shape)?)
    }
    fn transpose(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(a.transpose()?)
    }
}
