//! The error type of `syft-worker`.

use serde::{Deserialize, Serialize};

/// Why a remote request failed, as carried back in a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RemoteErrorKind {
    /// The object id is not in the worker's store.
    UnknownObject,
    /// The object has the wrong kind for the request (e.g. a pointer where a tensor is needed).
    WrongKind,
    /// Operands live on different workers.
    LocationMismatch,
    /// The computation itself failed (shapes, ranges).
    Compute,
    /// The request could not be decoded or is not allowed.
    BadRequest,
    /// A worker this request needed is unknown or unreachable.
    Unreachable,
    /// A multi-party protocol failed (a peer disconnected, timed out, misbehaved).
    Protocol,
    /// The caller may not do this (not the owner, not granted, not delegated, not a
    /// client or peer this worker serves).
    Forbidden,
    /// The request is past one of the worker's configured limits (the message names it).
    LimitExceeded,
    /// The worker hit a bug while serving this request; the request failed, the worker
    /// goes on serving.
    Internal,
}

/// An error reported by a remote worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct RemoteError {
    /// The class of failure.
    pub kind: RemoteErrorKind,
    /// A human-readable description.
    pub message: String,
}

impl RemoteError {
    /// A remote error of `kind`.
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
}

/// Everything that can go wrong with workers and pointers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// A worker answered with an error.
    #[error("worker {worker}: {error}")]
    Remote {
        /// The worker that answered.
        worker: String,
        /// What it said.
        error: RemoteError,
    },
    /// An operation combined pointers to different workers.
    #[error("{op}: operands live on different workers ({lhs} and {rhs})")]
    LocationMismatch {
        /// The operation.
        op: &'static str,
        /// Location of the first operand.
        lhs: String,
        /// Location of the other operand.
        rhs: String,
    },
    /// A worker is not known to this process.
    #[error("unknown worker {0:?}")]
    UnknownWorker(String),
    /// A worker id is already taken.
    #[error("a worker named {0:?} already exists")]
    DuplicateWorker(String),
    /// The transport to a worker failed (it stopped, the connection broke).
    #[error("transport to worker {worker}: {reason}")]
    Transport {
        /// The worker.
        worker: String,
        /// What happened.
        reason: String,
    },
    /// A message could not be encoded or decoded.
    #[error("message codec: {0}")]
    Codec(String),
    /// A response did not match the request.
    #[error("unexpected response from {worker} to {request}: {response}")]
    UnexpectedResponse {
        /// The worker.
        worker: String,
        /// The request kind.
        request: &'static str,
        /// The response received.
        response: String,
    },
    /// The pointer was already consumed (its object was fetched or moved).
    #[error("pointer to object {id} at {location} was already consumed")]
    Consumed {
        /// The object id at the location.
        id: u64,
        /// The location.
        location: String,
    },
    /// Operands of a shared operation have different fixed-point precisions (or one is
    /// fixed point and the other a raw ring tensor).
    #[error("{op}: operands have different precisions ({lhs} and {rhs})")]
    PrecisionMismatch {
        /// The operation.
        op: &'static str,
        /// Encoder of the first operand.
        lhs: String,
        /// Encoder of the other operand.
        rhs: String,
    },
    /// A tensor operation failed locally.
    #[error(transparent)]
    Ring(#[from] syft_ring::RingError),
    /// Autograd failed locally.
    #[error(transparent)]
    Autograd(#[from] syft_autograd::Error),
    /// Fixed-point encoding failed.
    #[error(transparent)]
    Fixed(#[from] syft_fixed::FixedError),
    /// Sharing failed.
    #[error(transparent)]
    Share(#[from] syft_share::ShareError),
    /// A protocol failed locally.
    #[error(transparent)]
    Spdz(#[from] syft_spdz::SpdzError),
    /// Invalid use of the API.
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`WorkerError`].
pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
