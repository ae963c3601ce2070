//! The dense n-d [`Tensor`]: shape, layout and structural operations.
//!
//! Tensors are always contiguous and row-major; structural operations that change the
//! layout (transpose, permute, slice) copy. This keeps every kernel simple and every
//! payload a single buffer that goes over the wire as raw little-endian bytes.

use crate::element::{Element, Scalar};
use crate::error::{Result, RingError};

/// A dense, contiguous, row-major n-dimensional array.
#[derive(Clone, PartialEq)]
pub struct Tensor<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Element> std::fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 16;
        write!(f, "Tensor<{}>{:?} ", T::NAME, self.shape)?;
        if self.data.len() <= SHOWN {
            write!(f, "{:?}", self.data)
        } else {
            write!(f, "{:?} ... ({} elements)", &self.data[..SHOWN], self.data.len())
        }
    }
}

/// Number of elements of a shape (1 for the empty shape, a scalar).
///
/// Exact for the shape of any existing [`Tensor`] (constructors validate shapes with
/// [`checked_numel`]). For an arbitrary shape the product saturates at `usize::MAX`
/// instead of wrapping around, so an overflowing shape never masquerades as a small
/// one; use [`checked_numel`] on shapes that come from the network.
#[must_use]
pub fn numel(shape: &[usize]) -> usize {
    if shape.contains(&0) { 0 } else { shape.iter().fold(1, |acc: usize, &d| acc.saturating_mul(d)) }
}

/// Number of elements of a shape, or [`RingError::ShapeOverflow`] when the product of
/// its non-zero dimensions does not fit in `usize`.
///
/// This is the validity rule of every tensor shape: when it holds, every partial
/// product of the dimensions (strides, outer/inner block sizes, offsets) fits in
/// `usize` too, so the structural operations cannot overflow. Every constructor and
/// shape-changing operation of this crate checks its output shape with it.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    checked_numel_for("checked_numel", shape)
}

/// [`checked_numel`] with the operation named in the error.
pub fn checked_numel_for(op: &'static str, shape: &[usize]) -> Result<usize> {
    let nonzero = shape.iter().filter(|&&d| d != 0).try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match nonzero {
        None => Err(RingError::ShapeOverflow { op, shape: shape.to_vec() }),
        Some(_) if shape.contains(&0) => Ok(0),
        Some(n) => Ok(n),
    }
}

/// An empty vector with room for `n` elements, or [`RingError::Allocation`] when the
/// allocator refuses (instead of aborting the process).
pub(crate) fn try_vec<T>(op: &'static str, n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| RingError::Allocation { op, elements: n })?;
    Ok(v)
}

/// `n` copies of `x`, or [`RingError::Allocation`] when the allocator refuses.
pub(crate) fn try_filled<T: Clone>(op: &'static str, n: usize, x: T) -> Result<Vec<T>> {
    let mut v = try_vec(op, n)?;
    v.resize(n, x);
    Ok(v)
}

/// `outer` when the output has elements (then `outer <= output`), else 0: loops over
/// the outer blocks of an empty output must not run, since an empty tensor may have
/// huge dimensions next to its zero (`[2^40, 0]` would otherwise spin 2^40 times).
fn nonempty(output: usize, outer: usize) -> usize {
    if output == 0 { 0 } else { outer }
}

/// Row-major strides of a shape.
///
/// Exact for valid shapes (see [`checked_numel`]); saturates instead of overflowing
/// for the others.
#[must_use]
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1].saturating_mul(shape[i + 1]);
    }
    s
}

/// The numpy broadcast of two shapes, or an error naming `op` (also
/// [`RingError::ShapeOverflow`] when the broadcast shape's element count overflows).
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(RingError::ShapeMismatch { op, lhs: a.to_vec(), rhs: b.to_vec() }),
        };
    }
    checked_numel_for(op, &out)?;
    Ok(out)
}

/// Strides that read a tensor of shape `shape` as if broadcast to `target` (0 on broadcast axes).
fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let off = target.len() - shape.len();
    (0..target.len()).map(|i| if i < off || shape[i - off] == 1 { 0 } else { own[i - off] }).collect()
}

/// Checks `axis < rank`.
pub(crate) fn check_axis(op: &'static str, axis: usize, rank: usize) -> Result<()> {
    if axis < rank { Ok(()) } else { Err(RingError::AxisOutOfRange { op, axis, rank }) }
}

impl<T: Element> Tensor<T> {
    /// A tensor from a shape and row-major data.
    ///
    /// Errors: [`RingError::ShapeOverflow`] when the shape's element count overflows,
    /// [`RingError::ElementCount`] when it differs from `data.len()`.
    pub fn new(shape: &[usize], data: Vec<T>) -> Result<Self> {
        Self::from_parts("Tensor::new", shape.to_vec(), data)
    }

    /// The one place a tensor is assembled from a shape and data: checks the shape
    /// with [`checked_numel`] and the element count against it.
    pub(crate) fn from_parts(op: &'static str, shape: Vec<usize>, data: Vec<T>) -> Result<Self> {
        let expected = checked_numel_for(op, &shape)?;
        if expected != data.len() {
            return Err(RingError::ElementCount { op, shape, expected, got: data.len() });
        }
        Ok(Self { shape, data })
    }

    /// A 1-d tensor of the given values.
    #[must_use]
    pub fn from_vec(data: Vec<T>) -> Self {
        Self { shape: vec![data.len()], data }
    }

    /// A rank-0 tensor holding one value.
    #[must_use]
    pub fn scalar(v: T) -> Self {
        Self { shape: Vec::new(), data: vec![v] }
    }

    /// A tensor with every element equal to `v`.
    ///
    /// # Panics
    ///
    /// If the shape's element count overflows `usize` or cannot be allocated. Shapes
    /// that are not known to be small (anything decoded from the network) go through
    /// [`try_full`](Self::try_full).
    #[must_use]
    pub fn full(shape: &[usize], v: T) -> Self {
        match Self::try_full(shape, v) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A tensor with every element equal to `v`, or [`RingError::ShapeOverflow`] /
    /// [`RingError::Allocation`] for a shape that is too large.
    pub fn try_full(shape: &[usize], v: T) -> Result<Self> {
        let n = checked_numel_for("Tensor::full", shape)?;
        Ok(Self { shape: shape.to_vec(), data: try_filled("Tensor::full", n, v)? })
    }

    /// A tensor whose element at multi-index `idx` is `f(idx)` (row-major order).
    ///
    /// # Panics
    ///
    /// As [`full`](Self::full); [`try_from_fn`](Self::try_from_fn) is the checked form.
    pub fn from_fn(shape: &[usize], f: impl FnMut(&[usize]) -> T) -> Self {
        match Self::try_from_fn(shape, f) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A tensor whose element at multi-index `idx` is `f(idx)`, or
    /// [`RingError::ShapeOverflow`] / [`RingError::Allocation`] for a shape that is too large.
    pub fn try_from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> T) -> Result<Self> {
        let n = checked_numel_for("Tensor::from_fn", shape)?;
        let mut idx = vec![0; shape.len()];
        let mut data = try_vec("Tensor::from_fn", n)?;
        for _ in 0..n {
            data.push(f(&idx));
            for ax in (0..shape.len()).rev() {
                idx[ax] += 1;
                if idx[ax] < shape[ax] {
                    break;
                }
                idx[ax] = 0;
            }
        }
        Ok(Self { shape: shape.to_vec(), data })
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The rank (number of axes).
    #[must_use]
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row-major elements.
    #[must_use]
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// Mutable row-major elements.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements, consuming the tensor.
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// The element at a multi-index.
    pub fn get(&self, idx: &[usize]) -> Result<T> {
        if idx.len() != self.rank() {
            return Err(RingError::RankMismatch { op: "get", expected: "index rank", shape: self.shape.clone() });
        }
        let mut off = 0;
        for (ax, (&i, &d)) in idx.iter().zip(&self.shape).enumerate() {
            if i >= d {
                return Err(RingError::IndexOutOfBounds { op: "get", index: i, size: d });
            }
            off = off * d + i;
            let _ = ax;
        }
        Ok(self.data[off])
    }

    /// The single element of a one-element tensor.
    pub fn item(&self) -> Result<T> {
        match self.data.as_slice() {
            [v] => Ok(*v),
            _ => Err(RingError::ElementCount { op: "item", shape: self.shape.clone(), expected: 1, got: self.len() }),
        }
    }

    /// The same data under a new shape with as many elements.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.clone().into_shape(shape)
    }

    /// Like [`reshape`](Self::reshape), consuming `self` (no copy).
    ///
    /// A shape whose element count overflows is rejected with
    /// [`RingError::ShapeOverflow`], even when its wrapped-around product would match.
    pub fn into_shape(mut self, shape: &[usize]) -> Result<Self> {
        let expected = checked_numel_for("reshape", shape)?;
        if expected != self.data.len() {
            return Err(RingError::ElementCount {
                op: "reshape",
                shape: shape.to_vec(),
                expected,
                got: self.data.len(),
            });
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// Applies `f` to every element.
    #[must_use]
    pub fn map<U: Element>(&self, f: impl Fn(T) -> U) -> Tensor<U> {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|&x| f(x)).collect() }
    }

    /// Applies `f` to every element in place.
    pub fn map_inplace(&mut self, f: impl Fn(T) -> T) {
        for x in &mut self.data {
            *x = f(*x);
        }
    }

    /// Elementwise `f(a, b)` with numpy broadcasting.
    pub fn zip_map<U: Element, V: Element>(&self, other: &Tensor<U>, f: impl Fn(T, U) -> V) -> Result<Tensor<V>> {
        self.zip_map_named("zip_map", other, f)
    }

    pub(crate) fn zip_map_named<U: Element, V: Element>(
        &self,
        op: &'static str,
        other: &Tensor<U>,
        f: impl Fn(T, U) -> V,
    ) -> Result<Tensor<V>> {
        if self.shape == other.shape {
            let data = self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect();
            return Ok(Tensor { shape: self.shape.clone(), data });
        }
        let shape = broadcast_shapes(op, &self.shape, &other.shape)?;
        self.broadcast_zip(op, other, shape, f)
    }

    /// `f(a, b)` over `shape`, reading `self` and `other` broadcast to it. Both operand
    /// shapes must broadcast to `shape` (checked by the callers).
    fn broadcast_zip<U: Element, V: Element>(
        &self,
        op: &'static str,
        other: &Tensor<U>,
        shape: Vec<usize>,
        f: impl Fn(T, U) -> V,
    ) -> Result<Tensor<V>> {
        let n = checked_numel_for(op, &shape)?;
        let sa = broadcast_strides(&self.shape, &shape);
        let sb = broadcast_strides(&other.shape, &shape);
        let mut data = try_vec(op, n)?;
        if n > 0 {
            let rank = shape.len();
            let last = rank.saturating_sub(1);
            let inner = shape.get(last).copied().unwrap_or(1);
            let (ia, ib) = (sa.get(last).copied().unwrap_or(0), sb.get(last).copied().unwrap_or(0));
            let mut idx = vec![0usize; rank];
            let (mut oa, mut ob) = (0usize, 0usize);
            let outer = n / inner.max(1);
            for _ in 0..outer {
                for j in 0..inner {
                    data.push(f(self.data[oa + j * ia], other.data[ob + j * ib]));
                }
                // advance the outer multi-index (all axes but the last)
                for ax in (0..last).rev() {
                    idx[ax] += 1;
                    oa += sa[ax];
                    ob += sb[ax];
                    if idx[ax] < shape[ax] {
                        break;
                    }
                    oa -= sa[ax] * shape[ax];
                    ob -= sb[ax] * shape[ax];
                    idx[ax] = 0;
                }
            }
        }
        Tensor::from_parts(op, shape, data)
    }

    /// `self[i] = f(self[i], other[i])` where `other` broadcasts to `self`'s shape.
    pub fn zip_assign<U: Element>(&mut self, other: &Tensor<U>, f: impl Fn(T, U) -> T) -> Result<()> {
        if self.shape == other.shape {
            for (a, &b) in self.data.iter_mut().zip(&other.data) {
                *a = f(*a, b);
            }
            return Ok(());
        }
        let target = broadcast_shapes("zip_assign", &self.shape, &other.shape)?;
        if target != self.shape {
            return Err(RingError::ShapeMismatch {
                op: "zip_assign",
                lhs: self.shape.clone(),
                rhs: other.shape.clone(),
            });
        }
        let expanded = other.broadcast_to(&self.shape)?;
        for (a, &b) in self.data.iter_mut().zip(&expanded.data) {
            *a = f(*a, b);
        }
        Ok(())
    }

    /// A copy broadcast to `shape` (numpy rules).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        let target = broadcast_shapes("broadcast_to", &self.shape, shape)?;
        if target != shape {
            return Err(RingError::ShapeMismatch { op: "broadcast_to", lhs: self.shape.clone(), rhs: shape.to_vec() });
        }
        self.broadcast_zip("broadcast_to", self, target, |a, _| a)
    }

    /// Permutes the axes: output axis `i` is input axis `axes[i]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        let rank = self.rank();
        let mut seen = vec![false; rank];
        if axes.len() != rank {
            return Err(RingError::InvalidArgument {
                op: "permute",
                reason: format!("{axes:?} is not a permutation of {rank} axes"),
            });
        }
        for &a in axes {
            check_axis("permute", a, rank)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(RingError::InvalidArgument {
                    op: "permute",
                    reason: format!("axis {a} repeated in {axes:?}"),
                });
            }
        }
        let in_strides = strides(&self.shape);
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        let st: Vec<usize> = axes.iter().map(|&a| in_strides[a]).collect();
        let n = self.len();
        let mut data = try_vec("permute", n)?;
        let mut idx = vec![0usize; rank];
        let mut off = 0usize;
        for _ in 0..n {
            data.push(self.data[off]);
            for ax in (0..rank).rev() {
                idx[ax] += 1;
                off += st[ax];
                if idx[ax] < shape[ax] {
                    break;
                }
                off -= st[ax] * shape[ax];
                idx[ax] = 0;
            }
        }
        Self::from_parts("permute", shape, data)
    }

    /// Swaps the last two axes (the matrix transpose; batched for rank > 2).
    pub fn transpose(&self) -> Result<Self> {
        let rank = self.rank();
        if rank < 2 {
            return Err(RingError::RankMismatch { op: "transpose", expected: ">= 2", shape: self.shape.clone() });
        }
        let mut axes: Vec<usize> = (0..rank).collect();
        axes.swap(rank - 2, rank - 1);
        self.permute(&axes)
    }

    /// Elements `start..end` along `axis`.
    pub fn slice_axis(&self, axis: usize, start: usize, end: usize) -> Result<Self> {
        check_axis("slice_axis", axis, self.rank())?;
        let size = self.shape[axis];
        if start > end || end > size {
            return Err(RingError::IndexOutOfBounds { op: "slice_axis", index: end.max(start), size });
        }
        let outer = numel(&self.shape[..axis]);
        let inner = numel(&self.shape[axis + 1..]);
        let mut shape = self.shape.clone();
        shape[axis] = end - start;
        let n = checked_numel_for("slice_axis", &shape)?;
        let mut data = try_vec("slice_axis", n)?;
        for o in 0..nonempty(n, outer) {
            let base = o * size * inner;
            data.extend_from_slice(&self.data[base + start * inner..base + end * inner]);
        }
        Self::from_parts("slice_axis", shape, data)
    }

    /// Gathers the given indices along `axis` (e.g. the rows of a batch).
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Result<Self> {
        check_axis("index_select", axis, self.rank())?;
        let size = self.shape[axis];
        if let Some(&bad) = indices.iter().find(|&&i| i >= size) {
            return Err(RingError::IndexOutOfBounds { op: "index_select", index: bad, size });
        }
        let outer = numel(&self.shape[..axis]);
        let inner = numel(&self.shape[axis + 1..]);
        let mut shape = self.shape.clone();
        shape[axis] = indices.len();
        let n = checked_numel_for("index_select", &shape)?;
        let mut data = try_vec("index_select", n)?;
        for o in 0..nonempty(n, outer) {
            let base = o * size * inner;
            for &i in indices {
                data.extend_from_slice(&self.data[base + i * inner..base + (i + 1) * inner]);
            }
        }
        Self::from_parts("index_select", shape, data)
    }

    /// Concatenates tensors along `axis`; all other dimensions must agree.
    pub fn concat(parts: &[&Self], axis: usize) -> Result<Self> {
        let first = parts.first().ok_or(RingError::InvalidArgument { op: "concat", reason: "no tensors".into() })?;
        check_axis("concat", axis, first.rank())?;
        for p in parts {
            let same_rank = p.rank() == first.rank();
            if !same_rank || p.shape.iter().zip(&first.shape).enumerate().any(|(i, (a, b))| i != axis && a != b) {
                return Err(RingError::ShapeMismatch { op: "concat", lhs: first.shape.clone(), rhs: p.shape.clone() });
            }
        }
        let outer = numel(&first.shape[..axis]);
        let inner = numel(&first.shape[axis + 1..]);
        let total = parts.iter().try_fold(0usize, |acc, p| acc.checked_add(p.shape[axis]));
        let mut shape = first.shape.clone();
        shape[axis] = total.unwrap_or(usize::MAX);
        let n = match total {
            Some(_) => checked_numel_for("concat", &shape)?,
            None => return Err(RingError::ShapeOverflow { op: "concat", shape }),
        };
        let mut data = try_vec("concat", n)?;
        for o in 0..nonempty(n, outer) {
            for p in parts {
                let chunk = p.shape[axis] * inner;
                data.extend_from_slice(&p.data[o * chunk..(o + 1) * chunk]);
            }
        }
        Self::from_parts("concat", shape, data)
    }

    /// Stacks equally shaped tensors along a new leading axis.
    pub fn stack(parts: &[&Self]) -> Result<Self> {
        let first = parts.first().ok_or(RingError::InvalidArgument { op: "stack", reason: "no tensors".into() })?;
        if let Some(p) = parts.iter().find(|p| p.shape != first.shape) {
            return Err(RingError::ShapeMismatch { op: "stack", lhs: first.shape.clone(), rhs: p.shape.clone() });
        }
        let mut shape = vec![parts.len()];
        shape.extend_from_slice(&first.shape);
        let mut data = try_vec("stack", checked_numel_for("stack", &shape)?)?;
        for p in parts {
            data.extend_from_slice(&p.data);
        }
        Self::from_parts("stack", shape, data)
    }
}

impl<T: Scalar> Tensor<T> {
    /// A tensor of zeros.
    ///
    /// # Panics
    ///
    /// If the shape's element count overflows `usize` or cannot be allocated; use
    /// [`try_zeros`](Self::try_zeros) for shapes that are not known to be small.
    #[must_use]
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of zeros, or [`RingError::ShapeOverflow`] / [`RingError::Allocation`]
    /// for a shape that is too large.
    pub fn try_zeros(shape: &[usize]) -> Result<Self> {
        Self::try_full(shape, T::zero())
    }

    /// A tensor of ones.
    ///
    /// # Panics
    ///
    /// As [`zeros`](Self::zeros); [`try_ones`](Self::try_ones) is the checked form.
    #[must_use]
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// A tensor of ones, or [`RingError::ShapeOverflow`] / [`RingError::Allocation`]
    /// for a shape that is too large.
    pub fn try_ones(shape: &[usize]) -> Result<Self> {
        Self::try_full(shape, T::one())
    }

    /// The `n × n` identity matrix.
    ///
    /// # Panics
    ///
    /// If `n·n` overflows `usize` or cannot be allocated; use [`try_eye`](Self::try_eye)
    /// for an `n` that is not known to be small.
    #[must_use]
    pub fn eye(n: usize) -> Self {
        match Self::try_eye(n) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// The `n × n` identity matrix, or [`RingError::ShapeOverflow`] /
    /// [`RingError::Allocation`] when `n` is too large.
    pub fn try_eye(n: usize) -> Result<Self> {
        Self::try_from_fn(&[n, n], |i| if i[0] == i[1] { T::one() } else { T::zero() })
    }

    /// One-hot rows: `classes[i]` becomes row `i` of a `len × k` matrix.
    pub fn one_hot(classes: &[usize], k: usize) -> Result<Self> {
        if let Some(&c) = classes.iter().find(|&&c| c >= k) {
            return Err(RingError::IndexOutOfBounds { op: "one_hot", index: c, size: k });
        }
        let mut out = Self::try_zeros(&[classes.len(), k])?;
        for (i, &c) in classes.iter().enumerate() {
            if c >= k {
                return Err(RingError::IndexOutOfBounds { op: "one_hot", index: c, size: k });
            }
            out.data[i * k + c] = T::one();
        }
        Ok(out)
    }

    /// Elementwise sum with broadcasting.
    pub fn add(&self, rhs: &Self) -> Result<Self> {
        self.zip_map_named("add", rhs, T::add)
    }

    /// Elementwise difference with broadcasting.
    pub fn sub(&self, rhs: &Self) -> Result<Self> {
        self.zip_map_named("sub", rhs, T::sub)
    }

    /// Elementwise (Hadamard) product with broadcasting.
    pub fn mul(&self, rhs: &Self) -> Result<Self> {
        self.zip_map_named("mul", rhs, T::mul)
    }

    /// Negation.
    #[must_use]
    pub fn neg(&self) -> Self {
        self.map(T::neg)
    }

    /// Multiplication by a scalar.
    #[must_use]
    pub fn scale(&self, c: T) -> Self {
        self.map(|x| x.mul(c))
    }

    /// `self += rhs` (rhs broadcasts to self's shape).
    pub fn add_assign(&mut self, rhs: &Self) -> Result<()> {
        self.zip_assign(rhs, T::add)
    }

    /// `self -= rhs` (rhs broadcasts to self's shape).
    pub fn sub_assign(&mut self, rhs: &Self) -> Result<()> {
        self.zip_assign(rhs, T::sub)
    }

    /// `self *= rhs` elementwise (rhs broadcasts to self's shape).
    pub fn mul_assign(&mut self, rhs: &Self) -> Result<()> {
        self.zip_assign(rhs, T::mul)
    }

    /// Sum of all elements.
    #[must_use]
    pub fn sum_all(&self) -> T {
        self.data.iter().fold(T::zero(), |acc, &x| acc.add(x))
    }

    /// Sum along `axis`; with `keepdim` the axis stays with size 1.
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        check_axis("sum_axis", axis, self.rank())?;
        let size = self.shape[axis];
        let outer = numel(&self.shape[..axis]);
        let inner = numel(&self.shape[axis + 1..]);
        let mut shape = self.shape.clone();
        if keepdim {
            shape[axis] = 1;
        } else {
            shape.remove(axis);
        }
        let n = checked_numel_for("sum_axis", &shape)?;
        let mut data = try_filled("sum_axis", n, T::zero())?;
        for o in 0..nonempty(n, outer) {
            let acc = &mut data[o * inner..(o + 1) * inner];
            for s in 0..size {
                let row = &self.data[(o * size + s) * inner..(o * size + s + 1) * inner];
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a = a.add(x);
                }
            }
        }
        Self::from_parts("sum_axis", shape, data)
    }

    /// Sums a broadcast result back down to `shape` (the adjoint of broadcasting).
    pub fn sum_to_shape(&self, shape: &[usize]) -> Result<Self> {
        if self.shape == shape {
            return Ok(self.clone());
        }
        let target = broadcast_shapes("sum_to_shape", shape, &self.shape)?;
        if target != self.shape {
            return Err(RingError::ShapeMismatch { op: "sum_to_shape", lhs: self.shape.clone(), rhs: shape.to_vec() });
        }
        if self.is_empty() {
            // The sum of nothing: without this, summing the axes one at a time could build
            // large intermediates from an empty tensor with huge dimensions.
            return Self::try_zeros(shape);
        }
        let mut out = self.clone();
        let lead = self.rank() - shape.len();
        for _ in 0..lead {
            out = out.sum_axis(0, false)?;
        }
        for (ax, &d) in shape.iter().enumerate() {
            if d == 1 && out.shape[ax] != 1 {
                out = out.sum_axis(ax, true)?;
            }
        }
        Ok(out)
    }

    /// Index of the largest element along `axis` (the first one on ties), axis removed.
    ///
    /// Order is [`Scalar::greater_than`]: signed for Z_2^64, numeric for floats.
    pub fn argmax_axis(&self, axis: usize) -> Result<Tensor<usize>> {
        check_axis("argmax_axis", axis, self.rank())?;
        let size = self.shape[axis];
        if size == 0 {
            return Err(RingError::InvalidArgument { op: "argmax_axis", reason: "empty axis".into() });
        }
        let outer = numel(&self.shape[..axis]);
        let inner = numel(&self.shape[axis + 1..]);
        let mut shape = self.shape.clone();
        shape.remove(axis);
        let n = checked_numel_for("argmax_axis", &shape)?;
        let mut data = try_vec("argmax_axis", n)?;
        for o in 0..nonempty(n, outer) {
            for i in 0..inner {
                let at = |s: usize| self.data[(o * size + s) * inner + i];
                let mut best = 0;
                for s in 1..size {
                    if at(s).greater_than(at(best)) {
                        best = s;
                    }
                }
                data.push(best);
            }
        }
        Tensor::from_parts("argmax_axis", shape, data)
    }

    /// Largest element along `axis` (axis removed).
    pub fn max_axis(&self, axis: usize) -> Result<Self> {
        let idx = self.argmax_axis(axis)?;
        let size = self.shape[axis];
        let inner = numel(&self.shape[axis + 1..]);
        let data = idx
            .data
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let (o, i) = (k / inner.max(1), k % inner.max(1));
                self.data[(o * size + s) * inner + i]
            })
            .collect();
        Self::from_parts("max_axis", idx.shape, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_rules() {
        assert_eq!(broadcast_shapes("t", &[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert!(broadcast_shapes("t", &[2, 3], &[4, 3]).is_err());
        assert_eq!(broadcast_shapes("t", &[], &[5]).unwrap(), vec![5]);
    }

    #[test]
    fn permute_and_slice() {
        let t = Tensor::<u64>::from_fn(&[2, 3, 4], |i| (i[0] * 100 + i[1] * 10 + i[2]) as u64);
        let p = t.permute(&[2, 0, 1]).unwrap();
        assert_eq!(p.shape(), &[4, 2, 3]);
        assert_eq!(p.get(&[3, 1, 2]).unwrap(), 123);
        let s = t.slice_axis(1, 1, 3).unwrap();
        assert_eq!(s.shape(), &[2, 2, 4]);
        assert_eq!(s.get(&[1, 0, 2]).unwrap(), 112);
        let c = Tensor::concat(&[&s, &t], 1).unwrap();
        assert_eq!(c.shape(), &[2, 5, 4]);
        assert_eq!(c.get(&[1, 2, 3]).unwrap(), 103);
        assert!(t.permute(&[0, 0, 1]).is_err());
        assert!(t.slice_axis(3, 0, 1).is_err());
    }

    #[test]
    fn sums_and_argmax() {
        let t = Tensor::<f64>::new(&[2, 3], vec![1.0, 5.0, 5.0, -1.0, -2.0, 0.0]).unwrap();
        assert_eq!(t.sum_axis(1, false).unwrap().data(), &[11.0, -3.0]);
        assert_eq!(t.argmax_axis(1).unwrap().data(), &[1, 2]);
        let r = Tensor::<u64>::from_vec(vec![3, u64::MAX, 7]);
        assert_eq!(r.argmax_axis(0).unwrap().data(), &[2]);
        let b = Tensor::<f64>::ones(&[4, 2, 3]);
        assert_eq!(b.sum_to_shape(&[2, 1]).unwrap().data(), &[12.0, 12.0]);
    }
}
