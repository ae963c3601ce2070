//! The entry points: [`load`] a file or import [`from_bytes`], each with default or
//! given [`Limits`].

use crate::convert;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::OnnxModel;
use crate::proto::ModelProto;
use prost::Message;
use std::io::Read;
use std::path::Path;

/// Reads and imports the ONNX model at `path`, with the default [`Limits`].
pub fn load(path: impl AsRef<Path>) -> Result<OnnxModel> {
    load_with_limits(path, &Limits::default())
}

/// Reads and imports the ONNX model at `path`; a file larger than
/// `limits.max_model_bytes` is refused before it is read.
pub fn load_with_limits(path: impl AsRef<Path>, limits: &Limits) -> Result<OnnxModel> {
    let path = path.as_ref();
    let io = |source| Error::Io { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    check_size(size, limits)?;
    // The file may grow between the two looks: read at most one byte past the limit.
    let mut bytes = Vec::new();
    file.take(limits.max_model_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    from_bytes_with_limits(&bytes, limits)
}

/// Imports an ONNX model from its serialized bytes, with the default [`Limits`].
pub fn from_bytes(bytes: &[u8]) -> Result<OnnxModel> {
    from_bytes_with_limits(bytes, &Limits::default())
}

/// Imports an ONNX model from its serialized bytes.
pub fn from_bytes_with_limits(bytes: &[u8], limits: &Limits) -> Result<OnnxModel> {
    check_size(bytes.len() as u64, limits)?;
    let model = ModelProto::decode(bytes)?;
    convert::convert(&model, limits)
}

fn check_size(size: u64, limits: &Limits) -> Result<()> {
    if size > limits.max_model_bytes {
        return Err(Error::TooLarge { what: "the model file".into(), size, limit: limits.max_model_bytes });
    }
    Ok(())
}
