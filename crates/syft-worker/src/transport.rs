//! How a request reaches a worker: the [`Transport`] trait, the [`Worker`] handles built
//! on it, the [`Hub`] of known workers, a worker's request queue ([`Envelope`], [`Inbox`],
//! and [`Mailbox`], the transport onto such a queue), and typed calls on top of the
//! byte-level transport.

use crate::access::Caller;
use crate::error::{Result, WorkerError};
use crate::message::{ObjectId, ObjectInfo, Request, Response, decode, encode};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;
use syft_share::Comm;

/// What a worker answers to one request: the encoded [`Response`], or why there is none
/// (a text, as it may come from the other end of a connection).
pub type Answer = std::result::Result<Vec<u8>, String>;

/// The reply to one request, to wait for (requests to several workers can be in flight
/// at once, which is how the parties of a protocol run concurrently).
#[derive(Debug)]
pub struct Reply {
    worker: String,
    rx: mpsc::Receiver<Answer>,
    timeout: Option<Duration>,
}

impl Reply {
    /// A reply that will arrive on `rx`.
    #[must_use]
    pub fn new(worker: String, rx: mpsc::Receiver<Answer>, timeout: Option<Duration>) -> Self {
        Self { worker, rx, timeout }
    }

    /// Waits for the encoded response.
    pub fn wait_bytes(self) -> Result<Vec<u8>> {
        let got = match self.timeout {
            Some(t) => self.rx.recv_timeout(t).map_err(|e| e.to_string()),
            None => self.rx.recv().map_err(|e| e.to_string()),
        };
        match got {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(reason)) | Err(reason) => Err(WorkerError::Transport { worker: self.worker, reason }),
        }
    }

    /// The encoded response if it has arrived (`None` while it has not).
    pub fn try_bytes(&self) -> Option<Result<Vec<u8>>> {
        match self.rx.try_recv() {
            Ok(Ok(bytes)) => Some(Ok(bytes)),
            Ok(Err(reason)) => Some(Err(WorkerError::Transport { worker: self.worker.clone(), reason })),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(WorkerError::Transport {
                worker: self.worker.clone(),
                reason: "the worker has stopped".into(),
            })),
        }
    }

    /// The encoded response if it arrives within `wait` (`None` if it has not yet).
    pub fn bytes_within(&self, wait: Duration) -> Option<Result<Vec<u8>>> {
        match self.rx.recv_timeout(wait) {
            Ok(Ok(bytes)) => Some(Ok(bytes)),
            Ok(Err(reason)) => Some(Err(WorkerError::Transport { worker: self.worker.clone(), reason })),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(WorkerError::Transport {
                worker: self.worker.clone(),
                reason: "the worker has stopped".into(),
            })),
        }
    }

    /// The worker this reply comes from.
    #[must_use]
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Waits for the response and decodes it; a remote error becomes [`WorkerError::Remote`].
    pub fn wait(self) -> Result<Response> {
        let worker = self.worker.clone();
        let bytes = self.wait_bytes()?;
        match decode::<Response>(&bytes)? {
            Response::Err(error) => Err(WorkerError::Remote { worker, error }),
            other => Ok(other),
        }
    }
}

/// A byte-level connection to one worker. Implementations: the in-process
/// [`VirtualWorker`](crate::VirtualWorker) channel; network transports elsewhere.
pub trait Transport: Send + Sync {
    /// The worker's id.
    fn worker_id(&self) -> &str;
    /// Sends one encoded [`Request`]; the [`Reply`] yields the encoded [`Response`].
    fn send(&self, request: Vec<u8>) -> Result<Reply>;
    /// Where this worker accepts party-to-party connections for multi-party sessions,
    /// if it is reached over a network (`None` for in-process workers).
    fn peer_address(&self) -> Option<String> {
        None
    }
    /// How many requests were sent through this transport so far (0 for a transport that
    /// does not count them). [`Hub::requests_sent`] sums it over a hub's workers.
    fn requests_sent(&self) -> u64 {
        0
    }
}

/// Why a [`SessionConnector`] could not open a session's channels (the connector's own
/// error, whatever its type).
pub type ConnectError = Box<dyn std::error::Error + Send + Sync>;

/// Opens a worker's channels to the other members of a session over a network.
pub trait SessionConnector: Send + Sync {
    /// Connects endpoint `me` of `session` to every other endpoint (`peers[i]` is where
    /// endpoint `i` listens) and returns the channel set.
    fn connect(&self, session: u64, me: usize, peers: &[String]) -> std::result::Result<Box<dyn Comm>, ConnectError>;
}

/// A shared handle to a worker's transport.
pub type WorkerRef = Arc<dyn Transport>;

/// Sends a typed request (without waiting).
pub fn call_async(worker: &dyn Transport, request: &Request) -> Result<Reply> {
    worker.send(encode(request)?)
}

/// Sends a typed request and waits for the typed response.
pub fn call(worker: &dyn Transport, request: &Request) -> Result<Response> {
    call_async(worker, request)?.wait()
}

/// One request as it arrives at a worker's queue: who sent it, the encoded request, and
/// where to send the encoded answer.
#[derive(Debug)]
pub struct Envelope {
    /// The identity the request comes from.
    pub caller: Caller,
    /// The encoded [`Request`].
    pub bytes: Vec<u8>,
    /// Where the encoded [`Response`] (or why there is none) goes.
    pub reply: mpsc::Sender<Answer>,
}

impl Envelope {
    /// The envelope of `bytes` from `caller`, and where its answer will arrive.
    #[must_use]
    pub fn new(caller: Caller, bytes: Vec<u8>) -> (Self, mpsc::Receiver<Answer>) {
        let (reply, rx) = mpsc::channel();
        (Self { caller, bytes, reply }, rx)
    }
}

/// A worker's request queue.
pub type Inbox = mpsc::Receiver<Envelope>;

/// The transport onto a worker's own request queue, on which every request comes from one
/// caller: the handles of an in-process worker (the local client), or a network worker's
/// entry in its own hub (the worker itself, for a chain that comes back through it).
pub struct Mailbox {
    id: String,
    tx: Mutex<mpsc::Sender<Envelope>>,
    caller: Caller,
    peer_address: Option<String>,
    /// Requests sent onto the queue.
    sent: AtomicU64,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox").field("id", &self.id).field("caller", &self.caller).finish_non_exhaustive()
    }
}

impl Mailbox {
    /// The queue `tx` of worker `id`, every request on it from `caller`.
    #[must_use]
    pub fn new(id: impl Into<String>, tx: mpsc::Sender<Envelope>, caller: Caller) -> Self {
        Self { id: id.into(), tx: Mutex::new(tx), caller, peer_address: None, sent: AtomicU64::new(0) }
    }

    /// Where the worker accepts party-to-party connections (see
    /// [`Transport::peer_address`]).
    #[must_use]
    pub fn with_peer_address(mut self, address: impl Into<String>) -> Self {
        self.peer_address = Some(address.into());
        self
    }
}

impl Transport for Mailbox {
    fn worker_id(&self) -> &str {
        &self.id
    }

    fn send(&self, request: Vec<u8>) -> Result<Reply> {
        let failed = |reason: &str| WorkerError::Transport { worker: self.id.clone(), reason: reason.into() };
        let (envelope, rx) = Envelope::new(self.caller.clone(), request);
        let tx = self.tx.lock().map_err(|_| failed("poisoned"))?;
        tx.send(envelope).map_err(|_| failed("the worker has stopped"))?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(Reply::new(self.id.clone(), rx, None))
    }

    fn peer_address(&self) -> Option<String> {
        self.peer_address.clone()
    }

    fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// The operations every worker handle offers: its id, its transport, and a look at its store.
pub trait Worker {
    /// The worker's id.
    fn id(&self) -> &str;
    /// The transport to it.
    fn transport(&self) -> WorkerRef;
    /// The hub through which this process reaches its workers.
    fn hub(&self) -> &Arc<Hub>;

    /// The objects it holds (PySyft's `worker._objects`).
    fn objects(&self) -> Result<Vec<(ObjectId, ObjectInfo)>> {
        match call(self.transport().as_ref(), &Request::List)? {
            Response::List(l) => Ok(l),
            other => Err(WorkerError::UnexpectedResponse {
                worker: self.id().to_string(),
                request: "list",
                response: format!("{other:?}"),
            }),
        }
    }

    /// How many objects it holds.
    fn object_count(&self) -> Result<usize> {
        Ok(self.objects()?.len())
    }
}

/// A reference to a worker is a worker: a program that holds `bob: &dyn Worker` (from
/// `Workers::get`, say) writes `&[&bob, &alice]` as it would for owned workers.
impl<W: Worker + ?Sized> Worker for &W {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn transport(&self) -> WorkerRef {
        (**self).transport()
    }
    fn hub(&self) -> &Arc<Hub> {
        (**self).hub()
    }
}

/// Live client-side objects by key, held weakly and without naming their type (the
/// multi-party sessions of [`crate::shared`], by their members), so that this layer does
/// not depend on what it keeps.
pub(crate) type Registry = HashMap<Vec<String>, Weak<dyn Any + Send + Sync>>;

/// The workers known to this process, by id, and the in-process channel endpoints handed
/// to workers when they join a multi-party session.
#[derive(Default)]
pub struct Hub {
    workers: RwLock<HashMap<String, WorkerRef>>,
    endpoints: Mutex<HashMap<(u64, String), Box<dyn Comm>>>,
    /// Live sessions by (parties, crypto provider), so sharing with the same workers
    /// again joins the existing session.
    sessions: Mutex<Registry>,
    /// Opens network channels for sessions (set by a network worker's server).
    connector: RwLock<Option<Arc<dyn SessionConnector>>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.workers.read().map(|w| w.keys().cloned().collect()).unwrap_or_default();
        f.debug_struct("Hub").field("workers", &names).finish_non_exhaustive()
    }
}

impl Hub {
    /// An empty hub.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Registers a worker under its id.
    pub fn register(&self, worker: WorkerRef) -> Result<()> {
        let mut map = self.workers.write().map_err(|_| poisoned())?;
        let id = worker.worker_id().to_string();
        if map.contains_key(&id) {
            return Err(WorkerError::DuplicateWorker(id));
        }
        map.insert(id, worker);
        Ok(())
    }

    /// Forgets a worker.
    pub fn unregister(&self, id: &str) {
        if let Ok(mut map) = self.workers.write() {
            map.remove(id);
        }
    }

    /// The worker with this id.
    pub fn get(&self, id: &str) -> Result<WorkerRef> {
        let map = self.workers.read().map_err(|_| poisoned())?;
        map.get(id).cloned().ok_or_else(|| WorkerError::UnknownWorker(id.to_string()))
    }

    /// Installs the connector that opens network channels for sessions.
    pub fn set_connector(&self, connector: Arc<dyn SessionConnector>) {
        if let Ok(mut c) = self.connector.write() {
            *c = Some(connector);
        }
    }

    /// The connector for network sessions, if any.
    #[must_use]
    pub fn connector(&self) -> Option<Arc<dyn SessionConnector>> {
        self.connector.read().ok().and_then(|c| c.clone())
    }

    /// Leaves a channel endpoint for `worker` to pick up when it joins `session`.
    pub fn deposit_endpoint(&self, session: u64, worker: &str, comm: Box<dyn Comm>) -> Result<()> {
        self.endpoints.lock().map_err(|_| poisoned())?.insert((session, worker.to_string()), comm);
        Ok(())
    }

    /// Takes the channel endpoint left for `worker` in `session`.
    pub fn take_endpoint(&self, session: u64, worker: &str) -> Option<Box<dyn Comm>> {
        self.endpoints.lock().ok()?.remove(&(session, worker.to_string()))
    }

    /// How many requests this process has sent to the workers registered here, through
    /// their transports: every request of the client (stores, operations, each member's
    /// step of a multi-party operation, gets, deletes), and those in-process workers
    /// forward along pointer chains. Take it before and after a computation and
    /// subtract. Workers no longer registered no longer count.
    #[must_use]
    pub fn requests_sent(&self) -> u64 {
        self.workers.read().map(|w| w.values().map(|t| t.requests_sent()).sum()).unwrap_or(0)
    }

    /// The registry of live sessions, locked (`None` if a thread panicked holding it).
    pub(crate) fn sessions(&self) -> Option<MutexGuard<'_, Registry>> {
        self.sessions.lock().ok()
    }
}

fn poisoned() -> WorkerError {
    WorkerError::InvalidArgument { op: "hub", reason: "a thread panicked while holding the worker registry".into() }
}
