//! Multi-party computation on shares held by workers: the worker side.
//!
//! A *session* groups `n` computing workers and one crypto provider (the dealer). When the
//! orchestrator creates it, every member receives a channel endpoint to every other member
//! ([`Comm`]); the dealer then sends each party its PRG seed. After that, an operation on a
//! shared tensor is one [`MpcRequest::Run`] per member: each party runs the party-local
//! protocol on its own share and stores its share of the result, and the dealer serves
//! the material the protocol consumes. Masked values travel party to party over the
//! session's channels; the orchestrator sees only acknowledgements and shapes.

use crate::access::{Caller, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K};
use crate::message::{ObjectId, ObjectInfo, ObjectKind, Response};
use crate::store::{Stored, WorkerCore};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use syft_ring::{Conv2dParams, Tensor};
use syft_share::{Comm, CommCounters};
use syft_spdz::{Dealer, DealerLink, OpenedOperand, Party, Product, Request as Material, TripleSource};

/// A member's role in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Computing party `index` (0-based; party 0 adds public constants).
    Party(usize),
    /// The crypto provider.
    Dealer,
}

/// How a member of a session obtains its channels to the other members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Channels {
    /// In-process endpoints left in the [`Hub`](crate::Hub) by whoever created the session.
    InProcess,
    /// Direct network connections: `peers[i]` is where endpoint `i` (parties first, then
    /// the crypto provider) accepts connections from its peers. The worker's hub opens
    /// them with its [`SessionConnector`](crate::transport::SessionConnector).
    Network {
        /// Peer addresses, by endpoint index.
        peers: Vec<String>,
    },
}

/// An operation on shared tensors, as every member of a session sees it.
///
/// Shapes are part of the operation so that the dealer, who holds no shares, can prepare
/// the material; the orchestrator checks them before any member starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MpcOp {
    /// `a + b` (local).
    Add,
    /// `a − b` (local).
    Sub,
    /// `−a` (local).
    Neg,
    /// `a + c` for a public ring tensor `c` (party 0 adds it; local).
    AddPublic(Tensor<u64>),
    /// `a ⊙ c` for a public ring tensor `c`, then division by `scale` (local for two
    /// parties). `c` must already have the shape of the result.
    MulPublic {
        /// The public factor.
        c: Tensor<u64>,
        /// Divide the product by this (1 for none).
        scale: u64,
    },
    /// `op(a) · op(b)` (one round), then division by `scale`.
    MatMul {
        /// Stored shape of `a`.
        lhs: Vec<usize>,
        /// Stored shape of `b`.
        rhs: Vec<usize>,
        /// Use `a` transposed.
        lhs_t: bool,
        /// Use `b` transposed.
        rhs_t: bool,
        /// Divide the product by this (1 for none).
        scale: u64,
        /// Open `b` once under this key and reuse the opening for later products while
        /// the tensor exists (model weights).
        reuse_rhs: Option<u64>,
    },
    /// A Beaver product `a ∘ b` for a bilinear map other than a matrix product (elementwise,
    /// convolution, the convolution's gradients), then division by `scale`. One round.
    Product {
        /// The bilinear map, with its operand shapes.
        product: Product,
        /// Divide the product by this (1 for none).
        scale: u64,
    },
    /// Sum of all elements (local).
    Sum,
    /// Sum along an axis (local).
    SumAxis {
        /// The axis.
        axis: usize,
        /// Keep the axis.
        keepdim: bool,
    },
    /// Same data, new shape (local).
    Reshape(Vec<usize>),
    /// Swap the last two axes (local).
    Transpose,
    /// Broadcast to a shape (local).
    BroadcastTo(Vec<usize>),
    /// Sum a broadcast result back to a shape (local).
    SumToShape(Vec<usize>),
    /// The pooling windows of `[N, C, H, W]` as `[N, C, OH, OW, KH·KW]`, zero in the
    /// padding (local).
    PoolWindows {
        /// Window height and width.
        window: (usize, usize),
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// The adjoint of `PoolWindows`: scatter-adds windows back to `input_shape` (local).
    PoolWindowsAdjoint {
        /// The pooled input's shape.
        input_shape: Vec<usize>,
        /// Window height and width.
        window: (usize, usize),
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// SecureNN ReLU: outputs `max(a, 0)` and the raw bit `[a ≥ 0]` (two parties).
    Relu {
        /// Input shape.
        shape: Vec<usize>,
    },
    /// Index of the maximum along `axis` as a raw one-hot tensor of the input's shape
    /// (two parties; the first maximum wins ties).
    ArgmaxOneHot {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
    },
    /// Index of the maximum along `axis`, raw integer shares, axis removed.
    Argmax {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
    },
    /// Maximum along `axis` (axis removed).
    Max {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
    },
    /// Raw bit `[a > b]` for shared `a`, `b` of one shape.
    Gt {
        /// The shape.
        shape: Vec<usize>,
    },
    /// Raw bit `[a == b]`.
    Eq {
        /// The shape.
        shape: Vec<usize>,
    },
    /// 2-d max pooling of `[N, C, H, W]`: outputs the maxima and the raw one-hot window
    /// mask `[N, C, OH, OW, KH·KW]`.
    MaxPool2d {
        /// Input shape.
        shape: Vec<usize>,
        /// Window.
        window: (usize, usize),
        /// Stride.
        stride: (usize, usize),
    },
}

impl MpcOp {
    /// Whether the dealer takes part.
    #[must_use]
    pub fn needs_dealer(&self) -> bool {
        matches!(self, Self::MatMul { .. } | Self::Product { .. })
            || self.is_securenn()
            || matches!(self, Self::MulPublic { scale, .. } if *scale > 1)
    }

    /// Whether this is a SecureNN protocol (the crypto provider is the helper).
    #[must_use]
    pub fn is_securenn(&self) -> bool {
        matches!(
            self,
            Self::Relu { .. }
                | Self::ArgmaxOneHot { .. }
                | Self::Argmax { .. }
                | Self::Max { .. }
                | Self::Gt { .. }
                | Self::Eq { .. }
                | Self::MaxPool2d { .. }
        )
    }

    /// Number of result tensors.
    #[must_use]
    pub fn outputs(&self) -> usize {
        match self {
            Self::Relu { .. } | Self::MaxPool2d { .. } => 2,
            _ => 1,
        }
    }

    /// What the operation does, for the rules on granted data ([`crate::access::flow`]).
    #[must_use]
    pub fn flow(&self) -> crate::access::Flow {
        use crate::access::Flow;
        match self {
            Self::MatMul { .. } | Self::Product { product: Product::Conv2d { .. }, .. } => Flow::Product,
            Self::Add => Flow::Add,
            Self::Reshape(_) | Self::Transpose | Self::BroadcastTo(_) => Flow::Shape,
            Self::MulPublic { c, .. } if c.data().windows(2).all(|w| w[0] == w[1]) => Flow::Layer,
            Self::Relu { .. }
            | Self::Sum
            | Self::SumAxis { .. }
            | Self::PoolWindows { .. }
            | Self::MaxPool2d { .. } => Flow::Layer,
            Self::Argmax { .. } | Self::ArgmaxOneHot { .. } => Flow::Decide,
            _ => Flow::Other,
        }
    }

    /// The shape a SecureNN protocol names, which must be its input's.
    fn declared_shape(&self) -> Option<&[usize]> {
        match self {
            Self::Relu { shape }
            | Self::ArgmaxOneHot { shape, .. }
            | Self::Argmax { shape, .. }
            | Self::Max { shape, .. }
            | Self::Gt { shape }
            | Self::Eq { shape }
            | Self::MaxPool2d { shape, .. } => Some(shape),
            _ => None,
        }
    }

    /// The shapes of what a member allocates for this op (operands the op names, results,
    /// im2col and window buffers; SecureNN protocols count the bit decomposition of their
    /// input, 64 words per element), computed with checked arithmetic, for operands of
    /// `inputs` shapes (a party's actual shares; none at the dealer).
    pub fn alloc_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let bits = |shape: &[usize]| [&[64usize][..], shape].concat();
        let conv = |input: &[usize], kernel: &[usize], params: Conv2dParams| -> Result<Vec<Vec<usize>>, String> {
            let (Ok([n, c, h, w]), Ok([o, _, kh, kw])) =
                (<[usize; 4]>::try_from(input), <[usize; 4]>::try_from(kernel))
            else {
                return Err(format!("convolution shapes {input:?} and {kernel:?}"));
            };
            let (oh, ow) = crate::ops::conv_out(h, w, kh, kw, params)?;
            Ok(vec![vec![n, o, oh, ow], vec![n, oh, ow, c, kh, kw]])
        };
        let product_shapes = |product: &Product| -> Result<Vec<Vec<usize>>, String> {
            let mut v = match product {
                Product::Conv2d { input, kernel, params }
                | Product::Conv2dInputGrad { input, kernel, params }
                | Product::Conv2dKernelGrad { input, kernel, params } => {
                    let mut v = conv(input, kernel, *params)?;
                    v.extend([input.clone(), kernel.clone()]);
                    v
                }
                other => {
                    let (a, b) = other.operand_shapes();
                    vec![a, b]
                }
            };
            v.push(product.output_shape().map_err(|e| e.to_string())?);
            Ok(v)
        };
        let mut out: Vec<Vec<usize>> = inputs.iter().map(|s| s.to_vec()).collect();
        let broadcast =
            |a: &[usize], b: &[usize]| syft_ring::broadcast_shapes(self.name(), a, b).map_err(|e| e.to_string());
        match self {
            Self::AddPublic(c) | Self::MulPublic { c, .. } => {
                out.push(c.shape().to_vec());
                if let Some(a) = inputs.first() {
                    out.push(broadcast(a, c.shape())?);
                }
            }
            Self::Add | Self::Sub => {
                if let [a, b] = inputs {
                    out.push(broadcast(a, b)?);
                }
            }
            Self::SumAxis { axis, keepdim } => {
                if let Some(a) = inputs.first() {
                    out.push(crate::ops::sum_axis_shape(a, *axis, *keepdim));
                }
            }
            Self::MatMul { lhs, rhs, lhs_t, rhs_t, .. } => out.extend(product_shapes(&Product::MatMul {
                lhs: lhs.clone(),
                rhs: rhs.clone(),
                lhs_t: *lhs_t,
                rhs_t: *rhs_t,
            })?),
            Self::Product { product, .. } => out.extend(product_shapes(product)?),
            Self::Reshape(s) | Self::BroadcastTo(s) | Self::SumToShape(s) => out.push(s.clone()),
            Self::PoolWindows { window, params } => {
                if let Some(&[n, c, h, w]) = inputs.first().copied() {
                    let (oh, ow) = crate::ops::conv_out(h, w, window.0, window.1, *params)?;
                    out.push(vec![n, c, oh, ow, window.0, window.1]);
                }
            }
            Self::PoolWindowsAdjoint { input_shape, .. } => out.push(input_shape.clone()),
            Self::Relu { shape }
            | Self::ArgmaxOneHot { shape, .. }
            | Self::Argmax { shape, .. }
            | Self::Max { shape, .. }
            | Self::Gt { shape }
            | Self::Eq { shape } => out.push(bits(shape)),
            Self::MaxPool2d { shape, window, stride } => {
                let [n, c, h, w] =
                    <[usize; 4]>::try_from(shape.as_slice()).map_err(|_| format!("max pooling of shape {shape:?}"))?;
                let params = Conv2dParams { stride: *stride, padding: (0, 0) };
                let (oh, ow) = crate::ops::conv_out(h, w, window.0, window.1, params)?;
                out.push(bits(&[n, c, oh, ow, window.0, window.1]));
            }
            Self::Neg | Self::Sum | Self::Transpose => {}
        }
        Ok(out)
    }

    /// A short name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sub => "sub",
            Self::Neg => "neg",
            Self::AddPublic(_) => "add_public",
            Self::MulPublic { .. } => "mul_public",
            Self::MatMul { .. } => "matmul",
            Self::Product { product: Product::Mul { .. }, .. } => "mul",
            Self::Product { product: Product::Conv2d { .. }, .. } => "conv2d",
            Self::Product { product: Product::Conv2dInputGrad { .. }, .. } => "conv2d_input_grad",
            Self::Product { product: Product::Conv2dKernelGrad { .. }, .. } => "conv2d_kernel_grad",
            Self::Product { .. } => "beaver_product",
            Self::Sum => "sum",
            Self::SumAxis { .. } => "sum_axis",
            Self::PoolWindows { .. } => "pool_windows",
            Self::PoolWindowsAdjoint { .. } => "pool_windows_adjoint",
            Self::Reshape(_) => "reshape",
            Self::Transpose => "transpose",
            Self::BroadcastTo(_) => "broadcast_to",
            Self::SumToShape(_) => "sum_to_shape",
            Self::Relu { .. } => "relu",
            Self::ArgmaxOneHot { .. } => "argmax_one_hot",
            Self::Argmax { .. } => "argmax",
            Self::Max { .. } => "max",
            Self::Gt { .. } => "gt",
            Self::Eq { .. } => "eq",
            Self::MaxPool2d { .. } => "max_pool2d",
        }
    }
}

/// A multi-party request to one member of a session.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MpcRequest {
    /// Join `session` in `role` with channels to the other members. Parties receive
    /// their seeds from the dealer; the dealer sends them.
    Join {
        /// The session.
        session: u64,
        /// This member's role.
        role: Role,
        /// Number of computing parties (the dealer is endpoint `parties`).
        parties: usize,
        /// How to reach the other members.
        channels: Channels,
    },
    /// Leave `session`, dropping its channels and caches.
    Leave {
        /// The session.
        session: u64,
    },
    /// Run `op` on this party's shares `args` and store the result shares under
    /// `results` (one id per output; the dealer ignores `args` and `results` and serves
    /// the material, or takes the helper's part in SecureNN protocols).
    Run {
        /// The session.
        session: u64,
        /// The operation.
        op: MpcOp,
        /// Operand share ids on this worker.
        args: Vec<ObjectId>,
        /// Where to store the result shares.
        results: Vec<ObjectId>,
    },
    /// Forget cached openings under `key` (the tensor they belong to is gone).
    Forget {
        /// The session.
        session: u64,
        /// The cache key.
        key: u64,
    },
    /// This member's communication counters in `session` (as a [`Response::Info`] is not
    /// enough, they come back as a ring tensor: payload bytes sent, rounds).
    Stats {
        /// The session.
        session: u64,
    },
}

impl MpcRequest {
    /// The session the request is about.
    #[must_use]
    pub fn session(&self) -> Option<u64> {
        match self {
            Self::Join { session, .. }
            | Self::Leave { session }
            | Self::Run { session, .. }
            | Self::Forget { session, .. }
            | Self::Stats { session } => Some(*session),
        }
    }
}

/// A session as one member holds it.
struct Member {
    /// The client that started the session: the only one that may run, query or end it.
    client: String,
    /// The members' worker ids by endpoint index (empty for in-process sessions).
    names: Vec<String>,
    role: Role,
    parties: usize,
    comm: Box<dyn Comm>,
    /// Party side: the link to the dealer.
    link: Option<DealerLink>,
    /// Dealer side.
    dealer: Option<Dealer>,
    /// Party side: openings of reused operands, by key, with the object opened.
    opened: HashMap<u64, (ObjectId, OpenedOperand)>,
    /// Dealer side: mask request numbers of reused operands, by key.
    masks: HashMap<u64, (u64, Vec<usize>)>,
    /// Party side: the SecureNN common seed `k_01`, agreed with the other party in the
    /// session's first SecureNN call and resumed by the later ones (the dealer link's
    /// request counter keeps every stream fresh). Never sent to the crypto provider.
    k01: Option<syft_ring::Seed>,
}

/// The sessions a worker takes part in.
#[derive(Default)]
pub struct Sessions {
    members: HashMap<u64, Member>,
}

impl Sessions {
    /// Forgets a session (its channels are out of step).
    pub(crate) fn drop_session(&mut self, session: u64) {
        self.members.remove(&session);
    }
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

/// The session `session` if `caller` is its client.
fn member_of<'a>(core: &'a mut WorkerCore, caller: &Caller, session: u64) -> Result<&'a mut Member, RemoteError> {
    let id = core.id().to_string();
    let m = core.sessions.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
    if !caller.is_client() || m.client != caller.name() {
        return Err(forbidden(format!("{caller} did not start session {session} on {id}")));
    }
    Ok(m)
}

/// Handles a multi-party request at one worker.
pub(crate) fn handle(core: &mut WorkerCore, caller: &Caller, req: MpcRequest) -> Result<Response, RemoteError> {
    if !caller.is_client() {
        return Err(forbidden(format!("{caller} may not take part in sessions on {} as a client", core.id())));
    }
    match req {
        MpcRequest::Join { session, role, parties, channels } => join(core, caller, session, role, parties, &channels),
        MpcRequest::Leave { session } => {
            member_of(core, caller, session)?;
            core.sessions.members.remove(&session);
            Ok(Response::Ok)
        }
        MpcRequest::Forget { session, key } => {
            let m = member_of(core, caller, session)?;
            m.opened.remove(&key);
            m.masks.remove(&key);
            Ok(Response::Ok)
        }
        MpcRequest::Stats { session } => {
            let m = member_of(core, caller, session)?;
            let c: CommCounters = m.comm.stats().snapshot();
            let t = c.total();
            let stats = Tensor::from_vec(vec![t.bytes_sent, m.comm.stats().rounds(), t.messages_sent]);
            Ok(Response::Value(crate::message::Value::Ring(stats)))
        }
        MpcRequest::Run { session, op, args, results } => run(core, caller, session, &op, &args, &results),
    }
}

fn unknown_session(session: u64) -> RemoteError {
    err(K::BadRequest, format!("not a member of session {session}"))
}

/// The worker id of a peer address `id@host:port`.
fn peer_id(address: &str) -> &str {
    address.split_once('@').map_or(address, |(id, _)| id)
}

fn join(
    core: &mut WorkerCore,
    caller: &Caller,
    session: u64,
    role: Role,
    parties: usize,
    channels: &Channels,
) -> Result<Response, RemoteError> {
    if core.sessions.members.contains_key(&session) {
        return Err(err(K::BadRequest, format!("already a member of session {session}")));
    }
    if parties < 2 {
        return Err(err(K::BadRequest, format!("a session needs at least 2 parties, got {parties}")));
    }
    if parties > core.limits().max_parties {
        return Err(err(
            K::LimitExceeded,
            format!("max_parties: a session of {parties} parties (limit {})", core.limits().max_parties),
        ));
    }
    let me = match role {
        Role::Party(i) => i,
        Role::Dealer => parties,
    };
    if let Channels::Network { peers } = channels {
        // Every member must be a worker this one knows, the crypto provider one it accepts
        // in that role, and this worker must be where the client says it is.
        let policy = core.policy();
        for (i, address) in peers.iter().enumerate() {
            let id = peer_id(address);
            if i == me {
                if id != core.id() {
                    return Err(forbidden(format!("{} is not {id}, member {i} of session {session}", core.id())));
                }
            } else if i == parties {
                if !policy.accepts_dealer(id) {
                    return Err(forbidden(format!("{} does not accept {id} as a crypto provider", core.id())));
                }
            } else if !policy.is_peer(id) {
                return Err(forbidden(format!("{id} is not a worker {} knows", core.id())));
            }
        }
    }
    let mut comm = match channels {
        Channels::InProcess => core
            .hub()?
            .take_endpoint(session, core.id())
            .ok_or_else(|| err(K::BadRequest, format!("no channel endpoint for {} in session {session}", core.id())))?,
        Channels::Network { peers } => {
            if peers.len() != parties + 1 {
                return Err(err(K::BadRequest, format!("{} peer addresses for {} members", peers.len(), parties + 1)));
            }
            let connector = core
                .hub()?
                .connector()
                .ok_or_else(|| err(K::BadRequest, format!("{} cannot open network channels", core.id())))?;
            connector.connect(session, me, peers).map_err(|e| err(K::Unreachable, e))?
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
    core.sessions.members.insert(session, member);
    Ok(Response::Ok)
}

fn run(
    core: &mut WorkerCore,
    caller: &Caller,
    session: u64,
    op: &MpcOp,
    args: &[ObjectId],
    results: &[ObjectId],
) -> Result<Response, RemoteError> {
    let role = member_of(core, caller, session)?.role;
    let limits = core.limits().clone();
    match role {
        Role::Dealer => {
            let checked = op
                .alloc_shapes(&[])
                .map_err(|e| err(K::Compute, e))
                .and_then(|shapes| limits.request(op.name(), shapes.iter().map(Vec::as_slice)));
            refuse_in_step(core, session, op, checked)?;
            let member = core.sessions.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
            let outcome = if op.is_securenn() { help(member, op) } else { serve(member, op) };
            abandon_on_protocol_error(core, session, outcome)?;
            Ok(Response::Ok)
        }
        Role::Party(_) => {
            if results.len() != op.outputs() {
                return Err(err(
                    K::BadRequest,
                    format!("{} has {} outputs, got {} ids", op.name(), op.outputs(), results.len()),
                ));
            }
            for &r in results {
                if core.contains(r) {
                    return Err(err(K::BadRequest, format!("object {r} already exists")));
                }
            }
            let checked = (|| {
                let shares: Vec<Tensor<u64>> = args
                    .iter()
                    .map(|&id| match core.usable(caller, id)? {
                        Stored::Ring(t) => Ok(t.clone()),
                        _ => Err(err(K::WrongKind, format!("object {id} is not a share"))),
                    })
                    .collect::<Result<_, _>>()?;
                let inputs: Vec<&[usize]> = shares.iter().map(Tensor::shape).collect();
                if let Some(declared) = op.declared_shape()
                    && inputs.iter().any(|s| *s != declared)
                {
                    return Err(err(
                        K::BadRequest,
                        format!("{}: shape {declared:?} for shares of {inputs:?}", op.name()),
                    ));
                }
                let shapes = op.alloc_shapes(&inputs).map_err(|e| err(K::Compute, e))?;
                limits.request(op.name(), shapes.iter().map(Vec::as_slice))?;
                let own = core.derived(caller, op.name(), args, op.flow())?;
                Ok((shares, own))
            })();
            let (shares, own) = refuse_in_step(core, session, op, checked)?;
            let member = core.sessions.members.get_mut(&session).ok_or_else(|| unknown_session(session))?;
            let outcome = if op.is_securenn() {
                compute_securenn(member, op, &shares)
            } else {
                compute(member, op, &shares, args).map(|t| vec![t])
            };
            let outs = abandon_on_protocol_error(core, session, outcome)?;
            let mut shapes = Vec::with_capacity(outs.len());
            for (&id, out) in results.iter().zip(outs) {
                shapes.push(out.shape().to_vec());
                core.insert(id, Stored::Ring(out), own.clone())?;
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
    core: &mut WorkerCore,
    session: u64,
    op: &MpcOp,
    checked: Result<T, RemoteError>,
) -> Result<T, RemoteError> {
    match checked {
        Err(mut e) if op.needs_dealer() => {
            core.sessions.members.remove(&session);
            e.message
                .push_str(&format!(" (session {session} left by {}: its members would be out of step)", core.id()));
            Err(e)
        }
        other => other,
    }
}

/// After a protocol failed midway (a peer vanished, timed out or sent garbage), the
/// session's channels are out of step: leave it, so later requests fail at once with a
/// clear error instead of desynchronising.
fn abandon_on_protocol_error<T>(
    core: &mut WorkerCore,
    session: u64,
    outcome: Result<T, RemoteError>,
) -> Result<T, RemoteError> {
    match outcome {
        Err(mut e) if e.kind == K::Protocol => {
            if let Some(m) = core.sessions.members.remove(&session) {
                e.message = name_members(&e.message, &m.names);
            }
            e.message.push_str(&format!(" (session {session} dropped by {})", core.id()));
            Err(e)
        }
        other => other,
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

/// The SecureNN configuration of every session.
fn snn_config() -> syft_securenn::Config {
    syft_securenn::Config::default()
}

fn compute_securenn(member: &mut Member, op: &MpcOp, shares: &[Tensor<u64>]) -> Result<Vec<Tensor<u64>>, RemoteError> {
    if member.parties != 2 {
        return Err(err(K::BadRequest, format!("{} needs exactly two parties", op.name())));
    }
    let a = arg(shares, 0, op)?;
    let helper = member.parties;
    let link = member.link.as_mut().ok_or_else(|| err(K::BadRequest, "party without a dealer link"))?;
    let source: &mut dyn TripleSource = link;
    let spdz = Party::new(member.comm.as_mut(), source, vec![0, 1]).map_err(protocol)?;
    let mut snn = match member.k01 {
        Some(k01) => syft_securenn::SnnParty::resume(spdz, helper, snn_config(), k01),
        None => syft_securenn::SnnParty::start(spdz, helper, snn_config()),
    }
    .map_err(protocol)?;
    member.k01 = Some(snn.common_seed());
    Ok(match op {
        MpcOp::Relu { .. } => {
            let r = snn.relu(a).map_err(protocol)?;
            vec![r.value, r.derivative]
        }
        MpcOp::ArgmaxOneHot { axis, .. } => {
            let r = snn.argmax_one_hot(a, *axis).map_err(protocol)?;
            vec![r.one_hot.ok_or_else(|| err(K::Protocol, "argmax returned no one-hot"))?]
        }
        MpcOp::Argmax { axis, .. } => vec![snn.argmax(a, *axis).map_err(protocol)?.index],
        MpcOp::Max { axis, .. } => vec![snn.max(a, *axis).map_err(protocol)?],
        MpcOp::Gt { .. } => vec![snn.gt(a, arg(shares, 1, op)?).map_err(protocol)?],
        MpcOp::Eq { .. } => vec![snn.eq(a, arg(shares, 1, op)?).map_err(protocol)?],
        MpcOp::MaxPool2d { window, stride, .. } => {
            let p = syft_securenn::Pool2d { kernel: *window, stride: *stride };
            let r = snn.maxpool2d(a, p).map_err(protocol)?;
            vec![r.value, r.mask]
        }
        other => return Err(err(K::BadRequest, format!("{} is not a SecureNN protocol", other.name()))),
    })
}

/// The crypto provider's part in a SecureNN protocol (it is the helper).
fn help(member: &mut Member, op: &MpcOp) -> Result<(), RemoteError> {
    if member.parties != 2 {
        return Err(err(K::BadRequest, format!("{} needs exactly two parties", op.name())));
    }
    let dealer = member.dealer.as_mut().ok_or_else(|| err(K::BadRequest, "not the dealer of this session"))?;
    let mut helper =
        syft_securenn::Helper::new(member.comm.as_mut(), dealer, [0, 1], snn_config()).map_err(protocol)?;
    match op {
        MpcOp::Relu { shape } => helper.relu(shape),
        MpcOp::ArgmaxOneHot { shape, axis } => helper.argmax_one_hot(shape, *axis),
        MpcOp::Argmax { shape, axis } => helper.argmax(shape, *axis),
        MpcOp::Max { shape, axis } => helper.max(shape, *axis),
        MpcOp::Gt { shape } => helper.gt(shape),
        MpcOp::Eq { shape } => helper.eq(shape),
        MpcOp::MaxPool2d { shape, window, stride } => {
            helper.maxpool2d(shape, syft_securenn::Pool2d { kernel: *window, stride: *stride })
        }
        other => return Err(err(K::BadRequest, format!("{} is not a SecureNN protocol", other.name()))),
    }
    .map_err(protocol)
}

fn arg<'a>(shares: &'a [Tensor<u64>], i: usize, op: &MpcOp) -> Result<&'a Tensor<u64>, RemoteError> {
    shares.get(i).ok_or_else(|| err(K::BadRequest, format!("{} needs operand {i}", op.name())))
}

fn compute(
    member: &mut Member,
    op: &MpcOp,
    shares: &[Tensor<u64>],
    args: &[ObjectId],
) -> Result<Tensor<u64>, RemoteError> {
    let compute_err = |e: syft_ring::RingError| err(K::Compute, e.to_string());
    let Role::Party(index) = member.role else {
        return Err(err(K::BadRequest, "the dealer holds no shares"));
    };
    let a = arg(shares, 0, op)?;
    // Local operations first: no channel traffic.
    let local = match op {
        MpcOp::Add => Some(a.add(arg(shares, 1, op)?).map_err(compute_err)?),
        MpcOp::Sub => Some(a.sub(arg(shares, 1, op)?).map_err(compute_err)?),
        MpcOp::Neg => Some(a.neg()),
        MpcOp::AddPublic(c) => {
            Some(if index == 0 { a.add(c) } else { a.add(&Tensor::zeros(c.shape())) }.map_err(compute_err)?)
        }
        MpcOp::MulPublic { c, scale: 1 } => Some(a.mul(c).map_err(compute_err)?),
        MpcOp::Sum => Some(Tensor::scalar(a.sum_all())),
        MpcOp::SumAxis { axis, keepdim } => Some(a.sum_axis(*axis, *keepdim).map_err(compute_err)?),
        MpcOp::Reshape(s) => Some(a.reshape(s).map_err(compute_err)?),
        MpcOp::Transpose => Some(a.transpose().map_err(compute_err)?),
        MpcOp::BroadcastTo(s) => Some(a.broadcast_to(s).map_err(compute_err)?),
        MpcOp::SumToShape(s) => Some(a.sum_to_shape(s).map_err(compute_err)?),
        MpcOp::PoolWindows { window, params } => Some(a.pool_windows(*window, *params, 0).map_err(compute_err)?),
        MpcOp::PoolWindowsAdjoint { input_shape, window, params } => {
            Some(a.pool_windows_adjoint(input_shape, *window, *params).map_err(compute_err)?)
        }
        _ => None,
    };
    if let Some(out) = local {
        return Ok(out);
    }
    let parties: Vec<usize> = (0..member.parties).collect();
    let link = member.link.as_mut().ok_or_else(|| err(K::BadRequest, "party without a dealer link"))?;
    let source: &mut dyn TripleSource = link;
    let mut party = Party::new(member.comm.as_mut(), source, parties).map_err(protocol)?;
    let (product, scale) = match op {
        MpcOp::MulPublic { c, scale } => (a.mul(c).map_err(compute_err)?, *scale),
        MpcOp::MatMul { lhs_t, rhs_t, scale, reuse_rhs, .. } => {
            let b = arg(shares, 1, op)?;
            let z = match reuse_rhs {
                Some(key) => {
                    // An opening belongs to one tensor: a cached one serves only products
                    // with that tensor (the ownership of the result is judged from it).
                    let b_id = *args.get(1).ok_or_else(|| err(K::BadRequest, "matmul needs operand 1"))?;
                    if !member.opened.contains_key(key) {
                        let opened = party.open_operand(b).map_err(protocol)?;
                        member.opened.insert(*key, (b_id, opened));
                    }
                    let (owner_id, opened) =
                        member.opened.get(key).ok_or_else(|| err(K::Protocol, "opening vanished"))?;
                    if *owner_id != b_id {
                        return Err(forbidden(format!("opening {key} belongs to object {owner_id}, not {b_id}")));
                    }
                    party.matmul_opened(a, *lhs_t, opened, *rhs_t).map_err(protocol)?
                }
                None => party.matmul_t(a, *lhs_t, b, *rhs_t).map_err(protocol)?,
            };
            (z, *scale)
        }
        MpcOp::Product { product, scale } => {
            (party.product(product, a, arg(shares, 1, op)?).map_err(protocol)?, *scale)
        }
        other => return Err(err(K::BadRequest, format!("{} is not a party protocol", other.name()))),
    };
    if scale > 1 { party.truncate_owned(product, scale).map_err(protocol) } else { Ok(product) }
}

/// The dealer's side of `op`: the same material requests, in the same order, as the
/// parties' [`compute`].
fn serve(member: &mut Member, op: &MpcOp) -> Result<(), RemoteError> {
    let parties = member.parties;
    let last = parties - 1;
    let dealer = member.dealer.as_mut().ok_or_else(|| err(K::BadRequest, "not the dealer of this session"))?;
    let comm = member.comm.as_mut();
    let mut requests: Vec<Material> = Vec::new();
    let scale = match op {
        MpcOp::MulPublic { scale, .. } => *scale,
        MpcOp::MatMul { lhs, rhs, lhs_t, rhs_t, scale, reuse_rhs } => {
            let product = Product::MatMul { lhs: lhs.clone(), rhs: rhs.clone(), lhs_t: *lhs_t, rhs_t: *rhs_t };
            match reuse_rhs {
                Some(key) => {
                    if !member.masks.contains_key(key) {
                        let mask = Material::Mask { shape: rhs.clone() };
                        let req = syft_spdz::serve_request(comm, dealer, last, &mask).map_err(protocol)?;
                        member.masks.insert(*key, (req, rhs.clone()));
                    }
                    let (mask_req, mask_shape) =
                        member.masks.get(key).cloned().ok_or_else(|| err(K::Protocol, "mask vanished"))?;
                    requests.push(Material::TripleWithMask { product, mask_req, mask_shape });
                }
                None => requests.push(Material::Triple(product)),
            }
            *scale
        }
        MpcOp::Product { product, scale } => {
            requests.push(Material::Triple(product.clone()));
            *scale
        }
        _ => 1,
    };
    if scale > 1 && parties > 2 {
        let shape = match op {
            MpcOp::MatMul { lhs, rhs, lhs_t, rhs_t, .. } => {
                Product::MatMul { lhs: lhs.clone(), rhs: rhs.clone(), lhs_t: *lhs_t, rhs_t: *rhs_t }
                    .output_shape()
                    .map_err(protocol)?
            }
            MpcOp::Product { product, .. } => product.output_shape().map_err(protocol)?,
            MpcOp::MulPublic { c, .. } => c.shape().to_vec(),
            _ => Vec::new(),
        };
        requests.push(Material::Trunc { shape, scale });
    }
    for r in &requests {
        syft_spdz::serve_request(comm, dealer, last, r).map_err(protocol)?;
    }
    Ok(())
}
