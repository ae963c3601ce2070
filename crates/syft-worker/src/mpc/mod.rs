//! Multi-party computation on shares held by workers: the member side.
//!
//! A *session* groups `n` computing workers and one crypto provider (the dealer). When the
//! orchestrator creates it, every member receives a channel endpoint to every other member
//! ([`Comm`]); the dealer then sends each party its PRG seed. After that, an operation on a
//! shared tensor is one [`MpcRequest::Run`] per member: each party runs the party-local
//! protocol on its own share and stores its share of the result, and the dealer serves
//! the material the protocol consumes. Masked values travel party to party over the
//! session's channels; the orchestrator sees only acknowledgements and shapes.
//!
//! [`Sessions`] is a worker's member side: the store hands it every multi-party request
//! with the worker's objects ([`WorkerCore::new`] plugs it in). What each operation is
//! ([`MpcOp::spec`]) is in [`crate::ops`], the requests in [`crate::message`]; this module
//! keeps the sessions, checks each request, and runs the protocols (`protocols.rs`).

mod protocols;

pub use crate::message::{Channels, MpcRequest, Role};
pub use crate::ops::MpcOp;

use crate::access::{Caller, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K};
use crate::message::{ObjectId, ObjectInfo, ObjectKind, Response, Value};
use crate::ops::OpSpec;
use crate::store::{Objects, SessionService, Stored, WorkerCore};
use crate::transport::Hub;
use std::collections::HashMap;
use std::sync::Arc;
use syft_ring::Tensor;
use syft_share::{Comm, CommCounters};
use syft_spdz::{Dealer, DealerLink, OpenedOperand};

impl WorkerCore {
    /// An empty worker named `id` that reaches others through `hub` and takes part in
    /// multi-party sessions, serving everyone
    /// ([`AccessPolicy::open`](crate::AccessPolicy::open)) with default
    /// [`Limits`](crate::Limits).
    #[must_use]
    pub fn new(id: impl Into<String>, hub: Arc<Hub>) -> Self {
        Self::with_sessions(id.into(), &hub, Box::new(Sessions::default()))
    }
}

/// A session as one member holds it.
pub(super) struct Member {
    /// The client that started the session: the only one that may run, query or end it.
    pub(super) client: String,
    /// The members' worker ids by endpoint index (empty for in-process sessions).
    pub(super) names: Vec<String>,
    pub(super) role: Role,
    pub(super) parties: usize,
    pub(super) comm: Box<dyn Comm>,
    /// Party side: the link to the dealer.
    pub(super) link: Option<DealerLink>,
    /// Dealer side.
    pub(super) dealer: Option<Dealer>,
    /// Party side: openings of reused operands, by key, with the object opened.
    pub(super) opened: HashMap<u64, (ObjectId, OpenedOperand)>,
    /// Dealer side: mask request numbers of reused operands, by key.
    pub(super) masks: HashMap<u64, (u64, Vec<usize>)>,
    /// Party side: the SecureNN common seed `k_01`, agreed with the other party in the
    /// session's first SecureNN call and resumed by the later ones (the dealer link's
    /// request counter keeps every stream fresh). Never sent to the crypto provider.
    pub(super) k01: Option<syft_ring::Seed>,
}

/// The sessions a worker takes part in.
#[derive(Default)]
pub struct Sessions {
    members: HashMap<u64, Member>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("count", &self.members.len()).finish()
    }
}

fn err(kind: K, message: impl Into<String>) -> RemoteError {
    RemoteError::new(kind, message)
}

fn protocol(e: impl std::fmt::Display) -> RemoteError {
    err(K::Protocol, e.to_string())
}

fn unknown_session(session: u64) -> RemoteError {
    err(K::BadRequest, format!("not a member of session {session}"))
}

/// The worker id of a peer address `id@host:port`.
fn peer_id(address: &str) -> &str {
    address.split_once('@').map_or(address, |(id, _)| id)
}

impl SessionService for Sessions {
    fn handle(&mut self, objects: &mut Objects, caller: &Caller, req: MpcRequest) -> Result<Response, RemoteError> {
        if !caller.is_client() {
            return Err(forbidden(format!("{caller} may not take part in sessions on {} as a client", objects.id())));
        }
        match req {
            MpcRequest::Join { session, role, parties, channels } => {
                self.join(objects, caller, session, role, parties, &channels)
            }
            MpcRequest::Leave { session } => {
                self.member_of(objects, caller, session)?;
                self.members.remove(&session);
                Ok(Response::Ok)
            }
            MpcRequest::Forget { session, key } => {
                let m = self.member_of(objects, caller, session)?;
                m.opened.remove(&key);
                m.masks.remove(&key);
                Ok(Response::Ok)
            }
            MpcRequest::Stats { session } => {
                let m = self.member_of(objects, caller, session)?;
                let c: CommCounters = m.comm.stats().snapshot();
                let t = c.total();
                // The layout `SessionStats` reads: payload bytes, framing bytes, messages,
                // this member's own rounds, the deepest message it has seen.
                let stats =
                    Tensor::from_vec(vec![t.bytes_sent, t.header_bytes_sent, t.messages_sent, c.rounds, c.depth]);
                Ok(Response::Value(Value::Ring(stats)))
            }
            MpcRequest::Run { session, op, args, results } => self.run(objects, caller, session, &op, &args, &results),
        }
    }

    fn drop_session(&mut self, session: u64) {
        self.members.remove(&session);
    }
}

impl Sessions {
    /// The session `session` if `caller` is its client.
    fn member_of(&mut self, objects: &Objects, caller: &Caller, session: u64) -> Result<&mut Member, RemoteError> {
        let m = self.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
        if !caller.is_client() || m.client != caller.name() {
            return Err(forbidden(format!("{caller} did not start session {session} on {}", objects.id())));
        }
        Ok(m)
    }

    fn join(
        &mut self,
        objects: &Objects,
        caller: &Caller,
        session: u64,
        role: Role,
        parties: usize,
        channels: &Channels,
    ) -> Result<Response, RemoteError> {
        if self.members.contains_key(&session) {
            return Err(err(K::BadRequest, format!("already a member of session {session}")));
        }
        if parties < 2 {
            return Err(err(K::BadRequest, format!("a session needs at least 2 parties, got {parties}")));
        }
        if parties > objects.limits().max_parties {
            return Err(err(
                K::LimitExceeded,
                format!("max_parties: a session of {parties} parties (limit {})", objects.limits().max_parties),
            ));
        }
        let me = match role {
            Role::Party(i) => i,
            Role::Dealer => parties,
        };
        if let Channels::Network { peers } = channels {
            // Every member must be a worker this one knows, the crypto provider one it accepts
            // in that role, and this worker must be where the client says it is.
            let policy = objects.policy();
            for (i, address) in peers.iter().enumerate() {
                let id = peer_id(address);
                if i == me {
                    if id != objects.id() {
                        return Err(forbidden(format!(
                            "{} is not {id}, member {i} of session {session}",
                            objects.id()
                        )));
                    }
                } else if i == parties {
                    if !policy.accepts_dealer(id) {
                        return Err(forbidden(format!("{} does not accept {id} as a crypto provider", objects.id())));
                    }
                } else if !policy.is_peer(id) {
                    return Err(forbidden(format!("{id} is not a worker {} knows", objects.id())));
                }
            }
        }
        let mut comm = match channels {
            Channels::InProcess => objects.hub()?.take_endpoint(session, objects.id()).ok_or_else(|| {
                err(K::BadRequest, format!("no channel endpoint for {} in session {session}", objects.id()))
            })?,
            Channels::Network { peers } => {
                if peers.len() != parties + 1 {
                    return Err(err(
                        K::BadRequest,
                        format!("{} peer addresses for {} members", peers.len(), parties + 1),
                    ));
                }
                let connector = objects
                    .hub()?
                    .connector()
                    .ok_or_else(|| err(K::BadRequest, format!("{} cannot open network channels", objects.id())))?;
                connector.connect(session, me, peers).map_err(|e| err(K::Unreachable, e.to_string()))?
            }
        };
        let (link, dealer) = match role {
            Role::Party(i) if i < parties => {
                (Some(DealerLink::connect(comm.as_mut(), parties, i, parties).map_err(protocol)?), None)
            }
            Role::Party(i) => {
                return Err(err(K::BadRequest, format!("party index {i} out of range for {parties} parties")));
            }
            Role::Dealer => {
                let mut dealer = Dealer::new(parties).map_err(protocol)?;
                let ids: Vec<usize> = (0..parties).collect();
                syft_spdz::distribute_seeds(comm.as_mut(), &mut dealer, &ids).map_err(protocol)?;
                (None, Some(dealer))
            }
        };
        let names = match channels {
            Channels::Network { peers } => peers.iter().map(|a| peer_id(a).to_string()).collect(),
            Channels::InProcess => Vec::new(),
        };
        let member = Member {
            client: caller.name().to_string(),
            names,
            role,
            parties,
            comm,
            link,
            dealer,
            opened: HashMap::new(),
            masks: HashMap::new(),
            k01: None,
        };
        self.members.insert(session, member);
        Ok(Response::Ok)
    }

    /// Runs `op` as this member: checks it (ownership, declared shapes, limits), runs the
    /// party's or the crypto provider's step and stores the party's result shares.
    fn run(
        &mut self,
        objects: &mut Objects,
        caller: &Caller,
        session: u64,
        op: &MpcOp,
        args: &[ObjectId],
        results: &[ObjectId],
    ) -> Result<Response, RemoteError> {
        let role = self.member_of(objects, caller, session)?.role;
        let limits = objects.limits().clone();
        let spec = op.spec();
        match role {
            Role::Dealer => {
                let checked = spec
                    .alloc_shapes(&[])
                    .map_err(|e| err(K::Compute, e.to_string()))
                    .and_then(|shapes| limits.request(spec.name, shapes.iter().map(Vec::as_slice)));
                self.refuse_in_step(objects.id(), session, &spec, checked)?;
                let member = self.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
                let outcome = protocols::dealer(member, op, &spec);
                self.abandon_on_protocol_error(objects.id(), session, outcome)?;
                Ok(Response::Ok)
            }
            Role::Party(_) => {
                if results.len() != spec.outputs {
                    return Err(err(
                        K::BadRequest,
                        format!("{} has {} outputs, got {} ids", spec.name, spec.outputs, results.len()),
                    ));
                }
                for &r in results {
                    if objects.contains(r) {
                        return Err(err(K::BadRequest, format!("object {r} already exists")));
                    }
                }
                let checked = (|| {
                    // Borrowed, not copied: an operand may be a 3 MB weight share.
                    let shares: Vec<&Tensor<u64>> = args
                        .iter()
                        .map(|&id| match objects.usable(caller, id)? {
                            Stored::Ring(t) => Ok(t),
                            _ => Err(err(K::WrongKind, format!("object {id} is not a share"))),
                        })
                        .collect::<Result<_, _>>()?;
                    let inputs: Vec<&[usize]> = shares.iter().map(|t| t.shape()).collect();
                    if let Some(declared) = spec.declared_shape()
                        && inputs.iter().any(|s| *s != declared)
                    {
                        return Err(err(
                            K::BadRequest,
                            format!("{}: shape {declared:?} for shares of {inputs:?}", spec.name),
                        ));
                    }
                    let shapes = spec.alloc_shapes(&inputs).map_err(|e| err(K::Compute, e.to_string()))?;
                    limits.request(spec.name, shapes.iter().map(Vec::as_slice))?;
                    let own = objects.derived(caller, spec.name, args, spec.flow)?;
                    Ok((shares, own))
                })();
                let (shares, own) = self.refuse_in_step(objects.id(), session, &spec, checked)?;
                let member = self.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
                let outcome = protocols::party(member, op, &spec, &shares, args);
                let outs = self.abandon_on_protocol_error(objects.id(), session, outcome)?;
                let mut shapes = Vec::with_capacity(outs.len());
                for (&id, out) in results.iter().zip(outs) {
                    shapes.push(out.shape().to_vec());
                    objects.insert(id, Stored::Ring(out), own.clone())?;
                }
                let info = ObjectInfo { kind: ObjectKind::Ring, shape: shapes.swap_remove(0), requires_grad: false };
                Ok(Response::Info(info))
            }
        }
    }

    /// A member that refuses a step its peers or the dealer take part in (not allowed, past a
    /// limit) leaves the session: the others would otherwise wait for its messages, or deal
    /// material it never consumes, and be out of step. Leaving closes its channels, so they
    /// fail at once instead of at their timeout; the client starts a new session.
    fn refuse_in_step<T>(
        &mut self,
        me: &str,
        session: u64,
        spec: &OpSpec,
        checked: Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        match checked {
            Err(mut e) if spec.needs_dealer() => {
                self.members.remove(&session);
                e.message.push_str(&format!(" (session {session} left by {me}: its members would be out of step)"));
                Err(e)
            }
            other => other,
        }
    }

    /// After a protocol failed midway (a peer vanished, timed out or sent garbage), the
    /// session's channels are out of step: leave it, so later requests fail at once with a
    /// clear error instead of desynchronising.
    fn abandon_on_protocol_error<T>(
        &mut self,
        me: &str,
        session: u64,
        outcome: Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        match outcome {
            Err(mut e) if e.kind == K::Protocol => {
                if let Some(m) = self.members.remove(&session) {
                    e.message = name_members(&e.message, &m.names);
                }
                e.message.push_str(&format!(" (session {session} dropped by {me})"));
                Err(e)
            }
            other => other,
        }
    }
}

/// Names the members in a protocol error: `party 1` becomes `party 1 (alice)`, so the
/// client learns which worker went silent or hung up.
fn name_members(message: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(message.len() + 32);
    let mut rest = message;
    while let Some(at) = rest.find("party ") {
        let (before, after) = rest.split_at(at + "party ".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let (num, tail) = after.split_at(digits);
        out.push_str(num);
        if let Some(name) = num.parse::<usize>().ok().and_then(|i| names.get(i)) {
            out.push_str(&format!(" ({name})"));
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}
