//! [`MpcSession`]: a session's lifecycle as the client holds it (members joining and
//! leaving, one session per set of members), the fan-out of each step to every member
//! at once, and pipelined regions ([`MpcSession::pipelined`]) in which the client sends
//! step after step without waiting for each one's acknowledgements.

use crate::error::{Result, WorkerError};
use crate::message::{Channels, MpcRequest, ObjectId, Request, Response, Role, Value, decode, new_id};
use crate::ops::MpcOp;
use crate::pointer::PointerTensor;
use crate::transport::{Hub, Reply, Worker, WorkerRef, call, call_async};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use syft_share::{Comm, InMemoryNetwork};

/// A group of computing workers and a crypto provider with channels among them.
pub struct MpcSession {
    id: u64,
    /// The hub that reaches the members.
    pub(super) hub: Arc<Hub>,
    /// The computing parties, in order.
    pub(super) parties: Vec<WorkerRef>,
    dealer: WorkerRef,
    /// The comparison width set with [`MpcSession::set_comparison_bits`]; 0: by encoding.
    comparison_bits: AtomicU32,
    /// Steps sent in pipelined regions and not yet waited for.
    in_flight: Mutex<InFlight>,
}

/// The steps a client has sent in pipelined regions ([`MpcSession::pipelined`]) and not
/// yet waited for.
#[derive(Debug, Default)]
struct InFlight {
    /// How many pipelined regions are running (they nest).
    regions: usize,
    /// The members' replies, oldest first.
    replies: VecDeque<Reply>,
}

/// In a pipelined region, at most this many replies are left unread: past it, the client
/// waits for the oldest until [`IN_FLIGHT_LOW`] remain, so it runs at most a few steps'
/// worth of requests ahead of the workers (a batch-1 inference is about 40 replies).
const IN_FLIGHT_HIGH: usize = 192;
/// What is left in flight after the client has waited for the oldest replies.
const IN_FLIGHT_LOW: usize = 96;

/// What became of one step's replies: waited for (outside a pipelined region), or queued.
enum Sent {
    /// Each member's response, in the order the requests were sent.
    Waited(Vec<Result<Response>>),
    /// Queued unread in a pipelined region: every member is taken to succeed; a failure
    /// is reported when the region waits for it.
    Queued,
    /// A step sent before this one failed: this step's responses were read all the same
    /// (so its results can be deleted), and the earlier failure is the step's error.
    AfterFailure(Vec<Result<Response>>, WorkerError),
}

impl std::fmt::Debug for MpcSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parties: Vec<&str> = self.parties.iter().map(|p| p.worker_id()).collect();
        f.debug_struct("MpcSession")
            .field("id", &self.id)
            .field("parties", &parties)
            .field("crypto_provider", &self.dealer.worker_id())
            .finish()
    }
}

/// Waits for the replies of every member of one step. As soon as one member fails (a
/// peer it waited for went silent, a refusal), the others are not waited for: their
/// results are reported as abandoned, so a paused member cannot hold the caller beyond
/// the protocol timeout of the members that noticed it.
pub(super) fn wait_all(replies: Vec<Result<Reply>>) -> Vec<Result<Response>> {
    const SLICE: std::time::Duration = std::time::Duration::from_millis(10);
    let mut out: Vec<Option<Result<Response>>> = Vec::with_capacity(replies.len());
    let mut pending: Vec<(usize, Reply)> = Vec::new();
    for (i, r) in replies.into_iter().enumerate() {
        match r {
            Ok(reply) => {
                out.push(None);
                pending.push((i, reply));
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    let mut failed = out.iter().any(|o| matches!(o, Some(Err(_))));
    while !pending.is_empty() && !failed {
        let mut still = Vec::with_capacity(pending.len());
        for (i, reply) in pending {
            if failed {
                still.push((i, reply));
                continue;
            }
            match reply.bytes_within(SLICE) {
                None => still.push((i, reply)),
                Some(bytes) => {
                    let worker = reply.worker().to_string();
                    let result = bytes.and_then(|b| match decode::<Response>(&b)? {
                        Response::Err(error) => Err(WorkerError::Remote { worker, error }),
                        other => Ok(other),
                    });
                    failed |= result.is_err();
                    out[i] = Some(result);
                }
            }
        }
        pending = still;
    }
    for (i, reply) in pending {
        out[i] = Some(Err(WorkerError::Transport { worker: reply.worker().to_string(), reason: ABANDONED.into() }));
    }
    out.into_iter().map(|o| o.unwrap_or_else(|| Err(WorkerError::Codec("no reply".into())))).collect()
}

/// Why [`wait_all`] gave up on a member: another one failed first.
const ABANDONED: &str = "abandoned: another member of the step failed first";

/// Whether [`wait_all`] gave up on this member (it may still finish the step).
fn abandoned(e: &WorkerError) -> bool {
    matches!(e, WorkerError::Transport { reason, .. } if reason == ABANDONED)
}

/// The responses, or the first error among them that is a member's own failure (not a
/// member abandoned because another failed), so the error names the member at fault.
pub(super) fn first_error(results: Vec<Result<Response>>) -> Result<Vec<Response>> {
    let mut out = Vec::with_capacity(results.len());
    let mut failure: Option<WorkerError> = None;
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(e) => {
                if failure.as_ref().is_none_or(|f| abandoned(f) && !abandoned(&e)) {
                    failure = Some(e);
                }
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

impl MpcSession {
    /// Creates a session among in-process workers: channel endpoints are handed to every
    /// member through the hub, then every member joins (the crypto provider sends each
    /// party its seed).
    pub fn new(parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<Arc<Self>> {
        if parties.len() < 2 {
            return Err(WorkerError::InvalidArgument { op: "share", reason: "at least two parties are needed".into() });
        }
        let mut names: Vec<&str> = parties.iter().map(|p| p.id()).collect();
        names.push(crypto_provider.id());
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != names.len() {
            return Err(WorkerError::InvalidArgument {
                op: "share",
                reason: format!("parties and crypto provider must be distinct workers, got {names:?}"),
            });
        }
        let hub = crypto_provider.hub().clone();
        let id = new_id();
        let n = parties.len();
        let members: Vec<WorkerRef> =
            parties.iter().map(|p| p.transport()).chain([crypto_provider.transport()]).collect();
        let addresses: Vec<Option<String>> = members.iter().map(|m| m.peer_address()).collect();
        let channels = if addresses.iter().all(Option::is_none) {
            for (endpoint, name) in InMemoryNetwork::new(n + 1).into_iter().zip(&names) {
                let boxed: Box<dyn Comm> = Box::new(endpoint);
                hub.deposit_endpoint(id, name, boxed)?;
            }
            Channels::InProcess
        } else if addresses.iter().all(Option::is_some) {
            Channels::Network { peers: addresses.into_iter().flatten().collect() }
        } else {
            return Err(WorkerError::InvalidArgument {
                op: "share",
                reason: "a session cannot mix in-process and network workers".into(),
            });
        };
        let session = Arc::new(Self {
            id,
            hub,
            parties: parties.iter().map(|p| p.transport()).collect(),
            dealer: crypto_provider.transport(),
            comparison_bits: AtomicU32::new(0),
            in_flight: Mutex::new(InFlight::default()),
        });
        let mut replies = Vec::with_capacity(n + 1);
        for (i, p) in session.parties.iter().enumerate() {
            let req = Request::Mpc(MpcRequest::Join {
                session: id,
                role: Role::Party(i),
                parties: n,
                channels: channels.clone(),
            });
            replies.push(call_async(p.as_ref(), &req));
        }
        let req = Request::Mpc(MpcRequest::Join { session: id, role: Role::Dealer, parties: n, channels });
        replies.push(call_async(session.dealer.as_ref(), &req));
        first_error(wait_all(replies))?;
        Ok(session)
    }

    /// The live session of these parties and crypto provider, or a new one.
    pub fn get_or_create(parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<Arc<Self>> {
        let mut key: Vec<String> = parties.iter().map(|p| p.id().to_string()).collect();
        key.push(crypto_provider.id().to_string());
        let hub = crypto_provider.hub().clone();
        let mut map = hub.sessions().ok_or_else(|| WorkerError::InvalidArgument {
            op: "share",
            reason: "a thread panicked while holding the session registry".into(),
        })?;
        if let Some(s) = map.get(&key).and_then(Weak::upgrade).and_then(|s| s.downcast::<Self>().ok()) {
            return Ok(s);
        }
        let s = Self::new(parties, crypto_provider)?;
        let weak = Arc::downgrade(&s);
        map.insert(key, weak);
        Ok(s)
    }

    /// The session id.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Number of computing parties.
    #[must_use]
    pub fn parties(&self) -> usize {
        self.parties.len()
    }

    /// The computing parties' ids.
    #[must_use]
    pub fn party_ids(&self) -> Vec<String> {
        self.parties.iter().map(|p| p.worker_id().to_string()).collect()
    }

    /// The crypto provider's id.
    #[must_use]
    pub fn crypto_provider(&self) -> &str {
        self.dealer.worker_id()
    }

    /// Sets the width `k` of the SecureNN comparisons (ReLU, `gt`, `eq`, max, argmax, max
    /// pooling, the softmax family) this session runs from now on, or `None` for the
    /// default rule, [`syft_securenn::Width::for_encoding`]: 32 bits for fixed-point
    /// tensors (valid while the compared values, or their differences, have raw magnitude
    /// below `2^30`: `|v| < 2^30/s` at scale `s`), 64 bits for integer and raw tensors
    /// (`2^62`). Values outside the range give wrong results, not clamped ones
    /// (docs/PROTOCOLS.md §7); `Some(64)` gives every comparison the full range.
    ///
    /// Fails on a width outside 2 to 64 bits.
    pub fn set_comparison_bits(&self, bits: Option<u32>) -> Result<()> {
        let stored = match bits {
            Some(b) => {
                syft_securenn::Width::new(b)
                    .map_err(|e| WorkerError::InvalidArgument { op: "set_comparison_bits", reason: e.to_string() })?;
                b
            }
            None => 0,
        };
        self.comparison_bits.store(stored, Ordering::Relaxed);
        Ok(())
    }

    /// The width set with [`set_comparison_bits`](Self::set_comparison_bits), if any.
    #[must_use]
    pub fn comparison_bits(&self) -> Option<u32> {
        match self.comparison_bits.load(Ordering::Relaxed) {
            0 => None,
            b => Some(b),
        }
    }

    /// The comparison width for operands of `encoder`: the session's setting, or the rule
    /// of [`syft_securenn::Width::for_encoding`].
    #[must_use]
    pub fn comparison_bits_for(&self, encoder: Option<syft_fixed::FixedEncoder>) -> u32 {
        self.comparison_bits().unwrap_or_else(|| syft_securenn::Width::for_encoding(encoder).bits())
    }

    /// Runs `f` with this session's steps *pipelined*: every operation on the session's
    /// shared tensors (and every sharing among its parties) sends its requests and returns
    /// at once, without waiting for the members' acknowledgements, so the workers go from
    /// one step to the next without a round trip to the client in between, and the client
    /// prepares the next steps while they compute. The members serve their requests in the
    /// order sent, so each step still sees the results of the ones before it.
    ///
    /// The replies are read when the region ends (the outermost one, when regions nest),
    /// when the client fetches a value ([`SharedTensor::get`](crate::SharedTensor::get)),
    /// asks for [`comm_stats`](Self::comm_stats) or calls [`flush`](Self::flush), and
    /// whenever more than a few steps' worth are unread. A step that failed at a member
    /// is reported then, as the error of the call that waited (the region's result when
    /// it ends); the steps sent after it fail too (the member leaves the session, see
    /// docs/PROTOCOLS.md §9.3), and their results are never stored. If `f` itself fails
    /// and an earlier step failed as well, the earlier failure is returned.
    ///
    /// Every thread's steps in this session are pipelined while a region runs.
    pub fn pipelined<T, E: From<WorkerError>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.in_flight()?.regions += 1;
        let region = Region(self);
        let out = f();
        drop(region);
        let outermost = self.in_flight()?.regions == 0;
        let waited = if outermost { self.flush() } else { Ok(()) };
        match (out, waited) {
            (_, Err(earlier)) => Err(earlier.into()),
            (out, Ok(())) => out,
        }
    }

    /// Waits for every step sent in pipelined regions so far, and returns the first
    /// failure among them (see [`pipelined`](Self::pipelined)). Does nothing outside
    /// pipelined regions, where every step is waited for as it is sent.
    pub fn flush(&self) -> Result<()> {
        let replies: Vec<Result<Reply>> = self.in_flight()?.replies.drain(..).map(Ok).collect();
        if replies.is_empty() {
            return Ok(());
        }
        first_error(wait_all(replies)).map(drop)
    }

    /// The steps in flight, locked.
    fn in_flight(&self) -> Result<MutexGuard<'_, InFlight>> {
        self.in_flight.lock().map_err(|_| WorkerError::InvalidArgument {
            op: "pipelined",
            reason: "a thread panicked while holding the session's steps in flight".into(),
        })
    }

    /// One step's requests are sent: inside a pipelined region its replies join those in
    /// flight ([`Sent::Queued`]), unless a request could not be sent; otherwise (or then)
    /// the steps in flight and this one are waited for ([`Sent::Waited`]).
    fn sent(&self, replies: Vec<Result<Reply>>) -> Result<Sent> {
        let mut in_flight = self.in_flight()?;
        if in_flight.regions > 0 && replies.iter().all(Result::is_ok) {
            in_flight.replies.extend(replies.into_iter().flatten());
            return Ok(Sent::Queued);
        }
        let earlier: Vec<Result<Reply>> = in_flight.replies.drain(..).map(Ok).collect();
        drop(in_flight);
        if !earlier.is_empty() {
            // Left in flight by a region that ended without waiting (a panic), or a
            // request of this step could not be sent: what came before it first.
            if let Err(e) = first_error(wait_all(earlier)) {
                return Ok(Sent::AfterFailure(wait_all(replies), e));
            }
        }
        Ok(Sent::Waited(wait_all(replies)))
    }

    /// Finishes one step whose requests are sent (`replies`: one per party, in order, then
    /// the dealer's if any) and which stores `results[i]` at party `i`: pointers to every
    /// result, per party, or the step's first failure.
    ///
    /// On failure the results that a member may have stored are deleted again: those of
    /// members that answered, and those of members the client stopped waiting for because
    /// another member failed first (such a member may still finish the step; its
    /// deletion is queued behind the step without waiting, so a paused member cannot hold
    /// the client).
    pub(super) fn finish_step(
        &self,
        replies: Vec<Result<Reply>>,
        results: &[Vec<ObjectId>],
    ) -> Result<Vec<Vec<PointerTensor>>> {
        let (outcomes, earlier) = match self.sent(replies)? {
            Sent::Queued => (None, None),
            Sent::Waited(outcomes) => (Some(outcomes), None),
            Sent::AfterFailure(outcomes, e) => (Some(outcomes), Some(e)),
        };
        let may_hold = |i: usize| match outcomes.as_ref().map(|o| o.get(i)) {
            None => true,
            Some(Some(Ok(_))) => true,
            Some(Some(Err(e))) => abandoned(e),
            Some(None) => false,
        };
        let mut pointers = Vec::with_capacity(results.len());
        for (i, ids) in results.iter().enumerate() {
            let mut held = Vec::with_capacity(ids.len());
            if may_hold(i) {
                for &id in ids {
                    let p = PointerTensor::attach(&self.hub, self.parties[i].worker_id(), id)?;
                    p.mark_share();
                    held.push(p);
                }
            }
            pointers.push(held);
        }
        if let Some(e) = earlier {
            return Err(e);
        }
        match outcomes {
            Some(outcomes) => {
                first_error(outcomes)?;
            }
            None => self.bound_in_flight()?,
        }
        Ok(pointers)
    }

    /// In a pipelined region, once a queued step's result pointers exist: when too many
    /// replies are unread, waits for the oldest (see [`IN_FLIGHT_HIGH`]).
    pub(super) fn bound_in_flight(&self) -> Result<()> {
        let oldest: Vec<Result<Reply>> = {
            let mut in_flight = self.in_flight()?;
            if in_flight.replies.len() <= IN_FLIGHT_HIGH {
                return Ok(());
            }
            let n = in_flight.replies.len() - IN_FLIGHT_LOW;
            in_flight.replies.drain(..n).map(Ok).collect()
        };
        first_error(wait_all(oldest)).map(drop)
    }

    /// What the session's members have sent so far: bytes, messages and the longest chain
    /// of dependent messages (see [`SessionStats`]). Take it before and after a
    /// computation and subtract ([`SessionStats::since`]). Waits for the steps in flight
    /// first.
    pub fn comm_stats(&self) -> Result<SessionStats> {
        self.flush()?;
        let mut members = Vec::new();
        for w in self.parties.iter().chain(std::iter::once(&self.dealer)) {
            match call(w.as_ref(), &Request::Mpc(MpcRequest::Stats { session: self.id }))? {
                Response::Value(Value::Ring(t)) if t.len() >= 5 => {
                    let d = t.data();
                    members.push(MemberTraffic {
                        worker: w.worker_id().to_string(),
                        payload_bytes: d[0],
                        framing_bytes: d[1],
                        messages: d[2],
                        own_rounds: d[3],
                        depth: d[4],
                    });
                }
                other => {
                    return Err(WorkerError::UnexpectedResponse {
                        worker: w.worker_id().to_string(),
                        request: "mpc stats",
                        response: format!("{other:?}"),
                    });
                }
            }
        }
        Ok(SessionStats { members })
    }

    /// Runs `op` at every party on the given share ids (one list per party) and, when the
    /// protocol needs it, at the crypto provider; returns the result share ids.
    pub(super) fn run(&self, op: &MpcOp, args: &[Vec<ObjectId>]) -> Result<Vec<PointerTensor>> {
        let mut outs = self.run_multi(op, args)?;
        Ok(outs.swap_remove(0))
    }

    /// Like `run` for operations with several outputs: one list of share pointers per
    /// output.
    pub(super) fn run_multi(&self, op: &MpcOp, args: &[Vec<ObjectId>]) -> Result<Vec<Vec<PointerTensor>>> {
        let spec = op.spec();
        let k = spec.outputs;
        let results: Vec<Vec<ObjectId>> = (0..self.parties.len()).map(|_| (0..k).map(|_| new_id()).collect()).collect();
        let mut replies = Vec::with_capacity(self.parties.len() + 1);
        for (i, p) in self.parties.iter().enumerate() {
            let req = Request::Mpc(MpcRequest::Run {
                session: self.id,
                op: op.clone(),
                args: args[i].clone(),
                results: results[i].clone(),
            });
            replies.push(call_async(p.as_ref(), &req));
        }
        if spec.needs_dealer() {
            let req = Request::Mpc(MpcRequest::Run {
                session: self.id,
                op: op.clone(),
                args: Vec::new(),
                results: Vec::new(),
            });
            replies.push(call_async(self.dealer.as_ref(), &req));
        }
        let stored = self.finish_step(replies, &results)?;
        let mut per_output: Vec<Vec<PointerTensor>> = (0..k).map(|_| Vec::with_capacity(self.parties.len())).collect();
        for party in stored {
            for (j, p) in party.into_iter().enumerate() {
                per_output[j].push(p);
            }
        }
        Ok(per_output)
    }

    /// Drops the openings cached under `key` at every member.
    pub(super) fn forget(&self, key: u64) {
        for w in self.parties.iter().chain(std::iter::once(&self.dealer)) {
            let _ = call(w.as_ref(), &Request::Mpc(MpcRequest::Forget { session: self.id, key }));
        }
    }
}

/// A running pipelined region: counted while it lives, so a panic in it ends it too.
struct Region<'a>(&'a MpcSession);

impl Drop for Region<'_> {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.0.in_flight.lock() {
            in_flight.regions = in_flight.regions.saturating_sub(1);
        }
    }
}

impl Drop for MpcSession {
    fn drop(&mut self) {
        for w in self.parties.iter().chain(std::iter::once(&self.dealer)) {
            let _ = call(w.as_ref(), &Request::Mpc(MpcRequest::Leave { session: self.id }));
        }
    }
}

/// What one member of a session (a party or the crypto provider) has sent to the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberTraffic {
    /// The worker.
    pub worker: String,
    /// Payload bytes sent (the protocol's values).
    pub payload_bytes: u64,
    /// Framing bytes sent (message headers: kind, request number, depth, shape).
    pub framing_bytes: u64,
    /// Messages sent.
    pub messages: u64,
    /// Rounds as this member alone sees them: a round starts at its first send after a
    /// receive (a lower bound on [`SessionStats::rounds`]).
    pub own_rounds: u64,
    /// The deepest message this member has sent or received (docs/PROTOCOLS.md §2.4).
    pub depth: u64,
}

/// A session's traffic: one entry per party, then the crypto provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Per member, parties first, the crypto provider last.
    pub members: Vec<MemberTraffic>,
}

impl SessionStats {
    /// Every byte every member sent: payload and framing.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.members.iter().map(|m| m.payload_bytes + m.framing_bytes).sum()
    }

    /// Messages sent by all members.
    #[must_use]
    pub fn messages(&self) -> u64 {
        self.members.iter().map(|m| m.messages).sum()
    }

    /// Rounds: the longest chain of dependent messages across all parties and the crypto
    /// provider (the deepest message any member has seen; docs/PROTOCOLS.md §2.4).
    #[must_use]
    pub fn rounds(&self) -> u64 {
        self.members.iter().map(|m| m.depth).max().unwrap_or(0)
    }

    /// What was sent since `earlier` (taken from the same session): bytes and messages
    /// subtract; the rounds of the difference are how much longer the longest chain got.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        let earlier_depth = earlier.rounds();
        let members = self
            .members
            .iter()
            .map(|m| {
                let e = earlier.members.iter().find(|e| e.worker == m.worker).cloned().unwrap_or_default();
                MemberTraffic {
                    worker: m.worker.clone(),
                    payload_bytes: m.payload_bytes.saturating_sub(e.payload_bytes),
                    framing_bytes: m.framing_bytes.saturating_sub(e.framing_bytes),
                    messages: m.messages.saturating_sub(e.messages),
                    own_rounds: m.own_rounds.saturating_sub(e.own_rounds),
                    depth: m.depth.saturating_sub(earlier_depth),
                }
            })
            .collect();
        Self { members }
    }
}
