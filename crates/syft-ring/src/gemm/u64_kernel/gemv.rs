//! Products with few rows and a `B` whose columns are contiguous: `C (+)= A · Wᵀ` for a
//! row-major `W` (a linear layer's weight used transposed), as dot products.
//!
//! The blocked GEMM would pack all of `B` into row panels on every call (an 8×8 transpose
//! of the whole weight) to then use it for one to four rows of `A`: for a single input row
//! that is two extra passes over the weight for one pass of arithmetic. Here each column of
//! `B` (a row of `W`, read in place) is streamed once and multiplied with every row of `A`,
//! which stays in L1: `C(i, j) = Σ_p A(i, p) · B(p, j)`.
//!
//! The AVX-512 path keeps `R × C` vector accumulators (`R <= MAX_ROWS` rows of `A`; `C = 8`
//! columns of `B` at a time for one or two rows, which keeps eight streams from memory in
//! flight, else four), eight lanes of depth per step with a masked tail, and sums the
//! lanes once per output. The AVX2 path does the same with four lanes of depth and the
//! AVX2 GEMM kernel's 32-bit products (two accumulators per output: `xl·wl` in 64-bit lanes,
//! the cross terms modulo `2^32`, folded once per output), over `4 / R` columns at a time.
//! The portable path runs the same loop on scalars.

use super::super::MatRef;
use super::{KernelPath, OutBlock, sub_cols};
use std::borrow::Cow;

/// Products with at most this many rows of `A` take the dot-product path (when `B`'s
/// columns are contiguous): the weight is read once for all of them.
pub(super) const MAX_ROWS: usize = 4;

/// Columns of `B` handled together (accumulators per row of `A`).
const COLS: usize = 4;

/// Whether `c (+)= a · b` takes this path: few rows, `B`'s columns contiguous.
pub(super) fn applies(a: &MatRef<'_, u64>, b: &MatRef<'_, u64>) -> bool {
    a.rows <= MAX_ROWS && b.row_stride == 1
}

/// `out (+)= a · b` for `a.rows <= MAX_ROWS` and `b.row_stride == 1`, split over `threads`
/// rayon tasks along `n`. Both views lie inside their buffers (checked by the caller).
pub(super) fn run(
    out: OutBlock<'_>,
    a: MatRef<'_, u64>,
    b: MatRef<'_, u64>,
    accumulate: bool,
    threads: usize,
    path: KernelPath,
) {
    use rayon::prelude::*;

    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(m <= MAX_ROWS && b.row_stride == 1 && out.rows == m && out.cols == n, "gemv: bad operands");
    // The rows of `A`, contiguous (copied when they are not: at most `MAX_ROWS · k` words).
    let (rows, lda): (Cow<'_, [u64]>, usize) = if a.col_stride == 1 {
        (Cow::Borrowed(&a.data[..(m - 1) * a.row_stride + k]), a.row_stride)
    } else {
        (Cow::Owned((0..m).flat_map(|i| (0..k).map(move |p| a.at(i, p))).collect()), k)
    };
    let units = n.div_ceil(COLS);
    let parts = threads.min(units).max(1);
    if parts == 1 {
        block(&out, &rows, lda, m, k, b, accumulate, path);
        return;
    }
    let tasks: Vec<_> = (0..parts)
        .map(|t| {
            let lo = (t * units / parts * COLS).min(n);
            let hi = ((t + 1) * units / parts * COLS).min(n);
            (out.sub(0, m, lo, hi - lo), sub_cols(&b, lo, hi - lo))
        })
        .filter(|(o, _)| o.cols > 0)
        .collect();
    tasks.into_par_iter().for_each(|(o, bs)| block(&o, &rows, lda, m, k, bs, accumulate, path));
}

/// One block of columns: `out (+)= A · b` with row `i` of `A` at `rows[i·lda ..][..k]`.
#[allow(clippy::too_many_arguments, reason = "the operands of one block, unpacked")]
fn block(
    out: &OutBlock<'_>,
    rows: &[u64],
    lda: usize,
    m: usize,
    k: usize,
    b: MatRef<'_, u64>,
    accumulate: bool,
    path: KernelPath,
) {
    let n = b.cols;
    if n == 0 {
        return;
    }
    assert!(rows.len() >= (m - 1) * lda + k, "gemv: rows too short");
    assert!(b.data.len() > (n - 1) * b.col_stride + (k - 1), "gemv: columns out of bounds");
    #[cfg(target_arch = "x86_64")]
    if path == KernelPath::Avx512 {
        // SAFETY: `gemm_u64_with_path` passes `Avx512` only when the CPU supports it; the
        // asserts above and `OutBlock`'s invariant are `avx512::dots`'s contract.
        unsafe { avx512::dots(out, rows, lda, m, k, b, accumulate) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path == KernelPath::Avx2 {
        // SAFETY: `gemm_u64_with_path` passes `Avx2` only when the CPU supports it; the
        // asserts above and `OutBlock`'s invariant are `avx2::dots`'s contract.
        unsafe { avx2::dots(out, rows, lda, m, k, b, accumulate) };
        return;
    }
    let _ = path;
    for j in 0..n {
        let col = &b.data[j * b.col_stride..j * b.col_stride + k];
        for i in 0..m {
            let row = &rows[i * lda..i * lda + k];
            let s = dot(row, col);
            out.put(i, j, s, accumulate);
        }
    }
}

/// `Σ x_p · y_p` over Z_2^64, with four independent sums.
fn dot(x: &[u64], y: &[u64]) -> u64 {
    let mut acc = [0u64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for t in 0..4 {
            acc[t] = acc[t].wrapping_add(a[t].wrapping_mul(b[t]));
        }
    }
    let mut s = acc.iter().fold(0u64, |s, &v| s.wrapping_add(v));
    for (a, b) in xr.iter().zip(yr) {
        s = s.wrapping_add(a.wrapping_mul(*b));
    }
    s
}

impl OutBlock<'_> {
    /// Writes (or adds) `v` at `(i, j)`, which must lie inside the block (checked).
    fn put(&self, i: usize, j: usize, v: u64, accumulate: bool) {
        assert!(i < self.rows && j < self.cols, "gemv: output index out of the block");
        // SAFETY: `(i, j)` is inside the block (asserted), whose elements are valid and
        // exclusively borrowed by it (`OutBlock`'s invariant); nothing else references them
        // during this call.
        unsafe {
            let p = self.ptr.add(i * self.ld + j);
            *p = if accumulate { (*p).wrapping_add(v) } else { v };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! The AVX-512 (F + DQ) dot products.

    use super::{COLS, MatRef, OutBlock};
    use std::arch::x86_64::{
        __m512i, __mmask8, _mm512_add_epi64, _mm512_loadu_si512, _mm512_maskz_loadu_epi64, _mm512_mullo_epi64,
        _mm512_reduce_add_epi64, _mm512_setzero_si512,
    };

    /// `out (+)= A · b`, row `i` of `A` at `rows[i·lda ..][..k]`, column `j` of `b` at
    /// `b.data[j·b.col_stride ..][..k]`.
    ///
    /// # Safety
    /// AVX-512 F and DQ are available; `1 <= m <= MAX_ROWS`, `k >= 1`,
    /// `rows.len() >= (m − 1)·lda + k`, `b.data.len() > (b.cols − 1)·b.col_stride + k − 1`,
    /// and `out` is `m × b.cols`.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn dots(
        out: &OutBlock<'_>,
        rows: &[u64],
        lda: usize,
        m: usize,
        k: usize,
        b: MatRef<'_, u64>,
        accumulate: bool,
    ) {
        /// `dots_rc::<R, C>` for `R = m` (`m <= MAX_ROWS = 4`).
        macro_rules! rows {
            ($c:literal, $($r:literal)*) => {
                match m {
                    $($r => dots_rc::<$r, $c> as Tile,)*
                    _ => dots_rc::<4, $c> as Tile,
                }
            };
        }
        let n = b.cols;
        // One or two rows of `A` take eight columns of `B` at a time (eight streams from
        // memory in flight; at most 16 accumulators, 8 loaded columns and 2 rows in the 32
        // registers); more rows take four.
        let (cols, wide) = match m {
            1 => (8, dots_rc::<1, 8> as Tile),
            2 => (8, dots_rc::<2, 8> as Tile),
            _ => (COLS, rows!(4, 1 2 3)),
        };
        let full = n - n % cols;
        let narrow = rows!(1, 1 2 3);
        let a = rows.as_ptr();
        for j in (0..n).step_by(cols) {
            let f = if j < full { wide } else { narrow };
            let step = if j < full { cols } else { 1 };
            for jj in (j..(j + cols).min(n)).step_by(step) {
                // SAFETY: the contract: rows `0..m` of `A` and columns `jj .. jj + step <= n`
                // of `b`, each `k` long, are readable; `out` holds `(i, jj + t)`.
                unsafe { f(out, a, lda, k, b.data.as_ptr().add(jj * b.col_stride), b.col_stride, jj, accumulate) };
            }
        }
    }

    /// The signature of [`dots_rc`].
    type Tile = for<'o, 'b> unsafe fn(&'o OutBlock<'b>, *const u64, usize, usize, *const u64, usize, usize, bool);

    /// Lanes `0..lanes` set.
    #[inline(always)]
    fn mask(lanes: usize) -> __mmask8 {
        #[allow(clippy::cast_possible_truncation, reason = "lanes <= 8, so the mask fits in 8 bits")]
        let m = ((1u32 << lanes.min(8)) - 1) as __mmask8;
        m
    }

    /// `out(i, j0 + c) (+)= Σ_p A(i, p) · B_c(p)` for `i < R`, `c < C`.
    ///
    /// # Safety
    /// AVX-512 F and DQ; `a + i·lda + p` readable for `i < R`, `p < k`; `b + c·ldb + p`
    /// readable for `c < C`, `p < k`; `out` holds `(i, j0 + c)` for `i < R`, `c < C`.
    #[target_feature(enable = "avx512f,avx512dq")]
    #[allow(clippy::too_many_arguments, reason = "one tile's pointers and strides")]
    unsafe fn dots_rc<const R: usize, const C: usize>(
        out: &OutBlock<'_>,
        a: *const u64,
        lda: usize,
        k: usize,
        b: *const u64,
        ldb: usize,
        j0: usize,
        accumulate: bool,
    ) {
        let mut acc: [[__m512i; C]; R] = [[_mm512_setzero_si512(); C]; R];
        let whole = k - k % 8;
        let mut p = 0;
        while p < whole {
            // SAFETY: `p + 8 <= k`: the loads read `A(i, p..p + 8)` and `B_c(p..p + 8)`,
            // readable by the contract.
            unsafe {
                let bv: [__m512i; C] = std::array::from_fn(|c| _mm512_loadu_si512(b.add(c * ldb + p).cast()));
                for (i, row) in acc.iter_mut().enumerate() {
                    let x = _mm512_loadu_si512(a.add(i * lda + p).cast());
                    for (r, &y) in row.iter_mut().zip(&bv) {
                        *r = _mm512_add_epi64(*r, _mm512_mullo_epi64(x, y));
                    }
                }
            }
            p += 8;
        }
        if whole < k {
            let mk = mask(k - whole);
            // SAFETY: the masked loads touch only lanes `whole .. k`, readable by the contract.
            unsafe {
                let bv: [__m512i; C] =
                    std::array::from_fn(|c| _mm512_maskz_loadu_epi64(mk, b.add(c * ldb + whole).cast()));
                for (i, row) in acc.iter_mut().enumerate() {
                    let x = _mm512_maskz_loadu_epi64(mk, a.add(i * lda + whole).cast());
                    for (r, &y) in row.iter_mut().zip(&bv) {
                        *r = _mm512_add_epi64(*r, _mm512_mullo_epi64(x, y));
                    }
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                #[allow(clippy::cast_sign_loss, reason = "bit pattern reinterpretation")]
                let s = _mm512_reduce_add_epi64(v) as u64;
                out.put(i, j0 + c, s, accumulate);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The AVX2 dot products.

    use super::{MatRef, OutBlock};
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_add_epi64, _mm256_loadu_si256, _mm256_mul_epu32, _mm256_mullo_epi32,
        _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_slli_epi64, _mm256_storeu_si256,
    };

    /// `out (+)= A · b`, row `i` of `A` at `rows[i·lda ..][..k]`, column `j` of `b` at
    /// `b.data[j·b.col_stride ..][..k]`.
    ///
    /// # Safety
    /// AVX2 is available; `1 <= m <= MAX_ROWS`, `k >= 1`, `rows.len() >= (m − 1)·lda + k`,
    /// `b.data.len() > (b.cols − 1)·b.col_stride + k − 1`, and `out` is `m × b.cols`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dots(
        out: &OutBlock<'_>,
        rows: &[u64],
        lda: usize,
        m: usize,
        k: usize,
        b: MatRef<'_, u64>,
        accumulate: bool,
    ) {
        // Two accumulators per output and 16 `ymm` registers: `R` rows times `4 / R` columns.
        let (wide, cols): (Tile, usize) = match m {
            1 => (dots_rc::<1, 4>, 4),
            2 => (dots_rc::<2, 2>, 2),
            3 => (dots_rc::<3, 1>, 1),
            _ => (dots_rc::<4, 1>, 1),
        };
        let narrow: Tile = match m {
            1 => dots_rc::<1, 1>,
            2 => dots_rc::<2, 1>,
            3 => dots_rc::<3, 1>,
            _ => dots_rc::<4, 1>,
        };
        let n = b.cols;
        let full = n - n % cols;
        let a = rows.as_ptr();
        for j in (0..full).step_by(cols) {
            // SAFETY: the contract: rows `0..m` of `A` and columns `j .. j + cols <= n` of
            // `b`, each `k` long, are readable; `out` holds `(i, j + c)`.
            unsafe { wide(out, a, lda, k, b.data.as_ptr().add(j * b.col_stride), b.col_stride, j, accumulate) };
        }
        for j in full..n {
            // SAFETY: as above, for column `j < n`.
            unsafe { narrow(out, a, lda, k, b.data.as_ptr().add(j * b.col_stride), b.col_stride, j, accumulate) };
        }
    }

    /// The signature of [`dots_rc`].
    type Tile = for<'o, 'b> unsafe fn(&'o OutBlock<'b>, *const u64, usize, usize, *const u64, usize, usize, bool);

    /// The two 32-bit halves of each 64-bit lane swapped.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn swap_halves(x: __m256i) -> __m256i {
        _mm256_shuffle_epi32::<0b1011_0001>(x)
    }

    /// `out(i, j0 + c) (+)= Σ_p A(i, p) · B_c(p)` for `i < R`, `c < C`.
    ///
    /// # Safety
    /// AVX2; `a + i·lda + p` readable for `i < R`, `p < k`; `b + c·ldb + p` readable for
    /// `c < C`, `p < k`; `out` holds `(i, j0 + c)` for `i < R`, `c < C`.
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments, reason = "one tile's pointers and strides")]
    unsafe fn dots_rc<const R: usize, const C: usize>(
        out: &OutBlock<'_>,
        a: *const u64,
        lda: usize,
        k: usize,
        b: *const u64,
        ldb: usize,
        j0: usize,
        accumulate: bool,
    ) {
        let mut lo: [[__m256i; C]; R] = [[_mm256_setzero_si256(); C]; R];
        let mut cross: [[__m256i; C]; R] = [[_mm256_setzero_si256(); C]; R];
        let whole = k - k % 4;
        let mut p = 0;
        while p < whole {
            // SAFETY: `p + 4 <= k`: the loads read `A(i, p..p + 4)` and `B_c(p..p + 4)`,
            // readable by the contract.
            unsafe {
                let w: [__m256i; C] = std::array::from_fn(|c| _mm256_loadu_si256(b.add(c * ldb + p).cast()));
                for i in 0..R {
                    let x = _mm256_loadu_si256(a.add(i * lda + p).cast());
                    // `xh` beside `wl` and `xl` beside `wh`: both cross terms in one `vpmulld`.
                    let xr = swap_halves(x);
                    for c in 0..C {
                        lo[i][c] = _mm256_add_epi64(lo[i][c], _mm256_mul_epu32(x, w[c]));
                        cross[i][c] = _mm256_add_epi32(cross[i][c], _mm256_mullo_epi32(xr, w[c]));
                    }
                }
            }
            p += 4;
        }
        for i in 0..R {
            for c in 0..C {
                let s = cross[i][c];
                let both = _mm256_add_epi32(s, swap_halves(s));
                let v = _mm256_add_epi64(lo[i][c], _mm256_slli_epi64::<32>(both));
                let mut lanes = [0u64; 4];
                // SAFETY: `lanes` holds 4 elements.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
                let mut sum = lanes.iter().fold(0u64, |s, &x| s.wrapping_add(x));
                for q in whole..k {
                    // SAFETY: `q < k`: `A(i, q)` and `B_c(q)` are readable by the contract.
                    let (x, y) = unsafe { (*a.add(i * lda + q), *b.add(c * ldb + q)) };
                    sum = sum.wrapping_add(x.wrapping_mul(y));
                }
                out.put(i, j0 + c, sum, accumulate);
            }
        }
    }
}
