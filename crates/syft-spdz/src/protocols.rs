//! Party-local SPDZ protocols: Beaver products in one round, squares, truncation, and
//! products with an operand opened once and reused (docs/PROTOCOLS.md §4–5).
//!
//! Every function runs at one computing party with its own shares, its [`TripleSource`]
//! and its [`Comm`]; all computing parties call the same functions in the same order.

use crate::error::{Result, SpdzError};
use crate::material::{Material, Product, Request, SignedFloorDiv};
use crate::source::{PendingCorrection, TripleSource};
use syft_ring::{Conv2dParams, Tensor};
use syft_share::{Comm, CommExt, PartyId};

/// One computing party's context: its channels, its material source, and who the
/// computing parties are (their endpoint ids; this party must be among them).
pub struct Party<'a> {
    /// Channels to the other endpoints.
    pub comm: &'a mut dyn Comm,
    /// Dealer material.
    pub source: &'a mut dyn TripleSource,
    parties: Vec<PartyId>,
    index: usize,
}

impl std::fmt::Debug for Party<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party").field("parties", &self.parties).field("index", &self.index).finish_non_exhaustive()
    }
}

impl<'a> Party<'a> {
    /// A context for the endpoint `comm.id()`, one of the computing parties `parties`.
    pub fn new(comm: &'a mut dyn Comm, source: &'a mut dyn TripleSource, parties: Vec<PartyId>) -> Result<Self> {
        if parties.len() < 2 {
            return Err(SpdzError::TooFewParties { parties: parties.len() });
        }
        let me = comm.id();
        let index = parties.iter().position(|&p| p == me).ok_or(SpdzError::NotAParty { endpoint: me })?;
        Ok(Self { comm, source, parties, index })
    }

    /// This party's index among the computing parties (0 adds public constants).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Number of computing parties.
    #[must_use]
    pub fn parties(&self) -> usize {
        self.parties.len()
    }

    /// The computing parties' endpoint ids.
    #[must_use]
    pub fn party_ids(&self) -> &[PartyId] {
        &self.parties
    }

    /// Opens a shared value to every computing party (one round, `8·|x|` bytes to each peer).
    pub fn open(&mut self, share: &Tensor<u64>) -> Result<Tensor<u64>> {
        let parties = self.parties.clone();
        Ok(self.comm.reveal(share, &parties)?)
    }

    /// Opens `x − a` for every pair together, in one round, without materialising the
    /// differences (see [`CommExt::open_diffs_u64`]).
    fn open_diffs<const N: usize>(&mut self, pairs: [(&Tensor<u64>, &Tensor<u64>); N]) -> Result<[Tensor<u64>; N]> {
        let parties = self.parties.clone();
        let opened = self.comm.open_diffs_u64(&pairs, &parties)?;
        opened.try_into().map_err(|v: Vec<_>| SpdzError::InvalidArgument {
            op: "open",
            reason: format!("{} values opened for {N} requested", v.len()),
        })
    }

    fn material(&mut self, request: &Request) -> Result<Material> {
        let (_, m) = self.source.next(self.comm, request)?;
        Ok(m)
    }

    /// Adds a public tensor to a shared one (party 0 only adds).
    pub fn add_public(&self, share: &Tensor<u64>, public: &Tensor<u64>) -> Result<Tensor<u64>> {
        if self.index == 0 { Ok(share.add(public)?) } else { Ok(share.add(&Tensor::zeros(public.shape()))?) }
    }

    /// The Beaver product `x ∘ y` for any bilinear `product` (one round).
    pub fn product(&mut self, product: &Product, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let (sx, sy) = product.operand_shapes();
        if x.shape() != sx || y.shape() != sy {
            return Err(SpdzError::ShapeMismatch {
                op: "beaver product",
                lhs: x.shape().to_vec(),
                rhs: y.shape().to_vec(),
            });
        }
        product.output_shape()?;
        // The last party's `c` is received at the end (`next_deferred`): its differences
        // leave while the dealer is still computing `c`.
        let (_, material, pending) = self.source.next_deferred(self.comm, &Request::Triple(product.clone()))?;
        let Material::Triple { a, b, c } = material else {
            return Err(SpdzError::WrongMaterial { expected: "triple" });
        };
        // One round: send both differences, then receive `e` (usually the smaller) and use
        // it before `f` is decoded, so that any wait for the peers' larger message overlaps
        // with the first product.
        let parties = self.parties.clone();
        self.comm.send_diffs_u64(&[(x, &a), (y, &b)], &parties)?;
        let e = self.comm.recv_opened_diff_u64(x, &a, &parties)?;
        // ⟨z⟩_i = ⟨c⟩_i + e∘⟨b⟩_i + ⟨a⟩_i∘f, and party 0 adds e∘f. Bilinearity lets party 0
        // fold that term into an operand, in place: (⟨a⟩_0 + e)∘f when `x` is the smaller
        // operand, e∘(⟨b⟩_0 + f) otherwise. Two products in all, no large temporary.
        let fold_into_a = self.index == 0 && a.len() <= b.len();
        let mut z = c;
        if self.index != 0 || fold_into_a {
            product.apply_add(&mut z, &e, &b)?;
            // ⟨b⟩ is not needed any more: decode f over it.
            let f = self.comm.recv_opened_diff_into_u64(y, b, &parties)?;
            let mut a = a;
            if fold_into_a {
                a.add_assign(&e)?;
            }
            product.apply_add(&mut z, &a, &f)?;
        } else {
            let f = self.comm.recv_opened_diff_u64(y, &b, &parties)?;
            let mut b = b;
            b.add_assign(&f)?;
            product.apply_add(&mut z, &e, &b)?;
            product.apply_add(&mut z, &a, &f)?;
        }
        self.add_pending(z, pending)
    }

    /// Adds the last party's correction, received now, to its share `z`.
    fn add_pending(&mut self, mut z: Tensor<u64>, pending: Option<PendingCorrection>) -> Result<Tensor<u64>> {
        if let Some(p) = pending {
            z.add_assign(&p.receive(self.comm)?)?;
        }
        Ok(z)
    }

    /// Elementwise product of two shared tensors of one shape (one round, `16·|x|` bytes
    /// to each peer for two parties).
    pub fn mul(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        if x.shape() != y.shape() {
            return Err(SpdzError::ShapeMismatch { op: "mul", lhs: x.shape().to_vec(), rhs: y.shape().to_vec() });
        }
        self.product(&Product::Mul { shape: x.shape().to_vec() }, x, y)
    }

    /// Matrix product of shared tensors, 2-d or batched (one round).
    pub fn matmul(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        self.matmul_t(x, false, y, false)
    }

    /// Matrix product `op(x) · op(y)` with optional transposes (one round).
    pub fn matmul_t(&mut self, x: &Tensor<u64>, x_t: bool, y: &Tensor<u64>, y_t: bool) -> Result<Tensor<u64>> {
        let product = Product::MatMul { lhs: x.shape().to_vec(), rhs: y.shape().to_vec(), lhs_t: x_t, rhs_t: y_t };
        self.product(&product, x, y)
    }

    /// 2-d convolution of a shared input with a shared kernel (one round; opens the input
    /// and the kernel, not the im2col matrix).
    pub fn conv2d(&mut self, x: &Tensor<u64>, k: &Tensor<u64>, params: Conv2dParams) -> Result<Tensor<u64>> {
        let product = Product::Conv2d { input: x.shape().to_vec(), kernel: k.shape().to_vec(), params };
        self.product(&product, x, k)
    }

    /// The gradient of `conv2d` with respect to its input: `grad` (shaped like the
    /// convolution's output) through the adjoint of `input ↦ input ⋆ kernel`, for an input
    /// of shape `input_shape`. One round (opens `grad` and the kernel).
    pub fn conv2d_input_grad(
        &mut self,
        grad: &Tensor<u64>,
        kernel: &Tensor<u64>,
        input_shape: &[usize],
        params: Conv2dParams,
    ) -> Result<Tensor<u64>> {
        let product = Product::Conv2dInputGrad { input: input_shape.to_vec(), kernel: kernel.shape().to_vec(), params };
        self.product(&product, grad, kernel)
    }

    /// The gradient of `conv2d` with respect to its kernel, of shape `kernel_shape`, from
    /// the convolution's input and output gradient. One round (opens both).
    pub fn conv2d_kernel_grad(
        &mut self,
        input: &Tensor<u64>,
        grad: &Tensor<u64>,
        kernel_shape: &[usize],
        params: Conv2dParams,
    ) -> Result<Tensor<u64>> {
        let product =
            Product::Conv2dKernelGrad { input: input.shape().to_vec(), kernel: kernel_shape.to_vec(), params };
        self.product(&product, input, grad)
    }

    /// `x ⊙ x` with a square pair (one round, `8·|x|` bytes to each peer).
    pub fn square(&mut self, x: &Tensor<u64>) -> Result<Tensor<u64>> {
        let Material::Square { a, a2 } = self.material(&Request::Square { shape: x.shape().to_vec() })? else {
            return Err(SpdzError::WrongMaterial { expected: "square pair" });
        };
        let [e] = self.open_diffs([(x, &a)])?;
        // ⟨z⟩ = ⟨a²⟩ + 2e⟨a⟩ (+ e² at party 0)
        let mut z = a2;
        z.zip_assign(&e.mul(&a)?, |z, v| z.wrapping_add(v.wrapping_mul(2)))?;
        if self.index == 0 {
            z.zip_assign(&e, |z, e| z.wrapping_add(e.wrapping_mul(e)))?;
        }
        Ok(z)
    }

    /// Divides a shared value by the public `scale`, rounding to within one unit.
    ///
    /// Two parties: local truncation (no communication; fails with probability
    /// `|x|/2^64`, see the crate docs). More parties: a truncation pair from the dealer
    /// (one round; the same failure probability). The failure probability is at most
    /// `2^-40` for `|x| ≤ 2^24`, i.e. `|v1·v2| ≤ 2^24/s²` for a product of values at scale
    /// `s` (`syft_fixed::FixedEncoder::safe_product_abs`); `2^63/s²`, where the product
    /// merely fits, fails half of the time.
    pub fn truncate(&mut self, x: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        check_scale(scale)?;
        if self.parties.len() == 2 { truncate_local(x, scale, self.index) } else { self.truncate_with_pair(x, scale) }
    }

    /// [`truncate`](Self::truncate) of an owned share, reusing its buffer (two parties: in
    /// place, one pass and no allocation). On an error `x` is left unchanged.
    pub fn truncate_owned(&mut self, mut x: Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        check_scale(scale)?;
        if self.parties.len() == 2 {
            x.map_inplace(local_truncation(scale, self.index)?);
            Ok(x)
        } else {
            self.truncate_with_pair(&x, scale)
        }
    }

    /// Truncation with a dealer pair `(r, floor(r/s))`: opens `x − r` (one round). Works
    /// for any number of parties.
    pub fn truncate_with_pair(&mut self, x: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        let Material::Trunc { r, r_trunc } = self.material(&Request::Trunc { shape: x.shape().to_vec(), scale })?
        else {
            return Err(SpdzError::WrongMaterial { expected: "truncation pair" });
        };
        let [c] = self.open_diffs([(x, &r)])?;
        if self.index == 0 {
            // ceil(sgn(c)/s) = −floor(−sgn(c)/s)
            let div = SignedFloorDiv::new(scale)?;
            Ok(r_trunc.zip_map(&c, |rt, c| rt.wrapping_add(div.floor(c.wrapping_neg()).wrapping_neg()))?)
        } else {
            Ok(r_trunc)
        }
    }

    /// Opens `w − B` once for an operand that will be the right-hand side of many products
    /// (model weights). Costs `8·|w|` bytes to each peer, one round, once.
    pub fn open_operand(&mut self, w: &Tensor<u64>) -> Result<OpenedOperand> {
        let (req, material) = self.source.next(self.comm, &Request::Mask { shape: w.shape().to_vec() })?;
        let Material::Mask { b } = material else {
            return Err(SpdzError::WrongMaterial { expected: "mask" });
        };
        let [f] = self.open_diffs([(w, &b)])?;
        // Party 0 multiplies `e` by `⟨B⟩_0 + F` in every product (see `product_opened`): form it once.
        let b_plus_f = if self.index == 0 { Some(b.add(&f)?) } else { None };
        Ok(OpenedOperand { mask_req: req, b, f, b_plus_f })
    }

    /// `op(x) · op(W)` where W was opened once by [`open_operand`](Self::open_operand):
    /// only `x − A` is opened (`8·|x|` bytes to each peer, one round).
    ///
    /// The rule for reuse (docs/PROTOCOLS.md §4.3): W must not have changed since it was
    /// opened.
    pub fn matmul_opened(&mut self, x: &Tensor<u64>, x_t: bool, w: &OpenedOperand, w_t: bool) -> Result<Tensor<u64>> {
        let product = Product::MatMul { lhs: x.shape().to_vec(), rhs: w.f.shape().to_vec(), lhs_t: x_t, rhs_t: w_t };
        self.product_opened(&product, x, w)
    }

    /// Convolution `x ⋆ W` with an opened kernel (only the input is opened).
    pub fn conv2d_opened(&mut self, x: &Tensor<u64>, w: &OpenedOperand, params: Conv2dParams) -> Result<Tensor<u64>> {
        let product = Product::Conv2d { input: x.shape().to_vec(), kernel: w.f.shape().to_vec(), params };
        self.product_opened(&product, x, w)
    }

    /// Elementwise `x ⊙ W` with an opened W (only `x − A` is opened).
    pub fn mul_opened(&mut self, x: &Tensor<u64>, w: &OpenedOperand) -> Result<Tensor<u64>> {
        if x.shape() != w.f.shape() {
            return Err(SpdzError::ShapeMismatch {
                op: "mul_opened",
                lhs: x.shape().to_vec(),
                rhs: w.f.shape().to_vec(),
            });
        }
        self.product_opened(&Product::Mul { shape: x.shape().to_vec() }, x, w)
    }

    fn product_opened(&mut self, product: &Product, x: &Tensor<u64>, w: &OpenedOperand) -> Result<Tensor<u64>> {
        let (sx, _) = product.operand_shapes();
        if x.shape() != sx {
            return Err(SpdzError::ShapeMismatch {
                op: "product with opened operand",
                lhs: x.shape().to_vec(),
                rhs: sx,
            });
        }
        product.output_shape()?;
        let request = Request::TripleWithMask {
            product: product.clone(),
            mask_req: w.mask_req,
            mask_shape: w.f.shape().to_vec(),
        };
        let (_, material, pending) = self.source.next_deferred(self.comm, &request)?;
        let Material::Triple { a, c, .. } = material else {
            return Err(SpdzError::WrongMaterial { expected: "triple with mask" });
        };
        let parties = self.parties.clone();
        self.comm.send_diffs_u64(&[(x, &a)], &parties)?;
        let mut z = c;
        if let (None, 0) = (&w.b_plus_f, self.index) {
            // ⟨z⟩_0 = ⟨c⟩_0 + e∘⟨B⟩_0 + (⟨A⟩_0 + e)∘F.
            let e = self.comm.recv_opened_diff_u64(x, &a, &parties)?;
            let mut a = a;
            a.add_assign(&e)?;
            product.apply_add(&mut z, &e, &w.b)?;
            product.apply_add(&mut z, &a, &w.f)?;
            return self.add_pending(z, pending);
        }
        // ⟨A⟩_i∘F needs no opening: it is computed while the peers' differences travel, so
        // a wait for a peer that is late overlaps with half of the work.
        product.apply_add(&mut z, &a, &w.f)?;
        let e = self.comm.recv_opened_diff_u64(x, &a, &parties)?;
        match (&w.b_plus_f, self.index) {
            // ⟨z⟩_0 = ⟨c⟩_0 + e∘(⟨B⟩_0 + F) + ⟨A⟩_0∘F, with ⟨B⟩_0 + F formed once.
            (Some(b_plus_f), 0) => product.apply_add(&mut z, &e, b_plus_f)?,
            // ⟨z⟩_i = ⟨c⟩_i + e∘⟨B⟩_i + ⟨A⟩_i∘F.
            _ => product.apply_add(&mut z, &e, &w.b)?,
        }
        self.add_pending(z, pending)
    }
}

/// An operand opened once as `F = W − B`, with this party's share of the mask `B`.
#[derive(Clone, Debug)]
pub struct OpenedOperand {
    /// The request that drew the mask (its PRG streams).
    pub mask_req: u64,
    /// This party's share of the mask.
    b: Tensor<u64>,
    /// The opened difference `W − B` (public among the computing parties).
    f: Tensor<u64>,
    /// Party 0 only: `⟨B⟩_0 + F`, the right factor of `e` in its share of every product.
    b_plus_f: Option<Tensor<u64>>,
}

impl OpenedOperand {
    /// Shape of the operand.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        self.f.shape()
    }
}

/// Checks a truncation scale: `2 ≤ scale ≤ 2^63 − 1`.
fn check_scale(scale: u64) -> Result<()> {
    if scale < 2 || scale > i64::MAX as u64 {
        return Err(SpdzError::InvalidArgument { op: "truncate", reason: format!("scale {scale} not in 2..=2^63-1") });
    }
    Ok(())
}

/// Local (SecureML) truncation of a two-party share: party 0 computes `floor(z0/s)`,
/// party 1 computes `−floor(−z1/s)` (docs/PROTOCOLS.md §5.2). Wrong (off by about
/// `2^64/s`) with probability `|x|/2^64` for the shared value `x`, when the uniformly
/// random shares wrap around: at most `2^-40` for `|x| ≤ 2^24`.
pub fn truncate_local(share: &Tensor<u64>, scale: u64, index: usize) -> Result<Tensor<u64>> {
    Ok(share.map(local_truncation(scale, index)?))
}

/// Local truncation of one element of party `index`'s share.
fn local_truncation(scale: u64, index: usize) -> Result<impl Fn(u64) -> u64> {
    let div = SignedFloorDiv::new(scale)?;
    let negate = index != 0;
    Ok(move |z: u64| if negate { div.floor(z.wrapping_neg()).wrapping_neg() } else { div.floor(z) })
}
