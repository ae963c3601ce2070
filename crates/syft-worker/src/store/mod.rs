//! A worker's object store and its request handler, independent of any transport.
//!
//! [`WorkerCore::handle`] turns one [`Request`] from one [`Caller`] into one [`Response`];
//! a failed request leaves the store as it was. Every request is checked against the
//! worker's [`AccessPolicy`], the ownership of the objects it names and the worker's
//! [`Limits`] (see [`crate::access`]) before anything runs, and a bug that panics while
//! serving one request fails that request only ([`WorkerCore::handle_bytes`]).

use crate::access::{AccessPolicy, Caller, Flow, Limits, Ownership, PrincipalKind, Use, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K, WorkerError};
use crate::message::{ObjectId, ObjectInfo, Request, Response, Value, new_id};
use crate::message::{decode, encode};
use crate::mpc::Sessions;
use crate::ops::{FloatBackend, FloatVar, TensorOp};
use crate::transport::{Hub, call, call_async};
use std::collections::BTreeMap;
use std::sync::Arc;
use syft_autograd::Var;
use syft_ring::Tensor;

/// An object held by a worker.
#[derive(Debug)]
pub enum Stored {
    /// A float tensor with autograd state.
    Float(FloatVar),
    /// A ring tensor (integers modulo 2^64, or a secret share).
    Ring(Tensor<u64>),
    /// A pointer to an object on another worker; deleting it deletes that object.
    Pointer {
        /// Where the object lives.
        location: String,
        /// Its id there.
        id: ObjectId,
    },
}

impl Stored {
    /// The value as it travels (data copied, autograd graph cut).
    #[must_use]
    pub fn to_value(&self) -> Value {
        match self {
            Self::Float(v) => Value::Float {
                data: (*v.value()).clone(),
                requires_grad: v.requires_grad(),
                grad: v.grad().map(|g| (*g).clone()),
            },
            Self::Ring(t) => Value::Ring(t.clone()),
            Self::Pointer { location, id } => Value::Pointer { location: location.clone(), id: *id },
        }
    }

    /// The value as it travels, consuming the object (no copy when nothing else holds the
    /// data).
    #[must_use]
    pub fn into_value(self) -> Value {
        match self {
            Self::Float(v) => {
                let (data, grad, requires_grad) = (v.value(), v.grad(), v.requires_grad());
                drop(v);
                let data = Arc::try_unwrap(data).unwrap_or_else(|shared| (*shared).clone());
                let grad = grad.map(|g| Arc::try_unwrap(g).unwrap_or_else(|shared| (*shared).clone()));
                Value::Float { data, requires_grad, grad }
            }
            Self::Ring(t) => Value::Ring(t),
            Self::Pointer { location, id } => Value::Pointer { location, id },
        }
    }

    /// Rebuilds a stored object from a value.
    #[must_use]
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::Float { data, requires_grad, grad } => {
                let v = Var::new(&FloatBackend::default(), data, requires_grad);
                if grad.is_some() {
                    v.set_grad(grad);
                }
                Self::Float(v)
            }
            Value::Ring(t) => Self::Ring(t),
            Value::Pointer { location, id } => Self::Pointer { location, id },
        }
    }

    /// A description.
    #[must_use]
    pub fn info(&self) -> ObjectInfo {
        match self {
            Self::Float(v) => ObjectInfo {
                kind: crate::message::ObjectKind::Float,
                shape: v.shape(),
                requires_grad: v.requires_grad(),
            },
            other => other.to_value().info(),
        }
    }
}

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

/// Bytes every stored object is charged beyond its data.
pub const ENTRY_COST: u64 = 64;

/// A stored object with its ownership record.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) obj: Stored,
    pub(crate) own: Ownership,
    bytes: u64,
}

impl Stored {
    /// Bytes it is charged for: its tensor data (gradient included) or its pointer, plus
    /// a fixed cost per object ([`ENTRY_COST`]), so that many small objects cost too.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        let words = |n: usize, size: usize| (n as u64).saturating_mul(size as u64);
        let data = match self {
            Self::Float(v) => words(v.value().len(), 4).saturating_add(v.grad().map_or(0, |g| words(g.len(), 4))),
            Self::Ring(t) => words(t.len(), 8),
            Self::Pointer { location, .. } => location.len() as u64,
        };
        data.saturating_add(ENTRY_COST)
    }

    /// The shapes of the tensors it holds (for limits).
    fn shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Self::Float(v) => vec![v.shape()],
            Self::Ring(t) => vec![t.shape().to_vec()],
            Self::Pointer { .. } => Vec::new(),
        }
    }
}

/// The state of one worker: its id, its objects, the hub to reach other workers, its
/// multi-party sessions, whom it serves and its limits.
pub struct WorkerCore {
    id: String,
    store: BTreeMap<ObjectId, Entry>,
    /// Bytes stored per owner.
    usage: BTreeMap<String, u64>,
    policy: AccessPolicy,
    limits: Limits,
    /// Weak, so that a worker's thread (which owns this core) does not keep the hub, and
    /// through it its own channel, alive forever.
    hub: std::sync::Weak<Hub>,
    /// Multi-party sessions this worker takes part in.
    pub(crate) sessions: Sessions,
    /// The worker's own request queue, served re-entrantly while forwarding.
    inbox: Option<Inbox>,
    /// While serving a request a peer forwards along a chain: the client it acts for.
    on_behalf: Option<String>,
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
    pub reply: std::sync::mpsc::Sender<std::result::Result<Vec<u8>, String>>,
}

/// A worker's request queue.
pub type Inbox = std::sync::mpsc::Receiver<Envelope>;

impl std::fmt::Debug for WorkerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerCore").field("id", &self.id).field("objects", &self.store.len()).finish_non_exhaustive()
    }
}

impl WorkerCore {
    /// An empty worker named `id` that reaches others through `hub`, serving everyone
    /// ([`AccessPolicy::open`]) with default [`Limits`].
    #[must_use]
    pub fn new(id: impl Into<String>, hub: Arc<Hub>) -> Self {
        Self {
            id: id.into(),
            store: BTreeMap::new(),
            usage: BTreeMap::new(),
            policy: AccessPolicy::open(),
            limits: Limits::default(),
            hub: Arc::downgrade(&hub),
            sessions: Sessions::default(),
            inbox: None,
            on_behalf: None,
        }
    }

    /// Sets whom this worker serves and its limits.
    pub fn set_policy(&mut self, policy: AccessPolicy, limits: Limits) {
        self.policy = policy;
        self.limits = limits;
    }

    /// The worker's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whom this worker serves.
    #[must_use]
    pub fn policy(&self) -> &AccessPolicy {
        &self.policy
    }

    /// The worker's limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The hub, while the process still holds it.
    pub fn hub(&self) -> Result<Arc<Hub>, RemoteError> {
        self.hub.upgrade().ok_or_else(|| err(K::Unreachable, "the worker registry is gone"))
    }

    /// Handles one request from `caller`.
    pub fn handle(&mut self, caller: &Caller, request: Request) -> Response {
        let itself = caller.kind() == PrincipalKind::Worker && caller.name() == self.id;
        if !itself && !self.policy.admits(caller) {
            return Response::Err(forbidden(format!("{} does not serve {caller}", self.id)));
        }
        // A request starts acting for nobody; a forwarded one says for whom (`OnBehalf`).
        let outer = self.on_behalf.take();
        let outcome = self.dispatch(caller, request);
        self.on_behalf = outer;
        match outcome {
            Ok(r) => r,
            Err(e) => Response::Err(e),
        }
    }

    /// Whether `caller`, a worker, may act on `e`: it was delegated `e` by its owner, and
    /// the request it forwards is for that owner (a pointer the owner stored on it).
    fn delegated(&self, caller: &Caller, e: &Entry) -> bool {
        e.own.delegates.contains(caller.name()) && self.on_behalf.as_deref() == Some(e.own.owner.as_str())
    }

    /// The entry `id`, whoever owns it.
    fn entry(&self, id: ObjectId) -> Result<&Entry, RemoteError> {
        self.store.get(&id).ok_or_else(|| err(K::UnknownObject, format!("no object {id} on {}", self.id)))
    }

    /// The stored object `id`, if `caller` may compute with it: its owner or a client it
    /// was granted to; a worker it was delegated to.
    pub(crate) fn usable(&self, caller: &Caller, id: ObjectId) -> Result<&Stored, RemoteError> {
        let e = self.entry(id)?;
        let ok = match caller.kind() {
            PrincipalKind::Client => e.own.owner == caller.name() || e.own.grants.contains(caller.name()),
            PrincipalKind::Worker => e.own.delegates.contains(caller.name()),
        };
        if ok { Ok(&e.obj) } else { Err(forbidden(format!("{caller} may not use object {id} on {}", self.id))) }
    }

    /// Checks that `caller` may read, move or delete object `id` (its owner; for delete,
    /// also a worker it was delegated to, cascading the deletion of a chain) and, to read
    /// or move it, that it is not restricted.
    fn check_manage(&self, caller: &Caller, id: ObjectId, read: bool) -> Result<(), RemoteError> {
        let e = self.entry(id)?;
        let ok = match caller.kind() {
            PrincipalKind::Client => e.own.owner == caller.name(),
            PrincipalKind::Worker => !read && self.delegated(caller, e),
        };
        if !ok {
            return Err(forbidden(format!("{caller} does not own object {id} on {}", self.id)));
        }
        if read && e.own.restricted {
            return Err(forbidden(format!(
                "object {id} on {} was computed from an object {caller} does not own: it may be used, not read",
                self.id
            )));
        }
        Ok(())
    }

    /// The ownership of a result `caller` computes from `args` with an operation of kind
    /// `flow`: the client that asks owns it, restricted when it derives from granted
    /// objects, within the rules of [`access::flow`](crate::access::flow); through a chain,
    /// the operands' owner owns it and the forwarding worker may use it.
    pub(crate) fn derived(
        &self,
        caller: &Caller,
        op: &str,
        args: &[ObjectId],
        flow: Flow,
    ) -> Result<Ownership, RemoteError> {
        let entries: Vec<&Entry> = args.iter().map(|&a| self.entry(a)).collect::<Result<_, _>>()?;
        match caller.kind() {
            PrincipalKind::Client => {
                let uses: Vec<Use> = entries
                    .iter()
                    .map(|e| match (e.own.owner == caller.name(), e.own.restricted, e.own.param) {
                        (true, false, _) => Use::Own,
                        (true, true, false) => Use::Activation,
                        _ => Use::Param,
                    })
                    .collect();
                let own = Ownership::owned_by(caller.name());
                Ok(match crate::access::flow(op, flow, &uses)? {
                    Use::Own => own,
                    Use::Param => Ownership { restricted: true, param: true, ..own },
                    Use::Activation => Ownership { restricted: true, ..own },
                })
            }
            PrincipalKind::Worker => {
                let owner = self.on_behalf.clone().unwrap_or_default();
                if entries.iter().any(|e| e.own.owner != owner) {
                    return Err(forbidden(format!("{caller}: operands not of the client it acts for")));
                }
                let mut own = Ownership::owned_by(owner);
                own.delegates.insert(caller.name().to_string());
                own.restricted = entries.iter().any(|e| e.own.restricted);
                own.param = own.restricted && entries.iter().all(|e| e.own.param);
                Ok(own)
            }
        }
    }

    /// Stores `obj` under `id` for `own.owner`, refusing to overwrite and checking the
    /// owner's storage limit.
    pub(crate) fn insert(&mut self, id: ObjectId, obj: Stored, own: Ownership) -> Result<(), RemoteError> {
        if self.store.contains_key(&id) {
            return Err(err(K::BadRequest, format!("object {id} already exists on {}", self.id)));
        }
        let bytes = obj.bytes();
        let used = self.usage.get(&own.owner).copied().unwrap_or(0);
        let max = self.limits.max_stored_bytes_per_owner;
        if used.saturating_add(bytes) > max {
            return Err(err(
                K::LimitExceeded,
                format!(
                    "max_stored_bytes_per_owner: {} would store {} bytes on {} (limit {max})",
                    own.owner,
                    used.saturating_add(bytes),
                    self.id
                ),
            ));
        }
        *self.usage.entry(own.owner.clone()).or_insert(0) += bytes;
        self.store.insert(id, Entry { obj, own, bytes });
        Ok(())
    }

    /// Removes object `id` (whoever owns it; callers check rights first).
    pub(crate) fn remove(&mut self, id: ObjectId) -> Result<Entry, RemoteError> {
        let e =
            self.store.remove(&id).ok_or_else(|| err(K::UnknownObject, format!("no object {id} on {}", self.id)))?;
        if let Some(u) = self.usage.get_mut(&e.own.owner) {
            *u = u.saturating_sub(e.bytes);
            if *u == 0 {
                self.usage.remove(&e.own.owner);
            }
        }
        Ok(e)
    }

    /// Recounts what `owner` stores (after a backward pass grew gradients).
    fn recount(&mut self, owner: &str) {
        let mut total = 0u64;
        for e in self.store.values_mut().filter(|e| e.own.owner == owner) {
            e.bytes = e.obj.bytes();
            total = total.saturating_add(e.bytes);
        }
        self.usage.insert(owner.to_string(), total);
    }

    /// Puts back an entry taken out by [`Self::remove`] (a failed move).
    fn restore(&mut self, id: ObjectId, e: Entry) {
        *self.usage.entry(e.own.owner.clone()).or_insert(0) += e.bytes;
        self.store.insert(id, e);
    }

    /// Whether an object `id` exists (for id collisions).
    pub(crate) fn contains(&self, id: ObjectId) -> bool {
        self.store.contains_key(&id)
    }

    /// Sends `request` to the worker at `location` and waits for its answer. While
    /// waiting, this worker keeps serving its own inbox, re-entrantly and at any depth, so
    /// a chain of pointers that comes back through this worker (a pointer to itself, a
    /// cycle between workers, a chain through it several times) does not deadlock.
    ///
    /// The request goes as this worker, for `owner` (the client whose pointer it follows):
    /// the next worker lets it touch only that client's objects delegated to this one.
    fn forward(&mut self, location: &str, owner: &str, request: Request) -> Result<Response, RemoteError> {
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
                Ok(envelope) => {
                    let _ = envelope.reply.send(self.handle_bytes(&envelope.caller, &envelope.bytes));
                }
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
    /// in is dropped (its members are out of step), and the worker goes on serving.
    pub fn handle_bytes(&mut self, caller: &Caller, bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
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
                        Response::Err(err(K::Internal, format!("{} failed while serving a {name} request", self.id)))
                    }
                }
            }
            Err(e) => Response::Err(err(K::BadRequest, format!("undecodable request: {e}"))),
        };
        encode(&response).map_err(|e| e.to_string())
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
    /// serving loop of every worker, in process or behind a network server.
    pub fn serve(&mut self, inbox: Inbox, stop: &dyn Fn() -> bool) {
        self.set_inbox(inbox);
        loop {
            let Some(Ok(envelope)) = self.inbox.as_ref().map(Inbox::recv) else { break };
            if stop() {
                break;
            }
            // The caller may have gone away; nothing to do then.
            let _ = envelope.reply.send(self.handle_bytes(&envelope.caller, &envelope.bytes));
        }
    }

    fn check_value(&self, what: &str, value: &Value) -> Result<(), RemoteError> {
        match value {
            Value::Float { data, grad, .. } => {
                self.limits.request(what, [data.shape()].into_iter().chain(grad.as_ref().map(|g| g.shape())))
            }
            Value::Ring(t) => self.limits.request(what, [t.shape()]),
            Value::Pointer { .. } => Ok(()),
        }
    }

    fn dispatch(&mut self, caller: &Caller, request: Request) -> Result<Response, RemoteError> {
        match request {
            Request::OnBehalf { owner, request } => {
                if self.on_behalf.is_some() || matches!(*request, Request::OnBehalf { .. }) {
                    return Err(err(K::BadRequest, "nested on-behalf request"));
                }
                match caller.kind() {
                    // A client forwarding for itself (in-process workers all serve one).
                    PrincipalKind::Client if owner == caller.name() => self.dispatch(caller, *request),
                    PrincipalKind::Client => Err(forbidden(format!("{caller} may not act for {owner}"))),
                    PrincipalKind::Worker => {
                        self.on_behalf = Some(owner);
                        let outcome = self.dispatch(caller, *request);
                        self.on_behalf = None;
                        outcome
                    }
                }
            }
            Request::Store { id, value } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not store objects on {}", self.id)));
                }
                self.check_value("store", &value)?;
                self.insert(id, Stored::from_value(value), Ownership::owned_by(caller.name()))?;
                Ok(Response::Ok)
            }
            Request::Adopt { id, value, owner } => {
                // The receiving end of a `move` the owner asked another worker for.
                let allowed = match caller.kind() {
                    PrincipalKind::Worker => true,
                    PrincipalKind::Client => owner == caller.name(),
                };
                if !allowed || !self.policy.is_client(&owner) {
                    return Err(forbidden(format!("{caller} may not hand over an object of {owner} to {}", self.id)));
                }
                self.check_value("move", &value)?;
                self.insert(id, Stored::from_value(value), Ownership::owned_by(owner))?;
                Ok(Response::Ok)
            }
            Request::Get { id } => {
                self.check_manage(caller, id, true)?;
                Ok(Response::Value(self.remove(id)?.obj.into_value()))
            }
            Request::Delete { id } => {
                self.check_manage(caller, id, false)?;
                let entry = self.remove(id)?;
                if let Stored::Pointer { location, id: target } = entry.obj {
                    // A stored pointer owns what it points to: cascade the deletion.
                    // The target may already be gone; that is not this worker's error.
                    let _ = self.forward(&location, &entry.own.owner, Request::Delete { id: target });
                }
                Ok(Response::Ok)
            }
            Request::Describe { id } => Ok(Response::Info(self.usable(caller, id)?.info())),
            Request::List => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not list the store of {}", self.id)));
                }
                Ok(Response::List(
                    self.store
                        .iter()
                        .filter(|(_, e)| e.own.owner == caller.name())
                        .map(|(k, e)| (*k, e.obj.info()))
                        .collect(),
                ))
            }
            Request::Grant { id, to } => {
                self.check_manage(caller, id, false)?;
                if !caller.is_client() || !self.policy.is_client(&to) {
                    return Err(forbidden(format!("{caller} may not grant object {id} to {to}")));
                }
                if let Some(e) = self.store.get_mut(&id) {
                    e.own.grants.insert(to);
                }
                Ok(Response::Ok)
            }
            Request::Revoke { id, from } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not revoke grants")));
                }
                self.check_manage(caller, id, false)?;
                if let Some(e) = self.store.get_mut(&id) {
                    e.own.grants.remove(&from);
                }
                Ok(Response::Ok)
            }
            Request::Delegate { id, to } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not delegate object {id}")));
                }
                self.check_manage(caller, id, false)?;
                if to != self.id && !self.policy.is_peer(&to) {
                    return Err(forbidden(format!("{to} is not a worker {} knows", self.id)));
                }
                if let Some(e) = self.store.get_mut(&id) {
                    e.own.delegates.insert(to);
                }
                Ok(Response::Ok)
            }
            Request::Op { op, args, result } => self.op(caller, op, &args, result),
            Request::Backward { id } => {
                // Backward writes gradients into every leaf of the graph: only from a value
                // the caller owns outright (a graph through granted data would let it read
                // that data in the gradients of its own leaves).
                let e = self.entry(id)?;
                let mine = match caller.kind() {
                    PrincipalKind::Client => e.own.owner == caller.name(),
                    PrincipalKind::Worker => self.delegated(caller, e),
                };
                if !mine || e.own.restricted {
                    return Err(forbidden(format!("{caller} may run backward only from its own readable values")));
                }
                let owner = self.entry(id)?.own.owner.clone();
                match self.usable(caller, id)? {
                    Stored::Float(v) => {
                        v.backward().map_err(|e| err(K::Compute, e.to_string()))?;
                        self.recount(&owner);
                        Ok(Response::Ok)
                    }
                    Stored::Pointer { location, id } => {
                        let (location, id) = (location.clone(), *id);
                        self.forward(&location, &owner, Request::Backward { id })
                    }
                    Stored::Ring(_) => Err(err(K::WrongKind, "backward needs a float tensor")),
                }
            }
            Request::Grad { id, result } => {
                if self.contains(result) {
                    return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.id)));
                }
                let own = self.derived(caller, "grad", &[id], Flow::Other)?;
                let owner = self.entry(id)?.own.owner.clone();
                let stored = match self.usable(caller, id)? {
                    Stored::Float(v) => {
                        let g = v.grad().ok_or_else(|| err(K::Compute, format!("object {id} has no gradient")))?;
                        Stored::from_value(Value::float((*g).clone()))
                    }
                    Stored::Pointer { location, id } => {
                        let (location, inner) = (location.clone(), new_id());
                        self.forward(&location, &owner, Request::Grad { id: *id, result: inner })?;
                        Stored::Pointer { location, id: inner }
                    }
                    Stored::Ring(_) => return Err(err(K::WrongKind, "ring tensors have no gradient")),
                };
                let info = stored.info();
                self.insert(result, stored, own)?;
                Ok(Response::Info(info))
            }
            Request::Move { id, to } => {
                if to == self.id {
                    self.check_manage(caller, id, true)?;
                    return Ok(Response::Ok);
                }
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not move objects from {}", self.id)));
                }
                self.check_manage(caller, id, true)?;
                let entry = self.remove(id)?;
                let value = entry.obj.to_value();
                let owner = entry.own.owner.clone();
                let request = Request::Adopt { id, value, owner: owner.clone() };
                match self.forward(&to, &owner, request) {
                    Ok(_) => Ok(Response::Ok),
                    Err(e) => {
                        // Put it back: a failed move leaves the store unchanged.
                        self.restore(id, entry);
                        Err(e)
                    }
                }
            }
            Request::Mpc(req) => crate::mpc::handle(self, caller, req),
        }
    }

    fn op(
        &mut self,
        caller: &Caller,
        op: TensorOp,
        args: &[ObjectId],
        result: ObjectId,
    ) -> Result<Response, RemoteError> {
        if args.len() != op.arity() {
            return Err(err(K::BadRequest, format!("{} takes {} operands, got {}", op.name(), op.arity(), args.len())));
        }
        if self.contains(result) {
            return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.id)));
        }
        let objs: Vec<&Stored> = args.iter().map(|&a| self.usable(caller, a)).collect::<Result<_, _>>()?;
        let mut shapes: Vec<Vec<usize>> = objs.iter().flat_map(|o| o.shapes()).collect();
        shapes.extend(op.result_shapes(&shapes).map_err(|e| err(K::Compute, e))?);
        self.limits.request(op.name(), shapes.iter().map(Vec::as_slice))?;
        let own = self.derived(caller, op.name(), args, op.flow())?;
        let stored = match objs.as_slice() {
            [Stored::Float(_), ..] => {
                let vars: Vec<&FloatVar> = objs
                    .iter()
                    .map(|o| match o {
                        Stored::Float(v) => Ok(v),
                        _ => Err(err(K::WrongKind, format!("{}: mixes a float tensor with another kind", op.name()))),
                    })
                    .collect::<Result<_, _>>()?;
                Stored::Float(op.apply_float(&vars).map_err(|e| err(K::Compute, e))?)
            }
            [Stored::Ring(_), ..] if !op.defined_on_ring() => {
                return Err(err(K::WrongKind, format!("{} is not defined on ring tensors", op.name())));
            }
            [Stored::Ring(_), ..] => {
                let ts: Vec<&Tensor<u64>> = objs
                    .iter()
                    .map(|o| match o {
                        Stored::Ring(t) => Ok(t),
                        _ => Err(err(K::WrongKind, format!("{}: mixes a ring tensor with another kind", op.name()))),
                    })
                    .collect::<Result<_, _>>()?;
                Stored::Ring(op.apply_ring(&ts).map_err(|e| err(K::Compute, e))?)
            }
            [Stored::Pointer { location, .. }, ..] => {
                let location = location.clone();
                let mut inner = Vec::with_capacity(objs.len());
                for o in &objs {
                    match o {
                        Stored::Pointer { location: l, id } if *l == location => inner.push(*id),
                        Stored::Pointer { location: l, .. } => {
                            return Err(err(
                                K::LocationMismatch,
                                format!("{}: operands on {location} and {l}", op.name()),
                            ));
                        }
                        _ => {
                            return Err(err(
                                K::LocationMismatch,
                                format!("{}: mixes a pointer with local data", op.name()),
                            ));
                        }
                    }
                }
                let owner = own.owner.clone();
                let target = new_id();
                self.forward(&location, &owner, Request::Op { op, args: inner, result: target })?;
                Stored::Pointer { location, id: target }
            }
            [] => return Err(err(K::BadRequest, "no operands")),
        };
        let info = stored.info();
        self.insert(result, stored, own)?;
        Ok(Response::Info(info))
    }
}
