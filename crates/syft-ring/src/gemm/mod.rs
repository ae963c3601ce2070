//! Matrix multiplication kernels.
//!
//! - [`gemm_u64`]: our own wrapping-`u64` GEMM (Z_2^64), the multiplication engine under
//!   every Beaver matmul.
//! - [`gemm_float`]: `f32`/`f64` through the `gemm` crate.
//! - [`naive`]: a portable triple loop for the remaining rings (odd ring, Z_p) and as the
//!   reference the fast kernels are tested against.
//!
//! All kernels compute `c (+)= a · b` where `c` is row-major `a.rows × b.cols` and `a`, `b`
//! are strided views ([`MatRef`]), so transposed operands cost nothing.

use crate::element::Scalar;

mod float;
mod u64_kernel;

pub use float::gemm_float;
pub use u64_kernel::{KERNEL_ENV, KernelPath, gemm_u64, gemm_u64_with_path};

/// How many threads a kernel may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parallelism {
    /// One thread.
    Single,
    /// Multi-threaded (rayon's global pool) when the problem is large enough to gain.
    #[default]
    Auto,
}

impl Parallelism {
    /// Sizes rayon's global pool, which [`Parallelism::Auto`] kernels (and the PRG) share,
    /// to `threads` threads. Call it once, before the first parallel operation: the pool
    /// is built on first use and cannot be resized afterwards.
    ///
    /// # Errors
    /// [`RingError::InvalidArgument`](crate::RingError::InvalidArgument) when `threads` is
    /// zero or the global pool was already built.
    pub fn set_global_threads(threads: usize) -> crate::Result<()> {
        let invalid = |reason: String| crate::RingError::InvalidArgument { op: "set_global_threads", reason };
        if threads == 0 {
            return Err(invalid("zero threads".into()));
        }
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| invalid(e.to_string()))
    }
}

/// A read-only strided matrix view: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// Backing storage.
    pub data: &'a [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major view of `rows × cols` contiguous elements.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols` (an internal invariant of callers).
    #[must_use]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert!(data.len() >= rows * cols, "MatRef::row_major: buffer too short");
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transposed view (no copy).
    #[must_use]
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Element `(i, j)`.
    #[inline]
    #[must_use]
    pub fn at(&self, i: usize, j: usize) -> T
    where
        T: Copy,
    {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// Whether every element `(i, j)` with `i < rows`, `j < cols` lies inside `data`.
    #[must_use]
    pub fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < self.data.len()
    }
}

/// Checks the shapes of a GEMM call; kernels call this first.
///
/// # Panics
/// On inconsistent shapes. Tensor-level callers validate shapes and return typed errors
/// before reaching a kernel, so a panic here is a bug in the caller.
pub(crate) fn check_shapes<T>(c: &[T], a: &MatRef<'_, T>, b: &MatRef<'_, T>) {
    assert_eq!(a.cols, b.rows, "gemm: inner dimensions differ");
    assert_eq!(c.len(), a.rows * b.cols, "gemm: output has the wrong length");
    assert!(a.in_bounds() && b.in_bounds(), "gemm: operand view out of bounds");
}

/// Portable reference GEMM: `c (+)= a · b`, for any [`Scalar`].
pub fn naive<T: Scalar>(c: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>, accumulate: bool, _par: Parallelism) {
    check_shapes(c, &a, &b);
    let n = b.cols;
    if !accumulate {
        c.fill(T::zero());
    }
    for i in 0..a.rows {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..a.cols {
            let aip = a.at(i, p);
            for (j, cij) in row.iter_mut().enumerate() {
                *cij = cij.add(aip.mul(b.at(p, j)));
            }
        }
    }
}
