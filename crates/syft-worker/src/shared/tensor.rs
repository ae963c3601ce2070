//! [`SharedTensor`]: a tensor secret-shared among the parties of a session, as the client
//! holds it (a pointer per share, its shape and encoding), and its operations: each checks
//! shapes and precisions at the client, then runs one [`MpcOp`] in the session.

use super::MpcSession;
use super::opening::Opening;
use super::session::{first_error, wait_all};
use crate::error::{Result, WorkerError};
use crate::message::{ObjectId, Request, Response, Value, new_id};
use crate::ops::MpcOp;
use crate::pointer::PointerTensor;
use crate::transport::call_async;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use syft_fixed::{Fixed, FixedEncoder};
use syft_ring::{Prg, Tensor, broadcast_shapes};
use syft_share::AdditiveShares;

/// Where the shares of a [`SharedTensor`] are, for another client that was granted the
/// right to compute with it ([`SharedTensor::handle`], [`SharedTensor::from_handle`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharedHandle {
    /// Per party, in order: its worker id and the share's id there.
    pub shares: Vec<(String, ObjectId)>,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Its fixed-point encoding, if any.
    pub encoder: Option<FixedEncoder>,
}

/// A tensor secret-shared among the parties of a session.
///
/// Shared tensors are immutable: every operation returns a new one. That is what makes
/// reusing an opened mask safe (docs/PROTOCOLS.md §4.3): an opening belongs to one value.
#[derive(Clone)]
pub struct SharedTensor {
    session: Arc<MpcSession>,
    shares: Vec<PointerTensor>,
    shape: Vec<usize>,
    encoder: Option<FixedEncoder>,
    opening: Arc<Opening>,
}

impl std::fmt::Debug for SharedTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[AdditiveSharingTensor {:?}", self.shape)?;
        for s in &self.shares {
            write!(f, " -> {s}")?;
        }
        write!(f, " | crypto provider: {}", self.session.crypto_provider())?;
        if let Some(e) = &self.encoder {
            write!(f, " | fixed precision {}", e.precision_fractional())?;
        }
        write!(f, "]")
    }
}

impl SharedTensor {
    /// Secret-shares a ring tensor among the session's parties. `encoder` says how to read
    /// it (fixed point) or `None` for raw ring values.
    pub fn share(secret: &Tensor<u64>, encoder: Option<FixedEncoder>, session: &Arc<MpcSession>) -> Result<Self> {
        let mut prg = Prg::from_entropy()?;
        let shares = AdditiveShares::split(secret, session.parties(), &mut prg)?;
        Self::store_parts(shares.into_shares(), secret.shape().to_vec(), encoder, session)
    }

    fn from_parts(
        session: Arc<MpcSession>,
        shares: Vec<PointerTensor>,
        shape: Vec<usize>,
        encoder: Option<FixedEncoder>,
    ) -> Self {
        for p in &shares {
            p.mark_share();
        }
        let opening = Arc::new(Opening::new(session.clone()));
        Self { session, shares, shape, encoder, opening }
    }

    /// A public value as a sharing: party 0 holds it, the others hold zeros (no
    /// randomness is needed for what everyone may know).
    pub fn public(value: &Tensor<u64>, encoder: Option<FixedEncoder>, session: &Arc<MpcSession>) -> Result<Self> {
        let zeros = Tensor::<u64>::zeros(value.shape());
        let parts: Vec<Tensor<u64>> =
            (0..session.parties()).map(|i| if i == 0 { value.clone() } else { zeros.clone() }).collect();
        Self::store_parts(parts, value.shape().to_vec(), encoder, session)
    }

    fn store_parts(
        parts: Vec<Tensor<u64>>,
        shape: Vec<usize>,
        encoder: Option<FixedEncoder>,
        session: &Arc<MpcSession>,
    ) -> Result<Self> {
        let mut replies = Vec::with_capacity(parts.len());
        let mut ids: Vec<Vec<ObjectId>> = Vec::with_capacity(parts.len());
        for (p, share) in session.parties.iter().zip(parts) {
            let id = new_id();
            ids.push(vec![id]);
            replies.push(call_async(p.as_ref(), &Request::Store { id, value: Value::Ring(share) }));
        }
        let pointers = session.finish_step(replies, &ids)?.into_iter().flatten().collect();
        Ok(Self::from_parts(session.clone(), pointers, shape, encoder))
    }

    /// Allows client `client` to compute with this tensor's shares (each party is told),
    /// never to read them: what `client` computes from it is restricted to it, and only
    /// `argmax` outputs become readable (see `syft_worker::access`). The model owner of
    /// Part 11 grants its weights to the data owner this way.
    pub fn grant(&self, client: &str) -> Result<()> {
        for p in &self.shares {
            p.grant(client)?;
        }
        Ok(())
    }

    /// What another client needs to compute with this tensor once it is granted: where
    /// each share is, its shape and encoding (no share data).
    #[must_use]
    pub fn handle(&self) -> SharedHandle {
        SharedHandle {
            shares: self.shares.iter().map(|p| (p.location().to_string(), p.id_at_location())).collect(),
            shape: self.shape.clone(),
            encoder: self.encoder,
        }
    }

    /// A tensor someone else shared and granted to this program, in this program's own
    /// `session` (among the same parties, in the same order). Dropping it deletes nothing.
    pub fn from_handle(handle: &SharedHandle, session: &Arc<MpcSession>) -> Result<Self> {
        let parties = session.party_ids();
        let locations: Vec<&str> = handle.shares.iter().map(|(w, _)| w.as_str()).collect();
        if locations != parties {
            return Err(WorkerError::InvalidArgument {
                op: "from_handle",
                reason: format!("shares on {locations:?}, the session's parties are {parties:?}"),
            });
        }
        let shares = handle
            .shares
            .iter()
            .map(|(w, id)| PointerTensor::borrowed(&session.hub, w, *id))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_parts(session.clone(), shares, handle.shape.clone(), handle.encoder))
    }

    /// Marks this tensor as a parameter: products with it on the right open it once and
    /// reuse the opening while it exists (one opening per value; safe because shared
    /// tensors never change).
    pub fn mark_reusable(&self) {
        self.opening.reusable.store(true, Ordering::SeqCst);
    }

    /// Whether products with this tensor on the right reuse an opening.
    #[must_use]
    pub fn is_reusable(&self) -> bool {
        self.opening.reusable.load(Ordering::SeqCst) || self.opening.opened.load(Ordering::SeqCst)
    }

    /// The logical shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The width of this tensor's SecureNN comparisons: the session's setting
    /// ([`MpcSession::set_comparison_bits`]), or 32 bits for a fixed-point encoding and 64
    /// for integers and raw values (docs/PROTOCOLS.md §7).
    #[must_use]
    pub fn comparison_bits(&self) -> u32 {
        self.session.comparison_bits_for(self.encoder)
    }

    /// The fixed-point encoder, or `None` for raw ring values.
    #[must_use]
    pub fn encoder(&self) -> Option<FixedEncoder> {
        self.encoder
    }

    /// The session.
    #[must_use]
    pub fn session(&self) -> &Arc<MpcSession> {
        &self.session
    }

    /// Pointers to the shares (one per party).
    #[must_use]
    pub fn share_pointers(&self) -> &[PointerTensor] {
        &self.shares
    }

    /// Brings every share back and reconstructs the value at the caller, as the fixed-point
    /// tensor it encodes (PySyft's `get()`; `.float_precision()` decodes it, `.raw()` gives
    /// the ring words). Values shared without a fixed-point encoding (bits, counts,
    /// one-hot labels) come back with the integer encoding. The shares are removed from
    /// the workers.
    pub fn get(self) -> Result<Fixed<Tensor<u64>>> {
        // The steps that computed it may still be in flight (a pipelined region).
        self.session.flush()?;
        let encoder = self.encoder.unwrap_or(FixedEncoder::INTEGER);
        let mut replies = Vec::with_capacity(self.shares.len());
        for p in &self.shares {
            let location = self.session.hub.get(p.location())?;
            replies.push(call_async(location.as_ref(), &Request::Get { id: p.id_at_location() }));
        }
        let responses = first_error(wait_all(replies))?;
        for p in &self.shares {
            p.set_garbage_collect_data(false);
        }
        let mut parts = Vec::with_capacity(responses.len());
        for r in responses {
            match r {
                Response::Value(Value::Ring(t)) => parts.push(t),
                other => {
                    return Err(WorkerError::UnexpectedResponse {
                        worker: "party".into(),
                        request: "get share",
                        response: format!("{other:?}"),
                    });
                }
            }
        }
        Ok(Fixed::from_raw(AdditiveShares::from_shares(parts)?.reconstruct(), encoder))
    }

    pub(super) fn same_session(&self, op: &'static str, other: &Self) -> Result<()> {
        if !Arc::ptr_eq(&self.session, &other.session) {
            return Err(WorkerError::InvalidArgument {
                op,
                reason: format!(
                    "operands are shared in different sessions ({:?} and {:?})",
                    self.session.party_ids(),
                    other.session.party_ids()
                ),
            });
        }
        Ok(())
    }

    pub(super) fn ids(&self) -> Vec<Vec<ObjectId>> {
        self.shares.iter().map(|p| vec![p.id_at_location()]).collect()
    }

    pub(super) fn ids2(&self, other: &Self) -> Vec<Vec<ObjectId>> {
        self.shares.iter().zip(&other.shares).map(|(a, b)| vec![a.id_at_location(), b.id_at_location()]).collect()
    }

    pub(super) fn derive(&self, shares: Vec<PointerTensor>, shape: Vec<usize>, encoder: Option<FixedEncoder>) -> Self {
        Self::from_parts(self.session.clone(), shares, shape, encoder)
    }

    /// The encoder of a linear combination: both operands must agree.
    pub(super) fn linear_encoder(&self, op: &'static str, other: &Self) -> Result<Option<FixedEncoder>> {
        if self.encoder != other.encoder {
            return Err(WorkerError::PrecisionMismatch {
                op,
                lhs: format!("{:?}", self.encoder),
                rhs: format!("{:?}", other.encoder),
            });
        }
        Ok(self.encoder)
    }

    /// The encoder and divisor of a product: fixed × fixed is rescaled once; a product with
    /// a raw operand (bits, integers) keeps the other's scale.
    fn product_encoder(&self, op: &'static str, other: &Self) -> Result<(Option<FixedEncoder>, u64)> {
        match (self.encoder, other.encoder) {
            (Some(a), Some(b)) if a != b => {
                Err(WorkerError::PrecisionMismatch { op, lhs: format!("{a:?}"), rhs: format!("{b:?}") })
            }
            (Some(a), Some(_)) => Ok((Some(a), a.scale())),
            (Some(a), None) | (None, Some(a)) => Ok((Some(a), 1)),
            (None, None) => Ok((None, 1)),
        }
    }

    /// `self + other` (broadcasting; local).
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.linear("add", other, MpcOp::Add)
    }

    /// `self − other` (broadcasting; local).
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.linear("sub", other, MpcOp::Sub)
    }

    fn linear(&self, name: &'static str, other: &Self, op: MpcOp) -> Result<Self> {
        self.same_session(name, other)?;
        let enc = self.linear_encoder(name, other)?;
        let shape = broadcast_shapes(name, &self.shape, &other.shape)?;
        let shares = self.session.run(&op, &self.ids2(other))?;
        Ok(self.derive(shares, shape, enc))
    }

    /// `−self` (local).
    pub fn neg(&self) -> Result<Self> {
        let shares = self.session.run(&MpcOp::Neg, &self.ids())?;
        Ok(self.derive(shares, self.shape.clone(), self.encoder))
    }

    /// `self + c` for a public real tensor `c` (encoded with this tensor's encoder; party 0
    /// adds it).
    pub fn add_public(&self, c: &Tensor<f64>) -> Result<Self> {
        let shape = broadcast_shapes("add_public", &self.shape, c.shape())?;
        let enc = self.encoder.ok_or_else(|| WorkerError::InvalidArgument {
            op: "add_public",
            reason: "adding a real constant to a raw ring tensor".into(),
        })?;
        let shares = self.session.run(&MpcOp::AddPublic(enc.encode(c)?), &self.ids())?;
        Ok(self.derive(shares, shape, self.encoder))
    }

    /// `self · c` for a public real scalar.
    ///
    /// The constant is not encoded at the tensor's precision (a learning rate of 10⁻⁴
    /// would then be a single unit): it is written as `m / 2^k` with a 16-bit integer
    /// `m`, so it keeps 16 significant bits at any magnitude. The product with `m` is
    /// local and the division by `2^k` is one truncation, correct to one unit except with
    /// probability `|x·m| / 2^64`.
    pub fn mul_scalar(&self, c: f64) -> Result<Self> {
        if self.encoder.is_none() {
            return Err(WorkerError::InvalidArgument {
                op: "mul_scalar",
                reason: "raw ring tensor times a real".into(),
            });
        }
        let (m, k) = scalar_fraction(c)?;
        let op = MpcOp::MulScalar { c: syft_ring::from_signed(m), scale: 1u64 << k, shape: self.shape.clone() };
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, self.shape.clone(), self.encoder))
    }

    /// `self ⊙ c` for a public ring tensor `c` of the same shape (no rescaling; local, no
    /// messages): e.g. a one-hot of shared bits times a public one-hot.
    pub fn mul_public_raw(&self, c: &Tensor<u64>) -> Result<Self> {
        if c.shape() != self.shape.as_slice() {
            return Err(WorkerError::InvalidArgument {
                op: "mul_public_raw",
                reason: format!("public factor of shape {:?} for a tensor of shape {:?}", c.shape(), self.shape),
            });
        }
        let shares = self.session.run(&MpcOp::MulPublic { c: c.clone(), scale: 1 }, &self.ids())?;
        Ok(self.derive(shares, self.shape.clone(), self.encoder))
    }

    /// `self · k` for a public integer (no rescaling).
    pub fn mul_int(&self, k: i64) -> Result<Self> {
        let op = MpcOp::MulScalar { c: syft_ring::from_signed(k), scale: 1, shape: self.shape.clone() };
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, self.shape.clone(), self.encoder))
    }

    /// `self ⊙ other` (broadcasting; one Beaver round, rescaled for fixed × fixed).
    pub fn mul(&self, other: &Self) -> Result<Self> {
        self.same_session("mul", other)?;
        self.product_encoder("mul", other)?;
        let shape = broadcast_shapes("mul", &self.shape, &other.shape)?;
        let a = if self.shape == shape {
            None
        } else {
            Some(self.local(MpcOp::BroadcastTo(shape.clone()), shape.clone())?)
        };
        let b = if other.shape == shape {
            None
        } else {
            Some(other.local(MpcOp::BroadcastTo(shape.clone()), shape.clone())?)
        };
        let (a, b) = (a.as_ref().unwrap_or(self), b.as_ref().unwrap_or(other));
        a.bilinear("mul", b, syft_spdz::Product::Mul { shape })
    }

    /// `self · other` (one Beaver round, rescaled for fixed × fixed).
    pub fn matmul(&self, other: &Self) -> Result<Self> {
        self.matmul_ex(false, other, false, false)
    }

    /// `op(self) · op(other)`. With `reuse_rhs`, `other` is opened once and the opening
    /// is reused for every later product with it while it exists (model weights): later
    /// products only open `self`.
    pub fn matmul_ex(&self, lhs_t: bool, other: &Self, rhs_t: bool, reuse_rhs: bool) -> Result<Self> {
        self.same_session("matmul", other)?;
        let (enc, scale) = self.product_encoder("matmul", other)?;
        let product = syft_spdz::Product::MatMul { lhs: self.shape.clone(), rhs: other.shape.clone(), lhs_t, rhs_t };
        let shape = product.output_shape()?;
        let op = MpcOp::MatMul {
            lhs: self.shape.clone(),
            rhs: other.shape.clone(),
            lhs_t,
            rhs_t,
            scale,
            reuse_rhs: reuse_rhs.then_some(other.opening.key),
        };
        let shares = self.session.run(&op, &self.ids2(other))?;
        if reuse_rhs {
            other.opening.opened.store(true, Ordering::SeqCst);
        }
        Ok(self.derive(shares, shape, enc))
    }

    /// 2-d convolution of this input with the kernel `kernel` (one Beaver round).
    pub fn conv2d(&self, kernel: &Self, params: syft_ring::Conv2dParams) -> Result<Self> {
        let product = syft_spdz::Product::Conv2d { input: self.shape.clone(), kernel: kernel.shape.clone(), params };
        self.bilinear("conv2d", kernel, product)
    }

    /// The gradient of `conv2d` with respect to its input: this output gradient through the
    /// adjoint of the convolution with `kernel`, for an input of shape `input_shape` (one
    /// Beaver round).
    pub fn conv2d_input_grad(
        &self,
        kernel: &Self,
        input_shape: &[usize],
        params: syft_ring::Conv2dParams,
    ) -> Result<Self> {
        let product =
            syft_spdz::Product::Conv2dInputGrad { input: input_shape.to_vec(), kernel: kernel.shape.clone(), params };
        self.bilinear("conv2d_input_grad", kernel, product)
    }

    /// The gradient of `conv2d` with respect to its kernel (of shape `kernel_shape`), from
    /// this input and the output gradient `grad` (one Beaver round).
    pub fn conv2d_kernel_grad(
        &self,
        grad: &Self,
        kernel_shape: &[usize],
        params: syft_ring::Conv2dParams,
    ) -> Result<Self> {
        let product =
            syft_spdz::Product::Conv2dKernelGrad { input: self.shape.clone(), kernel: kernel_shape.to_vec(), params };
        self.bilinear("conv2d_kernel_grad", grad, product)
    }

    /// The Beaver product `self ∘ other` for the bilinear map `product`, truncated when
    /// both operands are fixed point.
    fn bilinear(&self, name: &'static str, other: &Self, product: syft_spdz::Product) -> Result<Self> {
        self.same_session(name, other)?;
        let (enc, scale) = self.product_encoder(name, other)?;
        let (sx, sy) = product.operand_shapes();
        if self.shape != sx || other.shape != sy {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: name,
                lhs: self.shape.clone(),
                rhs: other.shape.clone(),
            }
            .into());
        }
        let shape = product.output_shape()?;
        let shares = self.session.run(&MpcOp::Product { product, scale }, &self.ids2(other))?;
        Ok(self.derive(shares, shape, enc))
    }

    pub(super) fn two_parties(&self, op: &'static str) -> Result<()> {
        if self.session.parties() != 2 {
            return Err(WorkerError::InvalidArgument {
                op,
                reason: format!(
                    "SecureNN protocols run between two parties, this session has {}",
                    self.session.parties()
                ),
            });
        }
        Ok(())
    }

    /// `max(self, 0)` and the raw bit `[self ≥ 0]` (its derivative, for the backward pass).
    pub fn relu_with_mask(&self) -> Result<(Self, Self)> {
        self.two_parties("relu")?;
        let op = MpcOp::Relu { shape: self.shape.clone(), bits: self.comparison_bits() };
        self.value_and_mask(&op, self.shape.clone(), self.shape.clone())
    }

    /// Runs a two-output SecureNN protocol: a value at this tensor's precision and a raw
    /// (unscaled) mask.
    fn value_and_mask(&self, op: &MpcOp, value_shape: Vec<usize>, mask_shape: Vec<usize>) -> Result<(Self, Self)> {
        let mut outs = self.session.run_multi(op, &self.ids())?;
        let mask = outs.pop().unwrap_or_default();
        let value = outs.pop().unwrap_or_default();
        Ok((self.derive(value, value_shape, self.encoder), self.derive(mask, mask_shape, None)))
    }

    /// `max(self, 0)`.
    pub fn relu(&self) -> Result<Self> {
        Ok(self.relu_with_mask()?.0)
    }

    fn check_axis(&self, op: &'static str, axis: usize) -> Result<()> {
        if axis >= self.shape.len() || self.shape[axis] == 0 {
            return Err(syft_ring::RingError::AxisOutOfRange { op, axis, rank: self.shape.len() }.into());
        }
        Ok(())
    }

    /// The raw one-hot tensor of the maximum along `axis` (input's shape; the first
    /// maximum wins ties).
    pub fn argmax_one_hot(&self, axis: usize) -> Result<Self> {
        self.two_parties("argmax")?;
        self.check_axis("argmax", axis)?;
        let op = MpcOp::ArgmaxOneHot { shape: self.shape.clone(), axis, bits: self.comparison_bits() };
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, self.shape.clone(), None))
    }

    /// The raw index of the maximum along `axis` (axis removed).
    pub fn argmax(&self, axis: usize) -> Result<Self> {
        self.two_parties("argmax")?;
        self.check_axis("argmax", axis)?;
        let mut shape = self.shape.clone();
        shape.remove(axis);
        let op = MpcOp::Argmax { shape: self.shape.clone(), axis, bits: self.comparison_bits() };
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, shape, None))
    }

    /// The maximum along `axis` (axis removed).
    pub fn max(&self, axis: usize) -> Result<Self> {
        self.two_parties("max")?;
        self.check_axis("max", axis)?;
        let mut shape = self.shape.clone();
        shape.remove(axis);
        let op = MpcOp::Max { shape: self.shape.clone(), axis, bits: self.comparison_bits() };
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, shape, self.encoder))
    }

    fn compare(&self, name: &'static str, other: &Self, op: MpcOp) -> Result<Self> {
        self.two_parties(name)?;
        self.same_session(name, other)?;
        self.linear_encoder(name, other)?;
        if self.shape != other.shape {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: name,
                lhs: self.shape.clone(),
                rhs: other.shape.clone(),
            }
            .into());
        }
        let shares = self.session.run(&op, &self.ids2(other))?;
        Ok(self.derive(shares, self.shape.clone(), None))
    }

    /// The raw bit `[self > other]`.
    pub fn gt(&self, other: &Self) -> Result<Self> {
        self.compare("gt", other, MpcOp::Gt { shape: self.shape.clone(), bits: self.comparison_bits() })
    }

    /// The raw bit `[self == other]`.
    pub fn eq(&self, other: &Self) -> Result<Self> {
        self.compare("eq", other, MpcOp::Eq { shape: self.shape.clone(), bits: self.comparison_bits() })
    }

    fn local(&self, op: MpcOp, shape: Vec<usize>) -> Result<Self> {
        let shares = self.session.run(&op, &self.ids())?;
        Ok(self.derive(shares, shape, self.encoder))
    }

    /// The pooling windows of this `[N, C, H, W]` tensor as `[N, C, OH, OW, KH·KW]`, zero
    /// in the padding (local).
    pub fn pool_windows(&self, window: (usize, usize), params: syft_ring::Conv2dParams) -> Result<Self> {
        let shape = pool_windows_shape("pool_windows", &self.shape, window, params)?;
        self.local(MpcOp::PoolWindows { window, params }, shape)
    }

    /// The adjoint of [`pool_windows`](Self::pool_windows): scatter-adds these
    /// `[N, C, OH, OW, KH·KW]` windows back to an input of shape `input_shape` (local).
    pub fn pool_windows_adjoint(
        &self,
        input_shape: &[usize],
        window: (usize, usize),
        params: syft_ring::Conv2dParams,
    ) -> Result<Self> {
        let windows = pool_windows_shape("pool_windows_adjoint", input_shape, window, params)?;
        if self.shape != windows {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "pool_windows_adjoint",
                lhs: self.shape.clone(),
                rhs: windows,
            }
            .into());
        }
        self.local(
            MpcOp::PoolWindowsAdjoint { input_shape: input_shape.to_vec(), window, params },
            input_shape.to_vec(),
        )
    }

    /// 2-d max pooling without padding (SecureNN, two parties): the maxima and the raw
    /// one-hot mask `[N, C, OH, OW, KH·KW]` of each window's first maximum.
    pub fn max_pool2d_with_mask(&self, window: (usize, usize), stride: (usize, usize)) -> Result<(Self, Self)> {
        self.two_parties("max_pool2d")?;
        let params = syft_ring::Conv2dParams { stride, padding: (0, 0) };
        let mask_shape = pool_windows_shape("max_pool2d", &self.shape, window, params)?;
        let value_shape = mask_shape[..4].to_vec();
        let op = MpcOp::MaxPool2d { shape: self.shape.clone(), window, stride, bits: self.comparison_bits() };
        self.value_and_mask(&op, value_shape, mask_shape)
    }

    /// Sum of all elements (local).
    pub fn sum(&self) -> Result<Self> {
        self.local(MpcOp::Sum, Vec::new())
    }

    /// Sum along `axis` (local).
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        if axis >= self.shape.len() {
            return Err(syft_ring::RingError::AxisOutOfRange { op: "sum_axis", axis, rank: self.shape.len() }.into());
        }
        let mut shape = self.shape.clone();
        if keepdim {
            shape[axis] = 1;
        } else {
            shape.remove(axis);
        }
        self.local(MpcOp::SumAxis { axis, keepdim }, shape)
    }

    /// Same data under a new shape (local).
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        if syft_ring::numel(shape) != syft_ring::numel(&self.shape) {
            return Err(syft_ring::RingError::ElementCount {
                op: "reshape",
                shape: shape.to_vec(),
                expected: syft_ring::numel(shape),
                got: syft_ring::numel(&self.shape),
            }
            .into());
        }
        self.local(MpcOp::Reshape(shape.to_vec()), shape.to_vec())
    }

    /// Swaps the last two axes (local).
    pub fn transpose(&self) -> Result<Self> {
        let r = self.shape.len();
        if r < 2 {
            return Err(syft_ring::RingError::RankMismatch {
                op: "transpose",
                expected: ">= 2",
                shape: self.shape.clone(),
            }
            .into());
        }
        let mut shape = self.shape.clone();
        shape.swap(r - 2, r - 1);
        self.local(MpcOp::Transpose, shape)
    }

    /// Broadcast to `shape` (local).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        let b = broadcast_shapes("broadcast_to", &self.shape, shape)?;
        if b != shape {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "broadcast_to",
                lhs: self.shape.clone(),
                rhs: shape.to_vec(),
            }
            .into());
        }
        self.local(MpcOp::BroadcastTo(shape.to_vec()), shape.to_vec())
    }

    /// Sums a broadcast result back to `shape` (local).
    pub fn sum_to_shape(&self, shape: &[usize]) -> Result<Self> {
        let b = broadcast_shapes("sum_to_shape", shape, &self.shape)?;
        if b != self.shape {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "sum_to_shape",
                lhs: self.shape.clone(),
                rhs: shape.to_vec(),
            }
            .into());
        }
        self.local(MpcOp::SumToShape(shape.to_vec()), shape.to_vec())
    }
}

/// Writes a real constant as `m / 2^k` with `|m| < 2^16` and `1 ≤ k ≤ 62` (16 significant
/// bits), for multiplying shares by it with one truncation.
fn scalar_fraction(c: f64) -> Result<(i64, u32)> {
    if !c.is_finite() {
        return Err(WorkerError::InvalidArgument { op: "mul_scalar", reason: format!("{c} is not a finite constant") });
    }
    if c == 0.0 {
        return Ok((0, 1));
    }
    // Largest k with |c|·2^k < 2^16.
    let e = c.abs().log2().floor();
    #[allow(clippy::cast_possible_truncation, reason = "clamped to a small range")]
    let k = (15.0 - e).clamp(1.0, 62.0) as u32;
    let scaled = (c * f64::from(2u32).powi(k as i32)).round();
    if scaled.abs() >= 2f64.powi(62) {
        return Err(WorkerError::InvalidArgument { op: "mul_scalar", reason: format!("constant {c} is too large") });
    }
    #[allow(clippy::cast_possible_truncation, reason = "checked to fit above")]
    Ok((scaled as i64, k))
}

/// The windows' shape `[N, C, OH, OW, KH·KW]` of pooling an input of shape `input`.
fn pool_windows_shape(
    op: &'static str,
    input: &[usize],
    window: (usize, usize),
    params: syft_ring::Conv2dParams,
) -> Result<Vec<usize>> {
    let &[n, c, h, w] = input else {
        return Err(syft_ring::RingError::ShapeMismatch { op, lhs: input.to_vec(), rhs: vec![0; 4] }.into());
    };
    let (oh, ow) = params.output_size(op, (h, w), window)?;
    Ok(vec![n, c, oh, ow, window.0 * window.1])
}
