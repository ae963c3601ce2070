//! Portable micro-kernel: plain `wrapping_mul` / `wrapping_add` on a `4 × 8` tile, written as
//! fixed-size array loops so LLVM can vectorise it for whatever the baseline target offers.

use super::{MicroKernel, Tile};

/// Rows of the register tile.
const MR: usize = 4;
/// Columns of the register tile.
const NR: usize = 8;

/// The portable kernel (always available).
pub(super) struct Portable;

// SAFETY: the portable kernel needs no CPU feature.
unsafe impl MicroKernel for Portable {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 256;
    const MC: usize = 64;
    const DIRECT_A: bool = false;
    const DIRECT_B: bool = false;
    const NC: usize = 512;

    unsafe fn tile(t: Tile) {
        let acc = if t.ars == 1 && t.acs == MR && t.ldb == NR && t.mr == MR {
            // SAFETY: `Tile`'s contract with these strides: `a + i + p·MR` (`i < mr = MR`) and
            // `b + p·NR + j` (`j < NR`) are readable for `p < kc`, i.e. `kc·MR` and `kc·NR`
            // contiguous elements.
            let (a, b) =
                unsafe { (std::slice::from_raw_parts(t.a, t.kc * MR), std::slice::from_raw_parts(t.b, t.kc * NR)) };
            packed(a, b)
        } else {
            let mut acc = [[0u64; NR]; MR];
            for p in 0..t.kc {
                let mut a = [0u64; MR];
                for (i, x) in a.iter_mut().enumerate().take(t.mr) {
                    // SAFETY: `Tile`'s contract: `a + i·ars + p·acs` is readable for `i < mr`,
                    // `p < kc`.
                    *x = unsafe { *t.a.add(i * t.ars + p * t.acs) };
                }
                // SAFETY: `Tile`'s contract: `b + p·ldb + j` is readable for `p < kc`, `j < NR`.
                let b = unsafe { &*t.b.add(p * t.ldb).cast::<[u64; NR]>() };
                step(&mut acc, &a, b);
            }
            acc
        };
        for (i, row) in acc.iter().enumerate().take(t.mr) {
            // SAFETY: `Tile`'s contract: `c + i·ldc + j` is valid and exclusively ours for
            // `i < mr`, `j < nr`.
            let out = unsafe { std::slice::from_raw_parts_mut(t.c.add(i * t.ldc), t.nr) };
            if t.overwrite {
                out.copy_from_slice(&row[..t.nr]);
            } else {
                for (o, &x) in out.iter_mut().zip(row) {
                    *o = o.wrapping_add(x);
                }
            }
        }
    }
}

/// `Apanel · Bpanel` for contiguous packed panels (`MR` and `NR` elements per step).
fn packed(a: &[u64], b: &[u64]) -> [[u64; NR]; MR] {
    let mut acc = [[0u64; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &x) in acc.iter_mut().zip(ap) {
            for (r, &y) in row.iter_mut().zip(bp) {
                *r = r.wrapping_add(x.wrapping_mul(y));
            }
        }
    }
    acc
}

/// One rank-1 update of the accumulators.
#[inline(always)]
fn step(acc: &mut [[u64; NR]; MR], a: &[u64; MR], b: &[u64; NR]) {
    for (row, &x) in acc.iter_mut().zip(a) {
        for (r, &y) in row.iter_mut().zip(b) {
            *r = r.wrapping_add(x.wrapping_mul(y));
        }
    }
}
