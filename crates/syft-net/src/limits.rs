//! Resource limits of connections: byte budgets that a receiver charges *before* a frame
//! buffer grows ([`Budget`], [`Budgets`], [`Charge`]), bounded in-flight requests
//! ([`Slots`]), and the registry of connections still in their handshake
//! ([`Handshakes`]), which cuts off the oldest one when full so that idle
//! unauthenticated connections cannot keep a legitimate client from being served.

use crate::error::NetError;
use std::any::Any;
use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Bytes charged for every frame on top of its body (its header and bookkeeping), so
/// that empty frames cannot be queued without bound either.
pub(crate) const FRAME_OVERHEAD: usize = 64;

/// A number of bytes that may be held at once, shared by whoever charges it.
#[derive(Debug)]
pub(crate) struct Budget {
    /// The name of the setting that sets `max` (for errors).
    limit: &'static str,
    max: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
    /// Waiters for released bytes (a connection's reader under back-pressure).
    lock: Mutex<()>,
    released: Condvar,
}

impl Budget {
    /// A budget of `max` bytes, named after the setting `limit`.
    pub(crate) fn new(limit: &'static str, max: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            max,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            lock: Mutex::new(()),
            released: Condvar::new(),
        })
    }

    /// The name of the setting that limits it.
    pub(crate) fn limit(&self) -> &'static str {
        self.limit
    }

    /// The limit.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Bytes held now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// The most bytes held at once so far.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Takes `n` bytes if that keeps the total within the maximum.
    fn try_take(&self, n: usize) -> bool {
        let max = self.max;
        match self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| u.checked_add(n).filter(|t| *t <= max)) {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::SeqCst);
                true
            }
            Err(_) => false,
        }
    }

    fn give_back(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.used.fetch_sub(n, Ordering::SeqCst);
        // Taking the lock orders this release before a waiter's check (see `wait_release`).
        let _guard = self.lock.lock();
        self.released.notify_all();
    }

    /// Waits until bytes are given back (the amount held differs from `seen`) or
    /// `timeout` passes.
    pub(crate) fn wait_release(&self, seen: usize, timeout: Duration) {
        let Ok(guard) = self.lock.lock() else { return };
        if self.used() != seen {
            return;
        }
        let _ = self.released.wait_timeout(guard, timeout);
    }

    fn refusal(&self, wanted: usize) -> NetError {
        NetError::LimitExceeded {
            limit: self.limit,
            value: (self.used().saturating_add(wanted)) as u64,
            max: self.max as u64,
        }
    }
}

/// The budgets one connection charges: its own and the one it shares with the other
/// connections of the same server, client or peer listener.
#[derive(Clone, Debug)]
pub(crate) struct Budgets {
    conn: Arc<Budget>,
    total: Arc<Budget>,
}

impl Budgets {
    /// A new connection's budgets: `per_connection` bytes of its own, within `total`.
    pub(crate) fn connection(per_connection: usize, total: &Arc<Budget>) -> Self {
        Self { conn: Budget::new("max_buffered_per_connection", per_connection), total: total.clone() }
    }

    /// No limits (a stand-alone [`FrameDecoder`](crate::frame::FrameDecoder)).
    pub(crate) fn unlimited() -> Self {
        Self::connection(usize::MAX, &Budget::new("max_buffered_total", usize::MAX))
    }

    /// The connection's own budget.
    pub(crate) fn conn(&self) -> &Budget {
        &self.conn
    }

    /// Takes `n` bytes from both budgets, or neither; on refusal, the error that names
    /// the limit.
    fn take(&self, n: usize) -> Result<(), NetError> {
        if !self.conn.try_take(n) {
            return Err(self.conn.refusal(n));
        }
        if !self.total.try_take(n) {
            self.conn.give_back(n);
            return Err(self.total.refusal(n));
        }
        Ok(())
    }
}

/// Bytes charged to a connection's budgets, given back when dropped: it travels with
/// the frame it pays for, from the decoder to whoever consumes the frame.
#[derive(Debug)]
pub(crate) struct Charge {
    budgets: Budgets,
    bytes: usize,
}

impl Charge {
    /// Nothing charged yet.
    pub(crate) fn empty(budgets: &Budgets) -> Self {
        Self { budgets: budgets.clone(), bytes: 0 }
    }

    /// Bytes charged.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Charges `n` more bytes, or nothing (the error names the limit).
    pub(crate) fn grow(&mut self, n: usize) -> Result<(), NetError> {
        self.budgets.take(n)?;
        self.bytes += n;
        Ok(())
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budgets.total.give_back(self.bytes);
        self.budgets.conn.give_back(self.bytes);
    }
}

/// Something held until an answer is written (a request's charge and its slot).
pub(crate) type Hold = Box<dyn Any + Send>;

/// At most `max` requests of one connection in flight (received and not yet answered
/// on the wire).
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max: max.max(1), used: Mutex::new(0), freed: Condvar::new() })
    }

    /// Requests in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.used.lock().map_or(0, |u| *u)
    }

    /// Waits for a free slot, checking `give_up` every `poll`; `None` if it gave up.
    pub(crate) fn acquire(self: &Arc<Self>, poll: Duration, give_up: impl Fn() -> bool) -> Option<Permit> {
        let mut used = self.used.lock().ok()?;
        while *used >= self.max {
            if give_up() {
                return None;
            }
            used = self.freed.wait_timeout(used, poll).ok()?.0;
        }
        *used += 1;
        Some(Permit { slots: self.clone() })
    }
}

/// One request slot, freed when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    slots: Arc<Slots>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut used) = self.slots.used.lock() {
            *used = used.saturating_sub(1);
            self.slots.freed.notify_all();
        }
    }
}

/// Connections accepted and still in their handshake (TLS, then the first message), at
/// most `max`: admitting one more cuts off the oldest, so a flood of idle connections
/// can delay a legitimate client by no more than its own handshake.
#[derive(Debug)]
pub(crate) struct Handshakes {
    max: usize,
    timeout: Duration,
    next: AtomicU64,
    live: Mutex<BTreeMap<u64, TcpStream>>,
}

impl Handshakes {
    pub(crate) fn new(max: usize, timeout: Duration) -> Arc<Self> {
        Arc::new(Self { max: max.max(1), timeout, next: AtomicU64::new(0), live: Mutex::new(BTreeMap::new()) })
    }

    /// Connections in their handshake now.
    pub(crate) fn count(&self) -> usize {
        self.live.lock().map_or(0, |l| l.len())
    }

    /// Registers an accepted connection (never blocks on another connection); when `max`
    /// are already in their handshake, the oldest is shut down.
    pub(crate) fn admit(self: &Arc<Self>, tcp: &TcpStream) -> std::io::Result<Ticket> {
        let handle = tcp.try_clone()?;
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let mut live = self.live.lock().map_err(|_| std::io::Error::other("a thread panicked"))?;
        while live.len() >= self.max {
            let Some((_, oldest)) = live.pop_first() else { break };
            tracing::debug!(peer = ?oldest.peer_addr().ok(), "too many connections in their handshake; cutting off the oldest");
            let _ = oldest.shutdown(Shutdown::Both);
        }
        live.insert(id, handle);
        Ok(Ticket { registry: self.clone(), id, deadline: Instant::now() + self.timeout })
    }
}

/// A connection's place among those in their handshake; dropping it (once the handshake
/// is over, however it ended) frees the place.
#[derive(Debug)]
pub(crate) struct Ticket {
    registry: Arc<Handshakes>,
    id: u64,
    deadline: Instant,
}

impl Ticket {
    /// Time left until the handshake timeout (counted from the accept).
    pub(crate) fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Ok(mut live) = self.registry.live.lock() {
            live.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn charges_stay_within_both_budgets_and_are_given_back() {
        let total = Budget::new("max_buffered_total", 100);
        let a = Budgets::connection(60, &total);
        let b = Budgets::connection(60, &total);
        let mut ca = Charge::empty(&a);
        ca.grow(50).unwrap();
        let err = ca.grow(20).unwrap_err();
        assert!(matches!(err, NetError::LimitExceeded { limit: "max_buffered_per_connection", value: 70, max: 60 }));
        let mut cb = Charge::empty(&b);
        cb.grow(40).unwrap();
        let err = cb.grow(20).unwrap_err();
        assert!(matches!(err, NetError::LimitExceeded { limit: "max_buffered_total", value: 110, max: 100 }));
        assert_eq!(b.conn().used(), 40, "a refused charge takes nothing");
        assert_eq!(total.used(), 90);
        drop(ca);
        assert_eq!(total.used(), 40);
        cb.grow(20).unwrap();
        assert_eq!(total.peak(), 90);
        drop(cb);
        assert_eq!((total.used(), a.conn().used(), b.conn().used()), (0, 0, 0));
    }

    #[test]
    fn a_full_handshake_registry_cuts_off_the_oldest() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let registry = Handshakes::new(2, Duration::from_secs(5));
        let mut clients = Vec::new();
        let mut tickets = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).unwrap());
            let (server_side, _) = listener.accept().unwrap();
            tickets.push((registry.admit(&server_side).unwrap(), server_side));
        }
        assert_eq!(registry.count(), 2);
        // The oldest was shut down: its client sees the end of the stream.
        use std::io::Read;
        clients[0].set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(clients[0].read(&mut [0u8; 1]).unwrap(), 0);
        tickets.pop();
        assert_eq!(registry.count(), 1);
    }
}
