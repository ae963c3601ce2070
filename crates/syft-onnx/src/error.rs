//! The error type of `syft-onnx`: every way a model file can be unreadable, malformed or
//! beyond what the importer supports, with the operator, node and opset involved.

use std::path::PathBuf;

/// Everything that can go wrong importing an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something exceeds a [`Limits`](crate::Limits) bound (checked before allocating).
    #[error("{what} is {size}, over the limit of {limit}")]
    TooLarge {
        /// What was measured (the model file, a tensor's element count, ...).
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The bytes are not a protobuf-encoded `ModelProto` (truncated, garbage, ...).
    #[error("not an ONNX model: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The model decodes but breaks ONNX's rules (a required field missing, a
    /// duplicated name, an attribute of the wrong type, ...).
    #[error("malformed ONNX model: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// An operator the importer does not translate.
    #[error("unsupported operator `{op_type}` (domain `{domain}`) at node `{node}` (opset {opset})")]
    UnsupportedOperator {
        /// The operator, e.g. `Tanh`.
        op_type: String,
        /// Its domain (`ai.onnx` for the standard operators).
        domain: String,
        /// The node's name (or `#index` for an unnamed node).
        node: String,
        /// The model's opset for the default domain.
        opset: i64,
    },
    /// An attribute value (or attribute) of a supported operator that the importer does not
    /// translate, e.g. a grouped convolution or Gemm with `alpha != 1`.
    #[error("`{op_type}` node `{node}` (opset {opset}): unsupported attribute `{attribute}`: {reason}")]
    UnsupportedAttribute {
        /// The operator.
        op_type: String,
        /// The node's name.
        node: String,
        /// The attribute.
        attribute: String,
        /// What about it is not supported.
        reason: String,
        /// The model's opset for the default domain.
        opset: i64,
    },
    /// A supported operator used in a way the importer does not translate, e.g. `Softmax`
    /// before the last layer or a batch norm that follows no convolution or linear layer.
    #[error("`{op_type}` node `{node}` (opset {opset}): {reason}")]
    UnsupportedUse {
        /// The operator.
        op_type: String,
        /// The node's name.
        node: String,
        /// What is not supported.
        reason: String,
        /// The model's opset for the default domain.
        opset: i64,
    },
    /// The graph is not a single chain from one input to one output (a branch, a
    /// residual connection, several inputs or outputs, ...).
    #[error("the graph is not a chain: {reason}")]
    NotAChain {
        /// Where it branches or merges.
        reason: String,
    },
    /// A node's weight input names no initializer or constant.
    #[error("`{op_type}` node `{node}`: input `{input}` is not an initializer or a constant")]
    MissingInitializer {
        /// The operator.
        op_type: String,
        /// The node's name.
        node: String,
        /// The input's name.
        input: String,
    },
    /// A tensor whose dims and data disagree, or whose dims are invalid.
    #[error("tensor `{name}`: {reason}")]
    BadTensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor element type the importer does not read (weights must be float or double,
    /// shapes int64 or int32).
    #[error("tensor `{name}`: unsupported element type {data_type}")]
    UnsupportedDataType {
        /// The tensor's (or the graph input's) name.
        name: String,
        /// The ONNX type, e.g. `INT8`.
        data_type: String,
    },
    /// Shapes do not fit together: a weight against the data flowing into its node, or
    /// the graph's declared output against what the layers produce.
    #[error("`{op_type}` node `{node}`: {reason}")]
    Shape {
        /// The operator.
        op_type: String,
        /// The node's name.
        node: String,
        /// The mismatch.
        reason: String,
    },
    /// An input given to [`OnnxModel::forward_tensor`](crate::OnnxModel::forward_tensor)
    /// does not have the model's input shape.
    #[error("input of shape {got:?} for a model whose input is {expected:?} (None: any size)")]
    InputShape {
        /// The model's input shape (`None` for a symbolic dimension).
        expected: Vec<Option<usize>>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A layer that [`export`](crate::export) cannot write as ONNX (or cannot write
    /// for the data that reaches it).
    #[error("cannot export layer `{layer}`: {reason}")]
    Export {
        /// The layer's name (its index in the sequence, `0`, `1.2`, ...).
        layer: String,
        /// Why.
        reason: String,
    },
    /// A syft-nn module could not be built or run.
    #[error(transparent)]
    Nn(#[from] syft_nn::Error),
    /// A tensor operation of the `Cpu` backend failed.
    #[error(transparent)]
    Autograd(#[from] syft_autograd::Error),
    /// A tensor could not be built.
    #[error(transparent)]
    Ring(#[from] syft_ring::RingError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
