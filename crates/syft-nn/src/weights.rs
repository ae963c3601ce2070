//! Saving and loading weights in the safetensors format, with PyTorch's names.
//!
//! A `state_dict` saved from PyTorch (`safetensors.torch.save_file(model.state_dict(),
//! path)`) loads into the same architecture built here, and ours loads there:
//! `nn.Sequential` names its parameters `0.weight`, `0.bias`, ..., `nn.Linear` stores its
//! weight as `[out, in]` and `nn.Conv2d` as `[out, in, kh, kw]`, exactly our layouts.
//! `F32` and `F64` tensors are read (converted to the module's element type).

use crate::error::{Error, Result};
use crate::module::Module;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use syft_autograd::{Cpu, CpuFloat};
use syft_ring::{Float, Tensor};

/// Element types weights are stored as.
pub trait WeightElement: CpuFloat {
    /// The safetensors dtype.
    const DTYPE: Dtype;
}

impl WeightElement for f32 {
    const DTYPE: Dtype = Dtype::F32;
}

impl WeightElement for f64 {
    const DTYPE: Dtype = Dtype::F64;
}

/// The module's parameters as safetensors bytes, in its own element type.
pub fn to_safetensors_bytes<T: WeightElement, M: Module<Cpu<T>>>(module: &M) -> Result<Vec<u8>> {
    let named: Vec<(String, Vec<usize>, Vec<u8>)> = module
        .named_parameters()
        .into_iter()
        .map(|(name, var)| {
            let value = var.value();
            let mut bytes = vec![0u8; value.len() * T::BYTES];
            for (chunk, &x) in bytes.chunks_exact_mut(T::BYTES).zip(value.data()) {
                x.write_le(chunk);
            }
            (name, value.shape().to_vec(), bytes)
        })
        .collect();
    let mut views = BTreeMap::new();
    for (name, shape, bytes) in &named {
        views.insert(name.as_str(), TensorView::new(T::DTYPE, shape.clone(), bytes)?);
    }
    Ok(safetensors::serialize(views, None)?)
}

/// Saves the module's parameters to a safetensors file.
pub fn save_safetensors<T: WeightElement, M: Module<Cpu<T>>>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_safetensors_bytes(module)?;
    std::fs::write(path, bytes).map_err(|source| Error::Io { path: path.to_owned(), source })
}

/// Loads parameters from safetensors bytes into the module, by name.
///
/// Strict, as PyTorch's `load_state_dict`: every parameter must be present with its
/// shape, and no tensor may be left over. Nothing is changed unless all of them fit.
pub fn load_safetensors_bytes<T: WeightElement, M: Module<Cpu<T>>>(module: &M, bytes: &[u8]) -> Result<()> {
    let file = SafeTensors::deserialize(bytes)?;
    let params = module.named_parameters();
    let mut staged = Vec::with_capacity(params.len());
    for (name, var) in &params {
        let view = file.tensor(name).map_err(|_| Error::MissingParameter { name: name.clone() })?;
        let expected = var.shape();
        if view.shape() != expected.as_slice() {
            return Err(Error::ParameterShape { name: name.clone(), expected, stored: view.shape().to_vec() });
        }
        staged.push(decode::<T>(name, &view)?);
    }
    let known: BTreeSet<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(extra) = file.names().into_iter().find(|n| !known.contains(n)) {
        return Err(Error::UnexpectedParameter { name: extra.to_owned() });
    }
    for ((_, var), value) in params.iter().zip(staged) {
        var.set_value(value);
    }
    Ok(())
}

/// Loads parameters from a safetensors file into the module (see
/// [`load_safetensors_bytes`]).
pub fn load_safetensors<T: WeightElement, M: Module<Cpu<T>>>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    load_safetensors_bytes(module, &bytes)
}

fn decode<T: Float>(name: &str, view: &TensorView<'_>) -> Result<Tensor<T>> {
    let data = view.data();
    let values: Vec<T> = match view.dtype() {
        Dtype::F32 => {
            data.chunks_exact(4).map(|c| T::from_f64(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))).collect()
        }
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| T::from_f64(f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])))
            .collect(),
        other => return Err(Error::UnsupportedDtype { name: name.to_owned(), dtype: format!("{other:?}") }),
    };
    Ok(Tensor::new(view.shape(), values)?)
}
