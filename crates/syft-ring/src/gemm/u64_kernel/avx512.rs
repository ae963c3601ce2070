//! AVX-512 (F + DQ) micro-kernel: an `8 × 24` tile held in 24 `zmm` accumulators, updated
//! with `vpmullq` (`_mm512_mullo_epi64`) and `vpaddq`.
//!
//! Edge tiles run copies of the kernel specialised for their row count `R <= 8` and number of
//! column vectors `V <= 3` (no wasted multiplies on the bottom edge, at most 7 wasted lanes on
//! the right edge); partial vectors use masked loads and stores. Also provides the AVX-512
//! 8×8 transpose used to pack a column-major `B`.

use super::{MicroKernel, Tile, pack};
use std::arch::x86_64::{
    __mmask8, _mm512_add_epi64, _mm512_loadu_si512, _mm512_mask_storeu_epi64, _mm512_maskz_loadu_epi64,
    _mm512_mullo_epi64, _mm512_permutex2var_epi64, _mm512_set_epi64, _mm512_set1_epi64, _mm512_setzero_si512,
    _mm512_shuffle_i64x2, _mm512_storeu_si512, _mm512_unpackhi_epi64, _mm512_unpacklo_epi64,
};

/// Rows of the register tile.
const MR: usize = 8;
/// Columns of the register tile (three `zmm` vectors of 8 lanes).
const NR: usize = 24;

/// The AVX-512 kernel.
pub(super) struct Avx512;

// SAFETY: `gemm_u64_with_path` selects this kernel only when `KernelPath::Avx512.available()`,
// i.e. the CPU has AVX-512 F and DQ, the features `tile_rv` and `strip8` are compiled for.
unsafe impl MicroKernel for Avx512 {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 512;
    const MC: usize = 128;
    const DIRECT_A: bool = true;
    const DIRECT_B: bool = true;
    const NC: usize = 1200;

    unsafe fn tile(t: Tile) {
        /// Dispatches to `tile_rv::<R, V>` for `R = t.mr`, `V = ⌈t.nr / 8⌉`.
        macro_rules! dispatch {
            ($($r:literal)*) => {
                match (t.mr, t.nr.div_ceil(8)) {
                    $(
                        ($r, 1) => tile_rv::<$r, 1>(t),
                        ($r, 2) => tile_rv::<$r, 2>(t),
                        ($r, _) => tile_rv::<$r, 3>(t),
                    )*
                    (_, _) => tile_rv::<1, 3>(t),
                }
            };
        }
        // SAFETY: (all arms) the caller upholds `tile`'s contract, which is `tile_rv`'s with
        // `R = mr` and `8·(V - 1) < nr <= 8·V` (`nr <= NR = 24` gives `V <= 3`; the catch-all
        // arm is unreachable since `1 <= mr <= 8`, and would still be sound for `mr >= 1`).
        unsafe { dispatch!(8 7 6 5 4 3 2 1) }
    }

    unsafe fn pack_strip8(dst: &mut [u64], cols: [&[u64]; 8], kc: usize) {
        // SAFETY: the caller guarantees the CPU supports this kernel, hence AVX-512 F.
        unsafe { strip8(dst, cols, kc) }
    }
}

/// 8×8 transposes of `u64`s with AVX-512 shuffles: `dst[p·NR + t] = cols[t][p]`.
///
/// # Safety
/// AVX-512 F is available.
#[target_feature(enable = "avx512f")]
unsafe fn strip8(dst: &mut [u64], cols: [&[u64]; 8], kc: usize) {
    assert!(cols.iter().all(|c| c.len() >= kc), "pack: column too short");
    assert!(dst.len() >= kc.saturating_sub(1) * NR + 8, "pack: panel too short");
    let whole = kc - kc % 8;
    let lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    let hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    for p in (0..whole).step_by(8) {
        // SAFETY: `p + 8 <= kc <= cols[t].len()` for every column, and row `p + r` (`r < 8`)
        // of the strip is `dst[(p + r)·NR .. (p + r)·NR + 8]`, inside `dst` (asserted above).
        unsafe {
            let r = cols.map(|c| _mm512_loadu_si512(c.as_ptr().add(p).cast()));
            // Stage 1: interleave pairs of columns.
            let t0 = _mm512_unpacklo_epi64(r[0], r[1]);
            let t1 = _mm512_unpackhi_epi64(r[0], r[1]);
            let t2 = _mm512_unpacklo_epi64(r[2], r[3]);
            let t3 = _mm512_unpackhi_epi64(r[2], r[3]);
            let t4 = _mm512_unpacklo_epi64(r[4], r[5]);
            let t5 = _mm512_unpackhi_epi64(r[4], r[5]);
            let t6 = _mm512_unpacklo_epi64(r[6], r[7]);
            let t7 = _mm512_unpackhi_epi64(r[6], r[7]);
            // Stage 2: gather quadruples of columns (rows p, p+4 / p+2, p+6 / ...).
            let u0 = _mm512_permutex2var_epi64(t0, lo, t2);
            let u2 = _mm512_permutex2var_epi64(t0, hi, t2);
            let u1 = _mm512_permutex2var_epi64(t1, lo, t3);
            let u3 = _mm512_permutex2var_epi64(t1, hi, t3);
            let u4 = _mm512_permutex2var_epi64(t4, lo, t6);
            let u6 = _mm512_permutex2var_epi64(t4, hi, t6);
            let u5 = _mm512_permutex2var_epi64(t5, lo, t7);
            let u7 = _mm512_permutex2var_epi64(t5, hi, t7);
            // Stage 3: join the halves of columns 0-3 and 4-7.
            let rows = [
                _mm512_shuffle_i64x2::<0x44>(u0, u4),
                _mm512_shuffle_i64x2::<0x44>(u1, u5),
                _mm512_shuffle_i64x2::<0x44>(u2, u6),
                _mm512_shuffle_i64x2::<0x44>(u3, u7),
                _mm512_shuffle_i64x2::<0xEE>(u0, u4),
                _mm512_shuffle_i64x2::<0xEE>(u1, u5),
                _mm512_shuffle_i64x2::<0xEE>(u2, u6),
                _mm512_shuffle_i64x2::<0xEE>(u3, u7),
            ];
            for (q, row) in rows.into_iter().enumerate() {
                _mm512_storeu_si512(dst.as_mut_ptr().add((p + q) * NR).cast(), row);
            }
        }
    }
    if whole < kc {
        let tail = cols.map(|c| &c[whole..kc]);
        pack::strip8(&mut dst[whole * NR..], NR, tail, kc - whole);
    }
}

/// The lane mask selecting columns `v·8 .. min(v·8 + 8, nr)` of vector `v`.
#[inline(always)]
fn lane_mask(v: usize, nr: usize) -> __mmask8 {
    let lanes = nr.saturating_sub(v * 8).min(8);
    #[allow(clippy::cast_possible_truncation, reason = "lanes <= 8, so the mask fits in 8 bits")]
    let mask = ((1u32 << lanes) - 1) as __mmask8;
    mask
}

/// Rows `0..R` and columns `0..min(8·V, nr)` of an `MR × NR` tile.
///
/// # Safety
/// AVX-512 F and DQ are available; `t` satisfies [`Tile`]'s contract with `mr = R` and
/// `nr <= 8·V <= NR`.
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn tile_rv<const R: usize, const V: usize>(t: Tile) {
    let Tile { kc, a, ars, acs, b, ldb, c, ldc, nr, overwrite, .. } = t;
    let mut acc = [[_mm512_setzero_si512(); V]; R];
    let (mut ap, mut bp) = (a, b);
    for _ in 0..kc {
        // SAFETY: at step `p < kc`, `ap = a + p·acs` and `bp = b + p·ldb`; the loads read
        // `A(i, p)` for `i < R = mr` and `B(p, j)` for `j < 8·V <= NR`, all readable by
        // `Tile`'s contract.
        unsafe {
            let mut bv = [_mm512_setzero_si512(); V];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = _mm512_loadu_si512(bp.add(8 * v).cast());
            }
            for (i, row) in acc.iter_mut().enumerate() {
                #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
                let x = _mm512_set1_epi64(*ap.add(i * ars) as i64);
                for (r, &y) in row.iter_mut().zip(&bv) {
                    *r = _mm512_add_epi64(*r, _mm512_mullo_epi64(x, y));
                }
            }
            ap = ap.add(acs);
            bp = bp.add(ldb);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (v, &x) in row.iter().enumerate() {
            if v * 8 >= nr {
                break;
            }
            let mask = lane_mask(v, nr);
            // SAFETY: `i < R = mr` and the lanes enabled by `mask` are columns `< nr`, valid
            // and exclusively ours by `Tile`'s contract; masked-off lanes are not accessed.
            unsafe {
                let p = c.add(i * ldc + v * 8);
                let y = if overwrite { x } else { _mm512_add_epi64(x, _mm512_maskz_loadu_epi64(mask, p.cast())) };
                _mm512_mask_storeu_epi64(p.cast(), mask, y);
            }
        }
    }
}
