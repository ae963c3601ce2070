//! An in-memory [`Comm`]: one endpoint per thread, connected by std channels.
//!
//! [`InMemoryNetwork::new`] returns one [`InMemoryComm`] per party; move each into its own
//! thread (or use [`run_parties`](crate::run_parties)). Sends never block (channels are
//! unbounded). Receives wait at most the endpoint's timeout ([`DEFAULT_TIMEOUT`] unless
//! changed), then return [`ShareError::Timeout`]; a dropped peer gives
//! [`ShareError::Disconnected`] once its queued messages are drained.

use crate::comm::{Comm, CommStats, PartyId};
use crate::error::{Result, ShareError};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The receive timeout of new in-memory endpoints.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A factory for fully connected in-memory networks.
#[derive(Debug, Clone, Copy)]
pub struct InMemoryNetwork;

impl InMemoryNetwork {
    /// A network of `parties` endpoints with the default receive timeout; endpoint `i` has id `i`.
    #[allow(clippy::new_ret_no_self, reason = "a network is the set of its endpoints")]
    #[must_use]
    pub fn new(parties: usize) -> Vec<InMemoryComm> {
        Self::with_timeout(parties, Some(DEFAULT_TIMEOUT))
    }

    /// A network whose endpoints wait at most `timeout` for a message (`None`: forever).
    #[must_use]
    pub fn with_timeout(parties: usize, timeout: Option<Duration>) -> Vec<InMemoryComm> {
        // senders[i][j] / receivers[j][i]: the channel from i to j.
        let mut senders: Vec<Vec<Option<Sender<Vec<u8>>>>> = (0..parties).map(|_| vec![None; parties]).collect();
        let mut receivers: Vec<Vec<Option<Receiver<Vec<u8>>>>> =
            (0..parties).map(|_| (0..parties).map(|_| None).collect()).collect();
        for i in 0..parties {
            for j in 0..parties {
                if i != j {
                    let (tx, rx) = mpsc::channel();
                    senders[i][j] = Some(tx);
                    receivers[j][i] = Some(rx);
                }
            }
        }
        senders
            .into_iter()
            .zip(receivers)
            .enumerate()
            .map(|(id, (senders, receivers))| InMemoryComm {
                id,
                senders,
                receivers,
                timeout,
                stats: CommStats::new(parties),
            })
            .collect()
    }
}

/// One endpoint of an [`InMemoryNetwork`].
pub struct InMemoryComm {
    id: PartyId,
    /// `senders[j]`: the channel to party `j` (`None` for this endpoint itself).
    senders: Vec<Option<Sender<Vec<u8>>>>,
    /// `receivers[j]`: the channel from party `j`.
    receivers: Vec<Option<Receiver<Vec<u8>>>>,
    timeout: Option<Duration>,
    stats: CommStats,
}

impl std::fmt::Debug for InMemoryComm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryComm")
            .field("id", &self.id)
            .field("parties", &self.senders.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl InMemoryComm {
    /// The receive timeout (`None`: wait forever).
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets the receive timeout (`None`: wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Closes the channels to and from `peer`, as if the link went down.
    pub fn disconnect(&mut self, peer: PartyId) {
        if let Some(s) = self.senders.get_mut(peer) {
            *s = None;
        }
        if let Some(r) = self.receivers.get_mut(peer) {
            *r = None;
        }
    }

    fn check(&self, op: &'static str, peer: PartyId) -> Result<()> {
        if peer >= self.senders.len() {
            return Err(ShareError::UnknownParty { op, party: peer, parties: self.senders.len() });
        }
        if peer == self.id {
            return Err(ShareError::SelfMessage { op, party: peer });
        }
        Ok(())
    }
}

impl Comm for InMemoryComm {
    fn id(&self) -> PartyId {
        self.id
    }

    fn parties(&self) -> usize {
        self.senders.len()
    }

    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        self.check("send_bytes", to)?;
        let disconnected = ShareError::Disconnected { party: self.id, peer: to };
        match self.senders.get(to).and_then(Option::as_ref) {
            Some(tx) => tx.send(payload).map_err(|_| disconnected),
            None => Err(disconnected),
        }
    }

    fn recv_bytes(&mut self, from: PartyId) -> Result<Vec<u8>> {
        self.check("recv_bytes", from)?;
        let disconnected = ShareError::Disconnected { party: self.id, peer: from };
        let rx = self.receivers.get(from).and_then(Option::as_ref).ok_or_else(|| disconnected.clone())?;
        match self.timeout {
            None => rx.recv().map_err(|_| disconnected),
            Some(after) => rx.recv_timeout(after).map_err(|e| match e {
                RecvTimeoutError::Timeout => ShareError::Timeout { party: self.id, peer: from, after },
                RecvTimeoutError::Disconnected => disconnected,
            }),
        }
    }

    fn stats(&self) -> &CommStats {
        &self.stats
    }

    fn stats_mut(&mut self) -> &mut CommStats {
        &mut self.stats
    }
}
