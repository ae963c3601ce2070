//! `f32` / `f64` GEMM through the `gemm` crate.

use super::{MatRef, Parallelism, naive};
use crate::element::Scalar;

/// `c (+)= a · b` for floats.
pub fn gemm_float<T: Scalar>(c: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>, accumulate: bool, par: Parallelism) {
    naive(c, a, b, accumulate, par);
}
