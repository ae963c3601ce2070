//! The worker server: a [`WorkerCore`] behind a TCP or TLS
//! listener ([`Server::start`], [`serve`]).
//!
//! One thread serves requests in order from one queue, exactly like a
//! [`VirtualWorker`](syft_worker::VirtualWorker); every client connection has a thread
//! that reads its frames and queues its requests, and a *pump* that writes the answers
//! back, tagged, as they are ready. The worker's hub holds the worker itself (so a
//! pointer to itself goes through its own queue, served re-entrantly while forwarding),
//! every worker its clients tell it about (see [`crate::client`]), and the
//! [`PeerNetwork`] that opens party-to-party channels for sessions.
//!
//! A connection that breaks the protocol (unknown message kind, undecodable frame, frame
//! above the size limit, a connection cut in the middle of a frame) gets an error frame
//! where possible and is closed; the worker goes on serving everyone else. A request that
//! does not decode is answered with an error response, as in process.
//!
//! # Limits
//!
//! Accepted connections are *handshaking* until their hello arrives, within
//! [`NetConfig::handshake_timeout`] of the accept; at most [`NetConfig::max_handshaking`]
//! are, and accepting one more cuts off the oldest (the accept loop never waits on a
//! connection). Only connections past their hello count toward
//! [`ServerConfig::max_connections`]. Each connection's received bytes are charged to its
//! own budget and to the server's ([`NetConfig::max_buffered_per_connection`],
//! [`NetConfig::max_buffered_total`], see [`Server::buffered_bytes`]) until the request
//! is answered on the wire; at most [`NetConfig::max_pending_requests`] requests of a
//! connection are pending, after which the worker stops reading it. A connection idle
//! for [`NetConfig::idle_timeout`] is closed.

use crate::client::NetClient;
use crate::config::NetConfig;
use crate::error::{NetError, Result, spawn};
use crate::limits::{Budget, Budgets, Charge, Handshakes, Permit, Slots, Ticket};
use crate::link::{FrameRx, FrameTx, Link};
use crate::protocol::{self, ClientMessage};
use crate::session::PeerNetwork;
use crate::tls::Security;
use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use syft_worker::transport::Answer;
use syft_worker::{AccessPolicy, Caller, Envelope, Hub, Limits, Mailbox, WorkerCore};

/// A request waiting for its answer: its tag, where the answer arrives, and what it holds
/// until the answer is written (its bytes' charge and its request slot).
type Job = (u64, Receiver<Answer>, Held);

/// What a request holds from its arrival until its answer is written.
struct Held {
    _charge: Charge,
    _slot: Permit,
}

/// Client connections served at once, at most, by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// How a worker server is set up.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The worker id (`bob`); under TLS the certificate must name it.
    pub id: String,
    /// Where clients connect (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// Where session members connect (`host:port`; port 0 picks a free one).
    pub peer_listen: String,
    /// The `host:port` session members should dial, if not the bound peer address.
    pub peer_advertise: Option<String>,
    /// TLS identity, or plain TCP.
    pub security: Security,
    /// Frame limit and timeouts.
    pub net: NetConfig,
    /// Client connections served at once, at most (only connections past their hello
    /// count; see [`NetConfig::max_handshaking`] for the others).
    pub max_connections: usize,
    /// Whom the worker serves (under TLS: identities proved by certificates).
    pub policy: AccessPolicy,
    /// Resource limits of the worker.
    pub limits: Limits,
}

impl ServerConfig {
    /// A configuration for worker `id` listening on `listen`, with peers on the same host
    /// at a free port, and default limits.
    #[must_use]
    pub fn new(id: &str, listen: &str, security: Security) -> Self {
        let host = listen.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
        Self {
            id: id.to_string(),
            listen: listen.to_string(),
            peer_listen: format!("{host}:0"),
            peer_advertise: None,
            security,
            net: NetConfig::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            policy: AccessPolicy::open(),
            limits: Limits::default(),
        }
    }
}

/// Runs a worker server until the process ends (see [`Server::start`]).
pub fn serve(config: ServerConfig) -> Result<()> {
    Server::start(config)?.wait();
    Ok(())
}

/// Registers the workers clients tell this worker about.
struct Directory {
    id: String,
    policy: AccessPolicy,
    hub: Arc<Hub>,
    client: NetClient,
    registered: Mutex<HashMap<String, String>>,
}

impl Directory {
    fn apply(&self, entries: &[(String, String)]) {
        let Ok(mut registered) = self.registered.lock() else { return };
        for (id, address) in entries {
            // Only this worker's peers, and the first address learnt for each: a client
            // cannot redirect the worker's traffic to another worker (TLS would refuse an
            // impostor anyway, but the forwarding of other clients would break).
            if *id == self.id || registered.contains_key(id) || !self.policy.is_peer(id) {
                continue;
            }
            self.client.learn(id, address);
            match self.hub.register(Arc::new(self.client.transport(id, address))) {
                Ok(()) => {
                    tracing::debug!(worker = %self.id, peer = %id, %address, "learned a worker");
                    registered.insert(id.clone(), address.clone());
                }
                Err(e) => tracing::warn!(worker = %self.id, peer = %id, error = %e, "cannot register a worker"),
            }
        }
    }
}

struct Shared {
    id: String,
    security: Security,
    net: NetConfig,
    inbox: Mutex<Sender<Envelope>>,
    directory: Directory,
    peer_address: String,
    connections: AtomicUsize,
    max_connections: usize,
    policy: AccessPolicy,
    /// The byte budget all connections share.
    total: Arc<Budget>,
    handshakes: Arc<Handshakes>,
    stop: AtomicBool,
    stopped: (Mutex<bool>, Condvar),
}

/// A running worker server. Dropping it stops accepting connections and stops the
/// worker thread once its queue is empty.
pub struct Server {
    shared: Arc<Shared>,
    local: SocketAddr,
    peers: Arc<PeerNetwork>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("id", &self.shared.id)
            .field("address", &self.local)
            .field("peer_address", &self.shared.peer_address)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the client and peer listeners and starts serving in background threads.
    pub fn start(config: ServerConfig) -> Result<Self> {
        crate::certs::check_worker_id(&config.id)?;
        if let Security::Tls(identity) = &config.security {
            identity.check_names(&config.id)?;
        } else {
            tracing::warn!(worker = %config.id, "serving over plain TCP: no encryption, no authentication");
        }
        let listener = TcpListener::bind(&config.listen).map_err(|e| NetError::Io {
            op: "bind",
            addr: config.listen.clone(),
            source: e,
        })?;
        let local =
            listener.local_addr().map_err(|e| NetError::Io { op: "bind", addr: config.listen.clone(), source: e })?;
        let total = Budget::new("max_buffered_total", config.net.max_buffered_total);
        let peers = Arc::new(PeerNetwork::bind_sharing(
            &config.id,
            &config.peer_listen,
            config.peer_advertise.as_deref(),
            config.security.clone(),
            config.net.clone(),
            total.clone(),
        )?);
        peers.set_policy(config.policy.clone());
        let hub = Hub::new();
        hub.set_connector(peers.clone());
        let (inbox_tx, inbox_rx) = mpsc::channel::<Envelope>();
        // The worker itself, as its own hub sees it: requests go straight to its queue, and
        // come from the worker itself (a chain that comes back through it).
        let loopback = Mailbox::new(config.id.clone(), inbox_tx.clone(), Caller::worker(config.id.clone()));
        hub.register(Arc::new(loopback.with_peer_address(peers.address())))?;
        let shared = Arc::new(Shared {
            id: config.id.clone(),
            security: config.security.clone(),
            net: config.net.clone(),
            inbox: Mutex::new(inbox_tx),
            directory: Directory {
                id: config.id.clone(),
                policy: config.policy.clone(),
                hub: hub.clone(),
                client: NetClient::new(&config.id, config.security.clone(), config.net.clone()),
                registered: Mutex::new(HashMap::new()),
            },
            peer_address: peers.address().to_string(),
            connections: AtomicUsize::new(0),
            max_connections: config.max_connections,
            policy: config.policy.clone(),
            total,
            handshakes: Handshakes::new(config.net.max_handshaking, config.net.handshake_timeout),
            stop: AtomicBool::new(false),
            stopped: (Mutex::new(false), Condvar::new()),
        });

        let mut core = WorkerCore::new(config.id.clone(), hub);
        core.set_policy(config.policy.clone(), config.limits.clone());
        let worker_shared = shared.clone();
        spawn(format!("worker {}", config.id), move || {
            core.serve(inbox_rx, &|| worker_shared.stop.load(Ordering::SeqCst));
            tracing::debug!(worker = %worker_shared.id, "worker thread stopped");
            let (done, cv) = &worker_shared.stopped;
            if let Ok(mut d) = done.lock() {
                *d = true;
                cv.notify_all();
            }
        })?;

        let accept_shared = shared.clone();
        spawn(format!("net-accept {}", config.id), move || accept_loop(&listener, &accept_shared))?;
        tracing::info!(worker = %config.id, address = %local, peer_address = %shared.peer_address, "serving");
        Ok(Self { shared, local, peers })
    }

    /// The worker id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The bound client address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer address session members dial (`id@host:port`).
    #[must_use]
    pub fn peer_address(&self) -> &str {
        self.peers.address()
    }

    /// Bytes the server's connections (client and party-to-party) hold now: frames being
    /// received, frames not yet consumed and requests not yet answered, as charged to
    /// [`NetConfig::max_buffered_total`]; never above it.
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        self.shared.total.used()
    }

    /// The most [`Server::buffered_bytes`] has been so far.
    #[must_use]
    pub fn buffered_bytes_peak(&self) -> usize {
        self.shared.total.peak()
    }

    /// Client connections accepted and still in their handshake.
    #[must_use]
    pub fn handshaking(&self) -> usize {
        self.shared.handshakes.count()
    }

    /// Client connections past their hello.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Blocks until the worker thread stops (after [`Server::shutdown`], or never).
    pub fn wait(&self) {
        let (done, cv) = &self.shared.stopped;
        if let Ok(mut d) = done.lock() {
            while !*d {
                match cv.wait(d) {
                    Ok(g) => d = g,
                    Err(_) => return,
                }
            }
        }
    }

    /// Stops accepting connections and stops the worker thread (requests already queued
    /// are dropped, their clients get an error).
    pub fn shutdown(&self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        self.peers.shutdown();
        // Wake the worker thread and the accept loop.
        if let Ok(tx) = self.shared.inbox.lock() {
            let (wake, _) = Envelope::new(Caller::worker(self.shared.id.clone()), Vec::new());
            let _ = tx.send(wake);
        }
        let wake = match self.local.ip() {
            ip if ip.is_unspecified() => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), self.local.port()),
            _ => self.local,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let tcp = match conn {
            Ok(tcp) => tcp,
            Err(e) => {
                tracing::debug!(worker = %shared.id, error = %e, "accept failed");
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        // Never waits on a connection: a full registry cuts off its oldest member.
        let ticket = match shared.handshakes.admit(&tcp) {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(worker = %shared.id, error = %e, "cannot admit a connection");
                continue;
            }
        };
        let conn_shared = shared.clone();
        let started = spawn(format!("net-conn {}", shared.id), move || {
            if let Err(e) = serve_connection(&conn_shared, tcp, ticket) {
                tracing::info!(worker = %conn_shared.id, error = %e, "connection closed");
            }
        });
        if let Err(e) = started {
            tracing::warn!(worker = %shared.id, error = %e, "cannot serve a connection");
        }
    }
}

/// A connection past its hello, counted toward `max_connections` while it lives.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Ends a connection's handshake: counts it toward `max_connections`, or refuses it.
fn admitted<'a>(shared: &'a Shared, ticket: Ticket, tx: &FrameTx, peer: &str) -> Result<Counted<'a>> {
    drop(ticket);
    if shared.connections.fetch_add(1, Ordering::SeqCst) >= shared.max_connections {
        shared.connections.fetch_sub(1, Ordering::SeqCst);
        let reason = format!("too many connections (max_connections = {})", shared.max_connections);
        return Err(protocol_error(tx, NetError::Refused { peer: peer.to_string(), reason }));
    }
    Ok(Counted(&shared.connections))
}

/// Sends an error frame and returns the error.
fn protocol_error(tx: &FrameTx, e: NetError) -> NetError {
    let _ = tx.send(Vec::new(), protocol::error(&e.to_string()));
    e
}

fn serve_connection(shared: &Shared, tcp: TcpStream, ticket: Ticket) -> Result<()> {
    let net = &shared.net;
    let link = Link::server(tcp, &shared.security, ticket.left())?;
    let peer = link.peer().to_string();
    let link_identity = link.peer_certificate();
    let budgets = Budgets::connection(net.max_buffered_per_connection, &shared.total);
    let (tx, rx) = link.start(net.max_frame, net.write_timeout, &budgets)?;
    let hello = match protocol::decode_client(&peer, recv_hello(&rx, &ticket, net.handshake_timeout)?) {
        Ok(ClientMessage::Hello(h)) => h,
        Ok(_) => {
            let e = NetError::BadMessage { peer, reason: "the first message must be a hello".into() };
            return Err(protocol_error(&tx, e));
        }
        Err(e) => return Err(protocol_error(&tx, e)),
    };
    if hello.version != protocol::VERSION {
        let reason = format!("protocol version {} (this worker speaks {})", hello.version, protocol::VERSION);
        return Err(protocol_error(&tx, NetError::Refused { peer, reason }));
    }
    // Who this connection is: proved by its certificate under TLS; without TLS nobody is
    // authenticated and the connection is the client it says it is.
    let caller = match link_identity {
        Some(cert) => crate::tls::principal(&cert, &peer)?,
        None => Caller::client(hello.client.clone()),
    };
    if !shared.policy.admits(&caller) {
        let reason = format!("{} does not serve {caller}", shared.id);
        return Err(protocol_error(&tx, NetError::Refused { peer, reason }));
    }
    let _counted = admitted(shared, ticket, &tx, &peer)?;
    tx.send(Vec::new(), protocol::welcome(&shared.id, Some(shared.peer_address.clone()))?)?;
    tracing::debug!(worker = %shared.id, %caller, %peer, "client connected");

    let tx = Arc::new(tx);
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let pump_tx = tx.clone();
    spawn(format!("net-pump {}", shared.id), move || pump(&jobs_rx, &pump_tx))?;
    let inbox = shared.inbox.lock().map_err(|_| NetError::Disconnected { peer: shared.id.clone() })?.clone();
    read_requests(shared, &caller, &rx, &tx, &jobs_tx, &inbox, &peer)
}

/// The first frame (the hello), within the handshake timeout counted from the accept.
fn recv_hello(rx: &FrameRx, ticket: &Ticket, timeout: Duration) -> Result<Vec<u8>> {
    let late = || NetError::Timeout { op: "TLS handshake and hello", peer: rx.peer().to_string(), after: timeout };
    let left = ticket.left();
    if left.is_zero() {
        return Err(late());
    }
    match rx.recv(Some(left)) {
        Err(NetError::Timeout { .. }) => Err(late()),
        other => other,
    }
}

/// How often a connection without requests checks whether it has been idle too long.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The next frame with its charge; `None` once the client has closed the connection.
/// Closes a connection idle for `idle_timeout` (no request pending, no frame).
fn next_frame(
    shared: &Shared,
    rx: &FrameRx,
    tx: &FrameTx,
    slots: &Slots,
    since: &mut std::time::Instant,
) -> Result<Option<(Vec<u8>, Charge)>> {
    loop {
        match rx.recv_charged(shared.net.idle_timeout.map(|_| IDLE_POLL)) {
            Ok(f) => {
                *since = std::time::Instant::now();
                return Ok(Some(f));
            }
            Err(NetError::Disconnected { .. }) => return Ok(None),
            Err(NetError::Timeout { .. }) => {
                if slots.in_flight() > 0 {
                    *since = std::time::Instant::now();
                } else if let Some(idle) = shared.net.idle_timeout.filter(|idle| since.elapsed() >= *idle) {
                    let e = NetError::Timeout { op: "idle connection", peer: rx.peer().to_string(), after: idle };
                    return Err(protocol_error(tx, e));
                }
            }
            Err(e) => return Err(protocol_error(tx, e)),
        }
    }
}

fn read_requests(
    shared: &Shared,
    caller: &Caller,
    rx: &FrameRx,
    tx: &FrameTx,
    jobs: &Sender<Job>,
    inbox: &Sender<Envelope>,
    peer: &str,
) -> Result<()> {
    let slots = Slots::new(shared.net.max_pending_requests);
    let mut since = std::time::Instant::now();
    loop {
        let Some((frame, charge)) = next_frame(shared, rx, tx, &slots, &mut since)? else { return Ok(()) };
        match protocol::decode_client(peer, frame) {
            Ok(ClientMessage::Request { tag, body }) => {
                // With max_pending_requests pending, stop reading (back-pressure).
                let stopping = || shared.stop.load(Ordering::SeqCst);
                let Some(slot) = slots.acquire(IDLE_POLL, stopping) else {
                    return Err(protocol_error(tx, NetError::Disconnected { peer: shared.id.clone() }));
                };
                let held = Held { _charge: charge, _slot: slot };
                let (envelope, reply_rx) = Envelope::new(caller.clone(), body);
                if inbox.send(envelope).is_err() || shared.stop.load(Ordering::SeqCst) {
                    return Err(protocol_error(tx, NetError::Disconnected { peer: shared.id.clone() }));
                }
                if jobs.send((tag, reply_rx, held)).is_err() {
                    return Err(NetError::Disconnected { peer: peer.to_string() });
                }
            }
            Ok(ClientMessage::Directory(entries)) => shared.directory.apply(&entries),
            Ok(ClientMessage::Hello(_)) => {
                let e = NetError::BadMessage { peer: peer.to_string(), reason: "a second hello".into() };
                return Err(protocol_error(tx, e));
            }
            Err(e) => return Err(protocol_error(tx, e)),
        }
    }
}

/// Writes responses back as they are ready: it waits on the oldest request, and polls
/// the others (which finish first only when the worker serves requests re-entrantly)
/// every few milliseconds.
fn pump(jobs: &Receiver<Job>, tx: &FrameTx) {
    const MIN_POLL: Duration = Duration::from_millis(1);
    const MAX_POLL: Duration = Duration::from_millis(32);
    let mut pending: VecDeque<Job> = VecDeque::new();
    let mut open = true;
    let mut poll = MIN_POLL;
    let answer = |tag: u64, result: Answer, held: Held| {
        let (head, body) = protocol::response(tag, result);
        tx.send_holding(head, body, Some(Box::new(held))).is_ok()
    };
    let stopped = || Err("the worker stopped before answering".to_string());
    loop {
        let Some((_, rx, _)) = pending.front() else {
            if !open {
                return;
            }
            match jobs.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return,
            }
            continue;
        };
        let mut progress = false;
        let first = match rx.recv_timeout(poll) {
            Ok(result) => Some(result),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(stopped()),
        };
        if let Some(result) = first {
            let Some((tag, _, held)) = pending.pop_front() else { continue };
            progress = true;
            if !answer(tag, result, held) {
                return;
            }
        }
        while open {
            match jobs.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        let mut i = 0;
        while let Some((_, rx, _)) = pending.get(i) {
            let result = match rx.try_recv() {
                Ok(result) => result,
                Err(TryRecvError::Empty) => {
                    i += 1;
                    continue;
                }
                Err(TryRecvError::Disconnected) => stopped(),
            };
            progress = true;
            let Some((tag, _, held)) = pending.remove(i) else { break };
            if !answer(tag, result, held) {
                return;
            }
        }
        poll = if progress { MIN_POLL } else { (poll * 2).min(MAX_POLL) };
    }
}
