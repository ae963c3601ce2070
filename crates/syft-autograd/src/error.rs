//! The error type of `syft-autograd`.

use syft_ring::RingError;

/// Everything that can go wrong in the autograd layer itself, plus the ring errors of the
/// plaintext [`Cpu`](crate::Cpu) backend.
///
/// A backend's own error type must convert from this one (`From<Error>`), so that graph
/// errors (backward from a non-scalar, a freed graph) surface through any backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation of `syft-ring` failed (bad shapes, axes, ...).
    #[error(transparent)]
    Ring(#[from] RingError),
    /// `backward()` without an explicit seed needs a one-element output.
    #[error("{op}: gradient can be implicitly created only for a one-element output, got shape {shape:?}")]
    NotScalar {
        /// The operation.
        op: &'static str,
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// `backward` was called on a value that does not require gradients.
    #[error("{op}: the value does not require gradients (no graph was recorded)")]
    NoGraph {
        /// The operation.
        op: &'static str,
    },
    /// The graph through this node was already consumed by an earlier `backward`.
    #[error("{op}: the graph through node `{node}` was freed by an earlier backward; rebuild it")]
    GraphFreed {
        /// The operation.
        op: &'static str,
        /// The operation that created the freed node.
        node: &'static str,
    },
    /// A backward function returned the wrong number of gradients (a bug in an op).
    #[error("{op}: backward produced {got} gradients for {expected} inputs")]
    GradientCount {
        /// The operation.
        op: &'static str,
        /// Inputs of the node.
        expected: usize,
        /// Gradients returned.
        got: usize,
    },
    /// An argument is invalid for `op`.
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
