//! [`MpcOp`]: the operations on shared tensors, and [`OpSpec`], the one description of
//! each ([`MpcOp::spec`], the table) that the client, the computing parties and the
//! crypto provider all derive their part from.

use super::shape::{conv_out, four, sum_axis_shape};
use crate::access::Flow;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use syft_fixed::FixedEncoder;
use syft_ring::{Conv2dParams, Tensor};
use syft_spdz::{Product, Request};

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
    /// `a · c` for a public ring scalar `c`, then division by `scale` (local for two
    /// parties): a learning rate or an integer factor, without a tensor of copies of it
    /// in the request. The operand must have `shape`, which is the result's.
    MulScalar {
        /// The public factor.
        c: u64,
        /// Divide the product by this (1 for none).
        scale: u64,
        /// The operand's shape.
        shape: Vec<usize>,
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
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// Index of the maximum along `axis` as a raw one-hot tensor of the input's shape
    /// (two parties; the first maximum wins ties).
    ArgmaxOneHot {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// Index of the maximum along `axis`, raw integer shares, axis removed.
    Argmax {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// Maximum along `axis` (axis removed).
    Max {
        /// Input shape.
        shape: Vec<usize>,
        /// The axis.
        axis: usize,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// Raw bit `[a > b]` for shared `a`, `b` of one shape.
    Gt {
        /// The shape.
        shape: Vec<usize>,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// Raw bit `[a == b]`.
    Eq {
        /// The shape.
        shape: Vec<usize>,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
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
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// `e^a` elementwise for `a` encoded by `enc` (the result too): `syft_spdz`'s
    /// party-local approximation (`Party::exp`, docs/PROTOCOLS.md §11.1).
    Exp {
        /// Input shape.
        shape: Vec<usize>,
        /// The fixed-point encoding of the input and the result.
        enc: FixedEncoder,
    },
    /// `1/a` elementwise by Newton–Raphson from the public start `init`, `iterations`
    /// times (`Party::reciprocal`, §11.2).
    Reciprocal {
        /// Input shape.
        shape: Vec<usize>,
        /// The fixed-point encoding of the input and the result.
        enc: FixedEncoder,
        /// The public start (positive; the iteration converges for `0 < init < 2/a`).
        init: f64,
        /// Newton iterations (at most `syft_spdz::approx::MAX_ITERATIONS`).
        iterations: usize,
    },
    /// `ln(a)` elementwise by Newton's method on `e^y = a` from 1.5, `iterations` times
    /// (`Party::ln`, §11.3).
    Ln {
        /// Input shape.
        shape: Vec<usize>,
        /// The fixed-point encoding of the input and the result.
        enc: FixedEncoder,
        /// Newton iterations (at most `syft_spdz::approx::MAX_ITERATIONS`).
        iterations: usize,
    },
    /// The softmax along the last axis of `[rows, k]` logits (two parties; SecureNN's
    /// maximum, then the approximations: `SnnParty::softmax`, §11.4).
    Softmax {
        /// The logits' shape `[rows, k]`.
        shape: Vec<usize>,
        /// The fixed-point encoding of the logits and the result.
        enc: FixedEncoder,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// The summed cross-entropy `−Σ y·log softmax(z)` of `[rows, k]` logits `z` (first
    /// operand) against one-hot targets `y` (second operand), a scalar (two parties;
    /// `SnnParty::cross_entropy`, §11.5).
    CrossEntropy {
        /// The shape `[rows, k]` of the logits and the targets.
        shape: Vec<usize>,
        /// The fixed-point encoding of both operands and the result.
        enc: FixedEncoder,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// The gradient `softmax(z) − y` of the summed cross-entropy with respect to the
    /// logits (two parties; `SnnParty::cross_entropy_backward`).
    CrossEntropyBackward {
        /// The shape `[rows, k]` of the logits and the targets.
        shape: Vec<usize>,
        /// The fixed-point encoding of both operands and the result.
        enc: FixedEncoder,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
    /// The summed cross-entropy and its gradient together, sharing the maximum and the
    /// exponentials: outputs the loss (a scalar) and `softmax(z) − y` (two parties;
    /// `SnnParty::softmax_cross_entropy`, §11.6).
    SoftmaxCrossEntropy {
        /// The shape `[rows, k]` of the logits and the targets.
        shape: Vec<usize>,
        /// The fixed-point encoding of both operands and the results.
        enc: FixedEncoder,
        /// The comparison width `k` in bits (`syft_securenn::Width`, 2 to 64): valid for
        /// differences in `[−2^(k−2), 2^(k−2))` (docs/PROTOCOLS.md §7).
        bits: u32,
    },
}

/// Which request list of `syft_spdz::approx` the crypto provider serves for a
/// [`Protocol::Served`] operation (the same steps the parties run, recorded).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Plan {
    /// `syft_spdz::exp_requests`.
    Exp {
        /// The encoding.
        enc: FixedEncoder,
    },
    /// `syft_spdz::reciprocal_requests`.
    Reciprocal {
        /// The encoding.
        enc: FixedEncoder,
        /// The public start.
        init: f64,
        /// Newton iterations.
        iterations: usize,
    },
    /// `syft_spdz::ln_requests`.
    Ln {
        /// The encoding.
        enc: FixedEncoder,
        /// Newton iterations.
        iterations: usize,
    },
}

impl Plan {
    /// The dealer requests of this plan on a tensor of `shape` among `parties` parties, in
    /// the order the parties consume them. Fails, as the parties' step would before any
    /// message, on an encoder without a fractional part, a start that is not a positive
    /// number or too many iterations.
    pub fn requests(&self, shape: &[usize], parties: usize) -> Result<Vec<Request>> {
        Ok(match *self {
            Self::Exp { enc } => syft_spdz::exp_requests(shape, parties, enc)?,
            Self::Reciprocal { enc, init, iterations } => {
                syft_spdz::reciprocal_requests(shape, parties, enc, init, iterations)?
            }
            Self::Ln { enc, iterations } => syft_spdz::ln_requests(shape, parties, enc, iterations)?,
        })
    }
}

/// How the members of a session compute an operation.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Protocol {
    /// Every party on its own shares: no messages, nothing from the crypto provider.
    Local,
    /// Every party multiplies its share by a public factor of `shape` (local), then the
    /// product is divided by `scale` (> 1): a truncation, for which the crypto provider
    /// takes part.
    ScaledPublic {
        /// The shape of the public factor, which is the result's.
        shape: Vec<usize>,
        /// The divisor.
        scale: u64,
    },
    /// One Beaver product (one round, a triple from the crypto provider), then division by
    /// `scale` when it is above 1.
    Beaver {
        /// The bilinear map, with its operand shapes as declared.
        product: Product,
        /// Divide the product by this (1 for none).
        scale: u64,
        /// The right operand is opened once under this key and the opening reused; the
        /// crypto provider deals its mask once and then triples on that mask.
        reuse_rhs: Option<u64>,
    },
    /// A SecureNN protocol between exactly two parties, the crypto provider being the
    /// helper; every operand has the declared `shape`.
    SecureNn {
        /// The input shape.
        shape: Vec<usize>,
    },
    /// A party-local protocol of several rounds among the parties (an approximation of
    /// `syft_spdz::approx`), whose material the crypto provider serves from a request
    /// list that `plan` names ([`Material::Request`], in order); the operand has the
    /// declared `shape`.
    Served {
        /// The input shape.
        shape: Vec<usize>,
        /// Which request list.
        plan: Plan,
    },
}

/// What a member allocates for an operation beyond its operands, for the worker's limits.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Allocates {
    /// Nothing larger than an operand (negation, sums of all elements, transposition).
    Nothing,
    /// A public operand of this shape and its broadcast with the first operand.
    Public(Vec<usize>),
    /// The broadcast of the two operands.
    Broadcast,
    /// The first operand summed along an axis.
    SumAxis {
        /// The axis.
        axis: usize,
        /// Whether the axis is kept.
        keepdim: bool,
    },
    /// A result of this shape.
    Shape(Vec<usize>),
    /// The pooling windows `[N, C, OH, OW, KH, KW]` of an `[N, C, H, W]` first operand.
    Windows {
        /// Window height and width.
        window: (usize, usize),
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// The Beaver product's operands and output, and a convolution's im2col buffer (the
    /// product of the [`Protocol::Beaver`] entry).
    Product,
    /// The bit decomposition of a tensor of this shape (64 words per element).
    Bits(Vec<usize>),
    /// The bit decomposition of the max-pooling windows of an `[N, C, H, W]` input.
    PoolBits {
        /// The input shape.
        shape: Vec<usize>,
        /// Window height and width.
        window: (usize, usize),
        /// The stride (no padding).
        stride: (usize, usize),
    },
}

/// What the crypto provider deals for one step of an operation (see
/// [`OpSpec::material`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Material {
    /// A Beaver triple for `product`.
    Triple(Product),
    /// A triple whose right factor is the mask drawn once for the operand opened under
    /// `key` (the crypto provider deals that mask first, the first time).
    TripleOnMask {
        /// The product.
        product: Product,
        /// The key of the reused opening.
        key: u64,
        /// The shape of the masked operand.
        mask_shape: Vec<usize>,
    },
    /// A truncation pair, to divide a result of `shape` by `scale`.
    Trunc {
        /// The shape of the value divided.
        shape: Vec<usize>,
        /// The divisor.
        scale: u64,
    },
    /// One request of a [`Protocol::Served`] operation's list, served as it is.
    Request(Request),
}

/// Everything about one operation on shared tensors that is not its protocol's code, as
/// [`MpcOp::spec`] gives it: its name, its rule on granted data, its [`Protocol`] (local, a
/// Beaver product, a product with a public factor then a truncation, a SecureNN protocol
/// with the crypto provider as helper, or a party-local approximation whose material the
/// crypto provider serves from a request list), its number of outputs and what a member
/// allocates for it ([`Allocates`]). The client, the parties and the crypto provider all
/// derive their part from it:
///
/// - whether the crypto provider takes part ([`OpSpec::needs_dealer`]) and whether it is
///   the SecureNN helper ([`OpSpec::is_securenn`]): the client's fan-out;
/// - the material the crypto provider deals, in the order the parties consume it
///   ([`OpSpec::material`]): the parties run the product the protocol names and then the
///   rescaling it asks for ([`OpSpec::rescale`]), the crypto provider serves exactly this
///   list, so the two sides cannot drift apart;
/// - the shapes a member checks against its limits before it starts
///   ([`OpSpec::alloc_shapes`]) and the input shape a SecureNN protocol declares
///   ([`OpSpec::declared_shape`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OpSpec {
    /// A short name, for errors, logs and limits.
    pub name: &'static str,
    /// What the operation does, for the rules on granted data ([`crate::access::flow`]).
    pub flow: Flow,
    /// How the members compute it.
    pub protocol: Protocol,
    /// Number of result tensors.
    pub outputs: usize,
    /// What a member allocates for it.
    pub allocates: Allocates,
}

/// Whether dividing a shared value by a public scale takes a truncation pair from the
/// crypto provider among `parties` parties: two parties truncate locally, more use a
/// pair (the rule of `syft_spdz::Party::truncate`).
#[must_use]
pub fn truncation_takes_pair(parties: usize) -> bool {
    parties > 2
}

impl OpSpec {
    /// A local operation with one output.
    fn local(name: &'static str, flow: Flow, allocates: Allocates) -> Self {
        Self { name, flow, protocol: Protocol::Local, outputs: 1, allocates }
    }

    /// A Beaver product, rescaled by `scale`.
    fn beaver(name: &'static str, flow: Flow, product: Product, scale: u64, reuse_rhs: Option<u64>) -> Self {
        Self {
            name,
            flow,
            protocol: Protocol::Beaver { product, scale, reuse_rhs },
            outputs: 1,
            allocates: Allocates::Product,
        }
    }

    /// A party-local approximation on an operand of `shape`, the crypto provider serving
    /// `plan`'s request list; its working values all have the operand's shape.
    fn served(name: &'static str, flow: Flow, shape: &[usize], plan: Plan) -> Self {
        Self {
            name,
            flow,
            protocol: Protocol::Served { shape: shape.to_vec(), plan },
            outputs: 1,
            allocates: Allocates::Shape(shape.to_vec()),
        }
    }

    /// A SecureNN protocol on operands of `shape` with `outputs` results.
    fn securenn(name: &'static str, flow: Flow, shape: &[usize], outputs: usize) -> Self {
        Self {
            name,
            flow,
            protocol: Protocol::SecureNn { shape: shape.to_vec() },
            outputs,
            allocates: Allocates::Bits(shape.to_vec()),
        }
    }

    /// Whether the crypto provider takes part (it deals material or is the helper).
    #[must_use]
    pub fn needs_dealer(&self) -> bool {
        !matches!(self.protocol, Protocol::Local)
    }

    /// Whether this is a SecureNN protocol (the crypto provider is the helper).
    #[must_use]
    pub fn is_securenn(&self) -> bool {
        matches!(self.protocol, Protocol::SecureNn { .. })
    }

    /// The input shape a SecureNN protocol or an approximation declares (every operand
    /// must have it).
    #[must_use]
    pub fn declared_shape(&self) -> Option<&[usize]> {
        match &self.protocol {
            Protocol::SecureNn { shape } | Protocol::Served { shape, .. } => Some(shape),
            _ => None,
        }
    }

    /// The divisor of the result, when it is rescaled (above 1).
    #[must_use]
    pub fn rescale(&self) -> Option<u64> {
        match self.protocol {
            Protocol::ScaledPublic { scale, .. } | Protocol::Beaver { scale, .. } if scale > 1 => Some(scale),
            _ => None,
        }
    }

    /// What the crypto provider deals for this operation among `parties` parties, in the
    /// order the parties consume it: the Beaver product's triple, then the truncation
    /// pair of the rescaling when [`truncation_takes_pair`]; for an approximation, its
    /// request list ([`Plan::requests`], which fails on arguments the parties would
    /// refuse). Nothing for local operations and SecureNN protocols (whose helper runs
    /// its own part of the protocol).
    pub fn material(&self, parties: usize) -> Result<Vec<Material>> {
        let mut out = Vec::new();
        let result_shape = match &self.protocol {
            Protocol::Local | Protocol::SecureNn { .. } => return Ok(out),
            Protocol::Served { shape, plan } => {
                return Ok(plan.requests(shape, parties)?.into_iter().map(Material::Request).collect());
            }
            Protocol::ScaledPublic { shape, .. } => shape.clone(),
            Protocol::Beaver { product, reuse_rhs, .. } => {
                out.push(match reuse_rhs {
                    Some(key) => Material::TripleOnMask {
                        product: product.clone(),
                        key: *key,
                        mask_shape: product.operand_shapes().1,
                    },
                    None => Material::Triple(product.clone()),
                });
                product.output_shape()?
            }
        };
        if let Some(scale) = self.rescale()
            && truncation_takes_pair(parties)
        {
            out.push(Material::Trunc { shape: result_shape, scale });
        }
        Ok(out)
    }

    /// The shapes of what a member allocates for this operation (operands the operation
    /// names, results, im2col and window buffers; SecureNN protocols count the bit
    /// decomposition of their input, 64 words per element), computed with checked
    /// arithmetic, for operands of `inputs` shapes (a party's actual shares; none at the
    /// crypto provider).
    pub fn alloc_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>> {
        let bits = |shape: &[usize]| [&[64usize][..], shape].concat();
        let broadcast = |a: &[usize], b: &[usize]| syft_ring::broadcast_shapes(self.name, a, b);
        let mut out: Vec<Vec<usize>> = inputs.iter().map(|s| s.to_vec()).collect();
        match &self.allocates {
            Allocates::Nothing => {}
            Allocates::Public(c) => {
                out.push(c.clone());
                if let Some(a) = inputs.first() {
                    out.push(broadcast(a, c)?);
                }
            }
            Allocates::Broadcast => {
                if let [a, b] = inputs {
                    out.push(broadcast(a, b)?);
                }
            }
            Allocates::SumAxis { axis, keepdim } => {
                if let Some(a) = inputs.first() {
                    out.push(sum_axis_shape(a, *axis, *keepdim));
                }
            }
            Allocates::Shape(s) => out.push(s.clone()),
            Allocates::Windows { window, params } => {
                if let Some(&[n, c, h, w]) = inputs.first().copied() {
                    let (oh, ow) = conv_out(h, w, window.0, window.1, *params)?;
                    out.push(vec![n, c, oh, ow, window.0, window.1]);
                }
            }
            Allocates::Product => {
                if let Protocol::Beaver { product, .. } = &self.protocol {
                    out.extend(product_shapes(product)?);
                }
            }
            Allocates::Bits(shape) => out.push(bits(shape)),
            Allocates::PoolBits { shape, window, stride } => {
                let [n, c, h, w] = four("max_pool2d", shape)?;
                let params = Conv2dParams { stride: *stride, padding: (0, 0) };
                let (oh, ow) = conv_out(h, w, window.0, window.1, params)?;
                out.push(bits(&[n, c, oh, ow, window.0, window.1]));
            }
        }
        Ok(out)
    }
}

/// What a Beaver product allocates: its operands and output, and for a convolution (or
/// its gradients) the output and im2col buffer of the convolution.
fn product_shapes(product: &Product) -> Result<Vec<Vec<usize>>> {
    let mut v = match product {
        Product::Conv2d { input, kernel, params }
        | Product::Conv2dInputGrad { input, kernel, params }
        | Product::Conv2dKernelGrad { input, kernel, params } => {
            let [n, c, h, w] = four("conv2d", input)?;
            let [o, _, kh, kw] = four("conv2d", kernel)?;
            let (oh, ow) = conv_out(h, w, kh, kw, *params)?;
            vec![vec![n, o, oh, ow], vec![n, oh, ow, c, kh, kw], input.clone(), kernel.clone()]
        }
        other => {
            let (a, b) = other.operand_shapes();
            vec![a, b]
        }
    };
    v.push(product.output_shape()?);
    Ok(v)
}

impl MpcOp {
    /// The description of this operation ([`OpSpec`]): the one table of the vocabulary.
    /// Adding an operation adds an entry here, and its protocol (see
    /// [`crate::ops`]).
    #[must_use]
    pub fn spec(&self) -> OpSpec {
        use Allocates as A;
        match self {
            Self::Add => OpSpec::local("add", Flow::Add, A::Broadcast),
            Self::Sub => OpSpec::local("sub", Flow::Other, A::Broadcast),
            Self::Neg => OpSpec::local("neg", Flow::Other, A::Nothing),
            Self::AddPublic(c) => OpSpec::local("add_public", Flow::Other, A::Public(c.shape().to_vec())),
            Self::MulPublic { c, scale } => OpSpec {
                name: "mul_public",
                // A uniform public scaling is a layer's; any other public factor is not.
                flow: if c.data().windows(2).all(|w| w[0] == w[1]) { Flow::Layer } else { Flow::Other },
                protocol: if *scale > 1 {
                    Protocol::ScaledPublic { shape: c.shape().to_vec(), scale: *scale }
                } else {
                    Protocol::Local
                },
                outputs: 1,
                allocates: A::Public(c.shape().to_vec()),
            },
            Self::MulScalar { scale, shape, .. } => OpSpec {
                name: "mul_scalar",
                // A uniform public scaling, as a layer's.
                flow: Flow::Layer,
                protocol: if *scale > 1 {
                    Protocol::ScaledPublic { shape: shape.clone(), scale: *scale }
                } else {
                    Protocol::Local
                },
                outputs: 1,
                allocates: A::Shape(shape.clone()),
            },
            Self::MatMul { lhs, rhs, lhs_t, rhs_t, scale, reuse_rhs } => OpSpec::beaver(
                "matmul",
                Flow::Product,
                Product::MatMul { lhs: lhs.clone(), rhs: rhs.clone(), lhs_t: *lhs_t, rhs_t: *rhs_t },
                *scale,
                *reuse_rhs,
            ),
            Self::Product { product, scale } => {
                let (name, flow) = match product {
                    Product::Mul { .. } => ("mul", Flow::Other),
                    Product::Conv2d { .. } => ("conv2d", Flow::Product),
                    Product::Conv2dInputGrad { .. } => ("conv2d_input_grad", Flow::Other),
                    Product::Conv2dKernelGrad { .. } => ("conv2d_kernel_grad", Flow::Other),
                    _ => ("beaver_product", Flow::Other),
                };
                OpSpec::beaver(name, flow, product.clone(), *scale, None)
            }
            Self::Sum => OpSpec::local("sum", Flow::Layer, A::Nothing),
            Self::SumAxis { axis, keepdim } => {
                OpSpec::local("sum_axis", Flow::Layer, A::SumAxis { axis: *axis, keepdim: *keepdim })
            }
            Self::Reshape(s) => OpSpec::local("reshape", Flow::Shape, A::Shape(s.clone())),
            Self::Transpose => OpSpec::local("transpose", Flow::Shape, A::Nothing),
            Self::BroadcastTo(s) => OpSpec::local("broadcast_to", Flow::Shape, A::Shape(s.clone())),
            Self::SumToShape(s) => OpSpec::local("sum_to_shape", Flow::Other, A::Shape(s.clone())),
            Self::PoolWindows { window, params } => {
                OpSpec::local("pool_windows", Flow::Layer, A::Windows { window: *window, params: *params })
            }
            Self::PoolWindowsAdjoint { input_shape, .. } => {
                OpSpec::local("pool_windows_adjoint", Flow::Other, A::Shape(input_shape.clone()))
            }
            Self::Relu { shape, .. } => OpSpec::securenn("relu", Flow::Layer, shape, 2),
            Self::ArgmaxOneHot { shape, .. } => OpSpec::securenn("argmax_one_hot", Flow::Decide, shape, 1),
            Self::Argmax { shape, .. } => OpSpec::securenn("argmax", Flow::Decide, shape, 1),
            Self::Max { shape, .. } => OpSpec::securenn("max", Flow::Other, shape, 1),
            Self::Gt { shape, .. } => OpSpec::securenn("gt", Flow::Other, shape, 1),
            Self::Eq { shape, .. } => OpSpec::securenn("eq", Flow::Other, shape, 1),
            Self::MaxPool2d { shape, window, stride, .. } => OpSpec {
                allocates: A::PoolBits { shape: shape.clone(), window: *window, stride: *stride },
                ..OpSpec::securenn("max_pool2d", Flow::Layer, shape, 2)
            },
            // An activation function, monotone (its argmax is the input's): a layer's, as
            // ReLU is. The reciprocal and the logarithm are not a layer's: refused on
            // anything but the caller's own values, as comparisons are.
            Self::Exp { shape, enc } => OpSpec::served("exp", Flow::Layer, shape, Plan::Exp { enc: *enc }),
            Self::Reciprocal { shape, enc, init, iterations } => OpSpec::served(
                "reciprocal",
                Flow::Other,
                shape,
                Plan::Reciprocal { enc: *enc, init: *init, iterations: *iterations },
            ),
            Self::Ln { shape, enc, iterations } => {
                OpSpec::served("ln", Flow::Other, shape, Plan::Ln { enc: *enc, iterations: *iterations })
            }
            // A network's output layer: its argmax is the logits'.
            Self::Softmax { shape, .. } => OpSpec::securenn("softmax", Flow::Layer, shape, 1),
            // Losses against the caller's own targets: on the caller's own values only.
            Self::CrossEntropy { shape, .. } => OpSpec::securenn("cross_entropy", Flow::Other, shape, 1),
            Self::CrossEntropyBackward { shape, .. } => {
                OpSpec::securenn("cross_entropy_backward", Flow::Other, shape, 1)
            }
            Self::SoftmaxCrossEntropy { shape, .. } => OpSpec::securenn("softmax_cross_entropy", Flow::Other, shape, 2),
        }
    }

    /// A short name (from [`MpcOp::spec`]).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Whether the crypto provider takes part (from [`MpcOp::spec`]).
    #[must_use]
    pub fn needs_dealer(&self) -> bool {
        self.spec().needs_dealer()
    }

    /// Whether this is a SecureNN protocol, the crypto provider being the helper (from
    /// [`MpcOp::spec`]).
    #[must_use]
    pub fn is_securenn(&self) -> bool {
        self.spec().is_securenn()
    }

    /// Number of result tensors (from [`MpcOp::spec`]).
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.spec().outputs
    }

    /// What the operation does, for the rules on granted data ([`crate::access::flow`]),
    /// from [`MpcOp::spec`].
    #[must_use]
    pub fn flow(&self) -> Flow {
        self.spec().flow
    }

    /// The shapes of what a member allocates for this operation, for operands of `inputs`
    /// shapes (see [`OpSpec::alloc_shapes`]).
    pub fn alloc_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>> {
        self.spec().alloc_shapes(inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matmul(scale: u64, reuse_rhs: Option<u64>) -> MpcOp {
        MpcOp::MatMul { lhs: vec![2, 3], rhs: vec![3, 4], lhs_t: false, rhs_t: false, scale, reuse_rhs }
    }

    #[test]
    fn the_crypto_provider_takes_part_in_products_truncations_and_securenn() {
        let c = Tensor::from_vec(vec![3u64, 3]);
        assert!(!MpcOp::Add.needs_dealer());
        assert!(!MpcOp::Transpose.needs_dealer());
        assert!(!MpcOp::MulPublic { c: c.clone(), scale: 1 }.needs_dealer());
        assert!(MpcOp::MulPublic { c, scale: 1 << 16 }.needs_dealer());
        assert!(matmul(1, None).needs_dealer());
        assert!(MpcOp::Relu { shape: vec![4], bits: 64 }.needs_dealer());
        assert!(MpcOp::Relu { shape: vec![4], bits: 64 }.is_securenn());
        assert!(!matmul(1, None).is_securenn());
        assert_eq!(MpcOp::Relu { shape: vec![4], bits: 64 }.outputs(), 2);
        assert_eq!(matmul(1, None).outputs(), 1);
    }

    #[test]
    fn material_is_the_triple_then_the_truncation_pair_beyond_two_parties() {
        let product = Product::MatMul { lhs: vec![2, 3], rhs: vec![3, 4], lhs_t: false, rhs_t: false };
        let spec = matmul(1 << 16, None).spec();
        assert_eq!(spec.material(2).unwrap(), vec![Material::Triple(product.clone())]);
        assert_eq!(
            spec.material(3).unwrap(),
            vec![Material::Triple(product.clone()), Material::Trunc { shape: vec![2, 4], scale: 1 << 16 }]
        );
        assert_eq!(matmul(1, None).spec().material(3).unwrap(), vec![Material::Triple(product.clone())]);
        assert_eq!(
            matmul(1, Some(7)).spec().material(2).unwrap(),
            vec![Material::TripleOnMask { product, key: 7, mask_shape: vec![3, 4] }]
        );
        let scaled = MpcOp::MulPublic { c: Tensor::from_vec(vec![5u64, 5, 5]), scale: 1 << 10 }.spec();
        assert!(scaled.material(2).unwrap().is_empty());
        assert_eq!(scaled.material(3).unwrap(), vec![Material::Trunc { shape: vec![3], scale: 1 << 10 }]);
        assert!(MpcOp::Relu { shape: vec![4], bits: 64 }.spec().material(3).unwrap().is_empty());
        assert!(MpcOp::Add.spec().material(3).unwrap().is_empty());
    }

    #[test]
    fn alloc_shapes_count_operands_results_and_buffers() {
        assert_eq!(MpcOp::Add.alloc_shapes(&[&[2, 1], &[1, 3]]).unwrap(), vec![vec![2, 1], vec![1, 3], vec![2, 3]]);
        assert_eq!(matmul(1, None).alloc_shapes(&[]).unwrap(), vec![vec![2, 3], vec![3, 4], vec![2, 4]]);
        let pool = MpcOp::MaxPool2d { shape: vec![1, 1, 4, 4], window: (2, 2), stride: (2, 2), bits: 64 };
        assert_eq!(pool.alloc_shapes(&[]).unwrap(), vec![vec![64, 1, 1, 2, 2, 2, 2]]);
        let bad = MpcOp::MaxPool2d { shape: vec![4, 4], window: (2, 2), stride: (2, 2), bits: 64 };
        assert!(bad.alloc_shapes(&[]).is_err());
        let zero = MpcOp::PoolWindows { window: (2, 2), params: Conv2dParams { stride: (0, 1), padding: (0, 0) } };
        assert!(zero.alloc_shapes(&[&[1, 1, 4, 4]]).is_err());
    }

    #[test]
    fn approximations_are_served_from_the_protocol_layers_request_lists() {
        let enc = FixedEncoder::new(10, 4).unwrap();
        let shape = vec![3, 4];
        let exp = MpcOp::Exp { shape: shape.clone(), enc }.spec();
        assert!(exp.needs_dealer() && !exp.is_securenn());
        assert_eq!(exp.declared_shape(), Some(&shape[..]));
        assert_eq!(exp.rescale(), None);
        for parties in [2, 3] {
            let listed: Vec<Material> =
                syft_spdz::exp_requests(&shape, parties, enc).unwrap().into_iter().map(Material::Request).collect();
            assert_eq!(exp.material(parties).unwrap(), listed);
        }
        let recip = MpcOp::Reciprocal { shape: shape.clone(), enc, init: 0.25, iterations: 8 }.spec();
        let listed = syft_spdz::reciprocal_requests(&shape, 2, enc, 0.25, 8).unwrap();
        assert_eq!(recip.material(2).unwrap(), listed.into_iter().map(Material::Request).collect::<Vec<_>>());
        let ln = MpcOp::Ln { shape: shape.clone(), enc, iterations: 6 }.spec();
        assert_eq!(ln.material(3).unwrap().len(), syft_spdz::ln_requests(&shape, 3, enc, 6).unwrap().len());
        // Arguments the parties would refuse fail here too.
        assert!(MpcOp::Reciprocal { shape: shape.clone(), enc, init: -1.0, iterations: 8 }.spec().material(2).is_err());
        assert!(MpcOp::Ln { shape: shape.clone(), enc, iterations: 65 }.spec().material(2).is_err());
        assert!(MpcOp::Exp { shape: shape.clone(), enc: FixedEncoder::INTEGER }.spec().material(2).is_err());
        // The softmax family is SecureNN: the helper runs its own part.
        let sce = MpcOp::SoftmaxCrossEntropy { shape: shape.clone(), enc, bits: 32 };
        assert!(sce.is_securenn());
        assert_eq!(sce.outputs(), 2);
        assert!(sce.spec().material(2).unwrap().is_empty());
        assert_eq!(MpcOp::Softmax { shape, enc, bits: 32 }.outputs(), 1);
    }

    #[test]
    fn flows_follow_the_rules_on_granted_data() {
        assert_eq!(matmul(1, None).flow(), Flow::Product);
        assert_eq!(MpcOp::Add.flow(), Flow::Add);
        assert_eq!(MpcOp::Reshape(vec![4]).flow(), Flow::Shape);
        assert_eq!(MpcOp::MulPublic { c: Tensor::from_vec(vec![2u64, 2]), scale: 1 }.flow(), Flow::Layer);
        assert_eq!(MpcOp::MulPublic { c: Tensor::from_vec(vec![2u64, 3]), scale: 1 }.flow(), Flow::Other);
        assert_eq!(MpcOp::Argmax { shape: vec![2, 3], axis: 1, bits: 64 }.flow(), Flow::Decide);
        assert_eq!(MpcOp::Gt { shape: vec![2], bits: 64 }.flow(), Flow::Other);
        // Activation functions are a layer's; the reciprocal, the logarithm and the losses
        // (against the caller's own targets) are not.
        let (shape, enc) = (vec![2, 3], FixedEncoder::default());
        assert_eq!(MpcOp::Exp { shape: shape.clone(), enc }.flow(), Flow::Layer);
        assert_eq!(MpcOp::Softmax { shape: shape.clone(), enc, bits: 32 }.flow(), Flow::Layer);
        assert_eq!(MpcOp::Reciprocal { shape: shape.clone(), enc, init: 0.5, iterations: 8 }.flow(), Flow::Other);
        assert_eq!(MpcOp::Ln { shape: shape.clone(), enc, iterations: 6 }.flow(), Flow::Other);
        assert_eq!(MpcOp::CrossEntropy { shape: shape.clone(), enc, bits: 32 }.flow(), Flow::Other);
        assert_eq!(MpcOp::CrossEntropyBackward { shape: shape.clone(), enc, bits: 32 }.flow(), Flow::Other);
        assert_eq!(MpcOp::SoftmaxCrossEntropy { shape, enc, bits: 32 }.flow(), Flow::Other);
    }
}
