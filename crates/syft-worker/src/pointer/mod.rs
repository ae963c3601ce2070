//! [`PointerTensor`]: a handle to an object on a worker, and [`Sendable`] to create one.
//!
//! Operations on a pointer run where the data lives and return a new pointer (the
//! methods for each [`TensorOp`] are generated from the table in `methods.rs`); `get`
//! brings the object back and removes it from the worker. When the last clone of a
//! pointer is dropped, the object is deleted on its worker (unless garbage collection is
//! switched off for that pointer, PySyft's `garbage_collect_data`).

mod methods;
mod typed;

pub use typed::{Fetch, Pointer};

pub use crate::access::LOCAL_WORKER;

use crate::error::{Result, WorkerError};
use crate::message::{ObjectId, ObjectInfo, Request, Response, Value, ValueRef, encode, encode_store, new_id};
use crate::ops::{FloatBackend, FloatVar, TensorOp};
use crate::transport::{Hub, Worker, WorkerRef, call};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use syft_autograd::Var;
use syft_ring::Tensor;

struct Inner {
    id: ObjectId,
    id_at_location: ObjectId,
    location: WorkerRef,
    hub: Arc<Hub>,
    owner: String,
    /// Delete the remote object when the last clone is dropped.
    gc: AtomicBool,
    /// The object was fetched or moved: nothing left to delete.
    consumed: AtomicBool,
    /// The object is a share of a shared tensor (a ring tensor, never a pointer): deleting
    /// it reaches no other worker, so nothing waits for the deletion.
    share: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.gc.load(Ordering::SeqCst) && !self.consumed.load(Ordering::SeqCst) {
            // Best effort: the worker may already be gone.
            let delete = Request::Delete { id: self.id_at_location };
            if self.share.load(Ordering::SeqCst) {
                // A share's deletion cascades nowhere: the worker's queue takes it (an
                // in-process worker's without a round trip), and every later request of
                // this program to that worker sees it done.
                if let Ok(bytes) = encode(&delete) {
                    let _ = self.location.send_and_forget(bytes);
                }
            } else {
                // A pointer's deletion may go on along its chain: wait for it.
                let _ = call(self.location.as_ref(), &delete);
            }
        }
    }
}

/// A pointer to an object on a worker.
#[derive(Clone)]
pub struct PointerTensor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PointerTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(Wrapper)>[PointerTensor | {}:{} -> {}]", self.owner(), self.id(), self)
    }
}

impl std::fmt::Display for PointerTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.id_at_location(), self.location())
    }
}

/// What `get` brings back.
#[derive(Debug)]
#[non_exhaustive]
pub enum Fetched {
    /// A float tensor with its autograd state (gradient included).
    Float(FloatVar),
    /// A ring tensor.
    Ring(Tensor<u64>),
    /// A pointer (the object was itself a pointer: a chain).
    Pointer(PointerTensor),
}

impl Fetched {
    /// The float tensor, or an error naming what it is instead.
    pub fn into_float(self) -> Result<FloatVar> {
        match self {
            Self::Float(v) => Ok(v),
            other => Err(WorkerError::InvalidArgument { op: "into_float", reason: format!("got {}", other.kind()) }),
        }
    }

    /// The float tensor's data.
    pub fn into_tensor(self) -> Result<Tensor<f32>> {
        Ok((*self.into_float()?.value()).clone())
    }

    /// The ring tensor.
    pub fn into_ring(self) -> Result<Tensor<u64>> {
        match self {
            Self::Ring(t) => Ok(t),
            other => Err(WorkerError::InvalidArgument { op: "into_ring", reason: format!("got {}", other.kind()) }),
        }
    }

    /// The pointer.
    pub fn into_pointer(self) -> Result<PointerTensor> {
        match self {
            Self::Pointer(p) => Ok(p),
            other => Err(WorkerError::InvalidArgument { op: "into_pointer", reason: format!("got {}", other.kind()) }),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Float(_) => "a float tensor",
            Self::Ring(_) => "a ring tensor",
            Self::Pointer(_) => "a pointer",
        }
    }
}

impl PointerTensor {
    fn new(location: WorkerRef, hub: Arc<Hub>, id_at_location: ObjectId) -> Self {
        Self {
            inner: Arc::new(Inner {
                id: new_id(),
                id_at_location,
                location,
                hub,
                owner: LOCAL_WORKER.to_string(),
                gc: AtomicBool::new(true),
                consumed: AtomicBool::new(false),
                share: AtomicBool::new(false),
            }),
        }
    }

    /// Stores `value` on `worker` and returns a pointer to it.
    pub fn store(worker: &(impl Worker + ?Sized), value: Value) -> Result<Self> {
        let id = new_id();
        let location = worker.transport();
        call(location.as_ref(), &Request::Store { id, value })?;
        Ok(Self::new(location, worker.hub().clone(), id))
    }

    /// Stores borrowed tensor data on `worker` without copying it first.
    pub(crate) fn store_ref(worker: &(impl Worker + ?Sized), value: ValueRef<'_>) -> Result<Self> {
        let id = new_id();
        let location = worker.transport();
        let bytes = encode_store(id, value)?;
        location.send(bytes)?.wait()?;
        Ok(Self::new(location, worker.hub().clone(), id))
    }

    /// A pointer to an existing object `id` on the worker named `location`.
    pub fn attach(hub: &Arc<Hub>, location: &str, id: ObjectId) -> Result<Self> {
        Ok(Self::new(hub.get(location)?, hub.clone(), id))
    }

    /// This pointer's own id.
    #[must_use]
    pub fn id(&self) -> ObjectId {
        self.inner.id
    }

    /// The id of the object on its worker.
    #[must_use]
    pub fn id_at_location(&self) -> ObjectId {
        self.inner.id_at_location
    }

    /// The id of the worker holding the object.
    #[must_use]
    pub fn location(&self) -> &str {
        self.inner.location.worker_id()
    }

    /// The id of the worker holding this pointer.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Whether dropping the last clone deletes the remote object.
    #[must_use]
    pub fn garbage_collect_data(&self) -> bool {
        self.inner.gc.load(Ordering::SeqCst)
    }

    /// Switches garbage collection of the remote object on or off.
    pub fn set_garbage_collect_data(&self, on: bool) {
        self.inner.gc.store(on, Ordering::SeqCst);
    }

    /// Marks the object as a share of a shared tensor (a ring tensor its worker computed
    /// or stored, never a pointer): its deletion on drop is queued without waiting for the
    /// answer, since it reaches no other worker.
    pub(crate) fn mark_share(&self) {
        self.inner.share.store(true, Ordering::SeqCst);
    }

    fn check_live(&self) -> Result<()> {
        if self.inner.consumed.load(Ordering::SeqCst) {
            return Err(WorkerError::Consumed { id: self.id_at_location(), location: self.location().to_string() });
        }
        Ok(())
    }

    fn request(&self, request: &Request) -> Result<Response> {
        self.check_live()?;
        call(self.inner.location.as_ref(), request)
    }

    /// A description of the remote object.
    pub fn describe(&self) -> Result<ObjectInfo> {
        match self.request(&Request::Describe { id: self.id_at_location() })? {
            Response::Info(info) => Ok(info),
            other => Err(self.unexpected("describe", &other)),
        }
    }

    /// The shape of the remote object (empty for a pointer in a chain).
    pub fn shape(&self) -> Result<Vec<usize>> {
        Ok(self.describe()?.shape)
    }

    fn unexpected(&self, request: &'static str, response: &Response) -> WorkerError {
        WorkerError::UnexpectedResponse {
            worker: self.location().to_string(),
            request,
            response: format!("{response:?}"),
        }
    }

    /// Applies `op` to this pointer and `others` (all on the same worker), where the data
    /// lives; through a chain, the operation is forwarded along it.
    pub fn apply(&self, op: TensorOp, others: &[&PointerTensor]) -> Result<PointerTensor> {
        for o in others {
            if o.location() != self.location() {
                return Err(WorkerError::LocationMismatch {
                    op: op.name(),
                    lhs: self.location().to_string(),
                    rhs: o.location().to_string(),
                });
            }
            o.check_live()?;
        }
        let mut args = vec![self.id_at_location()];
        args.extend(others.iter().map(|o| o.id_at_location()));
        let result = new_id();
        self.request(&Request::Op { op, args, result })?;
        Ok(Self::new(self.inner.location.clone(), self.inner.hub.clone(), result))
    }

    /// Brings the object back and removes it from the worker. For a pointer to a pointer,
    /// this returns the inner pointer (call `get` again for the data).
    pub fn get(self) -> Result<Fetched> {
        let response = self.request(&Request::Get { id: self.id_at_location() })?;
        self.inner.consumed.store(true, Ordering::SeqCst);
        match response {
            Response::Value(Value::Float { data, requires_grad, grad }) => {
                let v = Var::new(&FloatBackend::default(), data, requires_grad);
                if grad.is_some() {
                    v.set_grad(grad);
                }
                Ok(Fetched::Float(v))
            }
            Response::Value(Value::Ring(t)) => Ok(Fetched::Ring(t)),
            Response::Value(Value::Pointer { location, id }) => {
                Ok(Fetched::Pointer(Self::new(self.inner.hub.get(&location)?, self.inner.hub.clone(), id)))
            }
            other => Err(self.unexpected("get", &other)),
        }
    }

    /// Sends this pointer to `worker`: `worker` now holds a pointer to the object (the data
    /// does not move), and the returned pointer points to that pointer.
    ///
    /// The object's worker is told first that `worker` may use this one object on this
    /// program's behalf (a delegation: nothing else of this program's on that worker).
    pub fn send(self, worker: &(impl Worker + ?Sized)) -> Result<PointerTensor> {
        self.check_live()?;
        self.request(&Request::Delegate { id: self.id_at_location(), to: worker.id().to_string() })?;
        let value = Value::Pointer { location: self.location().to_string(), id: self.id_at_location() };
        let p = Self::store(worker, value)?;
        // The stored pointer now owns the object.
        self.inner.consumed.store(true, Ordering::SeqCst);
        Ok(p)
    }

    /// Moves the data directly from its worker to `worker` (it never passes through here)
    /// and returns a pointer to it there.
    pub fn move_to(self, worker: &(impl Worker + ?Sized)) -> Result<PointerTensor> {
        if worker.id() == self.location() {
            return Ok(self);
        }
        self.request(&Request::Move { id: self.id_at_location(), to: worker.id().to_string() })?;
        self.inner.consumed.store(true, Ordering::SeqCst);
        Ok(Self::new(worker.transport(), self.inner.hub.clone(), self.id_at_location()))
    }

    /// Allows client `client` to compute with the remote object (as an operand of its own
    /// computations on this worker), never to read, move or delete it. Results it computes
    /// from the object are its own but restricted: usable, not readable, except the
    /// outputs of `argmax`.
    pub fn grant(&self, client: &str) -> Result<()> {
        self.request(&Request::Grant { id: self.id_at_location(), to: client.to_string() })?;
        Ok(())
    }

    /// Withdraws a [`PointerTensor::grant`].
    pub fn revoke(&self, client: &str) -> Result<()> {
        self.request(&Request::Revoke { id: self.id_at_location(), from: client.to_string() })?;
        Ok(())
    }

    /// A pointer to an object someone else owns on the worker named `location` (granted
    /// to this program): dropping it deletes nothing.
    pub fn borrowed(hub: &Arc<Hub>, location: &str, id: ObjectId) -> Result<Self> {
        let p = Self::attach(hub, location, id)?;
        p.set_garbage_collect_data(false);
        Ok(p)
    }

    /// Runs the backward pass from this (scalar) remote tensor.
    pub fn backward(&self) -> Result<()> {
        self.request(&Request::Backward { id: self.id_at_location() })?;
        Ok(())
    }

    /// A pointer to the gradient of the remote tensor.
    pub fn grad(&self) -> Result<PointerTensor> {
        let result = new_id();
        self.request(&Request::Grad { id: self.id_at_location(), result })?;
        Ok(Self::new(self.inner.location.clone(), self.inner.hub.clone(), result))
    }
}

/// Values that can be sent to a worker: `x.send(&bob)` returns a typed pointer.
pub trait Sendable: Sized {
    /// Stores the value on `worker` and returns a pointer to it.
    fn send(&self, worker: &dyn Worker) -> Result<Pointer<Self>>;
}

impl Sendable for Tensor<f32> {
    fn send(&self, worker: &dyn Worker) -> Result<Pointer<Self>> {
        Ok(PointerTensor::store_ref(worker, ValueRef::Float { data: self, requires_grad: false, grad: None })?.typed())
    }
}

impl Sendable for Tensor<u64> {
    fn send(&self, worker: &dyn Worker) -> Result<Pointer<Self>> {
        Ok(PointerTensor::store_ref(worker, ValueRef::Ring(self))?.typed())
    }
}

impl Sendable for FloatVar {
    fn send(&self, worker: &dyn Worker) -> Result<Pointer<Self>> {
        let (data, grad) = (self.value(), self.grad());
        let value = ValueRef::Float { data: &data, requires_grad: self.requires_grad(), grad: grad.as_deref() };
        Ok(PointerTensor::store_ref(worker, value)?.typed())
    }
}
