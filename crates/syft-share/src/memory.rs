//! An in-memory [`Comm`]: one endpoint per thread, connected by std channels.
//!
//! [`InMemoryNetwork::new`] returns one [`InMemoryComm`] per party; move each into its own
//! thread (or use [`run_parties`](crate::run_parties)). Sends never block (channels are
//! unbounded). Receives wait at most the endpoint's timeout ([`DEFAULT_TIMEOUT`] unless
//! changed), then return [`ShareError::Timeout`]; a dropped peer gives
//! [`ShareError::Disconnected`] once its queued messages are drained.
//!
//! A receive first polls its channel for a short while ([`DEFAULT_SPIN`], yielding the
//! core between polls) before it sleeps: a protocol's next message usually arrives within
//! tens of microseconds, and a thread that sleeps on it pays a futex wake-up and, on a
//! virtual machine whose idle core has halted, the core's wake-up too — often longer than
//! the wait itself. Yielding lets a peer that shares the core run meanwhile. At most one
//! thread fewer than there are cores polls at a time (the others sleep at once), so that
//! polling never holds every core while a peer with work waits for one.

use crate::comm::{Comm, CommStats, PartyId};
use crate::error::{Result, ShareError};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// The receive timeout of new in-memory endpoints.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a receive on a new in-memory endpoint polls before it sleeps (see the
/// [module docs](self)).
pub const DEFAULT_SPIN: Duration = Duration::from_micros(100);

/// Polls of an empty channel between two looks at the clock (and yields of the core).
const POLLS_PER_YIELD: u32 = 16;

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
                spin: DEFAULT_SPIN,
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
    /// How long a receive polls before it sleeps.
    spin: Duration,
    stats: CommStats,
}

impl std::fmt::Debug for InMemoryComm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryComm")
            .field("id", &self.id)
            .field("parties", &self.senders.len())
            .field("timeout", &self.timeout)
            .field("spin", &self.spin)
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

    /// How long a receive polls its channel before it sleeps ([`DEFAULT_SPIN`] unless
    /// changed).
    #[must_use]
    pub fn spin(&self) -> Duration {
        self.spin
    }

    /// Sets how long a receive polls its channel before it sleeps (`Duration::ZERO`: it
    /// sleeps at once).
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
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
        match poll_channel(rx, self.spin) {
            Some(Ok(message)) => return Ok(message),
            Some(Err(TryRecvError::Disconnected)) => return Err(disconnected),
            Some(Err(TryRecvError::Empty)) | None => {}
        }
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

/// Polls `rx` for up to `spin` before a blocking receive (see the [module docs](self)),
/// yielding the core every few polls: the message if one arrives (or the
/// disconnection), `None` if none did in time, or at once when as many threads of this
/// process as there are cores, less one, are polling already (a thread that polls holds
/// its core, and a peer waiting for a core would then wait for it). Network channels use
/// it on the queue their reader thread fills.
pub fn poll_channel<T>(rx: &Receiver<T>, spin: Duration) -> Option<Result<T, TryRecvError>> {
    if spin.is_zero() {
        return None;
    }
    let _polling = Polling::enter()?;
    let start = Instant::now();
    loop {
        for _ in 0..POLLS_PER_YIELD {
            match rx.try_recv() {
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                other => return Some(other),
            }
        }
        if start.elapsed() >= spin {
            return None;
        }
        std::thread::yield_now();
    }
}

/// How many threads may poll at once: one core is always left to threads with work (so
/// none on a single core).
fn max_polling() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)))
}

/// Threads of this process polling an in-memory channel now.
static POLLING: AtomicUsize = AtomicUsize::new(0);

/// One thread's turn to poll, counted in [`POLLING`] while it lasts.
struct Polling;

impl Polling {
    /// A turn, unless [`max_polling`] threads are polling already.
    fn enter() -> Option<Self> {
        if POLLING.fetch_add(1, Ordering::AcqRel) >= max_polling() {
            POLLING.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Self)
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        POLLING.fetch_sub(1, Ordering::AcqRel);
    }
}
