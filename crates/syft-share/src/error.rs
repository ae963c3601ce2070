//! The error type of `syft-share`.

use crate::comm::PartyId;
use std::time::Duration;
use syft_ring::RingError;

/// Everything that can go wrong when sharing, reconstructing or communicating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareError {
    /// A ring tensor operation failed (shapes, axes, payload decoding).
    #[error(transparent)]
    Ring(#[from] RingError),
    /// An operation needs more parties than it was given.
    #[error("{op}: needs at least {min} parties, got {parties}")]
    TooFewParties {
        /// The operation.
        op: &'static str,
        /// Parties supplied.
        parties: usize,
        /// The minimum.
        min: usize,
    },
    /// A party index is not an endpoint of this network.
    #[error("{op}: party {party} does not exist (the network has {parties} endpoints)")]
    UnknownParty {
        /// The operation.
        op: &'static str,
        /// The party index given.
        party: PartyId,
        /// Number of endpoints.
        parties: usize,
    },
    /// A party tried to send a message to itself or receive one from itself.
    #[error("{op}: party {party} cannot message itself")]
    SelfMessage {
        /// The operation.
        op: &'static str,
        /// The party.
        party: PartyId,
    },
    /// A party appears twice in a list of peers.
    #[error("{op}: party {party} is listed twice")]
    DuplicateParty {
        /// The operation.
        op: &'static str,
        /// The repeated party.
        party: PartyId,
    },
    /// This endpoint is not among the parties an operation involves.
    #[error("{op}: party {party} does not take part")]
    NotAParticipant {
        /// The operation.
        op: &'static str,
        /// This endpoint's index.
        party: PartyId,
    },
    /// Shares (or a received share) do not have the expected shape.
    #[error("{op}: party {party}'s share has shape {got:?}, expected {expected:?}")]
    ShareShape {
        /// The operation.
        op: &'static str,
        /// The party whose share disagrees.
        party: PartyId,
        /// The shape expected.
        expected: Vec<usize>,
        /// The shape found.
        got: Vec<usize>,
    },
    /// The channel to a peer is closed (the peer hung up or its endpoint was dropped).
    #[error("party {party}: the channel to party {peer} is closed")]
    Disconnected {
        /// This endpoint.
        party: PartyId,
        /// The peer.
        peer: PartyId,
    },
    /// No message arrived from a peer within the endpoint's timeout.
    #[error("party {party}: no message from party {peer} within {after:?}")]
    Timeout {
        /// This endpoint.
        party: PartyId,
        /// The peer waited for.
        peer: PartyId,
        /// The timeout that expired.
        after: Duration,
    },
    /// A received message is malformed (bad header, wrong element type, bad payload).
    #[error("party {party}: malformed message from party {from}: {reason}")]
    BadMessage {
        /// This endpoint.
        party: PartyId,
        /// The sender.
        from: PartyId,
        /// What is wrong.
        reason: String,
    },
    /// A received message belongs to another request than the one this endpoint is at
    /// (docs/PROTOCOLS.md §2.2): the parties have fallen out of step.
    #[error("party {party}: message from party {from} is for request {got}, but this party is at request {expected}")]
    OutOfStep {
        /// This endpoint.
        party: PartyId,
        /// The sender.
        from: PartyId,
        /// This endpoint's current request number.
        expected: u64,
        /// The request number in the message.
        got: u64,
    },
    /// A transport-level failure in a `Comm` implementation (I/O, TLS, ...).
    #[error("party {party}: transport failure with party {peer}: {reason}")]
    Transport {
        /// This endpoint.
        party: PartyId,
        /// The peer.
        peer: PartyId,
        /// What failed.
        reason: String,
    },
    /// A party's closure panicked in a [`run_parties`](crate::run_parties) harness.
    #[error("party {party} panicked: {message}")]
    PartyPanicked {
        /// The party that panicked first.
        party: PartyId,
        /// The panic message.
        message: String,
    },
    /// A party thread could not be started.
    #[error("party {party}: cannot spawn a thread: {reason}")]
    Spawn {
        /// The party.
        party: PartyId,
        /// The operating system's error.
        reason: String,
    },
    /// An argument is invalid (e.g. a statistics helper given no data).
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`ShareError`].
pub type Result<T, E = ShareError> = std::result::Result<T, E>;
