//! The objects a worker holds: [`Stored`] objects with their ownership records, the
//! bytes each owner stores, and the checks of who may use, read or manage each object.

use super::err;
use crate::access::{AccessPolicy, Caller, Flow, Limits, Ownership, PrincipalKind, Use, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K};
use crate::message::{ObjectId, ObjectInfo, Value};
use crate::ops::{FloatBackend, FloatVar};
use crate::transport::Hub;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
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
    pub(crate) fn shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Self::Float(v) => vec![v.shape()],
            Self::Ring(t) => vec![t.shape().to_vec()],
            Self::Pointer { .. } => Vec::new(),
        }
    }
}

/// A worker's objects: its id, the objects it holds with their owners, the bytes each
/// owner stores, whom it serves and its limits, and the client a forwarded request acts
/// for. Everything a request handler, for objects or for sessions, asks of the store.
pub(crate) struct Objects {
    id: String,
    store: BTreeMap<ObjectId, Entry>,
    /// Bytes stored per owner.
    usage: BTreeMap<String, u64>,
    policy: AccessPolicy,
    limits: Limits,
    /// Weak, so that a worker's thread (which owns this store) does not keep the hub, and
    /// through it its own channel, alive forever.
    hub: Weak<Hub>,
    /// While serving a request a peer forwards along a chain: the client it acts for.
    on_behalf: Option<String>,
}

impl Objects {
    /// An empty store of worker `id`, serving everyone ([`AccessPolicy::open`]) with
    /// default [`Limits`].
    pub(crate) fn new(id: String, hub: &Arc<Hub>) -> Self {
        Self {
            id,
            store: BTreeMap::new(),
            usage: BTreeMap::new(),
            policy: AccessPolicy::open(),
            limits: Limits::default(),
            hub: Arc::downgrade(hub),
            on_behalf: None,
        }
    }

    /// The worker's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Whom the worker serves.
    pub(crate) fn policy(&self) -> &AccessPolicy {
        &self.policy
    }

    /// The worker's limits.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sets whom the worker serves and its limits.
    pub(crate) fn set_policy(&mut self, policy: AccessPolicy, limits: Limits) {
        self.policy = policy;
        self.limits = limits;
    }

    /// The hub, while the process still holds it.
    pub(crate) fn hub(&self) -> Result<Arc<Hub>, RemoteError> {
        self.hub.upgrade().ok_or_else(|| err(K::Unreachable, "the worker registry is gone"))
    }

    /// How many objects the worker holds.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// The client the request being served acts for (set by a forwarded request).
    pub(crate) fn acting_for(&self) -> Option<&str> {
        self.on_behalf.as_deref()
    }

    /// Sets the client the requests served from now on act for; returns the previous one.
    pub(crate) fn act_for(&mut self, owner: Option<String>) -> Option<String> {
        std::mem::replace(&mut self.on_behalf, owner)
    }

    /// The objects `owner` owns, described.
    pub(crate) fn list(&self, owner: &str) -> Vec<(ObjectId, ObjectInfo)> {
        self.store.iter().filter(|(_, e)| e.own.owner == owner).map(|(k, e)| (*k, e.obj.info())).collect()
    }

    /// The ownership record of object `id`, to change who else may use it.
    pub(crate) fn ownership_mut(&mut self, id: ObjectId) -> Option<&mut Ownership> {
        self.store.get_mut(&id).map(|e| &mut e.own)
    }

    /// Whether `caller`, a worker, may act on `e`: it was delegated `e` by its owner, and
    /// the request it forwards is for that owner (a pointer the owner stored on it).
    pub(crate) fn delegated(&self, caller: &Caller, e: &Entry) -> bool {
        e.own.delegates.contains(caller.name()) && self.on_behalf.as_deref() == Some(e.own.owner.as_str())
    }

    /// The entry `id`, whoever owns it.
    pub(crate) fn entry(&self, id: ObjectId) -> Result<&Entry, RemoteError> {
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
    pub(crate) fn check_manage(&self, caller: &Caller, id: ObjectId, read: bool) -> Result<(), RemoteError> {
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
    pub(crate) fn recount(&mut self, owner: &str) {
        let mut total = 0u64;
        for e in self.store.values_mut().filter(|e| e.own.owner == owner) {
            e.bytes = e.obj.bytes();
            total = total.saturating_add(e.bytes);
        }
        self.usage.insert(owner.to_string(), total);
    }

    /// Puts back an entry taken out by [`Self::remove`] (a failed move).
    pub(crate) fn restore(&mut self, id: ObjectId, e: Entry) {
        *self.usage.entry(e.own.owner.clone()).or_insert(0) += e.bytes;
        self.store.insert(id, e);
    }

    /// Whether an object `id` exists (for id collisions).
    pub(crate) fn contains(&self, id: ObjectId) -> bool {
        self.store.contains_key(&id)
    }

    /// Checks the tensors of `value` against the limits.
    pub(crate) fn check_value(&self, what: &str, value: &Value) -> Result<(), RemoteError> {
        match value {
            Value::Float { data, grad, .. } => {
                self.limits.request(what, [data.shape()].into_iter().chain(grad.as_ref().map(|g| g.shape())))
            }
            Value::Ring(t) => self.limits.request(what, [t.shape()]),
            Value::Pointer { .. } => Ok(()),
        }
    }
}
