//! The error type of `syft-spdz`.

use syft_ring::RingError;
use syft_share::{PartyId, ShareError};

/// Everything that can go wrong in a SPDZ protocol or at the dealer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpdzError {
    /// A tensor operation failed (shapes, axes, payloads).
    #[error(transparent)]
    Ring(#[from] RingError),
    /// Fixed-point encoding failed (precision mismatch, value out of range).
    #[error(transparent)]
    Fixed(#[from] syft_fixed::FixedError),
    /// Sharing or communication failed (a peer disconnected, timed out, sent garbage).
    #[error(transparent)]
    Share(#[from] ShareError),
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
    /// A protocol needs at least two computing parties.
    #[error("at least 2 computing parties are needed, got {parties}")]
    TooFewParties {
        /// The number given.
        parties: usize,
    },
    /// The endpoint running a party-local protocol is not one of the computing parties.
    #[error("endpoint {endpoint} is not one of the computing parties")]
    NotAParty {
        /// The endpoint.
        endpoint: PartyId,
    },
    /// The last party needs the dealer's correction for request `req` and has none.
    #[error("request {req}: the last party needs the dealer's correction")]
    MissingCorrection {
        /// The request number.
        req: u64,
    },
    /// The material source returned a different kind of material than the protocol needs.
    #[error("the material source did not return a {expected}")]
    WrongMaterial {
        /// What was expected.
        expected: &'static str,
    },
    /// Preprocessed material was planned for a different request.
    #[error("request {req}: preprocessed material is for {planned}, but the protocol asked for {asked}")]
    UnplannedRequest {
        /// The request number.
        req: u64,
        /// What was planned.
        planned: String,
        /// What was asked.
        asked: String,
    },
    /// Preprocessed material ran out.
    #[error("no preprocessed material left for {asked}")]
    Exhausted {
        /// What was asked.
        asked: String,
    },
    /// The dealer sent a seed of the wrong length.
    #[error("seed from endpoint {from} has {len} bytes, expected 16")]
    BadSeed {
        /// The sender.
        from: PartyId,
        /// The length received.
        len: usize,
    },
    /// An argument is out of range.
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`SpdzError`].
pub type Result<T, E = SpdzError> = std::result::Result<T, E>;
