//! AVX2 micro-kernel: a `4 × 8` tile in 8 `ymm` accumulators.
//!
//! AVX2 has no 64-bit low multiply, so it is emulated with three 32×32→64 multiplies
//! (`vpmuludq`): writing `x = xh·2^32 + xl`, `x·y mod 2^64 = xl·yl + ((xl·yh + xh·yl) << 32)`.
//! The high halves of the `B` vectors are shifted once per step and reused by every row.

use super::{MicroKernel, Tile};
use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_loadu_si256, _mm256_mul_epu32, _mm256_set1_epi64x, _mm256_setzero_si256,
    _mm256_slli_epi64, _mm256_srli_epi64, _mm256_storeu_si256,
};

/// Rows of the register tile.
const MR: usize = 4;
/// Columns of the register tile (two `ymm` vectors of 4 lanes).
const NR: usize = 8;

/// The AVX2 kernel.
pub(super) struct Avx2;

// SAFETY: `gemm_u64_with_path` selects this kernel only when `KernelPath::Avx2.available()`,
// i.e. the CPU has AVX2, the feature `tile_rows` and `mul_lo` are compiled for.
unsafe impl MicroKernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 256;
    const MC: usize = 96;
    const DIRECT: bool = true;
    const NC: usize = 512;

    unsafe fn tile(t: Tile) {
        // SAFETY: (all arms) the caller guarantees AVX2 and `Tile`'s contract, which is
        // `tile_rows`'s contract with `R = mr` (`1 <= mr <= MR = 4`).
        unsafe {
            match t.mr {
                4 => tile_rows::<4>(t),
                3 => tile_rows::<3>(t),
                2 => tile_rows::<2>(t),
                _ => tile_rows::<1>(t),
            }
        }
    }
}

/// `x · y mod 2^64` lane-wise, given `xh = x >> 32` and `yh = y >> 32`.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_lo(x: __m256i, xh: __m256i, y: __m256i, yh: __m256i) -> __m256i {
    let lo = _mm256_mul_epu32(x, y);
    let cross = _mm256_add_epi64(_mm256_mul_epu32(x, yh), _mm256_mul_epu32(xh, y));
    _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(cross))
}

/// Rows `0..R` of an `MR × NR` tile.
///
/// # Safety
/// AVX2 is available and `t` satisfies [`Tile`]'s contract with `mr = R`.
#[target_feature(enable = "avx2")]
unsafe fn tile_rows<const R: usize>(t: Tile) {
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    let Tile { kc, a, ars, acs, b, ldb, c, ldc, mr: _, nr, overwrite } = t;
    let (mut ap, mut bp) = (a, b);
    for _ in 0..kc {
        // SAFETY: at step `p < kc`, `ap = a + p·acs` and `bp = b + p·ldb`; the loads read
        // `A(i, p)` for `i < R = mr` and `B(p, j)` for `j < NR`, readable by `Tile`'s contract.
        unsafe {
            let b0 = _mm256_loadu_si256(bp.cast());
            let b1 = _mm256_loadu_si256(bp.add(4).cast());
            let (b0h, b1h) = (_mm256_srli_epi64::<32>(b0), _mm256_srli_epi64::<32>(b1));
            for (i, row) in acc.iter_mut().enumerate() {
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let x = _mm256_set1_epi64x(*ap.add(i * ars) as i64);
                let xh = _mm256_srli_epi64::<32>(x);
                row[0] = _mm256_add_epi64(row[0], mul_lo(x, xh, b0, b0h));
                row[1] = _mm256_add_epi64(row[1], mul_lo(x, xh, b1, b1h));
            }
            ap = ap.add(acs);
            bp = bp.add(ldb);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        if nr == NR {
            for (v, &x) in row.iter().enumerate() {
                // SAFETY: `i < R = mr` and columns `v·4 .. v·4 + 4 <= NR = nr` are valid and
                // exclusively ours by `Tile`'s contract.
                unsafe {
                    let p = c.add(i * ldc + v * 4).cast::<__m256i>();
                    let y = if overwrite { x } else { _mm256_add_epi64(x, _mm256_loadu_si256(p)) };
                    _mm256_storeu_si256(p, y);
                }
            }
        } else {
            let mut buf = [0u64; NR];
            for (v, &x) in row.iter().enumerate() {
                // SAFETY: `buf` holds `NR = 2 · 4` elements.
                unsafe { _mm256_storeu_si256(buf.as_mut_ptr().add(v * 4).cast(), x) };
            }
            // SAFETY: `c + i·ldc + j` for `i < R = mr`, `j < nr` is valid and exclusively ours
            // by `Tile`'s contract.
            let out = unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), nr) };
            for (o, &x) in out.iter_mut().zip(&buf) {
                *o = if overwrite { x } else { o.wrapping_add(x) };
            }
        }
    }
}
