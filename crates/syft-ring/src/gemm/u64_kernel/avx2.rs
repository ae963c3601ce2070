//! AVX2 micro-kernel for CPUs without AVX-512's 64-bit multiply (`vpmullq`): an `MR × NR`
//! = `3 × 8` tile in 12 `ymm` accumulators.
//!
//! # The product
//!
//! Write `x = xh·2^32 + xl`. Modulo `2^64`,
//!
//! ```text
//! Σ_p a_p·b_p = Σ_p al_p·bl_p  +  ((Σ_p (ah_p·bl_p + al_p·bh_p)) mod 2^32) · 2^32
//! ```
//!
//! The first sum needs full 32×32→64 products: one `vpmuludq` per 4 lanes, which reads the
//! low halves of its 64-bit lanes, so the operands need no masking. The second only matters
//! modulo `2^32`, and both of its products fit one `vpmulld` (8 lanes of 32×32→32): with `A`
//! broadcast *rotated* (`ah` in the low half of each 64-bit lane, `al` in the high half)
//! against `B` as is (`bl` low, `bh` high), the low half of each lane gets `ah·bl` and the
//! high half `al·bh`. Those are summed over `p` with 32-bit adds (`vpaddd`) in an accumulator
//! of their own, and folded in once at the end of the tile: `(lo + hi) << 32`.
//!
//! So one rank-1 step costs, per 4 output lanes, 2 multiplies (`vpmuludq` + `vpmulld`) and
//! 2 adds (`vpaddq` + `vpaddd`), with no shift or shuffle in the loop (the emulation that
//! computes each product completely needs 3 multiplies, 3 shifts and 3 adds).
//!
//! # Operands
//!
//! Both operands are always packed. Each step of an `A` panel holds the `MR` elements
//! followed by their rotations `x.rotate_left(32)`; the kernel broadcasts the low word of an
//! element (`vpbroadcastd`) and the rotation (`vpbroadcastq`) straight from memory. `B` panels
//! are 64-byte aligned, two `ymm` vectors per step, reused by the `MR` rows (packing `B`
//! rather than reading it in place measured 8% faster on (64×784)·(784×500)). Registers:
//! 12 accumulators + 2 `B` vectors + a broadcast + a product = 16, no spills.

use super::{MicroKernel, Tile};
use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_add_epi64, _mm256_loadu_si256, _mm256_mul_epu32, _mm256_mullo_epi32,
    _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_slli_epi64,
    _mm256_storeu_si256,
};

/// Rows of the register tile.
const MR: usize = 3;
/// `ymm` vectors (of 4 lanes) per row of the register tile.
const NV: usize = 2;
/// Columns of the register tile.
const NR: usize = 4 * NV;

/// The AVX2 kernel.
pub(super) struct Avx2;

// SAFETY: `gemm_u64_with_path` selects this kernel only when `KernelPath::Avx2.available()`,
// i.e. the CPU has AVX2, the feature `tile_rows` is compiled for.
unsafe impl MicroKernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 256;
    const MC: usize = 72;
    const DIRECT: bool = false;
    const ROTATED_A: bool = true;
    const NC: usize = 512;

    unsafe fn tile(t: Tile) {
        // SAFETY: (all arms) the caller guarantees AVX2 and `Tile`'s contract, which is
        // `tile_rows`'s contract with `R = mr` (`1 <= mr <= MR = 3`).
        unsafe {
            match t.mr {
                3 => tile_rows::<3>(t),
                2 => tile_rows::<2>(t),
                _ => tile_rows::<1>(t),
            }
        }
    }
}

/// Rows `0..R` of an `MR × NR` tile.
///
/// # Safety
/// AVX2 is available and `t` satisfies [`Tile`]'s contract with `mr = R`, for a kernel with
/// [`MicroKernel::ROTATED_A`]: `A` is a packed panel (`ars = 1`, `acs = 2·MR`) holding
/// `A(i, p)` at `a + p·acs + i` and its rotation at `a + p·acs + MR + i`. (The low 32 bits of
/// a `u64` come first: x86-64 is little-endian.)
#[target_feature(enable = "avx2")]
unsafe fn tile_rows<const R: usize>(t: Tile) {
    let Tile { kc, a, ars: _, acs, b, ldb, c, ldc, mr: _, nr, overwrite } = t;
    let mut lo = [[_mm256_setzero_si256(); NV]; R];
    let mut cross = [[_mm256_setzero_si256(); NV]; R];
    let (mut ap, mut bp) = (a, b);
    for _ in 0..kc {
        // SAFETY: at step `p < kc`, `ap = a + p·acs` and `bp = b + p·ldb`; the loads read
        // `A(i, p)` and its rotation for `i < R <= MR` and `B(p, j)` for `j < NR`, readable by
        // `Tile`'s contract. `ap` and `bp` are advanced past the last step but never read there.
        unsafe {
            let mut bv = [_mm256_setzero_si256(); NV];
            for (v, y) in bv.iter_mut().enumerate() {
                *y = _mm256_loadu_si256(bp.add(4 * v).cast());
            }
            for i in 0..R {
                // `vpmuludq` reads only the low 32 bits of each lane: broadcasting the low
                // word of `A(i, p)` is a plain load (`vpbroadcastd`), where LLVM turns a 64-bit
                // broadcast into a zero-extending load plus a register broadcast.
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let x = _mm256_set1_epi32(ap.add(i).cast::<u32>().read() as i32);
                for (l, &y) in lo[i].iter_mut().zip(&bv) {
                    *l = _mm256_add_epi64(*l, _mm256_mul_epu32(x, y));
                }
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let xr = _mm256_set1_epi64x(*ap.add(MR + i) as i64);
                for (s, &y) in cross[i].iter_mut().zip(&bv) {
                    *s = _mm256_add_epi32(*s, _mm256_mullo_epi32(xr, y));
                }
            }
            ap = ap.wrapping_add(acs);
            bp = bp.wrapping_add(ldb);
        }
    }
    for i in 0..R {
        let mut row = [_mm256_setzero_si256(); NV];
        for (v, x) in row.iter_mut().enumerate() {
            let s = cross[i][v];
            // Both 32-bit halves of each lane become `lo + hi`; shifting keeps one, on top.
            let both = _mm256_add_epi32(s, _mm256_shuffle_epi32::<0b1011_0001>(s));
            *x = _mm256_add_epi64(lo[i][v], _mm256_slli_epi64::<32>(both));
        }
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
                // SAFETY: `buf` holds `NR = 4·NV` elements and `v < NV`.
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
