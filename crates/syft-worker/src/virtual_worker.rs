//! [`VirtualWorker`]: an in-process worker on its own thread that receives every request
//! as encoded bytes, exactly as a network worker would.

use crate::access::{Caller, LOCAL_WORKER};
use crate::error::{Result, WorkerError};
use crate::store::WorkerCore;
use crate::transport::{Envelope, Hub, Mailbox, WorkerRef};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

pub use crate::transport::Worker;

/// An in-process worker running on its own thread.
///
/// Dropping the last handle stops the thread (after it has answered what it received);
/// [`VirtualWorker::shutdown`] stops it at once, as a worker that dies would.
#[derive(Clone)]
pub struct VirtualWorker {
    transport: WorkerRef,
    hub: Arc<Hub>,
    stopped: Arc<AtomicBool>,
}

impl std::fmt::Debug for VirtualWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<VirtualWorker id:{}>", self.transport.worker_id())
    }
}

impl VirtualWorker {
    /// Starts a worker named `id` and registers it in `hub`. Every request on its queue
    /// comes from the one program all in-process workers serve, the local client.
    pub fn new(hub: &Arc<Hub>, id: &str) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Envelope>();
        let transport: WorkerRef = Arc::new(Mailbox::new(id, tx, Caller::client(LOCAL_WORKER)));
        hub.register(transport.clone())?;
        let mut core = WorkerCore::new(id, hub.clone());
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = stopped.clone();
        std::thread::Builder::new()
            .name(format!("worker-{id}"))
            .spawn(move || core.serve(rx, &|| stop.load(Ordering::SeqCst)))
            .map_err(|e| {
                hub.unregister(id);
                WorkerError::Transport { worker: id.to_string(), reason: format!("cannot spawn thread: {e}") }
            })?;
        Ok(Self { transport, hub: hub.clone(), stopped })
    }

    /// Stops the worker now, as if it had died: it leaves the hub, its thread stops before
    /// the next request it would serve, and its objects are gone. Requests still queued and
    /// every later request fail with [`WorkerError::Transport`]. Stopping twice does nothing.
    pub fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        self.unregister_if_mine();
        // Wake the thread, which sees the flag and stops; this request is never answered.
        let _ = self.transport.send(Vec::new());
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    #[must_use]
    pub fn is_shut_down(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Leaves the hub, unless the hub's worker of this name is another one.
    fn unregister_if_mine(&self) {
        let id = self.transport.worker_id();
        if self.hub.get(id).is_ok_and(|w| std::ptr::addr_eq(Arc::as_ptr(&w), Arc::as_ptr(&self.transport))) {
            self.hub.unregister(id);
        }
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
            self.unregister_if_mine();
        }
    }
}
