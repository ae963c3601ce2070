//! Matrix products: 2-d and batched, with optional transposed operands (no copies).

use crate::element::Scalar;
use crate::error::{Result, RingError};
use crate::gemm::{MatRef, Parallelism};
use crate::tensor::{Tensor, broadcast_shapes, checked_numel_for, numel, strides, try_filled};

/// Whether an operand of a product is used as stored or transposed (last two axes swapped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transpose {
    /// Use the operand as stored.
    #[default]
    No,
    /// Use the operand with its last two axes swapped.
    Yes,
}

impl<T: Scalar> Tensor<T> {
    /// Matrix product `self · rhs` of shapes `[..., m, k] · [..., k, n]`; leading (batch)
    /// axes broadcast as in numpy. Multi-threaded for large shapes.
    pub fn matmul(&self, rhs: &Self) -> Result<Self> {
        self.matmul_ex(Transpose::No, rhs, Transpose::No, Parallelism::Auto)
    }

    /// The general product `op(self) · op(rhs)` with transposes applied without copying.
    pub fn matmul_ex(&self, ta: Transpose, rhs: &Self, tb: Transpose, par: Parallelism) -> Result<Self> {
        let err = || RingError::ShapeMismatch { op: "matmul", lhs: self.shape().to_vec(), rhs: rhs.shape().to_vec() };
        if self.rank() < 2 || rhs.rank() < 2 {
            return Err(err());
        }
        let (ra, rb) = (self.rank(), rhs.rank());
        let (sa, sb) = (self.shape(), rhs.shape());
        let (m, k) = match ta {
            Transpose::No => (sa[ra - 2], sa[ra - 1]),
            Transpose::Yes => (sa[ra - 1], sa[ra - 2]),
        };
        let (k2, n) = match tb {
            Transpose::No => (sb[rb - 2], sb[rb - 1]),
            Transpose::Yes => (sb[rb - 1], sb[rb - 2]),
        };
        if k != k2 {
            return Err(err());
        }
        let batch_a = &sa[..ra - 2];
        let batch_b = &sb[..rb - 2];
        let batch = broadcast_shapes("matmul", batch_a, batch_b).map_err(|_| err())?;
        let nb = numel(&batch);
        let mut shape = batch.clone();
        shape.push(m);
        shape.push(n);
        let total = checked_numel_for("matmul", &shape)?;
        let (mat_a, mat_b) = (sa[ra - 2] * sa[ra - 1], sb[rb - 2] * sb[rb - 1]);
        let bst_a = batch_strides(batch_a, &batch);
        let bst_b = batch_strides(batch_b, &batch);
        let mut out = try_filled("matmul", total, T::zero())?;
        let batch_stride_out = strides(&batch);
        // An empty output (m or n zero) must not loop over a possibly huge batch.
        for bi in 0..if total == 0 { 0 } else { nb } {
            let (mut oa, mut ob) = (0usize, 0usize);
            let mut rem = bi;
            for (ax, &st) in batch_stride_out.iter().enumerate() {
                let i = rem / st;
                rem %= st;
                oa += i * bst_a[ax];
                ob += i * bst_b[ax];
            }
            let a_data = &self.data()[oa * mat_a..(oa + 1) * mat_a];
            let b_data = &rhs.data()[ob * mat_b..(ob + 1) * mat_b];
            let a_view = MatRef::row_major(a_data, sa[ra - 2], sa[ra - 1]);
            let b_view = MatRef::row_major(b_data, sb[rb - 2], sb[rb - 1]);
            let a_view = if ta == Transpose::Yes { a_view.t() } else { a_view };
            let b_view = if tb == Transpose::Yes { b_view.t() } else { b_view };
            T::gemm(&mut out[bi * m * n..(bi + 1) * m * n], a_view, b_view, false, par);
        }
        Tensor::new(&shape, out)
    }

    /// `self += op(a) · op(b)` for 2-d operands (accumulating product, no temporary).
    pub fn add_matmul(&mut self, a: &Self, ta: Transpose, b: &Self, tb: Transpose) -> Result<()> {
        let err = || RingError::ShapeMismatch { op: "add_matmul", lhs: a.shape().to_vec(), rhs: b.shape().to_vec() };
        if a.rank() != 2 || b.rank() != 2 || self.rank() != 2 {
            return Err(err());
        }
        let av = MatRef::row_major(a.data(), a.shape()[0], a.shape()[1]);
        let bv = MatRef::row_major(b.data(), b.shape()[0], b.shape()[1]);
        let av = if ta == Transpose::Yes { av.t() } else { av };
        let bv = if tb == Transpose::Yes { bv.t() } else { bv };
        if av.cols != bv.rows || self.shape() != [av.rows, bv.cols] {
            return Err(err());
        }
        T::gemm(self.data_mut(), av, bv, true, Parallelism::Auto);
        Ok(())
    }
}

/// Per-batch-axis offsets (in matrices) of an operand whose batch shape broadcasts to `target`.
fn batch_strides(own: &[usize], target: &[usize]) -> Vec<usize> {
    let st = strides(own);
    let off = target.len() - own.len();
    (0..target.len()).map(|i| if i < off || own[i - off] == 1 { 0 } else { st[i - off] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_small() {
        let a = Tensor::<u64>::new(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        let b = Tensor::<u64>::new(&[3, 2], vec![7, 8, 9, 10, 11, 12]).unwrap();
        let c = a.matmul(&b).unwrap();
        assert_eq!(c.data(), &[58, 64, 139, 154]);
        let ct = b.matmul_ex(Transpose::Yes, &a, Transpose::Yes, Parallelism::Single).unwrap();
        assert_eq!(ct.data(), &[58, 139, 64, 154]);
        assert!(a.matmul(&a).is_err());
    }

    #[test]
    fn batched_broadcast() {
        let a = Tensor::<f64>::from_fn(&[3, 2, 2], |i| (i[0] + i[1] * 2 + i[2]) as f64);
        let b = Tensor::<f64>::eye(2);
        let c = a.matmul(&b).unwrap();
        assert_eq!(c, a);
    }
}
