//! The error type of `syft-securenn`.

use syft_ring::RingError;
use syft_share::{PartyId, ShareError};
use syft_spdz::SpdzError;

/// Everything that can go wrong in a SecureNN protocol, at a computing party or at the
/// helper.
///
/// Argument errors (shapes, axes, window sizes, parameters) are detected before any
/// message is sent, at the parties and at the helper alike, so a rejected call leaves the
/// session usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurennError {
    /// A multiplication or dealer request failed.
    #[error(transparent)]
    Spdz(#[from] SpdzError),
    /// Communication failed (a peer disconnected, timed out, or sent a malformed message).
    #[error(transparent)]
    Share(#[from] ShareError),
    /// A tensor operation failed.
    #[error(transparent)]
    Ring(#[from] RingError),
    /// Operand shapes do not fit the protocol.
    #[error("{op}: incompatible shapes {lhs:?} and {rhs:?}")]
    ShapeMismatch {
        /// The protocol.
        op: &'static str,
        /// Left operand shape.
        lhs: Vec<usize>,
        /// Right operand shape.
        rhs: Vec<usize>,
    },
    /// An argument is out of range (axis, window, divisor, number of quotient bits ...).
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The protocol.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// SecureNN runs with exactly two computing parties.
    #[error("SecureNN needs exactly 2 computing parties, got {parties}")]
    NotTwoParties {
        /// The number of computing parties given.
        parties: usize,
    },
    /// The helper endpoint is missing from the network or is one of the computing parties.
    #[error("endpoint {helper} cannot be the helper (network of {endpoints} endpoints, parties {parties:?})")]
    BadHelper {
        /// The helper endpoint given.
        helper: PartyId,
        /// Number of endpoints in the network.
        endpoints: usize,
        /// The computing parties' endpoints.
        parties: Vec<PartyId>,
    },
    /// The party's material source has no online dealer (e.g. preprocessed material): the
    /// helper protocols need a [`DealerLink`](syft_spdz::DealerLink), which holds the seed
    /// shared with the helper and keeps the request counter in step with it.
    #[error("the material source has no online helper: SecureNN needs a DealerLink")]
    NoOnlineHelper,
    /// The common seed `k_01` received at session start has the wrong length.
    #[error("session start: common seed from endpoint {from} has {len} bytes, expected 16")]
    BadSeed {
        /// The sender.
        from: PartyId,
        /// The length received.
        len: usize,
    },
}

/// `Result` with [`SecurennError`].
pub type Result<T, E = SecurennError> = std::result::Result<T, E>;

/// Shape-mismatch error helper.
pub(crate) fn shape_mismatch(op: &'static str, lhs: &[usize], rhs: &[usize]) -> SecurennError {
    SecurennError::ShapeMismatch { op, lhs: lhs.to_vec(), rhs: rhs.to_vec() }
}

/// Invalid-argument error helper.
pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> SecurennError {
    SecurennError::InvalidArgument { op, reason: reason.into() }
}
