//! The messages a worker understands, and the values that travel in them: wire types
//! only, plain data with no behaviour beyond naming and encoding.
//!
//! Every request reaches a worker as bytes (serde + postcard), whether the worker is a
//! [`VirtualWorker`](crate::VirtualWorker) in this process or a server on another host, so
//! both paths run the same decoding and validation.

mod mpc;

pub use mpc::{Channels, MpcRequest, Role};

use crate::error::{RemoteError, Result, WorkerError};
use crate::ops::TensorOp;
use serde::{Deserialize, Serialize};
use syft_ring::Tensor;

/// The id of an object in a worker's store.
pub type ObjectId = u64;

/// A fresh random object id.
#[must_use]
pub fn new_id() -> ObjectId {
    // Ids are random 64-bit values, as in PySyft, so that workers in different processes
    // never collide. They come from a per-thread AES-CTR stream seeded from system entropy
    // (a client draws several per operation, and a system call for each costs more than
    // the rest of a small step). If the entropy source fails we fall back to a counter
    // mixed with time.
    thread_local! {
        static IDS: std::cell::RefCell<Option<syft_ring::Prg>> = std::cell::RefCell::new(syft_ring::Prg::from_entropy().ok());
    }
    IDS.with(|ids| ids.borrow_mut().as_mut().map(syft_ring::Prg::next_u64)).unwrap_or_else(|| {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        #[allow(clippy::cast_possible_truncation, reason = "mixing the low bits of a timestamp")]
        let t = t as u64;
        NEXT.fetch_add(1, Ordering::Relaxed) ^ t.rotate_left(17)
    })
}

/// A value as it travels: a tensor, or the description of a pointer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Value {
    /// A float tensor, with its autograd state.
    Float {
        /// The data.
        data: Tensor<f32>,
        /// Whether gradients are tracked.
        requires_grad: bool,
        /// The accumulated gradient, if any.
        grad: Option<Tensor<f32>>,
    },
    /// A ring tensor (integers modulo 2^64; also secret shares).
    Ring(Tensor<u64>),
    /// A pointer to an object on another worker.
    Pointer {
        /// Where the object lives.
        location: String,
        /// Its id there.
        id: ObjectId,
    },
}

impl Value {
    /// A float tensor without gradient tracking.
    #[must_use]
    pub fn float(data: Tensor<f32>) -> Self {
        Self::Float { data, requires_grad: false, grad: None }
    }

    /// The kind and shape.
    #[must_use]
    pub fn info(&self) -> ObjectInfo {
        match self {
            Self::Float { data, requires_grad, .. } => {
                ObjectInfo { kind: ObjectKind::Float, shape: data.shape().to_vec(), requires_grad: *requires_grad }
            }
            Self::Ring(t) => ObjectInfo { kind: ObjectKind::Ring, shape: t.shape().to_vec(), requires_grad: false },
            Self::Pointer { location, id } => ObjectInfo {
                kind: ObjectKind::Pointer { location: location.clone(), id: *id },
                shape: Vec::new(),
                requires_grad: false,
            },
        }
    }
}

/// What kind of object a store holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A float tensor.
    Float,
    /// A ring tensor.
    Ring,
    /// A pointer to `id` on `location`.
    Pointer {
        /// Where the pointed-to object lives.
        location: String,
        /// Its id there.
        id: ObjectId,
    },
}

/// A description of a stored object (no data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The kind.
    pub kind: ObjectKind,
    /// The shape (empty for a pointer).
    pub shape: Vec<usize>,
    /// Whether gradients are tracked.
    pub requires_grad: bool,
}

/// A request to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// Store `value` under `id`.
    Store {
        /// The id.
        id: ObjectId,
        /// The value.
        value: Value,
    },
    /// Remove object `id` and return it.
    Get {
        /// The id.
        id: ObjectId,
    },
    /// Delete object `id` (a stored pointer also deletes what it points to, if it owns it).
    Delete {
        /// The id.
        id: ObjectId,
    },
    /// Describe object `id`.
    Describe {
        /// The id.
        id: ObjectId,
    },
    /// List the store.
    List,
    /// Apply a tensor operation to stored objects, storing the result under `result`.
    /// Through pointers the operation is forwarded to where the data lives.
    Op {
        /// The operation.
        op: TensorOp,
        /// The operand ids (all on this worker).
        args: Vec<ObjectId>,
        /// Where to store the result.
        result: ObjectId,
    },
    /// Run the backward pass from scalar object `id`.
    Backward {
        /// The id.
        id: ObjectId,
    },
    /// Store the gradient of object `id` under `result`.
    Grad {
        /// The id.
        id: ObjectId,
        /// Where to store the gradient.
        result: ObjectId,
    },
    /// Send object `id` directly to worker `to` (same id there) and forget it here.
    Move {
        /// The id.
        id: ObjectId,
        /// The destination worker.
        to: String,
    },
    /// Multi-party computation on shares held by this worker (see [`crate::mpc`]).
    Mpc(MpcRequest),
    /// The receiving end of a [`Request::Move`]: store `value` under `id` for `owner`
    /// (sent by the worker the object moves from).
    Adopt {
        /// The id.
        id: ObjectId,
        /// The value.
        value: Value,
        /// The client that owns it.
        owner: String,
    },
    /// Allow client `to` to compute with object `id` (never to read it). Owner only.
    Grant {
        /// The id.
        id: ObjectId,
        /// The client.
        to: String,
    },
    /// Withdraw a [`Request::Grant`]. Owner only.
    Revoke {
        /// The id.
        id: ObjectId,
        /// The client.
        from: String,
    },
    /// Allow worker `to` to use object `id` on its owner's behalf (a pointer to it is
    /// being sent to `to`: a chain). Owner only.
    Delegate {
        /// The id.
        id: ObjectId,
        /// The worker.
        to: String,
    },
    /// A request a worker forwards along a pointer chain, for the client `owner` whose
    /// pointer it follows: it may touch only `owner`'s objects delegated to that worker.
    OnBehalf {
        /// The client the forwarding worker acts for.
        owner: String,
        /// The forwarded request.
        request: Box<Request>,
    },
}

impl Request {
    /// A short name for errors and logs.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Store { .. } => "store",
            Self::Get { .. } => "get",
            Self::Delete { .. } => "delete",
            Self::Describe { .. } => "describe",
            Self::List => "list",
            Self::Op { .. } => "op",
            Self::Backward { .. } => "backward",
            Self::Grad { .. } => "grad",
            Self::Move { .. } => "move",
            Self::Mpc(_) => "mpc",
            Self::Adopt { .. } => "adopt",
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::Delegate { .. } => "delegate",
            Self::OnBehalf { .. } => "on_behalf",
        }
    }
}

/// A worker's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// Done.
    Ok,
    /// A value (answer to `Get`).
    Value(Value),
    /// A description (answer to `Describe`, `Op`, `Grad`).
    Info(ObjectInfo),
    /// The store's contents (answer to `List`).
    List(Vec<(ObjectId, ObjectInfo)>),
    /// Failure.
    Err(RemoteError),
}

/// A borrowed mirror of [`Value`] (same variants in the same order, so the same bytes),
/// to encode a value without copying it first.
#[derive(Serialize)]
pub(crate) enum ValueRef<'a> {
    /// [`Value::Float`].
    Float {
        /// The data.
        data: &'a Tensor<f32>,
        /// Whether gradients are tracked.
        requires_grad: bool,
        /// The gradient.
        grad: Option<&'a Tensor<f32>>,
    },
    /// [`Value::Ring`].
    Ring(&'a Tensor<u64>),
}

/// A borrowed mirror of the first variant of [`Request`], [`Request::Store`].
#[derive(Serialize)]
enum StoreRef<'a> {
    Store { id: ObjectId, value: ValueRef<'a> },
}

/// Encodes `Request::Store { id, value }` from borrowed data (bytes identical to
/// encoding the owned request).
pub(crate) fn encode_store(id: ObjectId, value: ValueRef<'_>) -> Result<Vec<u8>> {
    encode(&StoreRef::Store { id, value })
}

/// Encodes a message with postcard.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>> {
    // Size first (cheap: tensor payloads are borrowed views), then one exact allocation,
    // instead of a growing buffer that copies large payloads several times.
    let size = postcard::serialize_with_flavor(msg, postcard::ser_flavors::Size::default())
        .map_err(|e| WorkerError::Codec(e.to_string()))?;
    let mut out = vec![0u8; size];
    let used = postcard::to_slice(msg, &mut out).map_err(|e| WorkerError::Codec(e.to_string()))?.len();
    out.truncate(used);
    Ok(out)
}

/// Decodes a message with postcard; malformed bytes are an error, never a panic.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    let (value, rest) = postcard::take_from_bytes(bytes).map_err(|e| WorkerError::Codec(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WorkerError::Codec(format!("{} unexpected bytes after the message", rest.len())));
    }
    Ok(value)
}
