//! Initializers and constants: ONNX `TensorProto`s read into `f32` weight tensors or
//! `i64` shape vectors, with their dims checked against the limits and the data before
//! anything is allocated.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::proto::TensorProto;
use crate::proto::tensor_proto::{DataLocation, DataType};
use syft_ring::Tensor;

/// A decoded constant: float weights, or integers (a `Reshape` target).
#[derive(Clone, Debug)]
pub(crate) enum Const {
    /// Float or double data, as `f32`.
    Float(Tensor<f32>),
    /// Int64 or int32 data, with its dims.
    Int {
        /// The dims.
        dims: Vec<usize>,
        /// The values, row-major.
        data: Vec<i64>,
    },
}

/// The ONNX name of an element type, e.g. `INT8` (or the number for an unknown type).
pub(crate) fn data_type_name(data_type: i32) -> String {
    DataType::try_from(data_type).map_or_else(|_| format!("#{data_type}"), |t| t.as_str_name().to_owned())
}

/// Reads `t` (named `name`), which must hold plain data in the file (no external data,
/// no segments) of a float, double, int64 or int32 type.
pub(crate) fn decode(t: &TensorProto, name: &str, limits: &Limits) -> Result<Const> {
    let bad = |reason: String| Error::BadTensor { name: name.to_owned(), reason };
    if t.data_location == Some(DataLocation::External as i32) || !t.external_data.is_empty() {
        return Err(bad("its data is in an external file, which is not supported".into()));
    }
    if t.segment.is_some() {
        return Err(bad("segmented tensors are not supported".into()));
    }
    let dims = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("negative dimension {d} in dims {:?}", t.dims))))
        .collect::<Result<Vec<_>>>()?;
    let numel = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| bad(format!("the element count of dims {dims:?} overflows")))?;
    if numel > limits.max_tensor_elements {
        return Err(Error::TooLarge {
            what: format!("the element count of tensor `{name}` (dims {dims:?})"),
            size: numel as u64,
            limit: limits.max_tensor_elements as u64,
        });
    }
    let data_type = t.data_type.unwrap_or(DataType::Undefined as i32);
    let raw = t.raw_data.as_deref();
    match DataType::try_from(data_type) {
        Ok(DataType::Float) => {
            let data = match raw {
                Some(raw) => from_le::<4, f32>(raw, numel, name, f32::from_le_bytes)?,
                None => exact(t.float_data.clone(), numel, name)?,
            };
            Ok(Const::Float(Tensor::new(&dims, data)?))
        }
        Ok(DataType::Double) => {
            let data = match raw {
                Some(raw) => from_le::<8, f64>(raw, numel, name, f64::from_le_bytes)?,
                None => exact(t.double_data.clone(), numel, name)?,
            };
            #[allow(clippy::cast_possible_truncation, reason = "weights are used as f32")]
            let data = data.into_iter().map(|v| v as f32).collect();
            Ok(Const::Float(Tensor::new(&dims, data)?))
        }
        Ok(DataType::Int64) => {
            let data = match raw {
                Some(raw) => from_le::<8, i64>(raw, numel, name, i64::from_le_bytes)?,
                None => exact(t.int64_data.clone(), numel, name)?,
            };
            Ok(Const::Int { dims, data })
        }
        Ok(DataType::Int32) => {
            let data = match raw {
                Some(raw) => from_le::<4, i32>(raw, numel, name, i32::from_le_bytes)?,
                None => exact(t.int32_data.clone(), numel, name)?,
            };
            Ok(Const::Int { dims, data: data.into_iter().map(i64::from).collect() })
        }
        _ => Err(Error::UnsupportedDataType { name: name.to_owned(), data_type: data_type_name(data_type) }),
    }
}

/// The typed field's values, which must be exactly `numel`.
fn exact<T>(data: Vec<T>, numel: usize, name: &str) -> Result<Vec<T>> {
    if data.len() == numel {
        Ok(data)
    } else {
        Err(Error::BadTensor {
            name: name.to_owned(),
            reason: format!("dims promise {numel} elements, the data holds {}", data.len()),
        })
    }
}

/// `numel` little-endian values of `N` bytes from `raw_data`, whose length must match.
fn from_le<const N: usize, T>(raw: &[u8], numel: usize, name: &str, read: fn([u8; N]) -> T) -> Result<Vec<T>> {
    let expected = numel.checked_mul(N);
    if expected != Some(raw.len()) {
        return Err(Error::BadTensor {
            name: name.to_owned(),
            reason: format!("dims promise {numel} elements of {N} bytes, raw_data holds {} bytes", raw.len()),
        });
    }
    Ok(raw
        .chunks_exact(N)
        .map(|c| {
            let mut bytes = [0u8; N];
            bytes.copy_from_slice(c);
            read(bytes)
        })
        .collect())
}
