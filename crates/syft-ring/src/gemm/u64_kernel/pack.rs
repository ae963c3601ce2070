//! Packing of operand blocks into contiguous micro-panels, and the reusable aligned scratch
//! buffers they live in.
//!
//! - A block of `A` (`mc × kc`) becomes `⌈mc / MR⌉` panels; panel `q` holds rows
//!   `q·MR .. q·MR + MR` column by column: element `(i, p)` at `q·MR·kc + p·MR + i`.
//! - A block of `B` (`kc × nc`) becomes `⌈nc / NR⌉` panels; panel `q` holds columns
//!   `q·NR .. q·NR + NR` row by row: element `(p, j)` at `q·NR·kc + p·NR + j`.
//!
//! Rows / columns past the edge of the matrix are zero-filled, so a micro-kernel may read a
//! whole `MR × kc` or `kc × NR` panel. For a kernel with [`MicroKernel::WINOGRAD`], a panel
//! has one more step with the sums of products of its pairs of steps ([`pair_products`]).
//! Every access here is bounds-checked, except inside a kernel's `pack_strip8` (which checks
//! its slices' lengths up front).

use super::super::MatRef;
use super::{MicroKernel, a_panel_len, b_panel_len};
use std::cell::Cell;

/// One cache line of `u64`s; a `Vec` of these is a 64-byte aligned `u64` buffer.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([u64; 8]);

/// A growable, 64-byte aligned `u64` buffer.
#[derive(Default)]
pub(super) struct AlignedBuf {
    lines: Vec<Line>,
}

impl AlignedBuf {
    /// A slice of exactly `len` elements (contents unspecified but initialised), growing the
    /// buffer if needed. The slice starts on a 64-byte boundary.
    pub(super) fn slice(&mut self, len: usize) -> &mut [u64] {
        let lines = len.div_ceil(8);
        if self.lines.len() < lines {
            self.lines.resize(lines, Line::default());
        }
        let all: &mut [Line] = &mut self.lines[..lines];
        // SAFETY: `Line` is `repr(C)` around `[u64; 8]`, so it has the size of 8 `u64`s and no
        // padding; `lines` consecutive `Line`s are therefore `8 · lines >= len` consecutive,
        // initialised, properly aligned `u64`s, exclusively borrowed through `all` for the
        // lifetime of the returned slice.
        unsafe { std::slice::from_raw_parts_mut(all.as_mut_ptr().cast::<u64>(), len) }
    }
}

/// Per-thread packing buffers, reused across calls.
#[derive(Default)]
pub(super) struct Scratch {
    /// Packed block of `A`.
    pub(super) a: AlignedBuf,
    /// Packed block of `B`.
    pub(super) b: AlignedBuf,
}

thread_local! {
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers. The buffers are moved out for the duration of
/// the call, so a re-entrant call (impossible today, but cheap to allow) just gets fresh ones.
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH.try_with(Cell::take).unwrap_or_default();
    let out = f(&mut scratch);
    let _ = SCRATCH.try_with(|cell| cell.set(scratch));
    out
}

/// Packs `A[i0 .. i0 + mc, p0 .. p0 + kc]` into `MR`-row panels of [`a_panel_len`] elements
/// (layout in the module docs). `dst` must hold `⌈mc / MR⌉` panels.
pub(super) fn pack_a<K: MicroKernel>(dst: &mut [u64], a: &MatRef<'_, u64>, i0: usize, mc: usize, p0: usize, kc: usize) {
    let (rs, cs) = (a.row_stride, a.col_stride);
    let step = K::MR;
    for (q, whole) in dst.chunks_exact_mut(a_panel_len::<K>(kc)).take(mc.div_ceil(K::MR)).enumerate() {
        let panel = &mut whole[..step * kc];
        let r0 = i0 + q * K::MR;
        let mr = K::MR.min(i0 + mc - r0);
        if mr < K::MR {
            panel.fill(0);
        }
        if cs == 1 {
            // Row-major A: each row of the panel is contiguous.
            for i in 0..mr {
                let start = (r0 + i) * rs + p0;
                let src = &a.data[start..start + kc];
                for (d, &s) in panel.chunks_exact_mut(step).zip(src) {
                    d[i] = s;
                }
            }
        } else if rs == 1 {
            // Column-major A (e.g. a transposed view): each column of the panel is contiguous.
            for (p, d) in panel.chunks_exact_mut(step).enumerate() {
                let start = (p0 + p) * cs + r0;
                d[..mr].copy_from_slice(&a.data[start..start + mr]);
            }
        } else {
            for (p, d) in panel.chunks_exact_mut(step).enumerate() {
                for (i, x) in d[..mr].iter_mut().enumerate() {
                    *x = a.at(r0 + i, p0 + p);
                }
            }
        }
        if K::WINOGRAD {
            pair_products(whole, K::MR, kc);
        }
    }
}

/// Packs `B[p0 .. p0 + kc, j0 .. j0 + nc]` into `NR`-column panels of [`b_panel_len`]
/// elements (layout in the module docs). `dst` must hold `⌈nc / NR⌉` panels.
pub(super) fn pack_b<K: MicroKernel>(dst: &mut [u64], b: &MatRef<'_, u64>, p0: usize, kc: usize, j0: usize, nc: usize) {
    let (rs, cs) = (b.row_stride, b.col_stride);
    if cs == 1 {
        pack_b_rows::<K>(dst, &b.data[p0 * rs + j0..], rs, kc, nc);
        return;
    }
    let len = b_panel_len::<K>(kc);
    let dst = &mut dst[..nc.div_ceil(K::NR) * len];
    for (q, whole) in dst.chunks_exact_mut(len).enumerate() {
        let panel = &mut whole[..K::NR * kc];
        let c0 = j0 + q * K::NR;
        let nr = K::NR.min(j0 + nc - c0);
        if nr < K::NR {
            panel.fill(0);
        }
        if rs == 1 {
            // Column-major B (e.g. a transposed view): columns are contiguous; transpose
            // them eight at a time so that every write is a contiguous run.
            let mut j = 0;
            while j + 8 <= nr {
                let col = |t: usize| {
                    let start = (c0 + j + t) * cs + p0;
                    &b.data[start..start + kc]
                };
                let cols = [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)];
                // SAFETY: `K` is only instantiated when the CPU supports it (`MicroKernel`).
                unsafe { K::pack_strip8(&mut panel[j..], cols, kc) };
                j += 8;
            }
            for jj in j..nr {
                let start = (c0 + jj) * cs + p0;
                let src = &b.data[start..start + kc];
                for (d, &s) in panel.chunks_exact_mut(K::NR).zip(src) {
                    d[jj] = s;
                }
            }
        } else {
            for (p, d) in panel.chunks_exact_mut(K::NR).enumerate() {
                for (j, x) in d[..nr].iter_mut().enumerate() {
                    *x = b.at(p0 + p, c0 + j);
                }
            }
        }
        if K::WINOGRAD {
            pair_products(whole, K::NR, kc);
        }
    }
}

/// [`pack_b`] for a `B` with contiguous rows: packs the `kc × nc` block
/// `B(p, j) = b[p·ldb + j]` into panels of [`b_panel_len`] elements.
pub(super) fn pack_b_rows<K: MicroKernel>(dst: &mut [u64], b: &[u64], ldb: usize, kc: usize, nc: usize) {
    let len = b_panel_len::<K>(kc);
    let dst = &mut dst[..nc.div_ceil(K::NR) * len];
    // Read each row once, front to back, and deal it out to the panels. (Filling one panel at
    // a time would read `NR` elements from each of `kc` rows, a stride that defeats the
    // hardware prefetchers.)
    let full = nc / K::NR;
    if full * K::NR < nc {
        dst[full * len..].fill(0);
    }
    for p in 0..kc {
        let row = b[p * ldb..][..nc].chunks_exact(K::NR);
        let rest = row.remainder();
        for (d, s) in dst.chunks_exact_mut(len).zip(row) {
            // A copy of constant length, inlined (not a call to `memcpy`).
            d[p * K::NR..(p + 1) * K::NR].copy_from_slice(s);
        }
        if !rest.is_empty() {
            dst[full * len + p * K::NR..][..rest.len()].copy_from_slice(rest);
        }
    }
    if K::WINOGRAD {
        for whole in dst.chunks_exact_mut(len) {
            pair_products(whole, K::NR, kc);
        }
    }
}

/// Completes a packed panel of `w` elements per step for Winograd's inner product: stores
/// in step `kc` the sums `s_t = Σ_{q < kc/2} x(2q, t)·x(2q + 1, t)` (wrapping;
/// `x(p, t) = panel[p·w + t]`). The first `kc` steps must already be packed; `panel` must
/// hold `w·(kc + 1)` elements.
#[inline(always)]
pub(super) fn pair_products(panel: &mut [u64], w: usize, kc: usize) {
    let (body, sums) = panel[..w * (kc + 1)].split_at_mut(w * kc);
    sums.fill(0);
    for pair in body.chunks_exact(2 * w) {
        let (x, y) = pair.split_at(w);
        for ((s, &x), &y) in sums.iter_mut().zip(x).zip(y) {
            *s = s.wrapping_add(x.wrapping_mul(y));
        }
    }
}

/// Portable [`MicroKernel::pack_strip8`]: `dst[p·nr + t] = cols[t][p]` for `p < kc`, `t < 8`.
pub(super) fn strip8(dst: &mut [u64], nr: usize, cols: [&[u64]; 8], kc: usize) {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = cols.map(|c| &c[..kc]);
    for (p, d) in dst.chunks_mut(nr).take(kc).enumerate() {
        d[..8].copy_from_slice(&[s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]]);
    }
}
