//! The error type of `syft-ring`.

/// Everything that can go wrong with ring tensors: bad shapes, axes, indices and payloads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RingError {
    /// Two operand shapes are incompatible for `op`.
    #[error("{op}: incompatible shapes {lhs:?} and {rhs:?}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Left operand shape.
        lhs: Vec<usize>,
        /// Right operand shape.
        rhs: Vec<usize>,
    },
    /// The number of elements does not match the requested shape.
    #[error("{op}: shape {shape:?} needs {expected} elements, got {got}")]
    ElementCount {
        /// The operation.
        op: &'static str,
        /// The requested shape.
        shape: Vec<usize>,
        /// Elements the shape needs.
        expected: usize,
        /// Elements supplied.
        got: usize,
    },
    /// A shape's element count does not fit in `usize`: the product of its non-zero
    /// dimensions overflows (shapes from the network are checked with
    /// [`checked_numel`](crate::tensor::checked_numel) before anything is allocated).
    #[error("{op}: the element count of shape {shape:?} overflows usize")]
    ShapeOverflow {
        /// The operation.
        op: &'static str,
        /// The offending shape (for window operations, the geometry that overflowed).
        shape: Vec<usize>,
    },
    /// Window geometry (input size, padding, window, stride) whose arithmetic overflows
    /// `usize`, such as `h + 2·padding`.
    #[error(
        "{op}: window geometry overflows usize: input {input:?}, window {window:?}, stride {stride:?}, padding {padding:?}"
    )]
    WindowOverflow {
        /// The operation.
        op: &'static str,
        /// The spatial input size `(h, w)`.
        input: (usize, usize),
        /// The window (kernel) size `(kh, kw)`.
        window: (usize, usize),
        /// The stride.
        stride: (usize, usize),
        /// The padding.
        padding: (usize, usize),
    },
    /// The allocator could not provide the buffer of a tensor (too large for this host).
    #[error("{op}: cannot allocate {elements} elements")]
    Allocation {
        /// The operation.
        op: &'static str,
        /// The number of elements requested.
        elements: usize,
    },
    /// An axis is out of range for a tensor of rank `rank`.
    #[error("{op}: axis {axis} out of range for a tensor of rank {rank}")]
    AxisOutOfRange {
        /// The operation.
        op: &'static str,
        /// The axis given.
        axis: usize,
        /// The tensor's rank.
        rank: usize,
    },
    /// An index or range is out of bounds.
    #[error("{op}: index {index} out of bounds for dimension of size {size}")]
    IndexOutOfBounds {
        /// The operation.
        op: &'static str,
        /// The index given.
        index: usize,
        /// The dimension size.
        size: usize,
    },
    /// A tensor has the wrong rank for an operation.
    #[error("{op}: expected a tensor of rank {expected}, got shape {shape:?}")]
    RankMismatch {
        /// The operation.
        op: &'static str,
        /// The rank required (a description such as "2" or ">= 2").
        expected: &'static str,
        /// The shape supplied.
        shape: Vec<usize>,
    },
    /// Invalid parameters such as a zero stride or an empty window.
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A serialized payload is malformed (wrong length, non-canonical element, ...).
    #[error("decode {element} tensor: {reason}")]
    Decode {
        /// The element type.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The operating system's entropy source failed.
    #[error("system entropy unavailable: {0}")]
    Entropy(String),
}

/// `Result` with [`RingError`].
pub type Result<T, E = RingError> = std::result::Result<T, E>;
