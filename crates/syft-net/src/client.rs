//! The client side: [`NetClient`] opens connections to workers, [`NetworkWorker`] is a
//! worker handle (a [`syft_worker::Worker`]) whose transport is such a connection.
//!
//! # How workers find each other
//!
//! A client knows workers by id and address (`client.connect(&hub, "bob", "10.0.0.2:7001")`)
//! and keeps them in its *directory*. Every connection sends the directory to the worker
//! before its first request, and again before the next request whenever it has grown.
//! A worker registers every worker it learns of this way in its own hub (as a network
//! worker it connects to on first use), so pointer chains, `move` and remote deletes
//! reach other workers directly, and its own directory passes the addresses on. The TLS
//! server name of every connection is the worker id, so a wrong or forged address can
//! make a connection fail but never reach an impostor.

use crate::config::NetConfig;
use crate::error::{NetError, Result, spawn};
use crate::limits::{Budget, Budgets};
use crate::link::{FrameTx, Link, connect_tcp};
use crate::protocol::{self, WorkerMessage};
use crate::tls::Security;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, RwLock};
use syft_worker::{Hub, Reply, Transport, Worker, WorkerError, WorkerRef};

type ReplyTx = Sender<std::result::Result<Vec<u8>, String>>;

/// The workers a client knows, by id, with a version that grows with every change.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    entries: RwLock<BTreeMap<String, String>>,
    version: AtomicU64,
}

impl Directory {
    /// Adds or updates an entry; returns whether anything changed.
    pub(crate) fn insert(&self, id: &str, address: &str) -> bool {
        let Ok(mut entries) = self.entries.write() else { return false };
        if entries.get(id).is_some_and(|a| a == address) {
            return false;
        }
        entries.insert(id.to_string(), address.to_string());
        self.version.fetch_add(1, Ordering::SeqCst);
        true
    }

    fn snapshot(&self) -> (u64, Vec<(String, String)>) {
        let entries = self.entries.read().map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        // Read the version after the entries: a concurrent insert is sent again next time.
        (self.version.load(Ordering::SeqCst), entries.unwrap_or_default())
    }

    fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
}

pub(crate) struct ClientInner {
    name: String,
    security: Security,
    config: NetConfig,
    directory: Directory,
    /// The byte budget all this client's connections share.
    total: Arc<Budget>,
}

/// Opens connections to workers, with one identity, one configuration and one directory
/// of known workers (see the [module docs](self)).
///
/// ```no_run
/// use syft_net::{NetClient, NetConfig, Security, TlsIdentity};
/// use syft_worker::{Hub, Sendable, Worker};
///
/// let identity = TlsIdentity::from_files("certs/ca.pem".as_ref(), "certs/me.pem".as_ref(), "certs/me.key".as_ref())?;
/// let client = NetClient::new("me", Security::Tls(identity), NetConfig::default());
/// let hub = Hub::new();
/// let bob = client.connect(&hub, "bob", "127.0.0.1:7001")?;
/// let x = syft_ring::Tensor::from_vec(vec![1.0f32, 2., 3.]).send(&bob)?;
/// assert_eq!(x.location(), "bob");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct NetClient {
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for NetClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetClient").field("name", &self.inner.name).finish_non_exhaustive()
    }
}

impl NetClient {
    /// A client named `name` (for the workers' logs) with `security` (its certificate and
    /// CA under TLS).
    #[must_use]
    pub fn new(name: &str, security: Security, config: NetConfig) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                name: name.to_string(),
                security,
                total: Budget::new("max_buffered_total", config.max_buffered_total),
                config,
                directory: Directory::default(),
            }),
        }
    }

    /// Connects to worker `id` at `address` (`host:port`), checks that it is `id`, and
    /// registers it in `hub`.
    pub fn connect(&self, hub: &Arc<Hub>, id: &str, address: &str) -> Result<NetworkWorker> {
        let transport = Arc::new(self.transport(id, address));
        transport.connection()?;
        hub.register(transport.clone())?;
        Ok(NetworkWorker { transport, hub: hub.clone() })
    }

    /// A transport to worker `id` at `address` that connects on first use.
    pub(crate) fn transport(&self, id: &str, address: &str) -> NetTransport {
        self.inner.directory.insert(id, address);
        NetTransport {
            id: id.to_string(),
            address: address.to_string(),
            client: self.inner.clone(),
            conn: Mutex::new(None),
            sent: AtomicU64::new(0),
        }
    }

    /// Adds an entry to the directory sent to workers.
    pub(crate) fn learn(&self, id: &str, address: &str) -> bool {
        self.inner.directory.insert(id, address)
    }
}

/// One open connection to a worker.
struct Connection {
    tx: FrameTx,
    pending: Arc<Pending>,
    next_tag: AtomicU64,
    /// Directory version last sent on this connection.
    sent_directory: AtomicU64,
    peer_address: Option<String>,
}

/// Requests waiting for their response, and whether the connection still works.
#[derive(Default)]
struct Pending {
    waiting: Mutex<(bool, HashMap<u64, ReplyTx>)>,
    dead: AtomicBool,
}

impl Pending {
    /// Fails every waiting request and refuses new ones.
    fn fail_all(&self, reason: &str) {
        self.dead.store(true, Ordering::SeqCst);
        if let Ok(mut w) = self.waiting.lock() {
            w.0 = true;
            for (_, tx) in w.1.drain() {
                let _ = tx.send(Err(reason.to_string()));
            }
        }
    }
}

/// A [`Transport`] to a worker over the network.
pub struct NetTransport {
    id: String,
    address: String,
    client: Arc<ClientInner>,
    conn: Mutex<Option<Arc<Connection>>>,
    /// Requests sent.
    sent: AtomicU64,
}

impl std::fmt::Debug for NetTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetTransport").field("id", &self.id).field("address", &self.address).finish_non_exhaustive()
    }
}

impl NetTransport {
    fn transport_err(&self, e: impl std::fmt::Display) -> WorkerError {
        WorkerError::Transport { worker: self.id.clone(), reason: e.to_string() }
    }

    /// The worker's address.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The open connection, or a new one.
    fn connection(&self) -> Result<Arc<Connection>> {
        let mut conn = self.conn.lock().map_err(|_| NetError::Disconnected { peer: self.id.clone() })?;
        if let Some(c) = conn.as_ref().filter(|c| !c.pending.dead.load(Ordering::SeqCst)) {
            return Ok(c.clone());
        }
        let c = Arc::new(self.open()?);
        *conn = Some(c.clone());
        Ok(c)
    }

    fn open(&self) -> Result<Connection> {
        let cfg = &self.client.config;
        let tcp = connect_tcp(&self.address, cfg.connect_timeout)?;
        let link = Link::client(tcp, &self.client.security, &self.id, cfg.connect_timeout)?;
        let peer = link.peer().to_string();
        let budgets = Budgets::connection(cfg.max_buffered_per_connection, &self.client.total);
        let (tx, rx) = link.start(cfg.max_frame, cfg.write_timeout, &budgets)?;
        tx.send(Vec::new(), protocol::hello(&self.client.name)?)?;
        let welcome = match protocol::decode_worker(&peer, rx.recv(Some(cfg.connect_timeout))?)? {
            WorkerMessage::Welcome(w) => w,
            WorkerMessage::Error(reason) => return Err(NetError::Refused { peer, reason }),
            other => {
                return Err(NetError::BadMessage { peer, reason: format!("expected a welcome, got {other:?}") });
            }
        };
        if welcome.version != protocol::VERSION {
            return Err(NetError::Refused {
                peer,
                reason: format!("protocol version {} (this client speaks {})", welcome.version, protocol::VERSION),
            });
        }
        if welcome.worker != self.id {
            return Err(NetError::Identity {
                peer,
                expected: self.id.clone(),
                reason: format!("it says it is {}", welcome.worker),
            });
        }
        tracing::debug!(worker = %self.id, %peer, "connected");
        let pending = Arc::new(Pending::default());
        let dispatch = pending.clone();
        let worker = self.id.clone();
        spawn(format!("net-client {}", self.id), move || {
            let reason = loop {
                let frame = match rx.recv(None) {
                    Ok(f) => f,
                    Err(e) => break format!("connection lost: {e}"),
                };
                match protocol::decode_worker(&peer, frame) {
                    Ok(WorkerMessage::Response { tag, result }) => {
                        let waiter = dispatch.waiting.lock().ok().and_then(|mut w| w.1.remove(&tag));
                        if let Some(tx) = waiter {
                            let _ = tx.send(result);
                        }
                    }
                    Ok(WorkerMessage::Error(reason)) => break format!("the worker closed the connection: {reason}"),
                    Ok(other) => break format!("unexpected message {other:?}"),
                    Err(e) => break e.to_string(),
                }
            };
            tracing::debug!(%worker, %reason, "connection ended");
            dispatch.fail_all(&reason);
        })?;
        Ok(Connection {
            tx,
            pending,
            next_tag: AtomicU64::new(1),
            sent_directory: AtomicU64::new(0),
            peer_address: welcome.peer_address,
        })
    }

    fn send_on(
        &self,
        conn: &Connection,
        request: Vec<u8>,
    ) -> Result<mpsc::Receiver<std::result::Result<Vec<u8>, String>>> {
        let directory = &self.client.directory;
        if conn.sent_directory.load(Ordering::SeqCst) < directory.version() {
            let (version, entries) = directory.snapshot();
            conn.tx.send(Vec::new(), protocol::directory(&entries)?)?;
            conn.sent_directory.fetch_max(version, Ordering::SeqCst);
        }
        let tag = conn.next_tag.fetch_add(1, Ordering::SeqCst);
        let (reply_tx, reply_rx) = mpsc::channel();
        {
            let mut w = conn.pending.waiting.lock().map_err(|_| NetError::Disconnected { peer: self.id.clone() })?;
            if w.0 {
                return Err(NetError::Disconnected { peer: self.id.clone() });
            }
            w.1.insert(tag, reply_tx);
        }
        if let Err(e) = conn.tx.send(protocol::request_head(tag), request) {
            if let Ok(mut w) = conn.pending.waiting.lock() {
                w.1.remove(&tag);
            }
            return Err(e);
        }
        Ok(reply_rx)
    }
}

impl Transport for NetTransport {
    fn worker_id(&self) -> &str {
        &self.id
    }

    fn send(&self, request: Vec<u8>) -> syft_worker::Result<Reply> {
        let conn = self.connection().map_err(|e| self.transport_err(e))?;
        let rx = self.send_on(&conn, request).map_err(|e| self.transport_err(e))?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(Reply::new(self.id.clone(), rx, self.client.config.request_timeout))
    }

    /// Returns once the request is queued on the connection: the worker serves a
    /// connection's requests in order, one at a time, so every later request of this
    /// program sees the effect, and nothing waits for a round trip.
    fn send_and_forget(&self, request: Vec<u8>) -> syft_worker::Result<()> {
        self.send(request).map(drop)
    }

    fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn peer_address(&self) -> Option<String> {
        match self.connection() {
            Ok(c) => c.peer_address.clone(),
            Err(e) => {
                tracing::warn!(worker = %self.id, error = %e, "cannot reach worker for its peer address");
                None
            }
        }
    }
}

/// A worker on another process or host, reached over TCP or TLS: use it wherever a
/// [`VirtualWorker`](syft_worker::VirtualWorker) goes (`x.send(&bob)`, `MpcSession::new`,
/// `share_model`, ...).
#[derive(Clone)]
pub struct NetworkWorker {
    transport: Arc<NetTransport>,
    hub: Arc<Hub>,
}

impl std::fmt::Debug for NetworkWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<NetworkWorker id:{} address:{}>", self.transport.id, self.transport.address)
    }
}

impl NetworkWorker {
    /// The worker's client address (`host:port`).
    #[must_use]
    pub fn address(&self) -> &str {
        &self.transport.address
    }

    /// Where the worker accepts party-to-party connections (`id@host:port`).
    #[must_use]
    pub fn peer_address(&self) -> Option<String> {
        self.transport.peer_address()
    }

    /// Sends raw bytes as a request and returns the raw response (for tests of malformed
    /// input).
    pub fn send_raw(&self, bytes: Vec<u8>) -> syft_worker::Result<Vec<u8>> {
        self.transport.send(bytes)?.wait_bytes()
    }
}

impl Worker for NetworkWorker {
    fn id(&self) -> &str {
        &self.transport.id
    }

    fn transport(&self) -> WorkerRef {
        self.transport.clone()
    }

    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl PartialEq for NetworkWorker {
    fn eq(&self, other: &Self) -> bool {
        self.transport.id == other.transport.id
    }
}

impl Drop for NetworkWorker {
    fn drop(&mut self) {
        // The hub holds one handle; when only the hub and this handle remain, unregister
        // so the connection closes.
        if Arc::strong_count(&self.transport) <= 2 {
            self.hub.unregister(&self.transport.id);
        }
    }
}
