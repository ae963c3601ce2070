//! `f32` / `f64` GEMM through the `gemm` crate.
//!
//! [`gemm_float`] is generic over [`Scalar`] so that tensor code can call it for any element;
//! `f32` and `f64` are recognised by [`TypeId`] and routed to `gemm::gemm`, everything else
//! falls back to [`naive`].

use super::u64_kernel::prologue;
use super::{MatRef, Parallelism, naive};
use crate::element::Scalar;
use std::any::TypeId;

/// Products with fewer multiply-adds than this run single-threaded even under
/// [`Parallelism::Auto`].
const PAR_MIN_WORK: usize = 1 << 18;

/// `c (+)= a · b` for floats.
///
/// `f32` and `f64` run the `gemm` crate's kernels (multi-threaded on rayon's pool for large
/// products when `par` is [`Parallelism::Auto`]); any other `T` runs [`naive`].
pub fn gemm_float<T: Scalar>(c: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>, accumulate: bool, par: Parallelism) {
    if let Some((c, a, b)) = cast_all::<T, f64>(c, a, b) {
        return gemm_real(c, a, b, accumulate, par, 1.0, 0.0);
    }
    if let Some((c, a, b)) = cast_all::<T, f32>(c, a, b) {
        return gemm_real(c, a, b, accumulate, par, 1.0, 0.0);
    }
    naive(c, a, b, accumulate, par);
}

/// `s` as a slice of `U`, when `T` and `U` are the same type.
fn cast_slice<T: 'static, U: 'static>(s: &[T]) -> Option<&[U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` and `U` are the same type (equal `TypeId`s), so the pointer, length,
        // alignment and lifetime of `s` describe a valid `&[U]`.
        Some(unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<U>(), s.len()) })
    } else {
        None
    }
}

/// `s` as a mutable slice of `U`, when `T` and `U` are the same type.
fn cast_slice_mut<T: 'static, U: 'static>(s: &mut [T]) -> Option<&mut [U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` and `U` are the same type (equal `TypeId`s), so the pointer, length,
        // alignment and lifetime of `s` describe a valid `&mut [U]`; `s` is consumed, so the
        // result is the only live reference to the elements.
        Some(unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<U>(), s.len()) })
    } else {
        None
    }
}

/// `m` as a view of `U`, when `T` and `U` are the same type.
fn cast_view<'a, T: 'static, U: 'static>(m: MatRef<'a, T>) -> Option<MatRef<'a, U>> {
    Some(MatRef {
        data: cast_slice(m.data)?,
        rows: m.rows,
        cols: m.cols,
        row_stride: m.row_stride,
        col_stride: m.col_stride,
    })
}

/// `c`, `a` and `b` of a product over `U`.
type Operands<'c, 'a, U> = (&'c mut [U], MatRef<'a, U>, MatRef<'a, U>);

/// The three operands as `U`s, when `T` and `U` are the same type.
fn cast_all<'c, 'a, T: 'static, U: 'static>(
    c: &'c mut [T],
    a: MatRef<'a, T>,
    b: MatRef<'a, T>,
) -> Option<Operands<'c, 'a, U>> {
    Some((cast_slice_mut(c)?, cast_view(a)?, cast_view(b)?))
}

/// The stride of a dimension of `extent` elements as an `isize` (irrelevant, hence 0, when
/// the dimension has a single element).
fn stride(s: usize, extent: usize) -> isize {
    if extent <= 1 { 0 } else { isize::try_from(s).unwrap_or(isize::MAX) }
}

/// `c (+)= a · b` through `gemm::gemm` for `F` in {`f32`, `f64`}.
fn gemm_real<F: Copy + Send + Sync + 'static>(
    c: &mut [F],
    a: MatRef<'_, F>,
    b: MatRef<'_, F>,
    accumulate: bool,
    par: Parallelism,
    one: F,
    zero: F,
) {
    let Some((m, k, n)) = prologue(c, &a, &b, accumulate, zero) else {
        return;
    };
    let parallelism = if par == Parallelism::Auto && m.saturating_mul(n).saturating_mul(k) >= PAR_MIN_WORK {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `F` is `f32` or `f64` (the only instantiations), which `gemm::gemm` supports.
    // `c` is an exclusively borrowed row-major `m × n` buffer (`check_shapes` checked its
    // length): element (i, j) at `i·n + j`, strides (cs, rs) = (1, n). Every element `(i, p)`
    // of `a` and `(p, j)` of `b` lies inside its slice (`strictly_in_bounds`, with overflow
    // checks), at `row·rs + col·cs` with the strides passed below (a stride is only replaced
    // by 0 for a dimension of extent 1, where it is never multiplied by a non-zero index).
    // `c` does not alias `a` or `b` (a `&mut` and `&`s coexist). `read_dst = accumulate`,
    // alpha = 1, beta = 1 computes `c = c + a·b` or `c = a·b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            stride(n, m),
            accumulate,
            a.data.as_ptr(),
            stride(a.col_stride, k),
            stride(a.row_stride, m),
            b.data.as_ptr(),
            stride(b.col_stride, n),
            stride(b.row_stride, k),
            one,
            one,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                let w = s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
                #[allow(clippy::cast_precision_loss, reason = "53-bit value, exact in f64")]
                let x = w as f64 / (1u64 << 53) as f64;
                2.0 * x - 1.0
            })
            .collect()
    }

    /// Compares `gemm_float` with `naive` for `T` (`f32` or `f64`), within `tol · k`.
    #[allow(clippy::too_many_arguments, reason = "test helper")]
    fn check<T: Scalar + Into<f64>>(
        from: fn(f64) -> T,
        tol: f64,
        m: usize,
        k: usize,
        n: usize,
        seed: u64,
        ta: bool,
        tb: bool,
        accumulate: bool,
    ) -> Result<(), TestCaseError> {
        let a_data: Vec<T> = values(m * k, seed).into_iter().map(from).collect();
        let b_data: Vec<T> = values(k * n, seed ^ 0xabc).into_iter().map(from).collect();
        let c0: Vec<T> = values(m * n, seed ^ 0x123).into_iter().map(from).collect();
        // A transposed operand is stored as its row-major transpose and viewed with `.t()`.
        let a = if ta { MatRef::row_major(&a_data, k, m).t() } else { MatRef::row_major(&a_data, m, k) };
        let b = if tb { MatRef::row_major(&b_data, n, k).t() } else { MatRef::row_major(&b_data, k, n) };
        let mut want = c0.clone();
        naive(&mut want, a, b, accumulate, Parallelism::Single);
        for par in [Parallelism::Single, Parallelism::Auto] {
            let mut got = c0.clone();
            gemm_float(&mut got, a, b, accumulate, par);
            for (g, w) in got.iter().zip(&want) {
                let (g, w): (f64, f64) = ((*g).into(), (*w).into());
                #[allow(clippy::cast_precision_loss, reason = "small test sizes")]
                let bound = tol * (k as f64 + 1.0);
                prop_assert!((g - w).abs() <= bound, "got {g}, want {w}, {m}x{k}x{n}");
            }
        }
        Ok(())
    }

    #[allow(clippy::cast_possible_truncation, reason = "f32 test data")]
    fn to_f32(x: f64) -> f32 {
        x as f32
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn f64_matches_naive(
            m in 1usize..70, k in 1usize..300, n in 1usize..70, seed: u64,
            ta: bool, tb: bool, accumulate: bool,
        ) {
            check::<f64>(|x| x, 1e-13, m, k, n, seed, ta, tb, accumulate)?;
        }

        #[test]
        fn f32_matches_naive(
            m in 1usize..70, k in 1usize..300, n in 1usize..70, seed: u64,
            ta: bool, tb: bool, accumulate: bool,
        ) {
            check::<f32>(to_f32, 1e-5, m, k, n, seed, ta, tb, accumulate)?;
        }
    }

    #[test]
    fn large_and_degenerate_shapes() {
        for &(m, k, n) in &[(64, 784, 500), (1, 1, 1), (3, 0, 4), (0, 5, 2), (5, 2, 0), (1, 9, 1)] {
            for acc in [false, true] {
                check::<f64>(|x| x, 1e-13, m, k, n, 9, false, false, acc).unwrap();
                check::<f32>(to_f32, 1e-5, m, k, n, 9, true, true, acc).unwrap();
            }
        }
    }

    #[test]
    fn k_zero_overwrite_zeroes_c() {
        let a = MatRef::row_major(&[] as &[f64], 2, 0);
        let b = MatRef::row_major(&[] as &[f64], 0, 3);
        let mut c = vec![f64::NAN; 6];
        gemm_float(&mut c, a, b, false, Parallelism::Auto);
        assert_eq!(c, vec![0.0; 6]);
    }

    #[test]
    fn overwrite_ignores_nan_in_c() {
        let a_data = [1.0f32, 2.0, 3.0, 4.0];
        let a = MatRef::row_major(&a_data, 2, 2);
        let mut c = vec![f32::NAN; 4];
        gemm_float(&mut c, a, a, false, Parallelism::Single);
        assert_eq!(c, vec![7.0, 10.0, 15.0, 22.0]);
    }

    #[test]
    fn other_scalars_fall_back_to_naive() {
        let a_data: Vec<u64> = (1..=6).collect();
        let a = MatRef::row_major(&a_data, 2, 3);
        let mut got = vec![0u64; 4];
        gemm_float(&mut got, a, a.t(), false, Parallelism::Auto);
        let mut want = vec![0u64; 4];
        naive(&mut want, a, a.t(), false, Parallelism::Single);
        assert_eq!(got, want);
    }
}
