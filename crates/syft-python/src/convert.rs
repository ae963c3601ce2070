//! NumPy in and out: anything with `__array__` (NumPy arrays, lists, PyTorch tensors)
//! becomes a ring or float tensor; tensors go back as NumPy arrays with their shape.

use crate::errors::err;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use syft::prelude::Tensor;

/// `numpy.asarray(obj, dtype=dtype)`.
fn asarray<'py>(obj: &Bound<'py, PyAny>, dtype: &str) -> PyResult<Bound<'py, PyAny>> {
    let np = PyModule::import(obj.py(), "numpy")?;
    np.call_method1("asarray", (obj, dtype))
}

/// The data of an array of `T` in row-major order, with its shape.
fn read<T: numpy::Element + Copy>(array: &Bound<'_, PyAny>) -> PyResult<(Vec<usize>, Vec<T>)> {
    let array: PyReadonlyArrayDyn<'_, T> = array.extract()?;
    let shape = array.shape().to_vec();
    let data = match array.as_slice() {
        Ok(s) => s.to_vec(),
        // Not contiguous (a transposed view, a slice with a step): logical order.
        Err(_) => array.as_array().iter().copied().collect(),
    };
    Ok((shape, data))
}

/// A float tensor from anything NumPy converts to `float32`.
pub(crate) fn f32_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor<f32>> {
    let (shape, data) = read::<f32>(&asarray(obj, "float32")?)?;
    Tensor::new(&shape, data).map_err(err)
}

/// A ring tensor (`int64` values, two's complement) from anything NumPy converts to
/// `int64`.
pub(crate) fn int_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor<u64>> {
    let (shape, data) = read::<i64>(&asarray(obj, "int64")?)?;
    Tensor::new(&shape, data.into_iter().map(i64::cast_unsigned).collect()).map_err(err)
}

/// Whether NumPy sees `obj` as integers or booleans (`dtype.kind` in `iub`).
pub(crate) fn is_integer(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let np = PyModule::import(obj.py(), "numpy")?;
    let kind: String = np.call_method1("asarray", (obj,))?.getattr("dtype")?.getattr("kind")?.extract()?;
    Ok(matches!(kind.as_str(), "i" | "u" | "b"))
}

/// A NumPy array of the tensor's values and shape.
pub(crate) fn to_numpy<'py, T: numpy::Element + syft::ring::Element>(
    py: Python<'py>,
    t: &Tensor<T>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_slice(py, t.data()).reshape(t.shape().to_vec())?.into_any())
}

/// A ring tensor as NumPy `int64` (two's complement).
pub(crate) fn int_to_numpy<'py>(py: Python<'py>, t: &Tensor<u64>) -> PyResult<Bound<'py, PyAny>> {
    let data: Vec<i64> = t.data().iter().map(|&x| x.cast_signed()).collect();
    Ok(PyArray1::from_vec(py, data).reshape(t.shape().to_vec())?.into_any())
}

/// Resolves a shape that may hold one `-1` for `numel` elements.
pub(crate) fn resolve_shape(op: &'static str, numel: usize, dims: &[i64]) -> PyResult<Vec<usize>> {
    let mut unknown = None;
    let mut known = 1usize;
    let mut shape = Vec::with_capacity(dims.len());
    for (i, &d) in dims.iter().enumerate() {
        if d == -1 {
            if unknown.replace(i).is_some() {
                return Err(crate::errors::invalid(op, "only one dimension can be -1"));
            }
            shape.push(0);
        } else {
            let d = usize::try_from(d).map_err(|_| crate::errors::invalid(op, format!("invalid dimension {d}")))?;
            known = known.saturating_mul(d);
            shape.push(d);
        }
    }
    if let Some(i) = unknown {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(crate::errors::invalid(op, format!("shape {dims:?} is invalid for {numel} elements")));
        }
        shape[i] = numel / known;
    }
    Ok(shape)
}
