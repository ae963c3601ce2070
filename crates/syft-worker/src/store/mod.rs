//! A worker's object store and its request handler, independent of any transport.
//!
//! [`WorkerCore::handle`] turns one [`Request`] from one [`Caller`] into one [`Response`];
//! a failed request leaves the store as it was. Every request is checked against the
//! worker's [`AccessPolicy`], the ownership of the objects it names and the worker's
//! [`Limits`] (see [`crate::access`]) before anything runs, and a bug that panics while
//! serving one request fails that request only ([`WorkerCore::handle_bytes`]).
//!
//! The store knows multi-party sessions only through a narrow interface: it hands every
//! [`Request::Mpc`] to the worker's session service (a `SessionService`) with its objects, and tells it to
//! drop a session a panic put out of step. [`WorkerCore::new`] plugs in the member side of
//! [`crate::mpc`], which lives above this module.
//!
//! - `objects.rs`: the objects, their owners and the checks on them;
//! - `requests.rs`: what each request on objects does.

mod objects;
mod requests;

pub use crate::transport::{Envelope, Inbox};
pub(crate) use objects::Objects;
pub use objects::{ENTRY_COST, Stored};

use crate::access::{AccessPolicy, Caller, Limits, PrincipalKind, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K, Result as WorkerResult, WorkerError};
use crate::message::{MpcRequest, Request, Response};
use crate::message::{decode, encode};
use crate::transport::{Hub, call, call_async};
use std::sync::Arc;

fn err(kind: K, message: impl Into<String>) -> RemoteError {
    RemoteError::new(kind, message)
}

fn remote(e: WorkerError) -> RemoteError {
    match e {
        WorkerError::Remote { error, .. } => error,
        WorkerError::UnknownWorker(w) => err(K::Unreachable, format!("unknown worker {w}")),
        other => err(K::Unreachable, other.to_string()),
    }
}

/// The member side of multi-party sessions, as the store sees it (implemented in
/// [`crate::mpc`]).
pub(crate) trait SessionService: Send {
    /// Serves one multi-party request from `caller`, with the worker's `objects` (the
    /// shares it computes on and stores).
    fn handle(&mut self, objects: &mut Objects, caller: &Caller, request: MpcRequest) -> Result<Response, RemoteError>;

    /// Forgets `session`: a request in it failed midway, and its members are out of step.
    fn drop_session(&mut self, session: u64);
}

/// The state of one worker: its objects (with its id, whom it serves, its limits and the
/// hub to reach other workers), its multi-party sessions, and its request queue.
pub struct WorkerCore {
    objects: Objects,
    /// Multi-party sessions this worker takes part in.
    sessions: Box<dyn SessionService>,
    /// The worker's own request queue, served re-entrantly while forwarding.
    inbox: Option<Inbox>,
}

impl std::fmt::Debug for WorkerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerCore")
            .field("id", &self.objects.id())
            .field("objects", &self.objects.len())
            .finish_non_exhaustive()
    }
}

impl WorkerCore {
    /// An empty worker named `id` that reaches others through `hub` and takes part in
    /// sessions through `sessions`, serving everyone ([`AccessPolicy::open`]) with default
    /// [`Limits`].
    pub(crate) fn with_sessions(id: String, hub: &Arc<Hub>, sessions: Box<dyn SessionService>) -> Self {
        Self { objects: Objects::new(id, hub), sessions, inbox: None }
    }

    /// Sets whom this worker serves and its limits.
    pub fn set_policy(&mut self, policy: AccessPolicy, limits: Limits) {
        self.objects.set_policy(policy, limits);
    }

    /// The worker's id.
    #[must_use]
    pub fn id(&self) -> &str {
        self.objects.id()
    }

    /// Whom this worker serves.
    #[must_use]
    pub fn policy(&self) -> &AccessPolicy {
        self.objects.policy()
    }

    /// The worker's limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        self.objects.limits()
    }

    /// The hub, while the process still holds it.
    pub fn hub(&self) -> Result<Arc<Hub>, RemoteError> {
        self.objects.hub()
    }

    /// Handles one request from `caller`.
    pub fn handle(&mut self, caller: &Caller, request: Request) -> Response {
        let itself = caller.kind() == PrincipalKind::Worker && caller.name() == self.id();
        if !itself && !self.policy().admits(caller) {
            return Response::Err(forbidden(format!("{} does not serve {caller}", self.id())));
        }
        // A request starts acting for nobody; a forwarded one says for whom (`OnBehalf`).
        let outer = self.objects.act_for(None);
        let outcome = self.dispatch(caller, request);
        self.objects.act_for(outer);
        match outcome {
            Ok(r) => r,
            Err(e) => Response::Err(e),
        }
    }

    /// Sends `request` to the worker at `location` and waits for its answer. While
    /// waiting, this worker keeps serving its own inbox, re-entrantly and at any depth, so
    /// a chain of pointers that comes back through this worker (a pointer to itself, a
    /// cycle between workers, a chain through it several times) does not deadlock.
    ///
    /// The request goes as this worker, for `owner` (the client whose pointer it follows):
    /// the next worker lets it touch only that client's objects delegated to this one.
    pub(super) fn forward(&mut self, location: &str, owner: &str, request: Request) -> Result<Response, RemoteError> {
        let worker = self.hub()?.get(location).map_err(remote)?;
        let request = Request::OnBehalf { owner: owner.to_string(), request: Box::new(request) };
        if self.inbox.is_none() {
            return call(worker.as_ref(), &request).map_err(remote);
        }
        let reply = call_async(worker.as_ref(), &request).map_err(remote)?;
        loop {
            if let Some(bytes) = reply.try_bytes() {
                return match decode::<Response>(&bytes.map_err(remote)?).map_err(remote)? {
                    Response::Err(e) => Err(e),
                    other => Ok(other),
                };
            }
            let next = match &self.inbox {
                Some(inbox) => inbox.recv_timeout(std::time::Duration::from_micros(50)),
                None => Err(std::sync::mpsc::RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(envelope) => self.answer(envelope),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    // Nobody can reach this worker any more; just wait for the answer.
                    return reply.wait().map_err(remote);
                }
            }
        }
    }

    /// Decodes, handles and encodes one request from `caller` (the body of a worker's
    /// serving loop). A panic while handling it (a bug) is caught here: the request fails
    /// with [`RemoteErrorKind::Internal`](crate::RemoteErrorKind), a session it was running
    /// in is dropped (its members are out of step), and the worker goes on serving. Fails
    /// only if the response cannot be encoded.
    pub fn handle_bytes(&mut self, caller: &Caller, bytes: &[u8]) -> WorkerResult<Vec<u8>> {
        let response = match decode::<Request>(bytes) {
            Ok(req) => {
                let session = match &req {
                    Request::Mpc(m) => m.session(),
                    _ => None,
                };
                let name = req.name();
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(caller, req))) {
                    Ok(r) => r,
                    Err(_) => {
                        if let Some(s) = session {
                            self.sessions.drop_session(s);
                        }
                        Response::Err(err(K::Internal, format!("{} failed while serving a {name} request", self.id())))
                    }
                }
            }
            Err(e) => Response::Err(err(K::BadRequest, format!("undecodable request: {e}"))),
        };
        encode(&response)
    }

    /// Serves one request from the queue and sends its answer back (the caller may have
    /// gone away; nothing to do then).
    fn answer(&mut self, envelope: Envelope) {
        let answer = self.handle_bytes(&envelope.caller, &envelope.bytes).map_err(|e| e.to_string());
        let _ = envelope.reply.send(answer);
    }

    /// Gives the worker its own inbox, so it can serve nested requests while it waits on
    /// another worker (see `forward`).
    pub fn set_inbox(&mut self, inbox: Inbox) {
        self.inbox = Some(inbox);
    }

    /// Takes the inbox back.
    pub fn take_inbox(&mut self) -> Option<Inbox> {
        self.inbox.take()
    }

    /// Serves requests from `inbox` until every sender is gone (or `stop` says so): the
    /// serving loop of every worker, in process ([`VirtualWorker`](crate::VirtualWorker))
    /// or behind a network server.
    pub fn serve(&mut self, inbox: Inbox, stop: &dyn Fn() -> bool) {
        self.set_inbox(inbox);
        loop {
            let Some(Ok(envelope)) = self.inbox.as_ref().map(Inbox::recv) else { break };
            if stop() {
                break;
            }
            self.answer(envelope);
        }
    }
}
