//! The wrapping-`u64` GEMM kernel: `c (+)= a · b` over Z_2^64.
//!
//! # Design
//!
//! BLIS-style blocking around a register-blocked micro-kernel:
//!
//! ```text
//! for jc in 0..n step NC
//!   for pc in 0..k step kc                    (kc <= KC, equal blocks)
//!     pack B[pc.., jc..] into NR-column panels (unless read in place, or packed on the way)
//!     for ic in 0..m step MC
//!       pack A[ic.., pc..] into MR-row panels  (unless read in place)
//!       for jr in 0..nc step NR                (one B micro-panel, reused by every ir)
//!         for ir in 0..mc step MR
//!           micro-kernel: C[ic+ir.., jc+jr..] (+)= A(ir) · B(jr)   (MR × NR in registers)
//! ```
//!
//! The micro-kernels broadcast single elements of `A` and load whole rows of `B`. A kernel
//! computing the direct form (the portable one) may stream `A` in place whenever one of its
//! strides is 1 and `B` when its rows are contiguous ([`MicroKernel::DIRECT_A`], `DIRECT_B`);
//! other layouts are packed into contiguous, 64-byte aligned panels in thread-local buffers
//! that are reused across calls (the AVX-512 path transposes a column-major `B` with 8×8
//! register transposes).
//!
//! The SIMD kernels compute Winograd's form of the inner product ([`MicroKernel::WINOGRAD`]):
//! over any commutative ring, for an even depth,
//! `Σ_p A(i,p)·B(p,j) = Σ_q (A(i,2q) + B(2q+1,j))·(A(i,2q+1) + B(2q,j)) − ξ_i − η_j` with
//! `ξ_i = Σ_q A(i,2q)·A(i,2q+1)` and `η_j = Σ_q B(2q,j)·B(2q+1,j)` (an odd last step is a
//! plain product): one multiply per two multiply-adds, for two more adds, and multiplies are
//! what both paths are short of. `ξ` and `η` are computed once per packed panel and stored
//! after it. Both operands are then always packed; a row-major `B` is packed by the first
//! tile of each panel, which reads it in place and computes its `η` with its own products
//! (and prefetches a later panel), rather than by a pass of its own that would wait on
//! memory.
//!
//! Three micro-kernels, picked at run time ([`KernelPath::detect`]); the environment variable
//! `SYFT_GEMM_KERNEL=avx512|avx2|portable` ([`KERNEL_ENV`], read once per process) forces
//! one the CPU can run, and [`gemm_u64_with_path`] forces one per call:
//!
//! - **AVX-512** (F + DQ): an `8 × 16` tile in 16 `zmm` accumulators, Winograd's products
//!   with `vpmullq` + `vpaddq`. Edge tiles run copies specialised for their row count, with
//!   masked stores for partial vectors.
//! - **AVX2** (no 64-bit multiply): a `4 × 4` tile in 8 `ymm` accumulators, Winograd's
//!   products assembled from 32-bit multiplies: with `x = xh·2^32 + xl`,
//!   `Σ u·v = Σ ul·vl + ((Σ ul·vh + uh·vl) mod 2^32) << 32`, one `vpmuludq` and one
//!   `vpmulld` per 4 lanes, the second sum kept in 32-bit lanes and folded once per tile.
//! - **Portable**: a `4 × 8` tile of plain `wrapping_mul` / `wrapping_add` that LLVM is free to
//!   vectorise for the baseline target.
//!
//! Products of at most four rows whose `B` has contiguous columns (`x · Wᵀ` for a row-major
//! weight `W`: a linear layer at batch 1 to 4) skip the blocking and the packing: they are
//! dot products that stream each column of `B` once (`gemv.rs`).
//!
//! Products of at least `2^19` multiply-adds with [`Parallelism::Auto`] are split over rayon's
//! threads along `n` (each thread touches only its share of `B`) or, for tall outputs, along
//! `m`. Smaller products run on the calling thread (measured: below that size the fork/join
//! costs more than it saves).

use super::{MatRef, Parallelism, check_shapes};
use std::marker::PhantomData;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod gemv;
mod pack;
mod portable;

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
        if Self::Avx512.available() {
            Self::Avx512
        } else if Self::Avx2.available() {
            Self::Avx2
        } else {
            Self::Portable
        }
    }

    /// The path [`gemm_u64`] runs: the one named by the environment variable
    /// [`KERNEL_ENV`] (`SYFT_GEMM_KERNEL=avx512|avx2|portable`, read once per process) when it
    /// names a path this CPU can run, otherwise [`Self::detect`]'s.
    ///
    /// Meant for benchmarks and for checking a slower path on a faster machine; an
    /// unrecognised or unavailable name is ignored.
    #[must_use]
    pub fn selected() -> Self {
        static SELECTED: OnceLock<KernelPath> = OnceLock::new();
        *SELECTED.get_or_init(|| {
            std::env::var(KERNEL_ENV)
                .ok()
                .and_then(|name| Self::from_name(&name))
                .filter(|path| path.available())
                .unwrap_or_else(Self::detect)
        })
    }

    /// The path called `name` (`avx512`, `avx2`, or `portable`, alias `scalar`; ASCII case
    /// and surrounding blanks are ignored).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "avx512" | "avx-512" => Some(Self::Avx512),
            "avx2" => Some(Self::Avx2),
            "portable" | "scalar" => Some(Self::Portable),
            _ => None,
        }
    }

    /// The name [`Self::from_name`] accepts for the path.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    #[must_use]
    pub fn available(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512dq")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::Avx2 | Self::Avx512 => false,
        }
    }
}

/// The environment variable that forces the path of [`gemm_u64`] (see [`KernelPath::selected`]),
/// and with it those of the digit packing ([`crate::digits`]) and of the PRG keystream
/// ([`crate::Prg`]: 512-bit VAES on the AVX-512 path, 256-bit on the AVX2 path, AES-NI on
/// either without VAES, the `aes` crate on the portable path).
pub const KERNEL_ENV: &str = "SYFT_GEMM_KERNEL";

/// `c (+)= a · b` over Z_2^64 with [`KernelPath::selected`]: the fastest available path unless
/// the environment variable [`KERNEL_ENV`] forces another.
pub fn gemm_u64(c: &mut [u64], a: MatRef<'_, u64>, b: MatRef<'_, u64>, accumulate: bool, par: Parallelism) {
    gemm_u64_with_path(c, a, b, accumulate, par, KernelPath::selected());
}

/// `c (+)= a · b` over Z_2^64 forcing a kernel path (falls back to portable if unavailable).
pub fn gemm_u64_with_path(
    c: &mut [u64],
    a: MatRef<'_, u64>,
    b: MatRef<'_, u64>,
    accumulate: bool,
    par: Parallelism,
    path: KernelPath,
) {
    let Some((m, k, n)) = prologue(c, &a, &b, accumulate, 0) else {
        return;
    };
    let threads = if par == Parallelism::Auto && m.saturating_mul(n).saturating_mul(k) >= PAR_MIN_WORK {
        rayon::current_num_threads()
    } else {
        1
    };
    let out = OutBlock::new(c, m, n);
    let path = if path.available() { path } else { KernelPath::Portable };
    if gemv::applies(&a, &b) {
        gemv::run(out, a, b, accumulate, threads, path);
        return;
    }
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => run::<avx512::Avx512>(out, a, b, accumulate, threads),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => run::<avx2::Avx2>(out, a, b, accumulate, threads),
        _ => run::<portable::Portable>(out, a, b, accumulate, threads),
    }
}

/// What every GEMM entry point checks and settles first: the shapes (panicking, as
/// [`check_shapes`]), that both views lie strictly inside their buffers, and the empty
/// cases (nothing to do, or `c = 0` when `k = 0`). Returns `(m, k, n)` when there is a
/// product left to compute.
pub(super) fn prologue<T: Copy>(
    c: &mut [T],
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    accumulate: bool,
    zero: T,
) -> Option<(usize, usize, usize)> {
    check_shapes(c, a, b);
    assert!(strictly_in_bounds(a) && strictly_in_bounds(b), "gemm: operand view out of bounds");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return None;
    }
    if k == 0 {
        if !accumulate {
            c.fill(zero);
        }
        return None;
    }
    Some((m, k, n))
}

/// Whether every element of `m` lies inside `m.data`, with overflow-checked arithmetic.
///
/// The fast kernels read operands through raw pointers, so this must hold exactly; the
/// wrapping arithmetic of [`MatRef::in_bounds`] could accept absurd strides. Once it holds,
/// every offset `i·row_stride + j·col_stride` of a valid `(i, j)` is at most the last one, so
/// no index computation of the kernels can overflow either.
pub(super) fn strictly_in_bounds<T>(m: &MatRef<'_, T>) -> bool {
    if m.rows == 0 || m.cols == 0 {
        return true;
    }
    (m.rows - 1)
        .checked_mul(m.row_stride)
        .zip((m.cols - 1).checked_mul(m.col_stride))
        .and_then(|(r, c)| r.checked_add(c))
        .is_some_and(|last| last < m.data.len())
}

/// Products with fewer multiply-adds than this always run on the calling thread.
const PAR_MIN_WORK: usize = 1 << 19;

/// A register-blocked micro-kernel and the cache blocking that suits it.
///
/// # Safety
/// Implementations must only be used (through [`run`]) when the CPU supports their target
/// features: [`gemm_u64_with_path`] checks [`KernelPath::available`] before picking one.
unsafe trait MicroKernel {
    /// Rows of the register tile.
    const MR: usize;
    /// Columns of the register tile.
    const NR: usize;
    /// Depth of a packed block (the `k` extent of one micro-kernel call).
    const KC: usize;
    /// Rows of a packed block of `A`; a multiple of `MR`.
    const MC: usize;
    /// Columns of a packed block of `B`; a multiple of `NR`.
    const NC: usize;

    /// Whether `A` may be read in place (unpacked) when a row or a column of it is contiguous.
    /// Never with [`Self::WINOGRAD`].
    const DIRECT_A: bool;

    /// Whether `B` may be read in place (unpacked) when its rows are contiguous. Never with
    /// [`Self::WINOGRAD`].
    const DIRECT_B: bool;

    /// Whether the kernel computes Winograd's form of the inner product (the AVX2 kernel, see
    /// its module docs), which needs `ξ_i = Σ_q A(i, 2q)·A(i, 2q+1)` for the rows of `A` and
    /// `η_j = Σ_q B(2q, j)·B(2q+1, j)` for the columns of `B` (`q < kc / 2`, per depth
    /// block): both operands are always packed, and their panels carry them in one more step
    /// ([`pack::pair_products`]).
    const WINOGRAD: bool = false;

    /// Runs one micro-kernel call (see [`Tile`]).
    ///
    /// # Safety
    /// The CPU supports the kernel's target features and `t` satisfies [`Tile`]'s contract
    /// for this kernel's `MR` / `NR`.
    unsafe fn tile(t: Tile);

    /// Transposes eight contiguous columns of `B` into an 8-column strip of a packed panel:
    /// `dst[p·NR + t] = cols[t][p]` for `p < kc`, `t < 8` (`dst` starts at the strip's first
    /// column). Panics if a slice is too short.
    ///
    /// # Safety
    /// The CPU supports the kernel's target features.
    unsafe fn pack_strip8(dst: &mut [u64], cols: [&[u64]; 8], kc: usize) {
        pack::strip8(dst, Self::NR, cols, kc);
    }
}

/// Elements of one packed panel of `A` of depth `kc` (see [`pack::pack_a`]).
const fn a_panel_len<K: MicroKernel>(kc: usize) -> usize {
    K::MR * if K::WINOGRAD { kc + 1 } else { kc }
}

/// Elements of one packed panel of `B` of depth `kc` (see [`pack::pack_b`]).
const fn b_panel_len<K: MicroKernel>(kc: usize) -> usize {
    K::NR * if K::WINOGRAD { kc + 1 } else { kc }
}

/// One micro-kernel call: `C[0..mr, 0..nr] (+)= A · B` over a depth of `kc`, overwriting `C`
/// instead of adding to it when `overwrite`.
///
/// Contract (what `blocked` guarantees and the kernels rely on):
/// - `kc >= 1`, `1 <= mr <= MR`, `1 <= nr <= NR`;
/// - element `(i, p)` of `A` is at `a + i·ars + p·acs`, readable for `i < mr`, `p < kc`
///   (a packed panel has `ars = 1`, `acs = MR`);
/// - element `(p, j)` of `B` is at `b + p·ldb + j`, readable for `p < kc` and all `j < NR`
///   (a packed panel has `ldb = NR` and zero padding past `nr`);
/// - for a kernel with [`MicroKernel::WINOGRAD`]: `A` is a packed panel (`ars = 1`,
///   `acs = MR`) and `ξ_i = Σ_{q < kc/2} A(i, 2q)·A(i, 2q+1)` is at `xi + i` for `i < MR`;
///   if `pack` is null, `B` is a packed panel (`ldb = NR`) and
///   `η_j = Σ_{q < kc/2} B(2q, j)·B(2q+1, j)` is at `eta + j` for `j < NR`, all readable;
///   otherwise `B` is read in place (`nr = NR`), `eta` is ignored, and the kernel packs it:
///   `B(p, j)` to `pack + p·NR + j` for `p < kc` and `η_j` to `pack + kc·NR + j`, elements
///   valid for writes that nothing else references. `prefetch` is only a hint (the kernel
///   computes addresses from it with wrapping arithmetic and never dereferences them). Other
///   kernels ignore `xi`, `eta`, `pack` and `prefetch` (`pack` is null);
/// - `c + i·ldc + j` is valid for reads and writes for `i < mr`, `j < nr`, and no other
///   reference to those elements is alive.
#[derive(Clone, Copy)]
struct Tile {
    /// Depth of the product.
    kc: usize,
    /// Element `(0, 0)` of `A`.
    a: *const u64,
    /// Distance between rows of `A`.
    ars: usize,
    /// Distance between columns of `A`.
    acs: usize,
    /// Element `(0, 0)` of `B`.
    b: *const u64,
    /// Distance between rows of `B`.
    ldb: usize,
    /// `ξ` of the rows of `A` (Winograd kernels only).
    xi: *const u64,
    /// `η` of the columns of `B` (Winograd kernels only).
    eta: *const u64,
    /// Null, or where a Winograd kernel packs the `B` it reads in place (see the contract).
    pack: *mut u64,
    /// A hint: rows of `B` to prefetch while packing, at `prefetch + p·ldb` (never read).
    prefetch: *const u64,
    /// Element `(0, 0)` of the `C` tile.
    c: *mut u64,
    /// Distance between rows of `C`.
    ldc: usize,
    /// Rows of the tile to compute.
    mr: usize,
    /// Columns of the tile to compute.
    nr: usize,
    /// Whether to overwrite `C` rather than accumulate into it.
    overwrite: bool,
}

/// A rectangular block of the row-major output, addressed by raw pointer so that disjoint
/// blocks can be handed to different threads.
struct OutBlock<'a> {
    /// Element `(0, 0)` of the block.
    ptr: *mut u64,
    /// Rows in the block.
    rows: usize,
    /// Columns in the block.
    cols: usize,
    /// Distance between consecutive rows.
    ld: usize,
    /// The block borrows the output slice mutably.
    _out: PhantomData<&'a mut [u64]>,
}

// SAFETY: an `OutBlock` is an exclusive borrow of the elements it addresses (it is created
// from a `&mut [u64]` and only ever split into disjoint blocks), so moving it to another
// thread is like moving a `&mut [u64]`.
unsafe impl Send for OutBlock<'_> {}

impl<'a> OutBlock<'a> {
    /// The whole row-major `rows × cols` output.
    fn new(c: &'a mut [u64], rows: usize, cols: usize) -> Self {
        assert_eq!(c.len(), rows * cols, "gemm: output has the wrong length");
        Self { ptr: c.as_mut_ptr(), rows, cols, ld: cols, _out: PhantomData }
    }

    /// The sub-block of rows `r0 .. r0 + rows` and columns `c0 .. c0 + cols`, which must lie
    /// inside `self` (checked). Consumes nothing: callers create disjoint sub-blocks only.
    fn sub(&self, r0: usize, rows: usize, c0: usize, cols: usize) -> OutBlock<'a> {
        assert!(r0 + rows <= self.rows && c0 + cols <= self.cols, "gemm: bad output block");
        // `wrapping_add` keeps this safe; for a non-empty block the offset is in bounds.
        Self { ptr: self.ptr.wrapping_add(r0 * self.ld + c0), rows, cols, ld: self.ld, _out: PhantomData }
    }
}

/// Rows `r0 .. r0 + rows` of `a` (non-empty, inside `a`).
fn sub_rows<'a>(a: &MatRef<'a, u64>, r0: usize, rows: usize) -> MatRef<'a, u64> {
    MatRef { data: &a.data[r0 * a.row_stride..], rows, ..*a }
}

/// Columns `c0 .. c0 + cols` of `b` (non-empty, inside `b`).
fn sub_cols<'a>(b: &MatRef<'a, u64>, c0: usize, cols: usize) -> MatRef<'a, u64> {
    MatRef { data: &b.data[c0 * b.col_stride..], cols, ..*b }
}

/// Splits the product over `threads` rayon tasks (or runs it here for one thread).
fn run<K: MicroKernel>(out: OutBlock<'_>, a: MatRef<'_, u64>, b: MatRef<'_, u64>, accumulate: bool, threads: usize) {
    use rayon::prelude::*;

    let (m, n) = (a.rows, b.cols);
    // Splitting along n duplicates the packing of A, along m that of B: split the longer one.
    let (split_n, unit, extent) = if n >= m { (true, K::NR, n) } else { (false, K::MR, m) };
    let units = extent.div_ceil(unit);
    let parts = threads.min(units).max(1);
    if parts == 1 {
        blocked::<K>(out, a, b, accumulate);
        return;
    }
    let tasks: Vec<_> = (0..parts)
        .map(|t| {
            let lo = (t * units / parts * unit).min(extent);
            let hi = ((t + 1) * units / parts * unit).min(extent);
            if split_n {
                (out.sub(0, m, lo, hi - lo), a, sub_cols(&b, lo, hi - lo))
            } else {
                (out.sub(lo, hi - lo, 0, n), sub_rows(&a, lo, hi - lo), b)
            }
        })
        .collect();
    tasks.into_par_iter().for_each(|(o, a, b)| blocked::<K>(o, a, b, accumulate));
}

/// Single-threaded blocked GEMM of one output block (`out` is `a.rows × b.cols`).
///
/// `A` is read in place when the kernel allows it ([`MicroKernel::DIRECT_A`]) and a row or a
/// column of it is contiguous (the micro-kernel broadcasts single elements, so any such
/// layout streams well), and `B` when the kernel allows it ([`MicroKernel::DIRECT_B`]) and its
/// rows are contiguous (except a trailing partial panel, which is packed with zero padding);
/// other layouts are packed.
fn blocked<K: MicroKernel>(out: OutBlock<'_>, a: MatRef<'_, u64>, b: MatRef<'_, u64>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    const {
        assert!(K::MC % K::MR == 0 && K::NC % K::NR == 0, "blocks must hold whole panels");
        assert!(!(K::WINOGRAD && (K::DIRECT_A || K::DIRECT_B)), "Winograd kernels read packed panels");
    };
    assert!(out.rows == m && out.cols == n && m > 0 && n > 0 && k > 0, "gemm: bad block");
    let direct_a = K::DIRECT_A && (a.col_stride == 1 || a.row_stride == 1);
    let direct_b = K::DIRECT_B && b.col_stride == 1;
    // Equal depth blocks of at most `KC` (784 = 2 × 392 rather than 512 + 272).
    let kc_max = k.div_ceil(k.div_ceil(K::KC));
    let mc_max = if direct_a { 0 } else { K::MC.min(m.next_multiple_of(K::MR)) };
    let nc_max = if direct_b { K::NR } else { K::NC.min(n.next_multiple_of(K::NR)) };
    // A Winograd kernel with a row-major `B`: each full panel is packed by its first tile,
    // which reads it in place (and prefetches the panel after next), rather than in a pass of
    // its own over the block that would wait on memory.
    let fused_b = K::WINOGRAD && b.col_stride == 1;
    pack::with_scratch(|scratch| {
        let apack = scratch.a.slice(mc_max / K::MR * a_panel_len::<K>(kc_max));
        let bpack = scratch.b.slice(nc_max / K::NR * b_panel_len::<K>(kc_max));
        for jc in (0..n).step_by(K::NC) {
            let nc = K::NC.min(n - jc);
            // With `direct_b`, only a trailing partial panel is packed (into panel 0).
            let full = nc - nc % K::NR;
            for pc in (0..k).step_by(kc_max) {
                let kc = kc_max.min(k - pc);
                let overwrite = !accumulate && pc == 0;
                let len = b_panel_len::<K>(kc);
                if fused_b {
                    if full < nc {
                        pack::pack_b::<K>(&mut bpack[full / K::NR * len..], &b, pc, kc, jc + full, nc - full);
                    }
                } else if !direct_b {
                    pack::pack_b::<K>(bpack, &b, pc, kc, jc, nc);
                } else if full < nc {
                    pack::pack_b::<K>(bpack, &b, pc, kc, jc + full, nc - full);
                }
                for ic in (0..m).step_by(K::MC) {
                    let mc = K::MC.min(m - ic);
                    if !direct_a {
                        pack::pack_a::<K>(apack, &a, ic, mc, pc, kc);
                    }
                    for jr in (0..nc).step_by(K::NR) {
                        let nr = K::NR.min(nc - jr);
                        // `B` of the tiles: `(b, ldb, eta)`, and for the first tile of a fused
                        // panel `(in-place b, ldb, pack, prefetch)`.
                        let null = (std::ptr::null_mut(), std::ptr::null());
                        let ((bp, ldb, etap), first) = if fused_b && nr == K::NR {
                            let panel = bpack[jr / K::NR * len..][..len].as_mut_ptr();
                            let panel_b = (panel.cast_const(), K::NR, panel.wrapping_add(K::NR * kc).cast_const());
                            if ic == 0 {
                                let start = pc * b.row_stride + jc + jr;
                                let src = b.data[start..start + (kc - 1) * b.row_stride + K::NR].as_ptr();
                                (panel_b, Some((src, b.row_stride, panel, src.wrapping_add(2 * K::NR))))
                            } else {
                                (panel_b, None)
                            }
                        } else if direct_b && nr == K::NR {
                            let start = pc * b.row_stride + jc + jr;
                            let src = &b.data[start..start + (kc - 1) * b.row_stride + K::NR];
                            ((src.as_ptr(), b.row_stride, std::ptr::null()), None)
                        } else {
                            let panel = if direct_b { &bpack[..len] } else { &bpack[jr / K::NR * len..][..len] };
                            let etap = if K::WINOGRAD { panel[K::NR * kc..].as_ptr() } else { std::ptr::null() };
                            ((panel.as_ptr(), K::NR, etap), None)
                        };
                        for ir in (0..mc).step_by(K::MR) {
                            let mr = K::MR.min(mc - ir);
                            let (ap, ars, acs, xip) = if direct_a {
                                let (rs, cs) = (a.row_stride, a.col_stride);
                                let start = (ic + ir) * rs + pc * cs;
                                (&a.data[start..=start + (mr - 1) * rs + (kc - 1) * cs], rs, cs, std::ptr::null())
                            } else {
                                let len = a_panel_len::<K>(kc);
                                let panel = &apack[ir / K::MR * len..][..len];
                                let xip = if K::WINOGRAD { panel[K::MR * kc..].as_ptr() } else { std::ptr::null() };
                                (panel, 1, K::MR, xip)
                            };
                            let ((bp, ldb), (pack, prefetch)) = match first {
                                Some((src, ld, panel, pf)) if ir == 0 => ((src, ld), (panel, pf)),
                                _ => ((bp, ldb), null),
                            };
                            let tile = Tile {
                                kc,
                                a: ap.as_ptr(),
                                ars,
                                acs,
                                b: bp,
                                ldb,
                                xi: xip,
                                eta: etap,
                                pack,
                                prefetch,
                                c: out.ptr.wrapping_add((ic + ir) * out.ld + jc + jr),
                                ldc: out.ld,
                                mr,
                                nr,
                                overwrite,
                            };
                            // SAFETY: `gemm_u64_with_path` only instantiates `K` when the CPU
                            // supports it. `tile` meets `Tile`'s contract: `A` is either a
                            // packed panel of `MR` rows (`pack_a`) or, in place, a slice of `A`
                            // holding `(i, p)` at `i·ars + p·acs` for `i < mr`, `p < kc`; `B` is
                            // either a packed, zero-padded panel of `NR` columns (`pack_b`,
                            // `ldb = NR`) or, in place, a slice of `B` holding `(p, j)` at
                            // `p·ldb + j` for `p < kc`, `j < NR` (all slices bounds-checked
                            // above). For a Winograd kernel `A` is packed and `xi` points at
                            // the `MR` sums after its `kc` steps (`pack_a`); `B` is either a
                            // packed panel with `eta` at its `NR` sums (`pack_b`, or packed by
                            // the first tile of the panel, which precedes every other use in
                            // this block), or, for that first tile (`ic == ir == 0`, a full
                            // panel), read in place with `pack` pointing at the panel's slot
                            // in `bpack` (`len = NR·(kc + 1)` elements, bounds-checked), which
                            // no reference covers during the call. `mr`, `nr` are clipped to
                            // the block, so the `C` tile lies inside `out`, which exclusively
                            // borrows it.
                            unsafe { K::tile(tile) };
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::naive;
    use super::*;
    use proptest::prelude::*;

    /// Every path this CPU can run.
    fn paths() -> Vec<KernelPath> {
        [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512].into_iter().filter(|p| p.available()).collect()
    }

    /// How a test operand is laid out in memory.
    #[derive(Clone, Copy, Debug)]
    enum Layout {
        /// Row-major with `pad` extra elements per row.
        RowMajor(usize),
        /// Stored as its row-major transpose (with `pad`) and viewed through `MatRef::t()`.
        Transposed(usize),
        /// Row-major with column stride 2 and row stride `2·cols + 1`: no unit stride at all.
        Strided,
    }

    fn any_layout() -> impl Strategy<Value = Layout> {
        prop_oneof![
            (0usize..3).prop_map(Layout::RowMajor),
            (0usize..3).prop_map(Layout::Transposed),
            Just(Layout::Strided),
        ]
    }

    /// xorshift64*: a stream of full-range `u64`s.
    fn words(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Stores the logical row-major `rows × cols` matrix `m` with `layout`; returns the
    /// storage and the strides of the logical view.
    fn store(m: &[u64], rows: usize, cols: usize, layout: Layout) -> (Vec<u64>, usize, usize) {
        let (rs, cs) = match layout {
            Layout::RowMajor(pad) => (cols + pad, 1),
            Layout::Transposed(pad) => (1, rows + pad),
            Layout::Strided => (2 * cols + 1, 2),
        };
        let len = if rows == 0 || cols == 0 { 0 } else { (rows - 1) * rs + (cols - 1) * cs + 1 };
        let mut v = vec![0xdead_beef_u64; len];
        for i in 0..rows {
            for j in 0..cols {
                v[i * rs + j * cs] = m[i * cols + j];
            }
        }
        (v, rs, cs)
    }

    /// A view of `store`'s result; transposed layouts are built through `MatRef::t()`.
    fn view(data: &[u64], rows: usize, cols: usize, rs: usize, cs: usize) -> MatRef<'_, u64> {
        if rs == 1 && cs != 1 {
            MatRef { data, rows: cols, cols: rows, row_stride: cs, col_stride: rs }.t()
        } else {
            MatRef { data, rows, cols, row_stride: rs, col_stride: cs }
        }
    }

    /// Checks every available path, single- and multi-threaded, against `naive`.
    #[allow(clippy::too_many_arguments, reason = "test helper")]
    fn check(
        m: usize,
        k: usize,
        n: usize,
        seed: u64,
        la: Layout,
        lb: Layout,
        accumulate: bool,
    ) -> Result<(), TestCaseError> {
        let mut next = words(seed);
        let a_log: Vec<u64> = (0..m * k).map(|_| next()).collect();
        let b_log: Vec<u64> = (0..k * n).map(|_| next()).collect();
        let c0: Vec<u64> = (0..m * n).map(|_| next()).collect();
        let (a_store, ars, acs) = store(&a_log, m, k, la);
        let (b_store, brs, bcs) = store(&b_log, k, n, lb);
        let a = view(&a_store, m, k, ars, acs);
        let b = view(&b_store, k, n, brs, bcs);
        let mut want = c0.clone();
        naive(&mut want, a, b, accumulate, Parallelism::Single);
        for path in paths() {
            for par in [Parallelism::Single, Parallelism::Auto] {
                let mut got = c0.clone();
                gemm_u64_with_path(&mut got, a, b, accumulate, par, path);
                prop_assert!(got == want, "{m}x{k}x{n} {la:?} {lb:?} acc={accumulate} path={path:?} par={par:?}");
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn small_shapes_match_naive(
            m in 1usize..40, k in 1usize..40, n in 1usize..60, seed: u64,
            la in any_layout(), lb in any_layout(), accumulate: bool,
        ) {
            check(m, k, n, seed, la, lb, accumulate)?;
        }

        #[test]
        fn depth_block_boundaries_match_naive(
            m in 1usize..20, n in 1usize..50, seed: u64,
            k in prop::sample::select(vec![255usize, 256, 257, 511, 512, 513, 1025]),
            la in any_layout(), lb in any_layout(), accumulate: bool,
        ) {
            check(m, k, n, seed, la, lb, accumulate)?;
        }
    }

    #[test]
    fn degenerate_shapes() {
        let shapes = [(1, 1, 1), (1, 7, 1), (9, 1, 25), (1, 300, 1), (0, 3, 4), (3, 0, 4), (3, 4, 0)];
        for &(m, k, n) in &shapes {
            for acc in [false, true] {
                check(m, k, n, 42, Layout::RowMajor(0), Layout::RowMajor(0), acc).unwrap();
                check(m, k, n, 7, Layout::Transposed(1), Layout::Transposed(1), acc).unwrap();
                check(m, k, n, 9, Layout::Strided, Layout::Strided, acc).unwrap();
            }
        }
    }

    #[test]
    fn k_zero_overwrite_zeroes_c() {
        let a = MatRef::row_major(&[], 2, 0);
        let b = MatRef::row_major(&[], 0, 3);
        for path in paths() {
            let mut c = vec![5u64; 6];
            gemm_u64_with_path(&mut c, a, b, false, Parallelism::Single, path);
            assert_eq!(c, vec![0; 6]);
            let mut c = vec![5u64; 6];
            gemm_u64_with_path(&mut c, a, b, true, Parallelism::Single, path);
            assert_eq!(c, vec![5; 6]);
        }
    }

    #[test]
    fn row_and_column_blocks_match_naive() {
        use Layout::{RowMajor, Strided, Transposed};
        // n beyond every kernel's NC, in place and packed.
        check(3, 5, 2500, 1, RowMajor(0), RowMajor(0), true).unwrap();
        check(3, 5, 2500, 2, RowMajor(0), Strided, false).unwrap();
        check(3, 5, 2500, 3, Transposed(0), Transposed(0), false).unwrap();
        // m beyond every kernel's MC, packed A.
        check(300, 20, 30, 4, Strided, RowMajor(0), true).unwrap();
    }

    #[test]
    fn large_parallel_shapes_match_naive() {
        use Layout::{RowMajor, Strided, Transposed};
        // Big enough to cross the parallel threshold and several blocks; split along n and m.
        check(64, 784, 500, 1, RowMajor(0), RowMajor(0), false).unwrap();
        check(50, 784, 500, 2, RowMajor(0), Transposed(0), true).unwrap();
        check(300, 600, 70, 3, Transposed(0), RowMajor(0), true).unwrap();
        check(17, 1100, 1030, 4, Strided, Transposed(1), false).unwrap();
    }

    #[test]
    fn few_rows_times_a_transposed_weight_match_naive() {
        use Layout::{RowMajor, Strided, Transposed};
        // The dot-product path: one to four rows, `B`'s columns contiguous; split over
        // threads when large, every column remainder, padded and strided rows of `A`.
        for m in 1..=4 {
            check(m, 784, 500, 10 + m as u64, RowMajor(0), Transposed(0), true).unwrap();
            check(m, 784, 500, 20 + m as u64, Transposed(1), Transposed(2), false).unwrap();
            check(m, 500, 10, 30 + m as u64, RowMajor(3), Transposed(0), true).unwrap();
            check(m, 7, 1030, 40 + m as u64, Strided, Transposed(0), false).unwrap();
        }
        check(5, 784, 500, 50, RowMajor(0), Transposed(0), true).unwrap();
    }

    #[test]
    fn odd_depth_blocks_and_row_blocks_match_naive() {
        use Layout::{RowMajor, Strided, Transposed};
        // Depth blocks of odd length (771 = 3 · 257), several blocks of rows (the panels of `B`
        // packed while computing reused by the later ones), a partial last panel.
        check(260, 771, 37, 5, RowMajor(0), RowMajor(1), false).unwrap();
        check(260, 771, 37, 6, Transposed(0), RowMajor(0), true).unwrap();
        check(133, 257, 9, 7, Strided, Transposed(0), true).unwrap();
        check(7, 1, 13, 8, RowMajor(0), RowMajor(0), true).unwrap();
    }

    #[test]
    fn extreme_values_match_naive() {
        // Carries everywhere: sums of operands and of 32-bit partial products overflow.
        let patterns = [u64::MAX, 0xffff_ffff, 0xffff_ffff_0000_0000, 1 << 63, 0x8000_0000];
        for (pa, &x) in patterns.iter().enumerate() {
            for &y in &patterns[pa..] {
                let (m, k, n) = (9, 301, 14);
                let a_data: Vec<u64> = (0..m * k).map(|t| if t % 3 == 0 { x } else { y }).collect();
                let b_data: Vec<u64> = (0..k * n).map(|t| if t % 5 == 1 { x } else { y }).collect();
                let (a, b) = (MatRef::row_major(&a_data, m, k), MatRef::row_major(&b_data, k, n));
                let mut want = vec![0; m * n];
                naive(&mut want, a, b, false, Parallelism::Single);
                for path in paths() {
                    let mut got = vec![0; m * n];
                    gemm_u64_with_path(&mut got, a, b, false, Parallelism::Single, path);
                    assert_eq!(got, want, "{path:?} {x:#x} {y:#x}");
                    // The dot-product path (`B` with contiguous columns, few rows).
                    let bt: Vec<u64> = (0..n * k).map(|t| b_data[(t % k) * n + t / k]).collect();
                    let bt = MatRef::row_major(&bt, n, k).t();
                    let mut got = vec![0; 3 * n];
                    let a3 = MatRef::row_major(&a_data[..3 * k], 3, k);
                    let mut want3 = vec![0; 3 * n];
                    naive(&mut want3, a3, bt, false, Parallelism::Single);
                    gemm_u64_with_path(&mut got, a3, bt, false, Parallelism::Single, path);
                    assert_eq!(got, want3, "dots {path:?} {x:#x} {y:#x}");
                }
            }
        }
    }

    #[test]
    fn wrapping_strides_are_rejected() {
        // (3 - 1) · 2^63 wraps to 0: `MatRef::in_bounds` alone would accept this view.
        let data = [1u64; 4];
        let a = MatRef { data: &data, rows: 3, cols: 1, row_stride: 1 << 63, col_stride: 1 };
        let b = MatRef::row_major(&data, 1, 2);
        assert!(!strictly_in_bounds(&a));
        for path in paths() {
            let result = std::panic::catch_unwind(|| {
                let mut c = vec![0u64; 6];
                gemm_u64_with_path(&mut c, a, b, false, Parallelism::Single, path);
            });
            assert!(result.is_err(), "{path:?} accepted an out-of-bounds view");
        }
    }

    #[test]
    fn detect_is_available() {
        assert!(KernelPath::detect().available());
        assert!(KernelPath::selected().available());
        assert!(KernelPath::Portable.available());
    }

    #[test]
    fn path_names_round_trip() {
        for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
            assert_eq!(KernelPath::from_name(path.name()), Some(path));
            assert_eq!(KernelPath::from_name(&format!(" {} ", path.name().to_uppercase())), Some(path));
        }
        assert_eq!(KernelPath::from_name("scalar"), Some(KernelPath::Portable));
        assert_eq!(KernelPath::from_name("sse9"), None);
    }

    #[test]
    fn every_forced_path_is_correct() {
        // Forcing any path (available or not) must give the right answer.
        let a_data: Vec<u64> = (0..12).map(|x: u64| x.wrapping_mul(u64::MAX / 7)).collect();
        let b_data: Vec<u64> = (0..20).map(|x| x * 3 + (1 << 40)).collect();
        let a = MatRef::row_major(&a_data, 3, 4);
        let b = MatRef::row_major(&b_data, 4, 5);
        let mut want = vec![0; 15];
        naive(&mut want, a, b, false, Parallelism::Single);
        for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
            let mut got = vec![1; 15];
            gemm_u64_with_path(&mut got, a, b, false, Parallelism::Auto, path);
            assert_eq!(got, want, "{path:?}");
        }
    }
}
