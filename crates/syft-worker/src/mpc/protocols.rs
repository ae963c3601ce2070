//! The protocols of the operations on shared tensors, as one member runs them: the
//! parties' steps (local, a Beaver product then its rescaling, SecureNN, an
//! approximation) and the crypto provider's (the material [`OpSpec::material`] lists, or
//! the SecureNN helper's part).
//! Which step runs is the [`Protocol`] of the operation's [`OpSpec`]; this file holds
//! only what each operation computes.

use super::{Member, Role, err, protocol};
use crate::access::forbidden;
use crate::error::{RemoteError, RemoteErrorKind as K};
use crate::message::ObjectId;
use crate::ops::{Material, MpcOp, OpSpec, Protocol};
use std::collections::hash_map::Entry;
use syft_ring::Tensor;
use syft_spdz::{Party, Request, TripleSource};

/// A party's step: its shares of the results of `op` on its `shares` (of the objects
/// `args`).
pub(super) fn party(
    member: &mut Member,
    op: &MpcOp,
    spec: &OpSpec,
    shares: &[&Tensor<u64>],
    args: &[ObjectId],
) -> Result<Vec<Tensor<u64>>, RemoteError> {
    match spec.protocol {
        Protocol::SecureNn { .. } => compute_securenn(member, op, shares),
        Protocol::Served { .. } => approximate(member, op, shares).map(|t| vec![t]),
        _ => compute(member, op, spec, shares, args).map(|t| vec![t]),
    }
}

/// The crypto provider's step: the material of `op`, or its part as the SecureNN helper.
pub(super) fn dealer(member: &mut Member, op: &MpcOp, spec: &OpSpec) -> Result<(), RemoteError> {
    match spec.protocol {
        Protocol::SecureNn { .. } => help(member, op),
        _ => serve(member, spec),
    }
}

/// The SecureNN configuration of every session.
fn snn_config() -> syft_securenn::Config {
    syft_securenn::Config::default()
}

/// The comparison width of a SecureNN operation (docs/PROTOCOLS.md §7): chosen by the
/// client from the operands' encoding ([`syft_securenn::Width::for_encoding`], or the
/// session's setting) and carried by the operation, so that both parties and the helper
/// use the same. Checked before any message.
fn comparison_width(op: &MpcOp) -> Result<syft_securenn::Width, RemoteError> {
    let bits = match op {
        MpcOp::Relu { bits, .. }
        | MpcOp::ArgmaxOneHot { bits, .. }
        | MpcOp::Argmax { bits, .. }
        | MpcOp::Max { bits, .. }
        | MpcOp::Gt { bits, .. }
        | MpcOp::Eq { bits, .. }
        | MpcOp::MaxPool2d { bits, .. }
        | MpcOp::Softmax { bits, .. }
        | MpcOp::CrossEntropy { bits, .. }
        | MpcOp::CrossEntropyBackward { bits, .. }
        | MpcOp::SoftmaxCrossEntropy { bits, .. } => *bits,
        other => return Err(err(K::BadRequest, format!("{} is not a SecureNN protocol", other.name()))),
    };
    syft_securenn::Width::new(bits).map_err(|e| err(K::BadRequest, format!("{}: {e}", op.name())))
}

/// A party's part in a SecureNN protocol (two parties, the crypto provider as helper).
fn compute_securenn(member: &mut Member, op: &MpcOp, shares: &[&Tensor<u64>]) -> Result<Vec<Tensor<u64>>, RemoteError> {
    if member.parties != 2 {
        return Err(err(K::BadRequest, format!("{} needs exactly two parties", op.name())));
    }
    let width = comparison_width(op)?;
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
    snn.set_width(width);
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
        MpcOp::Softmax { enc, .. } => vec![snn.softmax(a, *enc).map_err(protocol)?],
        MpcOp::CrossEntropy { enc, .. } => vec![snn.cross_entropy(a, arg(shares, 1, op)?, *enc).map_err(protocol)?],
        MpcOp::CrossEntropyBackward { enc, .. } => {
            vec![snn.cross_entropy_backward(a, arg(shares, 1, op)?, *enc).map_err(protocol)?]
        }
        MpcOp::SoftmaxCrossEntropy { enc, .. } => {
            let r = snn.softmax_cross_entropy(a, arg(shares, 1, op)?, *enc).map_err(protocol)?;
            vec![r.loss, r.grad]
        }
        other => return Err(err(K::BadRequest, format!("{} is not a SecureNN protocol", other.name()))),
    })
}

/// The crypto provider's part in a SecureNN protocol (it is the helper).
fn help(member: &mut Member, op: &MpcOp) -> Result<(), RemoteError> {
    if member.parties != 2 {
        return Err(err(K::BadRequest, format!("{} needs exactly two parties", op.name())));
    }
    let width = comparison_width(op)?;
    let dealer = member.dealer.as_mut().ok_or_else(|| err(K::BadRequest, "not the dealer of this session"))?;
    let mut helper =
        syft_securenn::Helper::new(member.comm.as_mut(), dealer, [0, 1], snn_config()).map_err(protocol)?;
    helper.set_width(width);
    match op {
        MpcOp::Relu { shape, .. } => helper.relu(shape),
        MpcOp::ArgmaxOneHot { shape, axis, .. } => helper.argmax_one_hot(shape, *axis),
        MpcOp::Argmax { shape, axis, .. } => helper.argmax(shape, *axis),
        MpcOp::Max { shape, axis, .. } => helper.max(shape, *axis),
        MpcOp::Gt { shape, .. } => helper.gt(shape),
        MpcOp::Eq { shape, .. } => helper.eq(shape),
        MpcOp::MaxPool2d { shape, window, stride, .. } => {
            helper.maxpool2d(shape, syft_securenn::Pool2d { kernel: *window, stride: *stride })
        }
        MpcOp::Softmax { shape, enc, .. } => helper.softmax(shape, *enc),
        MpcOp::CrossEntropy { shape, enc, .. } => helper.cross_entropy(shape, *enc),
        MpcOp::CrossEntropyBackward { shape, enc, .. } => helper.cross_entropy_backward(shape, *enc),
        MpcOp::SoftmaxCrossEntropy { shape, enc, .. } => helper.softmax_cross_entropy(shape, *enc),
        other => return Err(err(K::BadRequest, format!("{} is not a SecureNN protocol", other.name()))),
    }
    .map_err(protocol)
}

fn arg<'a>(shares: &[&'a Tensor<u64>], i: usize, op: &MpcOp) -> Result<&'a Tensor<u64>, RemoteError> {
    shares.get(i).copied().ok_or_else(|| err(K::BadRequest, format!("{} needs operand {i}", op.name())))
}

/// A party's step of an approximation ([`Protocol::Served`]): the whole protocol of
/// `syft_spdz::approx` on its share, consuming the request list [`serve`] deals.
fn approximate(member: &mut Member, op: &MpcOp, shares: &[&Tensor<u64>]) -> Result<Tensor<u64>, RemoteError> {
    let a = arg(shares, 0, op)?;
    let parties: Vec<usize> = (0..member.parties).collect();
    let link = member.link.as_mut().ok_or_else(|| err(K::BadRequest, "party without a dealer link"))?;
    let source: &mut dyn TripleSource = link;
    let mut party = Party::new(member.comm.as_mut(), source, parties).map_err(protocol)?;
    match op {
        MpcOp::Exp { enc, .. } => party.exp(a, *enc),
        MpcOp::Reciprocal { enc, init, iterations, .. } => party.reciprocal(a, *enc, *init, *iterations),
        MpcOp::Ln { enc, iterations, .. } => party.ln(a, *enc, *iterations),
        other => return Err(err(K::BadRequest, format!("{} is not an approximation", other.name()))),
    }
    .map_err(protocol)
}

/// A party's step of an operation that is not SecureNN: a local computation, or a product
/// (with a public factor, or a Beaver product) followed by the rescaling the spec asks
/// for, consuming the material [`serve`] deals.
fn compute(
    member: &mut Member,
    op: &MpcOp,
    spec: &OpSpec,
    shares: &[&Tensor<u64>],
    args: &[ObjectId],
) -> Result<Tensor<u64>, RemoteError> {
    let compute_err = |e: syft_ring::RingError| err(K::Compute, e.to_string());
    let Role::Party(index) = member.role else {
        return Err(err(K::BadRequest, "the dealer holds no shares"));
    };
    let a = arg(shares, 0, op)?;
    if spec.protocol == Protocol::Local {
        // No channel traffic.
        return local(op, index, a, shares);
    }
    let parties: Vec<usize> = (0..member.parties).collect();
    let link = member.link.as_mut().ok_or_else(|| err(K::BadRequest, "party without a dealer link"))?;
    let source: &mut dyn TripleSource = link;
    let mut party = Party::new(member.comm.as_mut(), source, parties).map_err(protocol)?;
    let product = match op {
        MpcOp::MulPublic { c, .. } => a.mul(c).map_err(compute_err)?,
        MpcOp::MulScalar { c, shape, .. } => scalar_product(a, *c, shape)?,
        MpcOp::MatMul { lhs_t, rhs_t, reuse_rhs, .. } => {
            let b = arg(shares, 1, op)?;
            match reuse_rhs {
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
            }
        }
        MpcOp::Product { product, .. } => party.product(product, a, arg(shares, 1, op)?).map_err(protocol)?,
        other => return Err(err(K::BadRequest, format!("{} is not a party protocol", other.name()))),
    };
    match spec.rescale() {
        Some(scale) => party.truncate_owned(product, scale).map_err(protocol),
        None => Ok(product),
    }
}

/// `a · c` for an operand that must have `shape` (a request naming another shape is
/// refused: the crypto provider's material for the rescaling has that shape).
fn scalar_product(a: &Tensor<u64>, c: u64, shape: &[usize]) -> Result<Tensor<u64>, RemoteError> {
    if a.shape() != shape {
        return Err(err(K::BadRequest, format!("mul_scalar: shape {shape:?} for a share of shape {:?}", a.shape())));
    }
    Ok(a.scale(c))
}

/// A party's step of a local operation on its share `a` (party `index`; `shares` are all
/// its operands).
fn local(op: &MpcOp, index: usize, a: &Tensor<u64>, shares: &[&Tensor<u64>]) -> Result<Tensor<u64>, RemoteError> {
    let compute_err = |e: syft_ring::RingError| err(K::Compute, e.to_string());
    match op {
        MpcOp::Add => a.add(arg(shares, 1, op)?),
        MpcOp::Sub => a.sub(arg(shares, 1, op)?),
        MpcOp::Neg => Ok(a.neg()),
        MpcOp::AddPublic(c) => {
            if index == 0 {
                a.add(c)
            } else {
                a.add(&Tensor::zeros(c.shape()))
            }
        }
        MpcOp::MulPublic { c, .. } => a.mul(c),
        MpcOp::MulScalar { c, shape, .. } => return scalar_product(a, *c, shape),
        MpcOp::Sum => Ok(Tensor::scalar(a.sum_all())),
        MpcOp::SumAxis { axis, keepdim } => a.sum_axis(*axis, *keepdim),
        MpcOp::Reshape(s) => a.reshape(s),
        MpcOp::Transpose => a.transpose(),
        MpcOp::BroadcastTo(s) => a.broadcast_to(s),
        MpcOp::SumToShape(s) => a.sum_to_shape(s),
        MpcOp::PoolWindows { window, params } => a.pool_windows(*window, *params, 0),
        MpcOp::PoolWindowsAdjoint { input_shape, window, params } => {
            a.pool_windows_adjoint(input_shape, *window, *params)
        }
        other => return Err(err(K::BadRequest, format!("{} is not a local protocol", other.name()))),
    }
    .map_err(compute_err)
}

/// The crypto provider's step of an operation that is not SecureNN: the material of
/// [`OpSpec::material`], in order, which is what the parties' [`compute`] consumes.
fn serve(member: &mut Member, spec: &OpSpec) -> Result<(), RemoteError> {
    let parties = member.parties;
    let last = parties - 1;
    let dealer = member.dealer.as_mut().ok_or_else(|| err(K::BadRequest, "not the dealer of this session"))?;
    let comm = member.comm.as_mut();
    for material in spec.material(parties).map_err(protocol)? {
        let request = match material {
            Material::Triple(product) => Request::Triple(product),
            Material::TripleOnMask { product, key, mask_shape } => {
                // The mask is dealt once per key; later products reuse it.
                let (mask_req, mask_shape) = match member.masks.entry(key) {
                    Entry::Occupied(drawn) => drawn.get().clone(),
                    Entry::Vacant(slot) => {
                        let mask = Request::Mask { shape: mask_shape.clone() };
                        let req = syft_spdz::serve_request(comm, dealer, last, &mask).map_err(protocol)?;
                        slot.insert((req, mask_shape)).clone()
                    }
                };
                Request::TripleWithMask { product, mask_req, mask_shape }
            }
            Material::Trunc { shape, scale } => Request::Trunc { shape, scale },
            Material::Request(request) => request,
        };
        syft_spdz::serve_request(comm, dealer, last, &request).map_err(protocol)?;
    }
    Ok(())
}
