//! AVX2 micro-kernel for CPUs without AVX-512's 64-bit multiply (`vpmullq`): an `MR × NR`
//! = `4 × 4` tile in 8 `ymm` accumulators, computing Winograd's form of the inner product
//! with 64-bit products assembled from 32-bit multiplies.
//!
//! # Winograd's inner product
//!
//! Over any commutative ring, for an even depth `d`,
//!
//! ```text
//! Σ_p A(i, p)·B(p, j) = Σ_q (A(i, 2q) + B(2q+1, j)) · (A(i, 2q+1) + B(2q, j))  −  ξ_i  −  η_j
//!   with  ξ_i = Σ_q A(i, 2q)·A(i, 2q+1)  and  η_j = Σ_q B(2q, j)·B(2q+1, j)
//! ```
//!
//! (expand the product: the cross terms are the wanted ones); an odd depth ends with one
//! plain product. `ξ` and `η` are computed once per packed panel
//! ([`pack::pair_products`](super::pack::pair_products), or by the tile that packs a panel of
//! a row-major `B`), so the tile does one multiply per two multiply-adds, for two extra adds.
//!
//! # The product
//!
//! Write `x = xh·2^32 + xl`. Modulo `2^64`,
//!
//! ```text
//! Σ_q u_q·v_q = Σ_q ul_q·vl_q  +  ((Σ_q (ul_q·vh_q + uh_q·vl_q)) mod 2^32) · 2^32
//! ```
//!
//! The first sum needs full 32×32→64 products: one `vpmuludq` per 4 lanes, which reads the
//! low halves of its 64-bit lanes. The second only matters modulo `2^32`, and both of its
//! products fit one `vpmulld` (8 lanes of 32×32→32) of `u` against `v` with its halves
//! swapped (`vpshufd`): the low half of each lane gets `ul·vh`, the high half `uh·vl`. Those
//! are summed with 32-bit adds (`vpaddd`) in an accumulator of their own and folded in once
//! at the end of the tile: `(lo + hi) << 32`.
//!
//! So two multiply-adds cost, per 4 output lanes, 2 adds forming `u` and `v`, a shuffle, 2
//! multiplies (`vpmuludq` + `vpmulld`, which is 2 µops on Intel) and 2 accumulating adds: 8
//! µops for 8 multiply-adds, all on the vector ports (3 on Intel cores), against 10 for the
//! direct form (`vpmuludq` + `vpmulld` + 2 adds per multiply-add) and 12 for the textbook
//! emulation. Measured on an Intel Xeon (Sapphire Rapids class), tile in L1: 2.8 multiply-adds
//! per cycle, against 2.1 for the direct form.
//!
//! # Operands
//!
//! Both operands are packed: an `A` panel holds the `MR` elements of each step, a `B` panel
//! the `NR` of each step (64-byte aligned buffers), each followed by its `ξ` / `η`. The
//! kernel broadcasts elements of `A` straight from memory (`vpbroadcastq`, a load) and loads
//! one `ymm` of `B` per step. For a row-major `B`, the first tile of each panel reads it in
//! place, stores the panel for the other tiles, and computes its `η` with the same products
//! (`PACK`), prefetching into L2 the panel after next. A `4 × 4` tile wastes nothing on the
//! shapes of an MNIST-sized dense layer (64 and 500 are multiples of 4) and measured as fast
//! as `2 × 8` and `3 × 8` in L1. Registers: 8 accumulators + 2 `B` vectors + 2 broadcasts +
//! temporaries.
//!
//! On that Xeon, with `(64 × 784)·(784 × 500)`, about 86% of the time is spent in the tiles'
//! inner loop at the rate above; packing (mostly the first touch of `B`, 3.1 MB, in the
//! packing tiles) and the rest take the remainder.

use super::{MicroKernel, Tile};
use std::arch::x86_64::{
    __m256i, _MM_HINT_T1, _mm_prefetch, _mm256_add_epi32, _mm256_add_epi64, _mm256_loadu_si256, _mm256_mul_epu32,
    _mm256_mullo_epi32, _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_slli_epi64,
    _mm256_storeu_si256, _mm256_sub_epi64,
};

/// Rows of the register tile.
const MR: usize = 4;
/// Columns of the register tile (one `ymm` of 4 lanes).
const NR: usize = 4;
/// Columns of a block of `B`.
const NC: usize = 512;

/// The AVX2 kernel.
pub(super) struct Avx2;

// SAFETY: `gemm_u64_with_path` selects this kernel only when `KernelPath::Avx2.available()`,
// i.e. the CPU has AVX2, the feature `tile_rows` is compiled for.
unsafe impl MicroKernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 512;
    const MC: usize = 128;
    const DIRECT_A: bool = false;
    const DIRECT_B: bool = false;
    const WINOGRAD: bool = true;
    const NC: usize = NC;

    unsafe fn tile(t: Tile) {
        // SAFETY: (all arms) the caller guarantees AVX2 and `Tile`'s contract, which is
        // `tile_rows`'s contract with `R = mr` (`1 <= mr <= MR = 4`) and `PACK` telling
        // whether `pack` is non-null.
        unsafe {
            match (t.mr, t.pack.is_null()) {
                (4, true) => tile_rows::<4, false>(t),
                (4, false) => tile_rows::<4, true>(t),
                (3, true) => tile_rows::<3, false>(t),
                (3, false) => tile_rows::<3, true>(t),
                (2, true) => tile_rows::<2, false>(t),
                (2, false) => tile_rows::<2, true>(t),
                (_, true) => tile_rows::<1, false>(t),
                (_, false) => tile_rows::<1, true>(t),
            }
        }
    }
}

/// The two 32-bit halves of each 64-bit lane swapped.
#[inline]
#[target_feature(enable = "avx2")]
fn swap_halves(x: __m256i) -> __m256i {
    _mm256_shuffle_epi32::<0b1011_0001>(x)
}

/// `lo + (hi(cross) + lo(cross)) · 2^32` per lane: the sum of the products whose low halves
/// of `ul·vl` are in `lo` and whose cross terms `ul·vh`, `uh·vl` are in the 32-bit halves of
/// `cross`.
#[inline]
#[target_feature(enable = "avx2")]
fn fold(lo: __m256i, cross: __m256i) -> __m256i {
    // Both 32-bit halves of each lane become `lo + hi`; shifting keeps one, on top.
    let both = _mm256_add_epi32(cross, swap_halves(cross));
    _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(both))
}

/// Rows `0..R` of an `MR × NR` tile; with `PACK`, also packs the `B` it reads in place
/// (and its `η`, computed with the tile's products) into `t.pack`, prefetching the rows at
/// `t.prefetch` into L2 for a later panel.
///
/// # Safety
/// AVX2 is available and `t` satisfies [`Tile`]'s contract with `mr = R` for a kernel with
/// [`MicroKernel::WINOGRAD`], with `t.pack` non-null if and only if `PACK`.
#[target_feature(enable = "avx2")]
unsafe fn tile_rows<const R: usize, const PACK: bool>(t: Tile) {
    let Tile { kc, a, b, ldb, xi, eta, pack, prefetch, c, ldc, nr, overwrite, .. } = t;
    let mut lo = [_mm256_setzero_si256(); R];
    let mut cross = [_mm256_setzero_si256(); R];
    let (mut eta_lo, mut eta_cross) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let (mut ap, mut bp, mut pk, mut pf) = (a, b, pack, prefetch);
    for _ in 0..kc / 2 {
        // SAFETY: at pair `q < kc / 2`, `ap = a + 2q·MR`, `bp = b + 2q·ldb` and (with `PACK`)
        // `pk = pack + 2q·NR`; the loads read `A(i, 2q)`, `A(i, 2q + 1)` for `i < R <= MR` and
        // `B(2q, j)`, `B(2q + 1, j)` for `j < NR`, readable by `Tile`'s contract, and the
        // stores write steps `2q`, `2q + 1` of the panel at `pack`, writable and ours by the
        // contract. Prefetches never fault. The pointers are advanced past the last pair with
        // wrapping arithmetic and only used there if `kc` is odd (below).
        unsafe {
            let b0 = _mm256_loadu_si256(bp.cast());
            let b1 = _mm256_loadu_si256(bp.add(ldb).cast());
            if PACK {
                _mm256_storeu_si256(pk.cast(), b0);
                _mm256_storeu_si256(pk.add(NR).cast(), b1);
                _mm_prefetch::<_MM_HINT_T1>(pf.cast());
                _mm_prefetch::<_MM_HINT_T1>(pf.wrapping_add(ldb).cast());
                eta_lo = _mm256_add_epi64(eta_lo, _mm256_mul_epu32(b0, b1));
                eta_cross = _mm256_add_epi32(eta_cross, _mm256_mullo_epi32(b0, swap_halves(b1)));
            }
            for i in 0..R {
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let (a0, a1) = (_mm256_set1_epi64x(*ap.add(i) as i64), _mm256_set1_epi64x(*ap.add(MR + i) as i64));
                let u = _mm256_add_epi64(a0, b1);
                let v = _mm256_add_epi64(a1, b0);
                lo[i] = _mm256_add_epi64(lo[i], _mm256_mul_epu32(u, v));
                cross[i] = _mm256_add_epi32(cross[i], _mm256_mullo_epi32(u, swap_halves(v)));
            }
        }
        ap = ap.wrapping_add(2 * MR);
        bp = bp.wrapping_add(2 * ldb);
        pk = pk.wrapping_add(2 * NR);
        pf = pf.wrapping_add(2 * ldb);
    }
    if kc % 2 == 1 {
        // The last step, outside the pairs (and `ξ`, `η`): a plain product, `al·bl` into `lo`
        // and `al·bh`, `ah·bl` into `cross`.
        // SAFETY: `ap = a + (kc − 1)·MR`, `bp = b + (kc − 1)·ldb` and `pk = pack + (kc − 1)·NR`:
        // `A(i, kc − 1)` for `i < R` and `B(kc − 1, j)` for `j < NR` are readable, and step
        // `kc − 1` of the panel at `pack` writable, by `Tile`'s contract.
        unsafe {
            let y = _mm256_loadu_si256(bp.cast());
            if PACK {
                _mm256_storeu_si256(pk.cast(), y);
            }
            for i in 0..R {
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let x = _mm256_set1_epi64x(*ap.add(i) as i64);
                lo[i] = _mm256_add_epi64(lo[i], _mm256_mul_epu32(x, y));
                cross[i] = _mm256_add_epi32(cross[i], _mm256_mullo_epi32(x, swap_halves(y)));
            }
        }
    }
    let eta = if PACK {
        let eta = fold(eta_lo, eta_cross);
        // SAFETY: the sums of the panel at `pack`, `pack + kc·NR .. + NR`, are writable and
        // ours by `Tile`'s contract.
        unsafe { _mm256_storeu_si256(pack.add(kc * NR).cast(), eta) };
        eta
    } else {
        // SAFETY: `eta` points at `NR` readable sums (`Tile`'s contract, `pack` null).
        unsafe { _mm256_loadu_si256(eta.cast()) }
    };
    for i in 0..R {
        // SAFETY: `xi + i` (`i < R <= MR`) is readable by `Tile`'s contract.
        #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
        let xi = _mm256_set1_epi64x(unsafe { *xi.add(i) } as i64);
        let x = _mm256_sub_epi64(_mm256_sub_epi64(fold(lo[i], cross[i]), xi), eta);
        if nr == NR {
            // SAFETY: `i < R = mr` and columns `0..NR = nr` are valid and exclusively ours by
            // `Tile`'s contract.
            unsafe {
                let p = c.add(i * ldc).cast::<__m256i>();
                let y = if overwrite { x } else { _mm256_add_epi64(x, _mm256_loadu_si256(p)) };
                _mm256_storeu_si256(p, y);
            }
        } else {
            let mut buf = [0u64; NR];
            // SAFETY: `buf` holds `NR = 4` elements.
            unsafe { _mm256_storeu_si256(buf.as_mut_ptr().cast(), x) };
            // SAFETY: `c + i·ldc + j` for `i < R = mr`, `j < nr` is valid and exclusively ours
            // by `Tile`'s contract.
            let out = unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), nr) };
            for (o, &x) in out.iter_mut().zip(&buf) {
                *o = if overwrite { x } else { o.wrapping_add(x) };
            }
        }
    }
}
