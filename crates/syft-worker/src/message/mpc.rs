//! The multi-party requests a member of a session receives ([`MpcRequest`]), with the
//! roles and channel descriptions they carry: plain data, served by
//! [`crate::mpc`] on workers and sent by [`crate::shared`] on the client.

use super::ObjectId;
use crate::ops::MpcOp;
use serde::{Deserialize, Serialize};

/// A member's role in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Computing party `index` (0-based; party 0 adds public constants).
    Party(usize),
    /// The crypto provider.
    Dealer,
}

/// How a member of a session obtains its channels to the other members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Channels {
    /// In-process endpoints left in the [`Hub`](crate::Hub) by whoever created the session.
    InProcess,
    /// Direct network connections: `peers[i]` is where endpoint `i` (parties first, then
    /// the crypto provider) accepts connections from its peers. The worker's hub opens
    /// them with its [`SessionConnector`](crate::transport::SessionConnector).
    Network {
        /// Peer addresses, by endpoint index.
        peers: Vec<String>,
    },
}

/// A multi-party request to one member of a session.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MpcRequest {
    /// Join `session` in `role` with channels to the other members. Parties receive
    /// their seeds from the dealer; the dealer sends them.
    Join {
        /// The session.
        session: u64,
        /// This member's role.
        role: Role,
        /// Number of computing parties (the dealer is endpoint `parties`).
        parties: usize,
        /// How to reach the other members.
        channels: Channels,
    },
    /// Leave `session`, dropping its channels and caches.
    Leave {
        /// The session.
        session: u64,
    },
    /// Run `op` on this party's shares `args` and store the result shares under
    /// `results` (one id per output; the dealer ignores `args` and `results` and serves
    /// the material, or takes the helper's part in SecureNN protocols).
    Run {
        /// The session.
        session: u64,
        /// The operation.
        op: MpcOp,
        /// Operand share ids on this worker.
        args: Vec<ObjectId>,
        /// Where to store the result shares.
        results: Vec<ObjectId>,
    },
    /// Forget cached openings under `key` (the tensor they belong to is gone).
    Forget {
        /// The session.
        session: u64,
        /// The cache key.
        key: u64,
    },
    /// This member's communication counters in `session` (as a [`Response::Info`](crate::Response::Info) is not
    /// enough, they come back as a ring tensor: payload bytes sent, rounds).
    Stats {
        /// The session.
        session: u64,
    },
}

impl MpcRequest {
    /// The session the request is about.
    #[must_use]
    pub fn session(&self) -> Option<u64> {
        match self {
            Self::Join { session, .. }
            | Self::Leave { session }
            | Self::Run { session, .. }
            | Self::Forget { session, .. }
            | Self::Stats { session } => Some(*session),
        }
    }
}
