//! [`VirtualWorker`]: an in-process worker on its own thread that receives every request
//! as encoded bytes, exactly as a network worker would.

use crate::access::Caller;
use crate::error::{Result, WorkerError};
use crate::message::{ObjectId, ObjectInfo, Request, Response};
use crate::store::WorkerCore;
use crate::transport::{Hub, Reply, Transport, WorkerRef, call};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::store::Envelope;

/// The channel to a virtual worker's thread. Every request on it comes from the one
/// program all in-process workers serve, the local client.
struct Channel {
    id: String,
    tx: Mutex<mpsc::Sender<Envelope>>,
    caller: Caller,
}

impl Transport for Channel {
    fn worker_id(&self) -> &str {
        &self.id
    }

    fn send(&self, request: Vec<u8>) -> Result<Reply> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let tx = self
            .tx
            .lock()
            .map_err(|_| WorkerError::Transport { worker: self.id.clone(), reason: "poisoned".into() })?;
        tx.send(Envelope { caller: self.caller.clone(), bytes: request, reply: reply_tx })
            .map_err(|_| WorkerError::Transport { worker: self.id.clone(), reason: "the worker has stopped".into() })?;
        Ok(Reply::new(self.id.clone(), reply_rx, None))
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

/// An in-process worker running on its own thread.
///
/// Dropping the last handle stops the thread (after it has answered what it received).
#[derive(Clone)]
pub struct VirtualWorker {
    transport: WorkerRef,
    hub: Arc<Hub>,
}

impl std::fmt::Debug for VirtualWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<VirtualWorker id:{}>", self.transport.worker_id())
    }
}

impl VirtualWorker {
    /// Starts a worker named `id` and registers it in `hub`.
    pub fn new(hub: &Arc<Hub>, id: &str) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Envelope>();
        let caller = Caller::client(crate::pointer::LOCAL_WORKER);
        let transport: WorkerRef = Arc::new(Channel { id: id.to_string(), tx: Mutex::new(tx), caller });
        hub.register(transport.clone())?;
        let mut core = WorkerCore::new(id, hub.clone());
        std::thread::Builder::new().name(format!("worker-{id}")).spawn(move || core.serve(rx, &|| false)).map_err(
            |e| {
                hub.unregister(id);
                WorkerError::Transport { worker: id.to_string(), reason: format!("cannot spawn thread: {e}") }
            },
        )?;
        Ok(Self { transport, hub: hub.clone() })
    }

    /// Sends raw bytes as a request (for tests of malformed input).
    pub fn send_raw(&self, bytes: Vec<u8>) -> Result<Vec<u8>> {
        self.transport.send(bytes)?.wait_bytes()
    }
}

impl Worker for VirtualWorker {
    fn id(&self) -> &str {
        self.transport.worker_id()
    }
    fn transport(&self) -> WorkerRef {
        self.transport.clone()
    }
    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl PartialEq for VirtualWorker {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Drop for VirtualWorker {
    fn drop(&mut self) {
        // The hub holds one transport handle; when only the hub and this handle remain,
        // unregister so the thread can stop.
        if Arc::strong_count(&self.transport) <= 2 {
            self.hub.unregister(self.transport.worker_id());
        }
    }
}
