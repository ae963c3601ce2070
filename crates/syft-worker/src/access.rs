//! Who may do what at a worker: the [`Caller`] of every request, the worker's
//! [`AccessPolicy`] (which clients and which peer workers it knows), the ownership record
//! of every stored object ([`Ownership`]), and the resource [`Limits`] checked before any
//! allocation.
//!
//! # The rules
//!
//! - A **client** (a program holding pointers) owns what it stores and what the
//!   computations it asks for produce. Only the owner may `get`, `move`, `delete` or list
//!   an object. The owner may *grant* another client the right to compute with an object:
//!   the grantee may use it as an operand, never read it.
//! - A result computed from an object the requester does not own (a granted one) is
//!   *restricted*: its owner may compute with it, delete it, but not read or move it,
//!   except the outputs of `argmax` (the decision a model owner lets a data owner have).
//! - A **worker** (a peer) may use only the objects whose owner *delegated* them to it
//!   (Part 3's pointer chains: the owner sends a pointer to `alice`, so `alice` may use the
//!   object on `bob` on the owner's behalf), and may hand over an object in a `move` that
//!   its owner asked for. Peers never start sessions and never list a store.
//! - Multi-party sessions are started by clients, among workers the policy knows, with a
//!   crypto provider the policy accepts; only the session's client may run operations in it.
//!
//! In-process workers ([`VirtualWorker`](crate::VirtualWorker)) all serve one program: their
//! caller is the local client (`me`) and their policy
//! is [`AccessPolicy::open`]. The rules bite with network workers, where every connection
//! proves its identity with a certificate.

use crate::error::{RemoteError, RemoteErrorKind as K};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The id of the local client: the program in this process, owner of every pointer it
/// creates, and the caller of every request to an in-process worker.
pub const LOCAL_WORKER: &str = "me";

/// What kind of identity a caller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// A program that holds pointers (a model owner, a data owner).
    Client,
    /// Another worker (a computing party or a crypto provider).
    Worker,
}

/// The identity a request comes from (proved by a certificate over TLS).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    name: String,
    kind: PrincipalKind,
}

impl Caller {
    /// A client named `name`.
    #[must_use]
    pub fn client(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: PrincipalKind::Client }
    }

    /// A worker named `name`.
    #[must_use]
    pub fn worker(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: PrincipalKind::Worker }
    }

    /// The identity's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The identity's kind.
    #[must_use]
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// Whether this is a client.
    #[must_use]
    pub fn is_client(&self) -> bool {
        self.kind == PrincipalKind::Client
    }
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            PrincipalKind::Client => write!(f, "client {}", self.name),
            PrincipalKind::Worker => write!(f, "worker {}", self.name),
        }
    }
}

/// Which identities a worker serves: its clients, its peers, and the crypto providers it
/// accepts in sessions. `None` in a field admits every identity of that kind (the
/// in-process default, and plain-TCP experiments).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    clients: Option<BTreeSet<String>>,
    peers: Option<BTreeSet<String>>,
    dealers: Option<BTreeSet<String>>,
}

impl AccessPolicy {
    /// Admits every client and every worker (in-process workers; plain TCP).
    #[must_use]
    pub fn open() -> Self {
        Self::default()
    }

    /// Admits exactly these clients and peers; `dealers` (a subset of the peers) may be
    /// the crypto provider of a session this worker joins.
    #[must_use]
    pub fn new<S: AsRef<str>>(clients: &[S], peers: &[S], dealers: &[S]) -> Self {
        let set = |v: &[S]| Some(v.iter().map(|s| s.as_ref().to_string()).collect());
        Self { clients: set(clients), peers: set(peers), dealers: set(dealers) }
    }

    /// Whether every identity is admitted.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.clients.is_none() && self.peers.is_none() && self.dealers.is_none()
    }

    /// Whether `name` is one of this worker's clients.
    #[must_use]
    pub fn is_client(&self, name: &str) -> bool {
        self.clients.as_ref().is_none_or(|c| c.contains(name))
    }

    /// Whether `name` is one of this worker's peers.
    #[must_use]
    pub fn is_peer(&self, name: &str) -> bool {
        self.peers.as_ref().is_none_or(|p| p.contains(name))
    }

    /// Whether `name` may be the crypto provider of a session this worker joins.
    #[must_use]
    pub fn accepts_dealer(&self, name: &str) -> bool {
        self.is_peer(name) && self.dealers.as_ref().is_none_or(|d| d.contains(name))
    }

    /// Whether `caller` may talk to this worker at all.
    #[must_use]
    pub fn admits(&self, caller: &Caller) -> bool {
        match caller.kind {
            PrincipalKind::Client => self.is_client(&caller.name),
            PrincipalKind::Worker => self.is_peer(&caller.name),
        }
    }
}

/// Resource limits of a worker, checked before anything is allocated. A request past a
/// limit fails with [`RemoteErrorKind::LimitExceeded`](crate::RemoteErrorKind) naming it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Elements of any one tensor a request names or produces (default 2^27: 1 GiB of
    /// 64-bit words).
    pub max_tensor_elements: usize,
    /// Elements of all the tensors one request names or produces together (default 2^28).
    pub max_request_elements: usize,
    /// Bytes of tensor data one owner may keep stored on this worker (default 8 GiB).
    pub max_stored_bytes_per_owner: u64,
    /// Computing parties in one session (default 16).
    pub max_parties: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tensor_elements: 1 << 27,
            max_request_elements: 1 << 28,
            max_stored_bytes_per_owner: 8 << 30,
            max_parties: 16,
        }
    }
}

fn limit(name: &str, value: impl std::fmt::Display, max: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(K::LimitExceeded, format!("{name}: {value} is above the limit of {max}"))
}

impl Limits {
    /// The element count of `shape`, checked against the per-tensor limit (overflow is
    /// an error, never a wrap-around). A zero dimension counts as one, so that an empty
    /// tensor with a huge other dimension (whose reductions are not empty) is judged by
    /// that dimension.
    pub fn tensor(&self, what: &str, shape: &[usize]) -> Result<usize, RemoteError> {
        let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1))).ok_or_else(|| {
            RemoteError::new(K::LimitExceeded, format!("{what}: the element count of shape {shape:?} overflows"))
        })?;
        if n > self.max_tensor_elements {
            return Err(limit(
                &format!("max_tensor_elements ({what} of shape {shape:?})"),
                n,
                self.max_tensor_elements,
            ));
        }
        Ok(n)
    }

    /// Checks every shape a request names against the per-tensor and per-request limits.
    pub fn request<'a>(&self, what: &str, shapes: impl IntoIterator<Item = &'a [usize]>) -> Result<(), RemoteError> {
        let mut total = 0usize;
        for s in shapes {
            total = total.saturating_add(self.tensor(what, s)?);
        }
        if total > self.max_request_elements {
            return Err(limit(&format!("max_request_elements ({what})"), total, self.max_request_elements));
        }
        Ok(())
    }
}

/// Who owns a stored object and who else may use it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    /// The client that owns it.
    pub owner: String,
    /// Clients the owner allowed to compute with it (never to read it).
    pub grants: BTreeSet<String>,
    /// Workers the owner allowed to use it on the owner's behalf (pointer chains).
    pub delegates: BTreeSet<String>,
    /// Derived from an object its owner does not own: usable, not readable.
    pub restricted: bool,
    /// Restricted and derived from granted objects alone (a reshaped or broadcast model
    /// parameter), not from the owner's inputs.
    pub param: bool,
}

/// How an operand stands to the client that computes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// The client's own readable object.
    Own,
    /// A granted object, or one derived from granted objects alone (a model parameter).
    Param,
    /// A restricted value derived from the client's inputs and parameters (an activation).
    Activation,
}

/// What an operation does, for the rules on granted data (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// A product with a parameter as its second operand (a layer's weights): matrix
    /// product, convolution.
    Product,
    /// A sum (an activation plus a parameter: a bias).
    Add,
    /// A change of shape of one operand (reshape, transpose, broadcast).
    Shape,
    /// A layer's non-linearity or reduction applied to one activation: ReLU, pooling, sums,
    /// a uniform public scaling.
    Layer,
    /// A decision: `argmax`. Its output is the client's to read.
    Decide,
    /// Anything else: allowed on the client's own objects only.
    Other,
}

/// What a client may compute from operands that are not all its own: the layers of a
/// feed-forward network whose parameters were granted, applied to the client's inputs,
/// ending in a readable `argmax`. Returns how the result stands to the client.
///
/// Activations never combine with anything the client chooses other than through the
/// granted parameters (no public constants, no products of activations with its own
/// values, no comparisons), so the client controls the network's input and nothing else.
pub fn flow(op: &str, flow: Flow, uses: &[Use]) -> Result<Use, RemoteError> {
    use Use::{Activation as A, Own as O, Param as P};
    if uses.iter().all(|u| *u == O) {
        return Ok(O);
    }
    let out = match (flow, uses) {
        (Flow::Product, [O | A, P]) => Some(A),
        (Flow::Add, [A, P] | [P, A]) => Some(A),
        (Flow::Add, [P, P]) | (Flow::Shape, [P]) => Some(P),
        (Flow::Shape | Flow::Layer, [A]) => Some(A),
        (Flow::Decide, [A]) => Some(O),
        _ => None,
    };
    out.ok_or_else(|| {
        forbidden(format!(
            "{op} on {uses:?}: granted objects may only be used as a network's parameters on the caller's inputs"
        ))
    })
}

impl Ownership {
    /// An object owned by `owner`, nobody else allowed.
    #[must_use]
    pub fn owned_by(owner: impl Into<String>) -> Self {
        Self { owner: owner.into(), ..Self::default() }
    }
}

pub(crate) fn forbidden(message: impl Into<String>) -> RemoteError {
    RemoteError::new(K::Forbidden, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_catch_overflow_and_size() {
        let l = Limits::default();
        assert!(l.tensor("t", &[1 << 20, 1 << 20]).is_err());
        assert!(l.tensor("t", &[usize::MAX, 2]).is_err());
        assert_eq!(l.tensor("t", &[3, 4]).ok(), Some(12));
        assert!(
            l.request("r", [&[1usize << 26][..], &[1 << 26][..], &[1 << 26][..], &[1 << 26][..], &[1][..]]).is_err()
        );
    }

    #[test]
    fn policy_admits_only_known_identities() {
        let p = AccessPolicy::new(&["mo", "do"], &["alice", "cp"], &["cp"]);
        assert!(p.admits(&Caller::client("mo")));
        assert!(!p.admits(&Caller::client("alice")));
        assert!(p.admits(&Caller::worker("alice")));
        assert!(!p.admits(&Caller::worker("mo")));
        assert!(p.accepts_dealer("cp"));
        assert!(!p.accepts_dealer("alice"));
        assert!(AccessPolicy::open().admits(&Caller::worker("anyone")));
    }
}
