//! A worker's object store and its request handler, independent of any transport.
//!
//! [`WorkerCore::handle`] turns one [`Request`] into one [`Response`]; a failed request
//! leaves the store as it was.

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

/// The state of one worker: its id, its objects, the hub to reach other workers, and its
/// multi-party sessions.
pub struct WorkerCore {
    id: String,
    store: BTreeMap<ObjectId, Stored>,
    /// Weak, so that a worker's thread (which owns this core) does not keep the hub, and
    /// through it its own channel, alive forever.
    hub: std::sync::Weak<Hub>,
    /// Multi-party sessions this worker takes part in.
    pub(crate) sessions: Sessions,
    /// The worker's own request queue, served re-entrantly while forwarding.
    inbox: Option<Inbox>,
}

/// One request as it arrives at a worker's queue: the encoded request and where to send
/// the encoded answer.
pub type Envelope = (Vec<u8>, std::sync::mpsc::Sender<std::result::Result<Vec<u8>, String>>);

/// A worker's request queue.
pub type Inbox = std::sync::mpsc::Receiver<Envelope>;

impl std::fmt::Debug for WorkerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerCore").field("id", &self.id).field("objects", &self.store.len()).finish_non_exhaustive()
    }
}

impl WorkerCore {
    /// An empty worker named `id` that reaches others through `hub`.
    #[must_use]
    pub fn new(id: impl Into<String>, hub: Arc<Hub>) -> Self {
        Self {
            id: id.into(),
            store: BTreeMap::new(),
            hub: Arc::downgrade(&hub),
            sessions: Sessions::default(),
            inbox: None,
        }
    }

    /// The worker's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The hub, while the process still holds it.
    pub fn hub(&self) -> Result<Arc<Hub>, RemoteError> {
        self.hub.upgrade().ok_or_else(|| err(K::Unreachable, "the worker registry is gone"))
    }

    /// Handles one request.
    pub fn handle(&mut self, request: Request) -> Response {
        match self.dispatch(request) {
            Ok(r) => r,
            Err(e) => Response::Err(e),
        }
    }

    /// The stored object `id`.
    pub(crate) fn object(&self, id: ObjectId) -> Result<&Stored, RemoteError> {
        self.store.get(&id).ok_or_else(|| err(K::UnknownObject, format!("no object {id} on {}", self.id)))
    }

    /// Stores `obj` under a fresh-or-given id, refusing to overwrite.
    pub(crate) fn insert(&mut self, id: ObjectId, obj: Stored) -> Result<(), RemoteError> {
        if self.store.contains_key(&id) {
            return Err(err(K::BadRequest, format!("object {id} already exists on {}", self.id)));
        }
        self.store.insert(id, obj);
        Ok(())
    }

    /// Removes object `id`.
    pub(crate) fn remove(&mut self, id: ObjectId) -> Result<Stored, RemoteError> {
        self.store.remove(&id).ok_or_else(|| err(K::UnknownObject, format!("no object {id} on {}", self.id)))
    }

    /// Sends `request` to the worker at `location` and waits for its answer. While
    /// waiting, this worker keeps serving its own inbox, so a chain of pointers that
    /// comes back through this worker (or a pointer to itself) does not deadlock.
    fn forward(&mut self, location: &str, request: &Request) -> Result<Response, RemoteError> {
        let worker = self.hub()?.get(location).map_err(remote)?;
        let Some(inbox) = self.inbox.take() else {
            return call(worker.as_ref(), request).map_err(remote);
        };
        let outcome = (|| {
            let reply = call_async(worker.as_ref(), request).map_err(remote)?;
            loop {
                if let Some(bytes) = reply.try_bytes() {
                    return match decode::<Response>(&bytes.map_err(remote)?).map_err(remote)? {
                        Response::Err(e) => Err(e),
                        other => Ok(other),
                    };
                }
                match inbox.recv_timeout(std::time::Duration::from_micros(50)) {
                    Ok((bytes, answer)) => {
                        let _ = answer.send(self.handle_bytes(&bytes));
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        // Nobody can reach this worker any more; just wait for the answer.
                        return reply.wait().map_err(remote);
                    }
                }
            }
        })();
        self.inbox = Some(inbox);
        outcome
    }

    /// Decodes, handles and encodes one request (the body of a worker's serving loop).
    pub fn handle_bytes(&mut self, bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let response = match decode::<Request>(bytes) {
            Ok(req) => self.handle(req),
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

    fn dispatch(&mut self, request: Request) -> Result<Response, RemoteError> {
        match request {
            Request::Store { id, value } => {
                self.insert(id, Stored::from_value(value))?;
                Ok(Response::Ok)
            }
            Request::Get { id } => Ok(Response::Value(self.remove(id)?.into_value())),
            Request::Delete { id } => {
                if let Stored::Pointer { location, id: target } = self.remove(id)? {
                    // A stored pointer owns what it points to: cascade the deletion.
                    // The target may already be gone; that is not this worker's error.
                    let _ = self.forward(&location, &Request::Delete { id: target });
                }
                Ok(Response::Ok)
            }
            Request::Describe { id } => Ok(Response::Info(self.object(id)?.info())),
            Request::List => Ok(Response::List(self.store.iter().map(|(k, v)| (*k, v.info())).collect())),
            Request::Op { op, args, result } => self.op(op, &args, result),
            Request::Backward { id } => match self.object(id)? {
                Stored::Float(v) => {
                    v.backward().map_err(|e| err(K::Compute, e.to_string()))?;
                    Ok(Response::Ok)
                }
                Stored::Pointer { location, id } => {
                    let (location, id) = (location.clone(), *id);
                    self.forward(&location, &Request::Backward { id })
                }
                Stored::Ring(_) => Err(err(K::WrongKind, "backward needs a float tensor")),
            },
            Request::Grad { id, result } => {
                if self.store.contains_key(&result) {
                    return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.id)));
                }
                let stored = match self.object(id)? {
                    Stored::Float(v) => {
                        let g = v.grad().ok_or_else(|| err(K::Compute, format!("object {id} has no gradient")))?;
                        Stored::from_value(Value::float((*g).clone()))
                    }
                    Stored::Pointer { location, id } => {
                        let (location, inner) = (location.clone(), new_id());
                        self.forward(&location, &Request::Grad { id: *id, result: inner })?;
                        Stored::Pointer { location, id: inner }
                    }
                    Stored::Ring(_) => return Err(err(K::WrongKind, "ring tensors have no gradient")),
                };
                let info = stored.info();
                self.insert(result, stored)?;
                Ok(Response::Info(info))
            }
            Request::Move { id, to } => {
                if to == self.id {
                    return Ok(Response::Ok);
                }
                let obj = self.remove(id)?;
                let value = obj.to_value();
                match self.forward(&to, &Request::Store { id, value }) {
                    Ok(_) => Ok(Response::Ok),
                    Err(e) => {
                        // Put it back: a failed move leaves the store unchanged.
                        self.store.insert(id, obj);
                        Err(e)
                    }
                }
            }
            Request::Mpc(req) => crate::mpc::handle(self, req),
        }
    }

    fn op(&mut self, op: TensorOp, args: &[ObjectId], result: ObjectId) -> Result<Response, RemoteError> {
        if args.len() != op.arity() {
            return Err(err(K::BadRequest, format!("{} takes {} operands, got {}", op.name(), op.arity(), args.len())));
        }
        if self.store.contains_key(&result) {
            return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.id)));
        }
        let objs: Vec<&Stored> = args.iter().map(|&a| self.object(a)).collect::<Result<_, _>>()?;
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
                let target = new_id();
                self.forward(&location, &Request::Op { op, args: inner, result: target })?;
                Stored::Pointer { location, id: target }
            }
            [] => return Err(err(K::BadRequest, "no operands")),
        };
        let info = stored.info();
        self.insert(result, stored)?;
        Ok(Response::Info(info))
    }
}
