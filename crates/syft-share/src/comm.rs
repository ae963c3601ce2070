//! The [`Comm`] trait: one party's view of its channels to the other parties, with
//! byte, message and round counters ([`CommStats`]).
//!
//! A `Comm` implementation is a dumb, ordered, reliable pipe per peer: it moves byte
//! messages ([`Comm::send_bytes`], [`Comm::recv_bytes`]) and owns a [`CommStats`]. All
//! framing, validation and counting happens in the provided extension trait
//! [`CommExt`], so every backend (in-memory, TCP, TLS) counts the same way.
//!
//! # Message format
//!
//! A tensor message is a small header followed by the raw little-endian payload:
//!
//! | bytes | content |
//! |---|---|
//! | 1 | kind: `0x01` tensor, `0x02` opaque byte payload |
//! | 6 | the sender's current request number `req` (docs/PROTOCOLS.md §2.2), little-endian |
//! | 4 | the message's depth: 1 + the largest depth the sender has received (see below), little-endian |
//! | 4 | element tag (tensor only): a hash of the element's name and width, little-endian |
//! | 1 | rank `r` (tensor only) |
//! | `8r` | the dimensions, `u64` little-endian each (tensor only) |
//! | rest | the payload: `len · T::BYTES` bytes (8 per `u64`, 1 per Z_p element) |
//!
//! So a tensor of rank `r` costs [`tensor_header_len`]`(r) = 16 + 8r` framing bytes; an
//! opaque byte message costs 11 ([`BYTES_HEADER_LEN`]).
//!
//! # Request numbers
//!
//! Every party and the dealer number the requests of a session alike (dealer material and
//! SecureNN sub-protocols, in call order), and protocol code records the current one with
//! [`CommStats::set_request`]. Every message carries its sender's current number, and a
//! receiver at another number rejects it with [`ShareError::OutOfStep`]: parties that
//! have fallen out of step stop with an error instead of computing on each other's
//! unrelated values.
//!
//! # Counting
//!
//! [`CommStats`] counts, per peer, *payload* bytes sent and received (the figures the
//! protocol specification's cost formulas use), framing bytes separately, and messages.
//! It also counts **rounds**: a round starts at the first send after a receive, or at the
//! first send ever. Sending to every peer and then receiving from every peer
//! ([`CommExt::exchange`], [`CommExt::reveal`]) is therefore one round, and a chain of
//! dependent messages costs one round per message the party sends after receiving.
//!
//! That count is one endpoint's view: it does not see the messages its peers exchange
//! with each other. The **depth** ([`CommStats::depth`]) is the network's view: every
//! message carries its depth, one more than the deepest message its sender had received
//! when sending it (a Lamport clock), so the largest depth any endpoint has seen is the
//! length of the longest chain of dependent messages across all parties, the dealer and
//! the helper. Messages sent in parallel (every party's share of an opening) have one
//! depth; a reply has one more than what it answers.
//!
//! The raw [`Comm::send_bytes`] / [`Comm::recv_bytes`] are *not* counted: protocol code
//! uses the counted methods of [`CommExt`] ([`send_tensor`](CommExt::send_tensor),
//! [`send_payload`](CommExt::send_payload), ...).

use crate::error::{Result, ShareError};
use syft_ring::{Element, Scalar, Tensor};

/// The index of an endpoint in a network: `0 .. parties()`.
pub type PartyId = usize;

/// One party's endpoint: ordered, reliable byte channels to every other endpoint.
///
/// # Contract for implementations
///
/// - Messages from one peer arrive in the order they were sent, each exactly as sent
///   (including empty messages).
/// - [`send_bytes`](Self::send_bytes) must not wait for the peer to *receive*: buffer, or
///   hand the bytes to a writer thread. [`CommExt::exchange`] sends to every peer before
///   receiving from any, and would deadlock otherwise (the conformance kit sends several
///   megabytes each way to check this).
/// - [`recv_bytes`](Self::recv_bytes) blocks until a message arrives, and returns
///   [`ShareError::Disconnected`] when the peer has gone away, or [`ShareError::Timeout`]
///   if the implementation has a receive timeout.
/// - Sending to or receiving from an index `>= parties()`, or from `id()` itself, is an
///   error ([`ShareError::UnknownParty`], [`ShareError::SelfMessage`]), never a panic.
/// - Implementations do not touch the counters; [`CommExt`] does.
///
/// The dev feature's conformance kit (`syft_share::dev::comm_conformance`) checks all of this.
pub trait Comm: Send {
    /// This endpoint's index.
    fn id(&self) -> PartyId;
    /// Number of endpoints: the computing parties, plus a dealer/helper endpoint if the
    /// network has one.
    fn parties(&self) -> usize;
    /// Sends one message to `to` (uncounted transport primitive; see [`CommExt`]).
    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()>;
    /// Receives the next message from `from` (uncounted transport primitive; see [`CommExt`]).
    fn recv_bytes(&mut self, from: PartyId) -> Result<Vec<u8>>;
    /// The counters.
    fn stats(&self) -> &CommStats;
    /// The counters, mutably (to reset them, or for [`CommExt`] to record traffic).
    fn stats_mut(&mut self) -> &mut CommStats;
}

impl<C: Comm + ?Sized> Comm for &mut C {
    fn id(&self) -> PartyId {
        (**self).id()
    }
    fn parties(&self) -> usize {
        (**self).parties()
    }
    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        (**self).send_bytes(to, payload)
    }
    fn recv_bytes(&mut self, from: PartyId) -> Result<Vec<u8>> {
        (**self).recv_bytes(from)
    }
    fn stats(&self) -> &CommStats {
        (**self).stats()
    }
    fn stats_mut(&mut self) -> &mut CommStats {
        (**self).stats_mut()
    }
}

impl<C: Comm + ?Sized> Comm for Box<C> {
    fn id(&self) -> PartyId {
        (**self).id()
    }
    fn parties(&self) -> usize {
        (**self).parties()
    }
    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        (**self).send_bytes(to, payload)
    }
    fn recv_bytes(&mut self, from: PartyId) -> Result<Vec<u8>> {
        (**self).recv_bytes(from)
    }
    fn stats(&self) -> &CommStats {
        (**self).stats()
    }
    fn stats_mut(&mut self) -> &mut CommStats {
        (**self).stats_mut()
    }
}

// ---------------------------------------------------------------------------------------
// Counters.

/// Traffic with one peer, as seen by one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PeerStats {
    /// Payload bytes sent (`len · T::BYTES` per tensor; framing excluded).
    pub bytes_sent: u64,
    /// Payload bytes received (framing excluded).
    pub bytes_received: u64,
    /// Framing (header) bytes sent.
    pub header_bytes_sent: u64,
    /// Framing (header) bytes received, including whole malformed messages.
    pub header_bytes_received: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
}

impl PeerStats {
    /// Field-wise `self + rhs`.
    #[must_use]
    pub fn plus(&self, rhs: &Self) -> Self {
        Self {
            bytes_sent: self.bytes_sent + rhs.bytes_sent,
            bytes_received: self.bytes_received + rhs.bytes_received,
            header_bytes_sent: self.header_bytes_sent + rhs.header_bytes_sent,
            header_bytes_received: self.header_bytes_received + rhs.header_bytes_received,
            messages_sent: self.messages_sent + rhs.messages_sent,
            messages_received: self.messages_received + rhs.messages_received,
        }
    }

    /// Field-wise `self - earlier` (saturating at zero).
    #[must_use]
    pub fn minus(&self, earlier: &Self) -> Self {
        Self {
            bytes_sent: self.bytes_sent.saturating_sub(earlier.bytes_sent),
            bytes_received: self.bytes_received.saturating_sub(earlier.bytes_received),
            header_bytes_sent: self.header_bytes_sent.saturating_sub(earlier.header_bytes_sent),
            header_bytes_received: self.header_bytes_received.saturating_sub(earlier.header_bytes_received),
            messages_sent: self.messages_sent.saturating_sub(earlier.messages_sent),
            messages_received: self.messages_received.saturating_sub(earlier.messages_received),
        }
    }
}

/// A frozen copy of an endpoint's counters (from [`CommStats::snapshot`]), or the
/// difference of two ([`CommStats::since`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CommCounters {
    /// Per-peer traffic, indexed by [`PartyId`] (this endpoint's own entry stays zero).
    pub peers: Vec<PeerStats>,
    /// Communication rounds (see the [module docs](self)).
    pub rounds: u64,
    /// The deepest message this endpoint has sent or received (see the
    /// [module docs](self)); for a difference, how much deeper it got.
    pub depth: u64,
}

impl CommCounters {
    /// Traffic with `peer` (zero for an unknown peer).
    #[must_use]
    pub fn peer(&self, peer: PartyId) -> PeerStats {
        self.peers.get(peer).copied().unwrap_or_default()
    }

    /// Traffic with all peers together.
    #[must_use]
    pub fn total(&self) -> PeerStats {
        self.peers.iter().fold(PeerStats::default(), |acc, p| acc.plus(p))
    }

    /// Payload bytes sent to all peers.
    #[must_use]
    pub fn bytes_sent(&self) -> u64 {
        self.total().bytes_sent
    }

    /// Payload bytes received from all peers.
    #[must_use]
    pub fn bytes_received(&self) -> u64 {
        self.total().bytes_received
    }

    /// Messages sent to all peers.
    #[must_use]
    pub fn messages_sent(&self) -> u64 {
        self.total().messages_sent
    }

    /// Messages received from all peers.
    #[must_use]
    pub fn messages_received(&self) -> u64 {
        self.total().messages_received
    }

    /// Field-wise `self - earlier` (saturating at zero).
    #[must_use]
    pub fn minus(&self, earlier: &Self) -> Self {
        let peers = self
            .peers
            .iter()
            .enumerate()
            .map(|(i, p)| p.minus(&earlier.peers.get(i).copied().unwrap_or_default()))
            .collect();
        Self {
            peers,
            rounds: self.rounds.saturating_sub(earlier.rounds),
            depth: self.depth.saturating_sub(earlier.depth),
        }
    }
}

/// An endpoint's live counters: per-peer bytes and messages, and rounds.
///
/// ```
/// use syft_share::{Comm, CommExt, run_parties};
/// use syft_ring::Tensor;
///
/// # fn main() -> syft_share::Result<()> {
/// let costs = run_parties(3, |comm| -> syft_share::Result<_> {
///     let before = comm.stats().snapshot();
///     let _x = comm.reveal(&Tensor::<u64>::from_vec(vec![1, 2, 3, 4]), &[0, 1, 2])?;
///     Ok(comm.stats().since(&before))
/// })?;
/// for cost in costs {
///     let cost = cost?;
///     assert_eq!(cost.bytes_sent(), 2 * 4 * 8); // 8 bytes per element to each of 2 peers
///     assert_eq!(cost.rounds, 1);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommStats {
    counters: CommCounters,
    /// Whether the last counted operation was a send (a following send is in the same round).
    sending: bool,
    /// The current request number, carried in every message header.
    request: u64,
    /// The deepest message received so far.
    received_depth: u64,
}

impl CommStats {
    /// Zeroed counters for a network of `parties` endpoints.
    #[must_use]
    pub fn new(parties: usize) -> Self {
        Self {
            counters: CommCounters { peers: vec![PeerStats::default(); parties], rounds: 0, depth: 0 },
            sending: false,
            request: 0,
            received_depth: 0,
        }
    }

    /// Sets the current request number (docs/PROTOCOLS.md §2.2): messages sent from now on
    /// carry it, and messages received must carry it. Protocol code calls this when a
    /// request starts; it is not reset by [`reset`](Self::reset).
    pub fn set_request(&mut self, req: u64) {
        self.request = req & REQUEST_MASK;
    }

    /// The current request number.
    #[must_use]
    pub fn request(&self) -> u64 {
        self.request
    }

    /// Zeroes every counter; the next send starts a new round.
    pub fn reset(&mut self) {
        for p in &mut self.counters.peers {
            *p = PeerStats::default();
        }
        self.counters.rounds = 0;
        self.counters.depth = 0;
        self.received_depth = 0;
        self.sending = false;
    }

    /// A frozen copy of the counters.
    #[must_use]
    pub fn snapshot(&self) -> CommCounters {
        self.counters.clone()
    }

    /// What was counted since `earlier` (a [`snapshot`](Self::snapshot) of these counters).
    #[must_use]
    pub fn since(&self, earlier: &CommCounters) -> CommCounters {
        self.counters.minus(earlier)
    }

    /// The live counters.
    #[must_use]
    pub fn counters(&self) -> &CommCounters {
        &self.counters
    }

    /// Rounds so far.
    #[must_use]
    pub fn rounds(&self) -> u64 {
        self.counters.rounds
    }

    /// The deepest message this endpoint has sent or received: over all endpoints of a
    /// network, the largest is the longest chain of dependent messages (see the
    /// [module docs](self)).
    #[must_use]
    pub fn depth(&self) -> u64 {
        self.counters.depth
    }

    /// The depth a message sent now carries: one more than the deepest received.
    #[must_use]
    pub fn next_depth(&self) -> u64 {
        self.received_depth.saturating_add(1)
    }

    /// Records the depth carried by a message received ([`CommExt`] calls this after a
    /// message is accepted).
    pub fn record_depth(&mut self, depth: u64) {
        self.received_depth = self.received_depth.max(depth);
        self.counters.depth = self.counters.depth.max(depth);
    }

    /// Traffic with `peer` (zero for an unknown peer).
    #[must_use]
    pub fn peer(&self, peer: PartyId) -> PeerStats {
        self.counters.peer(peer)
    }

    /// Traffic with all peers together.
    #[must_use]
    pub fn total(&self) -> PeerStats {
        self.counters.total()
    }

    /// Payload bytes sent to all peers.
    #[must_use]
    pub fn bytes_sent(&self) -> u64 {
        self.counters.bytes_sent()
    }

    /// Payload bytes received from all peers.
    #[must_use]
    pub fn bytes_received(&self) -> u64 {
        self.counters.bytes_received()
    }

    /// Records one message sent to `to` with `payload` payload bytes and `header` framing
    /// bytes, starting a new round if the previous counted operation was a receive.
    ///
    /// [`CommExt`] calls this; transports do not.
    pub fn record_send(&mut self, to: PartyId, payload: usize, header: usize) {
        if !self.sending {
            self.counters.rounds += 1;
            self.sending = true;
        }
        self.counters.depth = self.counters.depth.max(self.next_depth());
        if let Some(p) = self.counters.peers.get_mut(to) {
            p.bytes_sent += payload as u64;
            p.header_bytes_sent += header as u64;
            p.messages_sent += 1;
        }
    }

    /// Records one message received from `from`.
    ///
    /// [`CommExt`] calls this; transports do not.
    pub fn record_recv(&mut self, from: PartyId, payload: usize, header: usize) {
        self.sending = false;
        if let Some(p) = self.counters.peers.get_mut(from) {
            p.bytes_received += payload as u64;
            p.header_bytes_received += header as u64;
            p.messages_received += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Framing.

const KIND_TENSOR: u8 = 0x01;
const KIND_BYTES: u8 = 0x02;

/// Request numbers are 48-bit (docs/PROTOCOLS.md §2.2).
const REQUEST_MASK: u64 = (1 << 48) - 1;

/// Bytes of the request number in a header.
const REQUEST_BYTES: usize = 6;

/// Bytes of the message depth in a header.
const DEPTH_BYTES: usize = 4;

/// Bytes of the request number and the depth.
const PREFIX_BYTES: usize = REQUEST_BYTES + DEPTH_BYTES;

/// Framing bytes of an opaque byte message ([`CommExt::send_payload`]): kind, request,
/// depth.
pub const BYTES_HEADER_LEN: usize = 1 + PREFIX_BYTES;

/// Framing bytes of a tensor message of the given rank: kind, request, depth, element
/// tag, rank, dims.
#[must_use]
pub const fn tensor_header_len(rank: usize) -> usize {
    1 + PREFIX_BYTES + 5 + 8 * rank
}

/// The request number and depth a message is sent with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The sender's request number.
    pub(crate) request: u64,
    /// The message's depth.
    pub(crate) depth: u64,
}

impl Stamp {
    /// The stamp of a message sent now by the endpoint counting with `stats`.
    fn of(stats: &CommStats) -> Self {
        Self { request: stats.request(), depth: stats.next_depth() }
    }
}

/// Appends a request number and a depth (saturating at `u32::MAX`) to a header.
fn push_stamp(out: &mut Vec<u8>, stamp: Stamp) {
    out.extend_from_slice(&stamp.request.to_le_bytes()[..REQUEST_BYTES]);
    let depth = u32::try_from(stamp.depth).unwrap_or(u32::MAX);
    out.extend_from_slice(&depth.to_le_bytes());
}

/// The request number and depth at the start of `bytes` (after the kind byte).
fn read_stamp(bytes: &[u8]) -> Option<Stamp> {
    let b = bytes.get(..PREFIX_BYTES)?;
    let mut w = [0u8; 8];
    w[..REQUEST_BYTES].copy_from_slice(&b[..REQUEST_BYTES]);
    let mut d = [0u8; 4];
    d.copy_from_slice(&b[REQUEST_BYTES..]);
    Some(Stamp { request: u64::from_le_bytes(w), depth: u64::from(u32::from_le_bytes(d)) })
}

/// Why a received message was rejected.
#[derive(Debug)]
enum Reject {
    Malformed(String),
    OutOfStep(u64),
}

impl Reject {
    fn into_error(self, party: PartyId, from: PartyId, expected: u64) -> ShareError {
        match self {
            Self::Malformed(reason) => ShareError::BadMessage { party, from, reason },
            Self::OutOfStep(got) => ShareError::OutOfStep { party, from, expected, got },
        }
    }
}

impl From<String> for Reject {
    fn from(reason: String) -> Self {
        Self::Malformed(reason)
    }
}

impl From<&str> for Reject {
    fn from(reason: &str) -> Self {
        Self::Malformed(reason.to_string())
    }
}

/// A 32-bit tag of an element type (FNV-1a of its name and width).
fn element_tag<T: Element>() -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in T::NAME.as_bytes().iter().chain(&T::BYTES.to_le_bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Encodes a tensor message (header + payload).
pub(crate) fn encode_tensor<T: Element>(t: &Tensor<T>, stamp: Stamp) -> Result<(Vec<u8>, usize)> {
    let rank = u8::try_from(t.rank()).map_err(|_| ShareError::InvalidArgument {
        op: "send_tensor",
        reason: format!("rank {} exceeds the wire limit of 255", t.rank()),
    })?;
    let mut out = tensor_message_with_header::<T>(t.shape(), rank, stamp);
    t.extend_le_bytes(&mut out);
    let header = tensor_header_len(t.rank());
    debug_assert_eq!(out.len(), header + t.len() * T::BYTES);
    Ok((out, header))
}

/// A message buffer holding the header of a tensor of `shape` (of rank `rank`), with
/// capacity for its payload.
fn tensor_message_with_header<T: Element>(shape: &[usize], rank: u8, stamp: Stamp) -> Vec<u8> {
    let header = tensor_header_len(shape.len());
    let payload = shape.iter().product::<usize>() * T::BYTES;
    let mut out = Vec::with_capacity(header + payload);
    out.push(KIND_TENSOR);
    push_stamp(&mut out, stamp);
    out.extend_from_slice(&element_tag::<T>().to_le_bytes());
    out.push(rank);
    for &d in shape {
        out.extend_from_slice(&(d as u64).to_le_bytes());
    }
    out
}

/// Encodes the `u64` tensor message of `x − y` (wrapping; the shapes must be equal)
/// without forming the difference as a tensor: one pass over the operands.
fn encode_diff_u64(x: &Tensor<u64>, y: &Tensor<u64>, stamp: Stamp) -> Result<(Vec<u8>, usize)> {
    let rank = u8::try_from(x.rank()).map_err(|_| ShareError::InvalidArgument {
        op: "open_diffs_u64",
        reason: format!("rank {} exceeds the wire limit of 255", x.rank()),
    })?;
    let mut out = tensor_message_with_header::<u64>(x.shape(), rank, stamp);
    let header = out.len();
    // An exact-size iterator of byte arrays: written straight into the reserved capacity.
    out.extend(x.data().iter().zip(y.data()).flat_map(|(&a, &b)| a.wrapping_sub(b).to_le_bytes()));
    Ok((out, header))
}

/// Decodes a tensor message, validating kind, request, element type, shape and payload;
/// returns the tensor, the header length and the message's depth.
fn decode_tensor<T: Element>(msg: &[u8], req: u64) -> std::result::Result<(Tensor<T>, usize, u64), Reject> {
    let (shape, header, depth) = decode_tensor_header::<T>(msg, req)?;
    let t = Tensor::from_le_bytes(&shape, &msg[header..]).map_err(|e| e.to_string())?;
    Ok((t, header, depth))
}

/// Checks a tensor message's header and payload length; returns the shape, the header
/// length and the message's depth.
fn decode_tensor_header<T: Element>(msg: &[u8], req: u64) -> std::result::Result<(Vec<usize>, usize, u64), Reject> {
    let (&kind, rest) = msg.split_first().ok_or("empty message")?;
    if kind != KIND_TENSOR {
        return Err(format!("expected a tensor message (kind 0x01), got kind {kind:#04x}").into());
    }
    let stamp = read_stamp(rest).ok_or("truncated header")?;
    if stamp.request != req {
        return Err(Reject::OutOfStep(stamp.request));
    }
    let rest = &rest[PREFIX_BYTES..];
    let tag = rest.get(..4).ok_or("truncated header")?;
    let tag = u32::from_le_bytes([tag[0], tag[1], tag[2], tag[3]]);
    let expected_tag = element_tag::<T>();
    if tag != expected_tag {
        return Err(format!(
            "element type mismatch: expected {} (tag {expected_tag:#010x}), got tag {tag:#010x}",
            T::NAME
        )
        .into());
    }
    let rank = usize::from(*rest.get(4).ok_or("truncated header")?);
    let header = tensor_header_len(rank);
    let dims = msg
        .get(tensor_header_len(0)..header)
        .ok_or_else(|| format!("truncated header: rank {rank} needs {header} bytes"))?;
    let mut shape = Vec::with_capacity(rank);
    for d in dims.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(d);
        let d = u64::from_le_bytes(b);
        shape.push(usize::try_from(d).map_err(|_| format!("dimension {d} does not fit in usize"))?);
    }
    let payload = &msg[header..];
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).and_then(|n| n.checked_mul(T::BYTES));
    if expected != Some(payload.len()) {
        return Err(
            format!("shape {shape:?} of {} needs {expected:?} payload bytes, got {}", T::NAME, payload.len()).into()
        );
    }
    Ok((shape, header, stamp.depth))
}

// ---------------------------------------------------------------------------------------
// The extension trait.

/// Counted, framed and validated operations on any [`Comm`].
///
/// Implemented for every `Comm` (including `dyn Comm`); import it to use the methods.
pub trait CommExt: Comm {
    /// Sends a tensor to `to` (one message: header + raw little-endian payload).
    fn send_tensor<T: Element>(&mut self, to: PartyId, t: &Tensor<T>) -> Result<()> {
        check_peer(self, "send_tensor", to)?;
        let (msg, header) = encode_tensor(t, Stamp::of(self.stats()))?;
        let payload = msg.len() - header;
        self.send_bytes(to, msg)?;
        self.stats_mut().record_send(to, payload, header);
        Ok(())
    }

    /// Receives a tensor from `from`, validating header, element type and payload.
    ///
    /// A malformed message is consumed, counted (as framing bytes) and reported as
    /// [`ShareError::BadMessage`]; the channel stays usable.
    fn recv_tensor<T: Element>(&mut self, from: PartyId) -> Result<Tensor<T>> {
        check_peer(self, "recv_tensor", from)?;
        let msg = self.recv_bytes(from)?;
        let req = self.stats().request();
        match decode_tensor::<T>(&msg, req) {
            Ok((t, header, depth)) => {
                self.stats_mut().record_recv(from, msg.len() - header, header);
                self.stats_mut().record_depth(depth);
                Ok(t)
            }
            Err(reject) => {
                self.stats_mut().record_recv(from, 0, msg.len());
                Err(reject.into_error(self.id(), from, req))
            }
        }
    }

    /// Receives a `u64` tensor from `from` of `acc`'s shape and adds it into `acc`
    /// (wrapping), without materialising the received tensor: the receiving side of an
    /// opening. Counted like [`recv_tensor`](Self::recv_tensor); on a bad message `acc`
    /// is unchanged.
    fn recv_add_u64(&mut self, from: PartyId, acc: &mut Tensor<u64>) -> Result<()> {
        let (msg, header) = self.recv_u64_message(from, acc.shape(), "recv_add_u64")?;
        let (words, _) = msg[header..].as_chunks::<8>();
        for (a, r) in acc.data_mut().iter_mut().zip(words) {
            *a = a.wrapping_add(u64::from_le_bytes(*r));
        }
        Ok(())
    }

    /// Receives a `u64` tensor message from `from` that must have shape `shape`, validated
    /// and counted like [`recv_tensor`](Self::recv_tensor); returns the message and its
    /// header length (the payload is `msg[header..]`, `8·|shape|` little-endian bytes).
    fn recv_u64_message(&mut self, from: PartyId, shape: &[usize], op: &'static str) -> Result<(Vec<u8>, usize)> {
        check_peer(self, op, from)?;
        let msg = self.recv_bytes(from)?;
        let req = self.stats().request();
        let (got, header, depth) = match decode_tensor_header::<u64>(&msg, req) {
            Ok(h) => h,
            Err(reject) => {
                self.stats_mut().record_recv(from, 0, msg.len());
                return Err(reject.into_error(self.id(), from, req));
            }
        };
        self.stats_mut().record_recv(from, msg.len() - header, header);
        self.stats_mut().record_depth(depth);
        if got != shape {
            return Err(ShareError::ShareShape { op, party: from, expected: shape.to_vec(), got });
        }
        Ok((msg, header))
    }

    /// Opens several differences `x_j − y_j` of `u64` shares among `among` (which must
    /// include this endpoint) in **one round**, and returns the opened values
    /// `Σ_parties (x_j − y_j)`: the opening step of a Beaver product (`e = x − a`,
    /// `f = y − b`).
    ///
    /// The same messages and counts as [`reveal`](Self::reveal) of each difference (`8·|x_j|`
    /// payload bytes to each peer), but neither the local differences nor the received
    /// shares are materialised: each message is computed while it is encoded, and the
    /// first received share of each value is decoded straight into `x_j − y_j + r`.
    ///
    /// It is [`send_diffs_u64`](Self::send_diffs_u64) followed by
    /// [`recv_opened_diff_u64`](Self::recv_opened_diff_u64) for each pair; call those two
    /// directly to work between sending and receiving.
    fn open_diffs_u64(
        &mut self,
        pairs: &[(&Tensor<u64>, &Tensor<u64>)],
        among: &[PartyId],
    ) -> Result<Vec<Tensor<u64>>> {
        self.send_diffs_u64(pairs, among)?;
        pairs.iter().map(|(x, y)| self.recv_opened_diff_u64(x, y, among)).collect()
    }

    /// The sending half of [`open_diffs_u64`](Self::open_diffs_u64): sends every `x_j − y_j`
    /// to every other party of `among`, in order. Each party must then call
    /// [`recv_opened_diff_u64`](Self::recv_opened_diff_u64) once per pair, in the same
    /// order; the opening is one round however much local work happens in between.
    ///
    /// All arguments are checked before anything is sent.
    fn send_diffs_u64(&mut self, pairs: &[(&Tensor<u64>, &Tensor<u64>)], among: &[PartyId]) -> Result<()> {
        let others = opening_peers(self, "open_diffs_u64", among)?;
        for (x, y) in pairs {
            same_shape("open_diffs_u64", x, y)?;
        }
        let Some((&last, rest)) = others.split_last() else {
            return Ok(());
        };
        for (x, y) in pairs {
            let (msg, header) = encode_diff_u64(x, y, Stamp::of(self.stats()))?;
            let payload = msg.len() - header;
            for &p in rest {
                self.send_bytes(p, msg.clone())?;
                self.stats_mut().record_send(p, payload, header);
            }
            self.send_bytes(last, msg)?;
            self.stats_mut().record_send(last, payload, header);
        }
        Ok(())
    }

    /// The receiving half of [`open_diffs_u64`](Self::open_diffs_u64) for one pair: receives
    /// one share of `x − y` from every other party of `among` and returns the opened
    /// `x − y + Σ received` (one pass over the first share received, then in place).
    fn recv_opened_diff_u64(&mut self, x: &Tensor<u64>, y: &Tensor<u64>, among: &[PartyId]) -> Result<Tensor<u64>> {
        let others = opening_peers(self, "open_diffs_u64", among)?;
        let Some((&first, rest)) = others.split_first() else {
            return Ok(x.sub(y)?);
        };
        let mut acc = self.recv_diff_add_u64(first, x, y)?;
        for &p in rest {
            self.recv_add_u64(p, &mut acc)?;
        }
        Ok(acc)
    }

    /// Receives a `u64` tensor `r` of `x`'s shape from `from` and returns `x − y + r`
    /// (wrapping, one pass; `x` and `y` must have one shape). Counted like
    /// [`recv_tensor`](Self::recv_tensor).
    fn recv_diff_add_u64(&mut self, from: PartyId, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        same_shape("recv_diff_add_u64", x, y)?;
        let (msg, header) = self.recv_u64_message(from, x.shape(), "recv_diff_add_u64")?;
        let (words, _) = msg[header..].as_chunks::<8>();
        let data: Vec<u64> = x
            .data()
            .iter()
            .zip(y.data())
            .zip(words)
            .map(|((&a, &b), r)| a.wrapping_sub(b).wrapping_add(u64::from_le_bytes(*r)))
            .collect();
        Ok(Tensor::new(x.shape(), data)?)
    }

    /// Like [`recv_opened_diff_u64`](Self::recv_opened_diff_u64), but the opened value
    /// `x − mask + Σ received` is written over this party's `mask` share, which is consumed:
    /// no new buffer, and one pass that reads `mask` and writes it back. For a mask that is
    /// not needed after the opening (a Beaver `b` once `e∘b` is formed).
    fn recv_opened_diff_into_u64(
        &mut self,
        x: &Tensor<u64>,
        mut mask: Tensor<u64>,
        among: &[PartyId],
    ) -> Result<Tensor<u64>> {
        same_shape("recv_opened_diff_into_u64", x, &mask)?;
        let others = opening_peers(self, "open_diffs_u64", among)?;
        let Some((&first, rest)) = others.split_first() else {
            mask.zip_assign(x, |m, x| x.wrapping_sub(m))?;
            return Ok(mask);
        };
        let (msg, header) = self.recv_u64_message(first, x.shape(), "recv_opened_diff_into_u64")?;
        let (words, _) = msg[header..].as_chunks::<8>();
        for ((m, &x), r) in mask.data_mut().iter_mut().zip(x.data()).zip(words) {
            *m = x.wrapping_sub(*m).wrapping_add(u64::from_le_bytes(*r));
        }
        for &p in rest {
            self.recv_add_u64(p, &mut mask)?;
        }
        Ok(mask)
    }

    /// Receives a tensor from `from` and checks that it has shape `shape`.
    fn recv_tensor_shaped<T: Element>(&mut self, from: PartyId, shape: &[usize]) -> Result<Tensor<T>> {
        let t = self.recv_tensor::<T>(from)?;
        if t.shape() != shape {
            return Err(ShareError::ShareShape {
                op: "recv_tensor_shaped",
                party: from,
                expected: shape.to_vec(),
                got: t.shape().to_vec(),
            });
        }
        Ok(t)
    }

    /// Sends an opaque byte payload (e.g. a seed) to `to`, counted as payload bytes.
    fn send_payload(&mut self, to: PartyId, bytes: &[u8]) -> Result<()> {
        check_peer(self, "send_payload", to)?;
        let mut msg = Vec::with_capacity(BYTES_HEADER_LEN + bytes.len());
        msg.push(KIND_BYTES);
        push_stamp(&mut msg, Stamp::of(self.stats()));
        msg.extend_from_slice(bytes);
        self.send_bytes(to, msg)?;
        self.stats_mut().record_send(to, bytes.len(), BYTES_HEADER_LEN);
        Ok(())
    }

    /// Receives an opaque byte payload sent with [`send_payload`](Self::send_payload).
    fn recv_payload(&mut self, from: PartyId) -> Result<Vec<u8>> {
        check_peer(self, "recv_payload", from)?;
        let msg = self.recv_bytes(from)?;
        let req = self.stats().request();
        let checked = match msg.split_first() {
            None => Err(Reject::from("empty message")),
            Some((&KIND_BYTES, rest)) => match read_stamp(rest) {
                None => Err(Reject::from("truncated header")),
                Some(got) if got.request != req => Err(Reject::OutOfStep(got.request)),
                Some(got) => Ok(got.depth),
            },
            Some((k, _)) => Err(Reject::Malformed(format!("expected a byte message (kind 0x02), got kind {k:#04x}"))),
        };
        let depth = match checked {
            Ok(depth) => depth,
            Err(reject) => {
                self.stats_mut().record_recv(from, 0, msg.len());
                return Err(reject.into_error(self.id(), from, req));
            }
        };
        let payload = msg[BYTES_HEADER_LEN..].to_vec();
        self.stats_mut().record_recv(from, payload.len(), BYTES_HEADER_LEN);
        self.stats_mut().record_depth(depth);
        Ok(payload)
    }

    /// Sends `t` to every peer in `peers`, then receives one tensor from each (in the
    /// order of `peers`): exactly one round.
    ///
    /// `peers` must be distinct, exist, and not include this endpoint. Received tensors
    /// may have any shape; see [`reveal`](Self::reveal) for a checked sum.
    fn exchange<T: Element>(&mut self, t: &Tensor<T>, peers: &[PartyId]) -> Result<Vec<Tensor<T>>> {
        check_peers(self, "exchange", peers, false)?;
        for &p in peers {
            self.send_tensor(p, t)?;
        }
        peers.iter().map(|&p| self.recv_tensor(p)).collect()
    }

    /// Opens a shared value among `among` (which must include this endpoint): every party
    /// sends its share to every other, and each returns the sum of all shares. One round;
    /// `8k` bytes to each of the other `|among| − 1` parties for `k` elements of `u64`.
    fn reveal<T: Scalar>(&mut self, share: &Tensor<T>, among: &[PartyId]) -> Result<Tensor<T>> {
        let others = opening_peers(self, "reveal", among)?;
        for &p in &others {
            self.send_tensor(p, share)?;
        }
        let mut acc = share.clone();
        for &p in &others {
            let s = self.recv_tensor_shaped::<T>(p, share.shape())?;
            acc.zip_assign(&s, T::add)?;
        }
        Ok(acc)
    }

    /// Opens a shared value to `target` only: every party of `among` other than the target
    /// sends its share to the target, which returns `Some(sum)`; the others return `None`.
    ///
    /// The target adds its own `share` if it is in `among`; a target outside `among` (a
    /// helper without a share) ignores `share` and sums what it receives. A party that is
    /// neither the target nor in `among` gets [`ShareError::NotAParticipant`].
    fn reveal_to<T: Scalar>(
        &mut self,
        share: &Tensor<T>,
        target: PartyId,
        among: &[PartyId],
    ) -> Result<Option<Tensor<T>>> {
        check_peers(self, "reveal_to", among, true)?;
        check_exists(self, "reveal_to", target)?;
        let me = self.id();
        if me == target {
            let others: Vec<PartyId> = among.iter().copied().filter(|&p| p != me).collect();
            let mut acc = if among.contains(&me) {
                share.clone()
            } else {
                match others.first() {
                    Some(&first) => self.recv_tensor::<T>(first)?,
                    None => return Err(ShareError::TooFewParties { op: "reveal_to", parties: 0, min: 1 }),
                }
            };
            let skip = usize::from(!among.contains(&me));
            for &p in &others[skip..] {
                let s = self.recv_tensor_shaped::<T>(p, acc.shape())?;
                acc.zip_assign(&s, T::add)?;
            }
            Ok(Some(acc))
        } else if among.contains(&me) {
            self.send_tensor(target, share)?;
            Ok(None)
        } else {
            Err(ShareError::NotAParticipant { op: "reveal_to", party: me })
        }
    }

    /// Receives one tensor from each of `from` and returns their sum (all must have the
    /// same shape). This is the receiving side of [`reveal_to`](Self::reveal_to) for a
    /// party that holds no share.
    fn recv_sum<T: Scalar>(&mut self, from: &[PartyId]) -> Result<Tensor<T>> {
        check_peers(self, "recv_sum", from, false)?;
        let (&first, rest) =
            from.split_first().ok_or(ShareError::TooFewParties { op: "recv_sum", parties: 0, min: 1 })?;
        let mut acc = self.recv_tensor::<T>(first)?;
        for &p in rest {
            let s = self.recv_tensor_shaped::<T>(p, acc.shape())?;
            acc.zip_assign(&s, T::add)?;
        }
        Ok(acc)
    }
}

impl<C: Comm + ?Sized> CommExt for C {}

/// Checks that `peer` is an endpoint of the network.
fn check_exists<C: Comm + ?Sized>(comm: &C, op: &'static str, peer: PartyId) -> Result<()> {
    if peer >= comm.parties() {
        return Err(ShareError::UnknownParty { op, party: peer, parties: comm.parties() });
    }
    Ok(())
}

/// Checks that the two operands of a difference have one shape.
fn same_shape(op: &'static str, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<()> {
    if x.shape() == y.shape() {
        Ok(())
    } else {
        Err(ShareError::InvalidArgument {
            op,
            reason: format!("operand shapes differ: {:?} and {:?}", x.shape(), y.shape()),
        })
    }
}

/// The other parties of an opening among `among`, which must be valid and include this endpoint.
fn opening_peers<C: Comm + ?Sized>(comm: &C, op: &'static str, among: &[PartyId]) -> Result<Vec<PartyId>> {
    check_peers(comm, op, among, true)?;
    let me = comm.id();
    if !among.contains(&me) {
        return Err(ShareError::NotAParticipant { op, party: me });
    }
    Ok(among.iter().copied().filter(|&p| p != me).collect())
}

/// Checks that `peer` exists and is not this endpoint.
fn check_peer<C: Comm + ?Sized>(comm: &C, op: &'static str, peer: PartyId) -> Result<()> {
    check_exists(comm, op, peer)?;
    if peer == comm.id() {
        return Err(ShareError::SelfMessage { op, party: peer });
    }
    Ok(())
}

/// Checks a list of parties: all exist, none repeated, and (unless `self_ok`) not this endpoint.
fn check_peers<C: Comm + ?Sized>(comm: &C, op: &'static str, peers: &[PartyId], self_ok: bool) -> Result<()> {
    for (i, &p) in peers.iter().enumerate() {
        if self_ok {
            check_exists(comm, op, p)?;
        } else {
            check_peer(comm, op, p)?;
        }
        if peers[..i].contains(&p) {
            return Err(ShareError::DuplicateParty { op, party: p });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syft_ring::Z67;

    #[test]
    fn tensor_frames_round_trip() {
        let t = Tensor::<u64>::from_fn(&[2, 3], |i| (i[0] * 3 + i[1]) as u64);
        let (msg, header) = encode_tensor(&t, Stamp { request: 0, depth: 1 }).unwrap();
        assert_eq!(header, tensor_header_len(2));
        assert_eq!(msg.len(), header + 6 * 8);
        let (back, h, _) = decode_tensor::<u64>(&msg, 0).unwrap();
        assert_eq!((back, h), (t, header));
        // Scalars and empty tensors.
        let s = Tensor::<Z67>::scalar(Z67::new(5));
        let (msg, _) = encode_tensor(&s, Stamp { request: 0, depth: 1 }).unwrap();
        assert_eq!(decode_tensor::<Z67>(&msg, 0).unwrap().0, s);
        let e = Tensor::<u64>::zeros(&[3, 0]);
        let (msg, _) = encode_tensor(&e, Stamp { request: 0, depth: 1 }).unwrap();
        assert_eq!(decode_tensor::<u64>(&msg, 0).unwrap().0, e);
    }

    #[test]
    fn bad_frames_are_errors() {
        let t = Tensor::<u64>::from_vec(vec![1, 2]);
        let (msg, _) = encode_tensor(&t, Stamp { request: 0, depth: 1 }).unwrap();
        assert!(decode_tensor::<u64>(&[], 0).is_err());
        assert!(decode_tensor::<u64>(&msg[..msg.len() - 1], 0).is_err());
        assert!(decode_tensor::<u64>(&msg[..5], 0).is_err());
        assert!(decode_tensor::<f64>(&msg, 0).is_err(), "element type is checked");
        let mut huge = msg.clone();
        let dims = tensor_header_len(0);
        huge[dims..dims + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_tensor::<u64>(&huge, 0).is_err());
        // A message of another request is out of step, whatever else it holds.
        let (msg4, _) = encode_tensor(&t, Stamp { request: 4, depth: 1 }).unwrap();
        assert!(matches!(decode_tensor::<u64>(&msg4, 5), Err(Reject::OutOfStep(4))));
        assert_eq!(decode_tensor::<u64>(&msg4, 4).unwrap().0, t);
        let z = Tensor::<Z67>::from_vec(vec![Z67::new(1)]);
        let (mut zm, _) = encode_tensor(&z, Stamp { request: 0, depth: 1 }).unwrap();
        *zm.last_mut().unwrap() = 67;
        assert!(decode_tensor::<Z67>(&zm, 0).is_err(), "non-canonical element");
        assert_ne!(element_tag::<u64>(), element_tag::<f64>());
    }

    #[test]
    fn rounds_start_at_first_send_after_receive() {
        let mut s = CommStats::new(3);
        s.record_send(1, 8, 6);
        s.record_send(2, 8, 6);
        assert_eq!(s.rounds(), 1);
        s.record_recv(1, 8, 6);
        s.record_recv(2, 8, 6);
        assert_eq!(s.rounds(), 1);
        let snap = s.snapshot();
        s.record_send(1, 16, 6);
        assert_eq!(s.rounds(), 2);
        let d = s.since(&snap);
        assert_eq!(d.rounds, 1);
        assert_eq!(d.peer(1).bytes_sent, 16);
        assert_eq!(d.bytes_received(), 0);
        assert_eq!(s.total().messages_sent, 3);
        s.reset();
        assert_eq!(s, CommStats::new(3));
    }
}
