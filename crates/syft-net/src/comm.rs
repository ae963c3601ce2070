//! [`NetComm`]: one party's channels to the other members of a session, over TCP or TLS.
//!
//! Each channel is one connection carrying frames ([`crate::frame`]); every
//! [`Comm::send_bytes`] message is one frame. Sending queues the frame for the
//! connection's writer thread and returns at once; receiving waits at most the
//! endpoint's timeout. [`PeerNetwork::open`](crate::PeerNetwork::open) builds one.
//!
//! # Failing fast
//!
//! An endpoint that loses a peer (its connection closes or breaks) or times out waiting
//! for one closes *all* its channels. In a session every protocol involves every member,
//! so the session cannot go on; closing tells the other members at once, instead of
//! leaving them blocked until their own timeouts. When a party process dies in the
//! middle of a protocol, its peers fail with [`ShareError::Disconnected`], and so, in a
//! cascade, does every member waiting on them.

use crate::error::NetError;
use crate::link::{FrameRx, FrameTx};
use std::time::Duration;
use syft_share::{Comm, CommStats, PartyId, ShareError};

/// The default receive timeout of party-to-party channels.
pub const DEFAULT_RECV_TIMEOUT: Duration = Duration::from_secs(20);

/// A session endpoint over network connections (see the [module docs](self)).
pub struct NetComm {
    id: PartyId,
    /// `links[j]`: the connection to member `j` (`None` for this endpoint itself).
    links: Vec<Option<(FrameTx, FrameRx)>>,
    timeout: Option<Duration>,
    /// How long a receive polls the reader thread's queue before it sleeps.
    spin: Duration,
    stats: CommStats,
}

impl std::fmt::Debug for NetComm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let peers: Vec<&str> = self.links.iter().flatten().map(|(tx, _)| tx.peer()).collect();
        f.debug_struct("NetComm")
            .field("id", &self.id)
            .field("peers", &peers)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl NetComm {
    pub(crate) fn new(id: PartyId, links: Vec<Option<(FrameTx, FrameRx)>>, timeout: Option<Duration>) -> Self {
        let stats = CommStats::new(links.len());
        Self { id, links, timeout, spin: syft_share::DEFAULT_SPIN, stats }
    }

    /// The receive timeout (`None`: wait forever).
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets the receive timeout (`None`: wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// How long a receive polls for a frame the connection's reader thread has queued
    /// before it sleeps ([`syft_share::DEFAULT_SPIN`] unless changed; see
    /// [`syft_share::memory`]).
    #[must_use]
    pub fn spin(&self) -> Duration {
        self.spin
    }

    /// Sets how long a receive polls before it sleeps (`Duration::ZERO`: it sleeps at once).
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    fn link(&self, op: &'static str, peer: PartyId) -> syft_share::Result<&(FrameTx, FrameRx)> {
        if peer >= self.links.len() {
            return Err(ShareError::UnknownParty { op, party: peer, parties: self.links.len() });
        }
        if peer == self.id {
            return Err(ShareError::SelfMessage { op, party: peer });
        }
        self.links[peer].as_ref().ok_or(ShareError::Disconnected { party: self.id, peer })
    }

    /// Turns a channel failure into a `ShareError` and closes every channel (see the
    /// [module docs](self)).
    fn fail(&mut self, peer: PartyId, e: NetError) -> ShareError {
        let err = match e {
            NetError::Disconnected { .. } => ShareError::Disconnected { party: self.id, peer },
            NetError::Timeout { after, .. } => ShareError::Timeout { party: self.id, peer, after },
            NetError::FrameTooLarge { .. } => {
                // Refused before it was queued: the channel is still in step.
                return ShareError::Transport { party: self.id, peer, reason: e.to_string() };
            }
            other => ShareError::Transport { party: self.id, peer, reason: other.to_string() },
        };
        if self.links.iter().any(Option::is_some) {
            tracing::debug!(party = self.id, peer, error = %err, "closing every channel of this session endpoint");
            for link in &mut self.links {
                *link = None;
            }
        }
        err
    }
}

impl Comm for NetComm {
    fn id(&self) -> PartyId {
        self.id
    }

    fn parties(&self) -> usize {
        self.links.len()
    }

    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> syft_share::Result<()> {
        let (tx, _) = self.link("send_bytes", to)?;
        match tx.send(Vec::new(), payload) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(to, e)),
        }
    }

    fn recv_bytes(&mut self, from: PartyId) -> syft_share::Result<Vec<u8>> {
        let (_, rx) = self.link("recv_bytes", from)?;
        match rx.recv_polling(self.spin, self.timeout) {
            Ok(bytes) => Ok(bytes),
            Err(e) => Err(self.fail(from, e)),
        }
    }

    fn stats(&self) -> &CommStats {
        &self.stats
    }

    fn stats_mut(&mut self) -> &mut CommStats {
        &mut self.stats
    }
}
