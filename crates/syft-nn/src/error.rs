//! The error type of `syft-nn`.

use std::path::PathBuf;
use syft_ring::RingError;

/// Everything that can go wrong loading data and weights, or building modules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation failed.
    #[error(transparent)]
    Ring(#[from] RingError),
    /// An autograd or `Cpu` backend operation failed.
    #[error(transparent)]
    Autograd(#[from] syft_autograd::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A gzip stream is corrupt.
    #[error("{path}: bad gzip stream: {source}")]
    Decompress {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// An IDX file does not start with the expected magic number.
    #[error("{path}: bad IDX magic {found:#010x}, expected {expected:#010x}")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number for this kind of file.
        expected: u32,
        /// The number found.
        found: u32,
    },
    /// An IDX file ends before its header says it should.
    #[error("{path}: truncated: the header promises {expected} bytes, the file has {got}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises (header included).
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// A label is not a digit 0..=9.
    #[error("{path}: label {label} at index {index} is not a digit")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// The position of the label.
        index: usize,
        /// The value found.
        label: u8,
    },
    /// Image and label files disagree on the number of examples.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A data file is absent from the data directory.
    #[error("{path} not found (MNIST needs {file} in the data directory)")]
    MissingFile {
        /// The path looked for.
        path: PathBuf,
        /// The file name expected.
        file: &'static str,
    },
    /// A safetensors file is malformed.
    #[error("safetensors: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
    /// A parameter of the module is absent from the weights.
    #[error("weights lack parameter `{name}`")]
    MissingParameter {
        /// The parameter's name (PyTorch style, e.g. `0.weight`).
        name: String,
    },
    /// The weights hold a tensor the module has no parameter for.
    #[error("weights hold `{name}`, which the module has no parameter for")]
    UnexpectedParameter {
        /// The tensor's name.
        name: String,
    },
    /// A stored tensor's shape differs from the parameter's.
    #[error("parameter `{name}`: stored shape {stored:?}, module expects {expected:?}")]
    ParameterShape {
        /// The parameter's name.
        name: String,
        /// The shape the module has.
        expected: Vec<usize>,
        /// The shape stored.
        stored: Vec<usize>,
    },
    /// A stored tensor has a dtype we do not read.
    #[error("parameter `{name}`: unsupported dtype {dtype} (F32 and F64 are read)")]
    UnsupportedDtype {
        /// The parameter's name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// An argument is invalid.
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
