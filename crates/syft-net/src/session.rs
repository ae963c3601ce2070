//! [`PeerNetwork`]: a worker's party-to-party listener, and the [`SessionConnector`] that
//! opens a session's direct channels.
//!
//! # Convention
//!
//! A session has `n` endpoints (the computing parties, then the crypto provider), each
//! with a peer address `id@host:port` ([`PeerNetwork::address`]). When the orchestrator
//! creates the session, every member runs [`PeerNetwork::open`] with the same list:
//!
//! 1. it dials every member with a *higher* index, verifying under TLS that the accepting
//!    side holds the certificate of the id in the list, and sends a [`PeerHello`]
//!    (session id, its index, the target's index, the member count, its worker id);
//! 2. it claims the connections that members with a *lower* index dialled to it: the
//!    listener thread accepts them at any time, runs the TLS handshake (the dialler's
//!    client certificate must be signed by the CA and name the worker id its hello
//!    claims), reads the hello and parks the connection under `(session, from)`; `open`
//!    checks the hello against the list and answers with an acknowledgement;
//! 3. it waits for the acknowledgements of the members it dialled.
//!
//! Dialling never waits for the other side's worker thread, so members joining in any
//! order never deadlock, and the session id keeps concurrent sessions apart. Everything
//! is bounded by [`NetConfig::connect_timeout`]; on failure the session's parked
//! connections are dropped.
//!
//! The listener applies the limits of a worker server's client listener: an accepted
//! connection has [`NetConfig::handshake_timeout`] for its TLS handshake and hello, at
//! most [`NetConfig::max_handshaking`] are in their handshake (one more cuts off the
//! oldest), and every channel's received bytes are charged to
//! [`NetConfig::max_buffered_per_connection`] and to a budget of
//! [`NetConfig::max_buffered_total`] shared by all the channels of this endpoint (with
//! a worker server's client connections, when it belongs to a [`Server`](crate::Server)).

use crate::comm::NetComm;
use crate::config::NetConfig;
use crate::error::{NetError, Result, spawn};
use crate::limits::{Budget, Budgets, Handshakes, Ticket};
use crate::link::{FrameRx, FrameTx, Link, connect_tcp};
use crate::protocol::{ACK_OK, ACK_REFUSED, PeerHello, VERSION};
use crate::tls::Security;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use syft_share::Comm;
use syft_worker::transport::{ConnectError, SessionConnector};

/// Connections accepted but not yet claimed by a session, at most.
const MAX_PARKED: usize = 256;

/// Splits a peer address `id@host:port` into the worker id and the socket address.
pub fn parse_peer_address(address: &str) -> Result<(&str, &str)> {
    match address.rsplit_once('@') {
        Some((id, addr)) if !id.is_empty() && !addr.is_empty() => Ok((id, addr)),
        _ => Err(NetError::Config {
            what: "peer address",
            reason: format!("{address:?} is not of the form id@host:port"),
        }),
    }
}

struct Parked {
    tx: FrameTx,
    rx: FrameRx,
    hello: PeerHello,
    at: Instant,
}

struct PeerInner {
    worker: String,
    address: String,
    local: SocketAddr,
    security: Security,
    config: NetConfig,
    parked: Mutex<HashMap<(u64, u32), Parked>>,
    arrived: Condvar,
    stop: AtomicBool,
    handshakes: Arc<Handshakes>,
    /// The byte budget all channels share.
    total: Arc<Budget>,
    /// Which workers may open channels (the worker's peers).
    policy: std::sync::RwLock<syft_worker::AccessPolicy>,
}

/// A worker's party-to-party endpoint: a listener for channels from session members, and
/// the [`SessionConnector`] that opens a session's channels (see the [module docs](self)).
///
/// Dropping it stops the listener; channels already open stay open.
pub struct PeerNetwork {
    inner: Arc<PeerInner>,
}

impl std::fmt::Debug for PeerNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerNetwork").field("address", &self.inner.address).finish_non_exhaustive()
    }
}

impl PeerNetwork {
    /// Admits channels only from the workers `policy` knows as peers (proved by a worker
    /// certificate under TLS).
    pub fn set_policy(&self, policy: syft_worker::AccessPolicy) {
        if let Ok(mut p) = self.inner.policy.write() {
            *p = policy;
        }
    }

    /// Listens for party-to-party connections of worker `worker` on `listen`
    /// (`host:port`; port 0 picks a free one). `advertise` is the `host:port` other
    /// members should dial (default: the bound address; an unspecified IP such as
    /// `0.0.0.0` is advertised as loopback).
    pub fn bind(
        worker: &str,
        listen: &str,
        advertise: Option<&str>,
        security: Security,
        config: NetConfig,
    ) -> Result<Self> {
        let total = Budget::new("max_buffered_total", config.max_buffered_total);
        Self::bind_sharing(worker, listen, advertise, security, config, total)
    }

    /// [`PeerNetwork::bind`], charging received bytes to `total` (shared with a server).
    pub(crate) fn bind_sharing(
        worker: &str,
        listen: &str,
        advertise: Option<&str>,
        security: Security,
        config: NetConfig,
        total: Arc<Budget>,
    ) -> Result<Self> {
        if let Security::Tls(identity) = &security {
            identity.check_names(worker)?;
        }
        let listener =
            TcpListener::bind(listen).map_err(|e| NetError::Io { op: "bind", addr: listen.to_string(), source: e })?;
        let local =
            listener.local_addr().map_err(|e| NetError::Io { op: "bind", addr: listen.to_string(), source: e })?;
        let advertised = match advertise {
            Some(a) => a.to_string(),
            None => reachable(local).to_string(),
        };
        let inner = Arc::new(PeerInner {
            worker: worker.to_string(),
            address: format!("{worker}@{advertised}"),
            local,
            security,
            parked: Mutex::new(HashMap::new()),
            arrived: Condvar::new(),
            stop: AtomicBool::new(false),
            handshakes: Handshakes::new(config.max_handshaking, config.handshake_timeout),
            total,
            config,
            policy: std::sync::RwLock::new(syft_worker::AccessPolicy::open()),
        });
        let acceptor = inner.clone();
        spawn(format!("net-peers {worker}"), move || accept_loop(&listener, &acceptor))?;
        tracing::info!(worker, address = %inner.address, "listening for session peers");
        Ok(Self { inner })
    }

    /// The address session members dial: `id@host:port`.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// The bound socket address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// Opens endpoint `me` of `session`: channels to every other member, `peers[i]` being
    /// member `i`'s peer address (see the [module docs](self) for the convention).
    pub fn open(&self, session: u64, me: usize, peers: &[String]) -> Result<NetComm> {
        let members: Vec<(&str, &str)> = peers.iter().map(|p| parse_peer_address(p)).collect::<Result<_>>()?;
        let config = |reason: String| NetError::Config { what: "session", reason };
        let Some(&(mine, _)) = members.get(me) else {
            return Err(config(format!("endpoint {me} of a session of {}", members.len())));
        };
        if mine != self.inner.worker {
            return Err(config(format!("endpoint {me} is {mine}, not this worker ({})", self.inner.worker)));
        }
        if u32::try_from(members.len()).is_err() {
            return Err(config("too many members".into()));
        }
        let opened = self.open_links(session, me, &members);
        if opened.is_err() {
            self.inner.forget(session);
        }
        opened
    }

    fn open_links(&self, session: u64, me: usize, members: &[(&str, &str)]) -> Result<NetComm> {
        let inner = &self.inner;
        let cfg = &inner.config;
        let deadline = Instant::now() + cfg.connect_timeout;
        let left = |peer: &str| {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                Err(NetError::Timeout {
                    op: "opening session channels",
                    peer: peer.to_string(),
                    after: cfg.connect_timeout,
                })
            } else {
                Ok(left)
            }
        };
        let n = members.len();
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let mut links: Vec<Option<(FrameTx, FrameRx)>> = (0..n).map(|_| None).collect();
        for (j, &(name, addr)) in members.iter().enumerate().skip(me + 1) {
            let tcp = connect_tcp(addr, left(name)?)?;
            let link = Link::client(tcp, &inner.security, name, left(name)?)?;
            let (tx, rx) = link.start(cfg.max_frame, cfg.write_timeout, &inner.budgets())?;
            let hello = PeerHello {
                version: VERSION,
                session,
                from: index(me),
                to: index(j),
                members: index(n),
                worker: inner.worker.clone(),
            };
            tx.send(Vec::new(), hello.encode()?)?;
            links[j] = Some((tx, rx));
        }
        for (j, &(name, _)) in members.iter().enumerate().take(me) {
            let parked = inner.claim(session, index(j), deadline, name)?;
            let h = &parked.hello;
            let problem = if h.worker != name {
                Some(format!("endpoint {j} of session {session} is {name}, not {}", h.worker))
            } else if h.to != index(me) || h.members != index(n) {
                Some(format!("hello for endpoint {} of {} members, but this is endpoint {me} of {n}", h.to, h.members))
            } else {
                None
            };
            if let Some(reason) = problem {
                let mut refusal = vec![ACK_REFUSED];
                refusal.extend_from_slice(reason.as_bytes());
                let _ = parked.tx.send(Vec::new(), refusal);
                return Err(NetError::Refused { peer: parked.tx.peer().to_string(), reason });
            }
            parked.tx.send(Vec::new(), vec![ACK_OK])?;
            links[j] = Some((parked.tx, parked.rx));
        }
        for (j, &(name, _)) in members.iter().enumerate().skip(me + 1) {
            let Some((_, rx)) = &links[j] else { continue };
            let ack = rx.recv(Some(left(name)?))?;
            match ack.split_first() {
                Some((&ACK_OK, [])) => {}
                Some((&ACK_REFUSED, reason)) => {
                    return Err(NetError::Refused {
                        peer: rx.peer().to_string(),
                        reason: String::from_utf8_lossy(reason).into_owned(),
                    });
                }
                _ => {
                    return Err(NetError::BadMessage {
                        peer: rx.peer().to_string(),
                        reason: "expected a session acknowledgement".into(),
                    });
                }
            }
        }
        tracing::debug!(worker = %inner.worker, session, me, members = n, "session channels open");
        Ok(NetComm::new(me, links, cfg.recv_timeout))
    }
}

impl PeerNetwork {
    /// Stops the listener (also on drop); channels already open stay open.
    pub fn shutdown(&self) {
        if self.inner.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&reachable(self.inner.local), Duration::from_secs(1));
        self.inner.forget_all();
    }
}

impl Drop for PeerNetwork {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl SessionConnector for PeerNetwork {
    fn connect(&self, session: u64, me: usize, peers: &[String]) -> std::result::Result<Box<dyn Comm>, ConnectError> {
        Ok(Box::new(self.open(session, me, peers)?))
    }
}

/// An address that reaches a bound socket: loopback in place of an unspecified IP.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

impl PeerInner {
    /// A new channel's budgets.
    fn budgets(&self) -> Budgets {
        Budgets::connection(self.config.max_buffered_per_connection, &self.total)
    }

    fn claim(&self, session: u64, from: u32, deadline: Instant, name: &str) -> Result<Parked> {
        let poisoned = || NetError::Config { what: "session", reason: "a thread panicked".into() };
        let mut parked = self.parked.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(p) = parked.remove(&(session, from)) {
                return Ok(p);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NetError::Timeout {
                    op: "waiting for a session member to connect",
                    peer: name.to_string(),
                    after: self.config.connect_timeout,
                });
            }
            parked = self.arrived.wait_timeout(parked, left).map_err(|_| poisoned())?.0;
        }
    }

    fn park(&self, p: Parked) -> std::result::Result<(), String> {
        let mut parked = self.parked.lock().map_err(|_| "a thread panicked".to_string())?;
        let expiry = self.config.connect_timeout * 2;
        parked.retain(|_, old| old.at.elapsed() < expiry);
        let key = (p.hello.session, p.hello.from);
        if parked.contains_key(&key) {
            return Err(format!("a second connection for endpoint {} of session {}", key.1, key.0));
        }
        if parked.len() >= MAX_PARKED {
            return Err("too many pending session connections".into());
        }
        parked.insert(key, p);
        self.arrived.notify_all();
        Ok(())
    }

    fn forget(&self, session: u64) {
        if let Ok(mut parked) = self.parked.lock() {
            parked.retain(|k, _| k.0 != session);
        }
    }

    fn forget_all(&self) {
        if let Ok(mut parked) = self.parked.lock() {
            parked.clear();
        }
    }
}

fn accept_loop(listener: &TcpListener, inner: &Arc<PeerInner>) {
    for conn in listener.incoming() {
        if inner.stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(tcp) => {
                // Never waits on a connection: a full registry cuts off its oldest member.
                let ticket = match inner.handshakes.admit(&tcp) {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::debug!(worker = %inner.worker, error = %e, "cannot admit a session connection");
                        continue;
                    }
                };
                let admit_inner = inner.clone();
                let started = spawn(format!("net-peer-admit {}", inner.worker), move || {
                    if let Err(e) = admit(&admit_inner, tcp, ticket) {
                        tracing::warn!(worker = %admit_inner.worker, error = %e, "refused a session connection");
                    }
                });
                if let Err(e) = started {
                    tracing::warn!(worker = %inner.worker, error = %e, "cannot admit a session connection");
                }
            }
            Err(e) => {
                tracing::debug!(worker = %inner.worker, error = %e, "accept failed");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Handshakes an incoming session connection, reads its hello and parks it.
fn admit(inner: &PeerInner, tcp: TcpStream, ticket: Ticket) -> Result<()> {
    let cfg = &inner.config;
    let link = Link::server(tcp, &inner.security, ticket.left())?;
    let identity = link.identity();
    let certificate = link.peer_certificate();
    let peer = link.peer().to_string();
    let (tx, rx) = link.start(cfg.max_frame, cfg.write_timeout, &inner.budgets())?;
    let late = || NetError::Timeout { op: "TLS handshake and hello", peer: peer.clone(), after: cfg.handshake_timeout };
    let left = ticket.left();
    if left.is_zero() {
        return Err(late());
    }
    let hello = match rx.recv(Some(left)) {
        Ok(frame) => PeerHello::decode(&peer, &frame)?,
        Err(NetError::Timeout { .. }) => return Err(late()),
        Err(e) => return Err(e),
    };
    drop(ticket);
    let refuse = |reason: String| {
        let mut refusal = vec![ACK_REFUSED];
        refusal.extend_from_slice(reason.as_bytes());
        let _ = tx.send(Vec::new(), refusal);
        NetError::Refused { peer: peer.clone(), reason }
    };
    if let Err(e) = identity.check(&hello.worker) {
        return Err(refuse(e.to_string()));
    }
    // Only a peer of this worker, with a worker certificate, may open a session channel.
    if let Some(cert) = &certificate {
        let caller = crate::tls::principal(cert, &peer).map_err(|e| refuse(e.to_string()))?;
        let known = inner.policy.read().map(|p| p.is_peer(caller.name())).unwrap_or(false);
        if caller.is_client() || !known || caller.name() != hello.worker {
            return Err(refuse(format!("{} does not accept session channels from {caller}", inner.worker)));
        }
    }
    if hello.from >= hello.to || hello.to >= hello.members {
        return Err(refuse(format!("endpoint {} cannot dial endpoint {} of {}", hello.from, hello.to, hello.members)));
    }
    tracing::debug!(worker = %inner.worker, from = %hello.worker, session = hello.session, "session connection parked");
    let at = Instant::now();
    let hello_copy = hello.clone();
    inner
        .park(Parked { tx, rx, hello, at })
        .map_err(|reason| NetError::Refused { peer: format!("{}@{peer}", hello_copy.worker), reason })
}
