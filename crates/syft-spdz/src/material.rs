//! Dealer material: what each request needs, how every party expands its share from a
//! 128-bit seed, and how the dealer computes the one correction tensor it sends.
//!
//! PRG-seed compression (docs/PROTOCOLS.md §3.4): for request number `req`, party `i`
//! derives `⟨a⟩_i = Stream(k_i, req, 1)`, `⟨b⟩_i = Stream(k_i, req, 2)` and, unless it is
//! the last party, `⟨c⟩_i = Stream(k_i, req, 3)`. The dealer derives every stream, computes
//! `c = a ∘ b` and sends `c − Σ_{i<last} ⟨c⟩_i` to the last party: `8·|c|` bytes in all.

use crate::error::{Result, SpdzError};
use serde::{Deserialize, Serialize};
use syft_ring::{Conv2dParams, Parallelism, Prg, Seed, Tensor, Transpose, numel};

/// Stream labels (docs/PROTOCOLS.md §3.3).
pub mod labels {
    /// Triple `a`.
    pub const TRIPLE_A: u16 = 0x0001;
    /// Triple `b`.
    pub const TRIPLE_B: u16 = 0x0002;
    /// Triple `c`.
    pub const TRIPLE_C: u16 = 0x0003;
    /// Square pair `a`.
    pub const SQUARE_A: u16 = 0x0004;
    /// Square pair `a²`.
    pub const SQUARE_A2: u16 = 0x0005;
    /// Truncation pair `r`.
    pub const TRUNC_R: u16 = 0x0010;
    /// Truncation pair `r' = floor(r / s)`.
    pub const TRUNC_R2: u16 = 0x0011;
}

/// The bilinear map of a triple.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Product {
    /// Elementwise product of two tensors of one shape.
    Mul {
        /// The common shape.
        shape: Vec<usize>,
    },
    /// Matrix product `op(a) · op(b)` (batched when rank > 2; batch axes broadcast).
    MatMul {
        /// Stored shape of the left operand.
        lhs: Vec<usize>,
        /// Stored shape of the right operand.
        rhs: Vec<usize>,
        /// Whether the left operand is used transposed.
        lhs_t: bool,
        /// Whether the right operand is used transposed.
        rhs_t: bool,
    },
    /// 2-d convolution `input ⋆ kernel`.
    Conv2d {
        /// Input shape `[N, C, H, W]`.
        input: Vec<usize>,
        /// Kernel shape `[O, C, KH, KW]`.
        kernel: Vec<usize>,
        /// Stride and padding.
        params: Conv2dParams,
    },
    /// The gradient of a convolution with respect to its input: the adjoint of
    /// `input ↦ input ⋆ kernel` applied to `grad` (operands `grad`, `kernel`; the result
    /// has the input's shape). Bilinear in (grad, kernel).
    Conv2dInputGrad {
        /// The convolution's input shape `[N, C, H, W]` (the result's shape).
        input: Vec<usize>,
        /// Kernel shape `[O, C, KH, KW]`.
        kernel: Vec<usize>,
        /// Stride and padding of the convolution.
        params: Conv2dParams,
    },
    /// The gradient of a convolution with respect to its kernel (operands `input`,
    /// `grad`; the result has the kernel's shape). Bilinear in (input, grad).
    Conv2dKernelGrad {
        /// Input shape `[N, C, H, W]`.
        input: Vec<usize>,
        /// The convolution's kernel shape `[O, C, KH, KW]` (the result's shape).
        kernel: Vec<usize>,
        /// Stride and padding of the convolution.
        params: Conv2dParams,
    },
}

fn tr(t: bool) -> Transpose {
    if t { Transpose::Yes } else { Transpose::No }
}

impl Product {
    /// Shapes of the two operands (as stored).
    #[must_use]
    pub fn operand_shapes(&self) -> (Vec<usize>, Vec<usize>) {
        match self {
            Self::Mul { shape } => (shape.clone(), shape.clone()),
            Self::MatMul { lhs, rhs, .. } => (lhs.clone(), rhs.clone()),
            Self::Conv2d { input, kernel, .. } => (input.clone(), kernel.clone()),
            Self::Conv2dInputGrad { input, kernel, params } => {
                (conv_output_shape(input, kernel, *params).unwrap_or_default(), kernel.clone())
            }
            Self::Conv2dKernelGrad { input, kernel, params } => {
                (input.clone(), conv_output_shape(input, kernel, *params).unwrap_or_default())
            }
        }
    }

    /// Applies the bilinear map to plaintext ring tensors (used by the dealer and by the
    /// parties on opened values).
    pub fn apply(&self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(match self {
            Self::Mul { .. } => x.mul(y)?,
            Self::MatMul { lhs_t, rhs_t, .. } => x.matmul_ex(tr(*lhs_t), y, tr(*rhs_t), Parallelism::Auto)?,
            Self::Conv2d { params, .. } => x.conv2d(y, *params)?,
            Self::Conv2dInputGrad { input, params, .. } => Tensor::conv2d_input_grad(x, y, input, *params)?,
            Self::Conv2dKernelGrad { kernel, params, .. } => Tensor::conv2d_kernel_grad(x, y, kernel, *params)?,
        })
    }

    /// `out += op(x) ∘ op(y)`, without a temporary for 2-d matrix products.
    pub fn apply_add(&self, out: &mut Tensor<u64>, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<()> {
        match self {
            Self::MatMul { lhs, rhs, lhs_t, rhs_t } if lhs.len() == 2 && rhs.len() == 2 => {
                out.add_matmul(x, tr(*lhs_t), y, tr(*rhs_t))?;
            }
            _ => out.add_assign(&self.apply(x, y)?)?,
        }
        Ok(())
    }

    /// Shape of the result, checking that the operand shapes fit together.
    pub fn output_shape(&self) -> Result<Vec<usize>> {
        let (a, b) = self.operand_shapes();
        // Shape inference by applying the map to zero tensors would cost a product; do it
        // symbolically instead.
        match self {
            Self::Mul { shape } => Ok(shape.clone()),
            Self::MatMul { lhs_t, rhs_t, .. } => {
                if a.len() < 2 || b.len() < 2 {
                    return Err(SpdzError::ShapeMismatch { op: "matmul", lhs: a, rhs: b });
                }
                let (m, k) = if *lhs_t { (a[a.len() - 1], a[a.len() - 2]) } else { (a[a.len() - 2], a[a.len() - 1]) };
                let (k2, n) = if *rhs_t { (b[b.len() - 1], b[b.len() - 2]) } else { (b[b.len() - 2], b[b.len() - 1]) };
                if k != k2 {
                    return Err(SpdzError::ShapeMismatch { op: "matmul", lhs: a, rhs: b });
                }
                let mut batch = syft_ring::broadcast_shapes("matmul", &a[..a.len() - 2], &b[..b.len() - 2])?;
                batch.push(m);
                batch.push(n);
                Ok(batch)
            }
            Self::Conv2d { input, kernel, params } => conv_output_shape(input, kernel, *params),
            Self::Conv2dInputGrad { input, kernel, params } => {
                conv_output_shape(input, kernel, *params)?;
                Ok(input.clone())
            }
            Self::Conv2dKernelGrad { input, kernel, params } => {
                conv_output_shape(input, kernel, *params)?;
                Ok(kernel.clone())
            }
        }
    }
}

/// The output shape `[N, O, OH, OW]` of a convolution of `input` `[N, C, H, W]` with
/// `kernel` `[O, C, KH, KW]`, checking that they fit together.
fn conv_output_shape(input: &[usize], kernel: &[usize], params: Conv2dParams) -> Result<Vec<usize>> {
    match (input, kernel) {
        (&[n, c, h, w], &[o, kc, kh, kw]) if c == kc => {
            let (oh, ow) = params.output_size("conv2d", (h, w), (kh, kw))?;
            Ok(vec![n, o, oh, ow])
        }
        _ => Err(SpdzError::ShapeMismatch { op: "conv2d", lhs: input.to_vec(), rhs: kernel.to_vec() }),
    }
}

/// One request to the dealer. Every party and the dealer process the same sequence of
/// requests; the `n`-th request of a session uses stream counter `req = n`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// A Beaver triple `(a, b, c = a ∘ b)`.
    Triple(Product),
    /// A triple whose `b` is the mask of an earlier [`Request::Mask`] (number `mask_req`),
    /// for products with an operand that was opened once and is reused
    /// (docs/PROTOCOLS.md §4.3).
    TripleWithMask {
        /// The product; its right operand is the masked one.
        product: Product,
        /// The request number of the mask.
        mask_req: u64,
        /// Stored shape of the masked operand when the mask was drawn.
        mask_shape: Vec<usize>,
    },
    /// A mask `b` alone (label 2), to open an operand once and reuse it.
    Mask {
        /// Shape of the operand.
        shape: Vec<usize>,
    },
    /// A square pair `(a, a²)`.
    Square {
        /// Shape.
        shape: Vec<usize>,
    },
    /// A truncation pair `(r, floor(sgn(r) / scale))`.
    Trunc {
        /// Shape.
        shape: Vec<usize>,
        /// The divisor.
        scale: u64,
    },
}

impl Request {
    /// Elements of the correction tensor the last party receives (0 for a mask).
    pub fn correction_len(&self) -> Result<usize> {
        Ok(match self {
            Self::Triple(p) | Self::TripleWithMask { product: p, .. } => numel(&p.output_shape()?),
            Self::Mask { .. } => 0,
            Self::Square { shape } | Self::Trunc { shape, .. } => numel(shape),
        })
    }

    /// Shape of the correction tensor (empty slice for a mask).
    pub fn correction_shape(&self) -> Result<Vec<usize>> {
        Ok(match self {
            Self::Triple(p) | Self::TripleWithMask { product: p, .. } => p.output_shape()?,
            Self::Mask { .. } => vec![0],
            Self::Square { shape } | Self::Trunc { shape, .. } => shape.clone(),
        })
    }

    fn check(&self) -> Result<()> {
        match self {
            Self::Trunc { scale, .. } if *scale < 2 || *scale > i64::MAX as u64 => Err(SpdzError::InvalidArgument {
                op: "truncation pair",
                reason: format!("scale {scale} not in 2..=2^63-1"),
            }),
            Self::TripleWithMask { product, mask_shape, .. } => {
                let (_, rhs) = product.operand_shapes();
                if &rhs != mask_shape {
                    return Err(SpdzError::ShapeMismatch { op: "triple with mask", lhs: rhs, rhs: mask_shape.clone() });
                }
                product.output_shape().map(|_| ())
            }
            _ => self.correction_len().map(|_| ()),
        }
    }
}

/// One party's share of the material for a request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Material {
    /// Shares of a triple `(a, b, c)`.
    Triple {
        /// ⟨a⟩.
        a: Tensor<u64>,
        /// ⟨b⟩.
        b: Tensor<u64>,
        /// ⟨c⟩.
        c: Tensor<u64>,
    },
    /// Share of a mask `b`.
    Mask {
        /// ⟨b⟩.
        b: Tensor<u64>,
    },
    /// Shares of a square pair.
    Square {
        /// ⟨a⟩.
        a: Tensor<u64>,
        /// ⟨a²⟩.
        a2: Tensor<u64>,
    },
    /// Shares of a truncation pair.
    Trunc {
        /// ⟨r⟩.
        r: Tensor<u64>,
        /// ⟨r'⟩ with r' = floor(sgn(r)/s).
        r_trunc: Tensor<u64>,
    },
}

/// The streams one party expands from its seed.
#[derive(Clone, Copy, Debug)]
pub struct PartySeed {
    /// This party's index among the computing parties.
    pub party: usize,
    /// Number of computing parties.
    pub parties: usize,
    /// The seed shared with the dealer.
    pub seed: Seed,
}

fn stream(seed: &Seed, req: u64, label: u16, shape: &[usize]) -> Tensor<u64> {
    Prg::stream(seed, req, label).u64_tensor(shape)
}

impl PartySeed {
    /// Whether this party receives the dealer's corrections.
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.party + 1 == self.parties
    }

    /// This party's material for request number `req`. The last party passes the
    /// correction it received from the dealer; the others pass `None`.
    pub fn expand(&self, req: u64, request: &Request, correction: Option<Tensor<u64>>) -> Result<Material> {
        request.check()?;
        let s = &self.seed;
        let own_or_corr = |label: u16, shape: &[usize], corr: Option<Tensor<u64>>| -> Result<Tensor<u64>> {
            if self.is_last() {
                let c = corr.ok_or(SpdzError::MissingCorrection { req })?;
                if c.shape() != shape {
                    return Err(SpdzError::ShapeMismatch {
                        op: "dealer correction",
                        lhs: c.shape().to_vec(),
                        rhs: shape.to_vec(),
                    });
                }
                Ok(c)
            } else {
                Ok(stream(s, req, label, shape))
            }
        };
        Ok(match request {
            Request::Triple(p) => {
                let (sa, sb) = p.operand_shapes();
                let a = stream(s, req, labels::TRIPLE_A, &sa);
                let b = stream(s, req, labels::TRIPLE_B, &sb);
                let c = own_or_corr(labels::TRIPLE_C, &p.output_shape()?, correction)?;
                Material::Triple { a, b, c }
            }
            Request::TripleWithMask { product, .. } => {
                // The party already holds its share of the mask from the Mask request;
                // it is not expanded again (an empty placeholder stands in for b).
                let (sa, _) = product.operand_shapes();
                let a = stream(s, req, labels::TRIPLE_A, &sa);
                let b = Tensor::zeros(&[0]);
                let c = own_or_corr(labels::TRIPLE_C, &product.output_shape()?, correction)?;
                Material::Triple { a, b, c }
            }
            Request::Mask { shape } => Material::Mask { b: stream(s, req, labels::TRIPLE_B, shape) },
            Request::Square { shape } => {
                let a = stream(s, req, labels::SQUARE_A, shape);
                let a2 = own_or_corr(labels::SQUARE_A2, shape, correction)?;
                Material::Square { a, a2 }
            }
            Request::Trunc { shape, .. } => {
                let r = stream(s, req, labels::TRUNC_R, shape);
                let r_trunc = own_or_corr(labels::TRUNC_R2, shape, correction)?;
                Material::Trunc { r, r_trunc }
            }
        })
    }
}

/// Signed floor division in Z_2^64: `floor(sgn(v) / s) mod 2^64` (`1 ≤ s ≤ 2^63 − 1`).
#[must_use]
pub fn floor_div_signed(v: u64, s: u64) -> u64 {
    #[allow(clippy::cast_possible_wrap, reason = "scales are checked to fit in i64")]
    let s = s as i64;
    (v as i64).div_euclid(s) as u64
}

/// [`floor_div_signed`] by one divisor for many elements: the division becomes a
/// multiplication by a precomputed reciprocal (a hardware 64-bit division costs tens of
/// cycles; truncating every output of a layer is one per element).
#[derive(Clone, Copy, Debug)]
pub struct SignedFloorDiv {
    divisor: strength_reduce::StrengthReducedU64,
}

impl SignedFloorDiv {
    /// A divisor `s` with `1 ≤ s ≤ 2^63 − 1`.
    pub fn new(s: u64) -> Result<Self> {
        if s == 0 || s > i64::MAX as u64 {
            return Err(SpdzError::InvalidArgument {
                op: "signed floor division",
                reason: format!("divisor {s} not in 1..=2^63-1"),
            });
        }
        Ok(Self { divisor: strength_reduce::StrengthReducedU64::new(s) })
    }

    /// `floor(sgn(v) / s) mod 2^64`, equal to [`floor_div_signed`]`(v, s)`.
    ///
    /// For negative `v`, `floor(v/s) = −floor((−v − 1)/s) − 1`, i.e. the bitwise
    /// complement of `!v / s`; with `m` all ones for negative `v`, both cases are
    /// `m ^ ((v ^ m) / s)` on non-negative operands.
    #[must_use]
    #[inline]
    pub fn floor(&self, v: u64) -> u64 {
        #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss, reason = "sign mask of v")]
        let m = ((v as i64) >> 63) as u64;
        m ^ ((v ^ m) / self.divisor)
    }
}

/// The dealer (crypto provider): holds one seed per computing party and computes the
/// correction tensor of each request for the last party.
pub struct Dealer {
    seeds: Vec<Seed>,
    req: u64,
    stats: DealerStats,
    /// Reused masks `b = Σ Stream(k_i, mask_req, 2)` already derived, by mask request,
    /// oldest first (docs/PROTOCOLS.md §4.3: products with an operand opened once reuse its
    /// mask).
    masks: Vec<(u64, Tensor<u64>)>,
}

/// At most this many mask elements are kept derived (64 MB); older masks are derived
/// again from their streams when used.
const MASK_CACHE_ELEMENTS: usize = 1 << 23;

impl std::fmt::Debug for Dealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dealer").field("parties", &self.seeds.len()).field("req", &self.req).finish_non_exhaustive()
    }
}

/// What the dealer has produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DealerStats {
    /// Requests served.
    pub requests: u64,
    /// Correction bytes for the last party (8 per element).
    pub correction_bytes: u64,
    /// Seed bytes sent at session start (16 per party that expands a seed).
    pub seed_bytes: u64,
    /// Multiply-adds the dealer spent computing `c` (a cost figure for benches).
    pub elements: u64,
}

impl Dealer {
    /// A dealer with fresh seeds from system entropy for `parties` computing parties.
    pub fn new(parties: usize) -> Result<Self> {
        let seeds = (0..parties).map(|_| Seed::from_entropy()).collect::<std::result::Result<Vec<_>, _>>()?;
        Self::with_seeds(seeds)
    }

    /// A dealer with the given seeds (reproducible tests).
    pub fn with_seeds(seeds: Vec<Seed>) -> Result<Self> {
        if seeds.len() < 2 {
            return Err(SpdzError::TooFewParties { parties: seeds.len() });
        }
        Ok(Self { seeds, req: 0, stats: DealerStats::default(), masks: Vec::new() })
    }

    /// Number of computing parties.
    #[must_use]
    pub fn parties(&self) -> usize {
        self.seeds.len()
    }

    /// The seed of party `i` (sent to it once at session start; 16 bytes).
    pub fn party_seed(&mut self, i: usize) -> Result<PartySeed> {
        let seed = *self.seeds.get(i).ok_or(SpdzError::TooFewParties { parties: i })?;
        self.stats.seed_bytes += 16;
        Ok(PartySeed { party: i, parties: self.seeds.len(), seed })
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> DealerStats {
        self.stats
    }

    /// The number the next request will get.
    #[must_use]
    pub fn next_req(&self) -> u64 {
        self.req + 1
    }

    /// Takes the next request number for a protocol that draws its own streams (the
    /// dealer's side of [`TripleSource::reserve_req`](crate::TripleSource::reserve_req)).
    pub fn reserve_req(&mut self) -> u64 {
        self.req += 1;
        self.req
    }

    /// The seed the dealer shares with computing party `i` (for helper protocols that
    /// derive a party's share of a helper-dealt value from it).
    pub fn seed_of(&self, i: usize) -> Result<Seed> {
        self.seeds.get(i).copied().ok_or(SpdzError::TooFewParties { parties: i })
    }

    fn sum_stream(&self, req: u64, label: u16, shape: &[usize], parties: std::ops::Range<usize>) -> Tensor<u64> {
        let mut parties = parties;
        let Some(first) = parties.next() else { return Tensor::zeros(shape) };
        let mut acc = stream(&self.seeds[first], req, label, shape);
        for i in parties {
            let t = stream(&self.seeds[i], req, label, shape);
            for (x, y) in acc.data_mut().iter_mut().zip(t.data()) {
                *x = x.wrapping_add(*y);
            }
        }
        acc
    }

    /// The reused mask `b` of request `mask_req` (every party's `Stream(k_i, mask_req, 2)`
    /// summed): derived once and kept while the cache has room. Returns its position in
    /// the cache, or the derived mask itself when it is too large to keep.
    fn mask(&mut self, mask_req: u64, shape: &[usize]) -> std::result::Result<usize, Tensor<u64>> {
        if let Some(i) = self.masks.iter().position(|(r, b)| *r == mask_req && b.shape() == shape) {
            return Ok(i);
        }
        let b = self.sum_stream(mask_req, labels::TRIPLE_B, shape, 0..self.seeds.len());
        if b.len() > MASK_CACHE_ELEMENTS {
            return Err(b);
        }
        while self.masks.iter().map(|(_, m)| m.len()).sum::<usize>() + b.len() > MASK_CACHE_ELEMENTS {
            self.masks.remove(0);
        }
        self.masks.push((mask_req, b));
        Ok(self.masks.len() - 1)
    }

    /// Serves the next request: returns its number and the correction for the last party.
    pub fn serve(&mut self, request: &Request) -> Result<(u64, Tensor<u64>)> {
        request.check()?;
        let req = self.req + 1;
        let n = self.seeds.len();
        let all = 0..n;
        let others = 0..n - 1;
        let (full, label) = match request {
            Request::Triple(p) | Request::TripleWithMask { product: p, .. } => {
                let (sa, sb) = p.operand_shapes();
                let a = self.sum_stream(req, labels::TRIPLE_A, &sa, all.clone());
                let c = match request {
                    Request::TripleWithMask { mask_req, mask_shape, .. } => match self.mask(*mask_req, mask_shape) {
                        Ok(i) => p.apply(&a, &self.masks[i].1)?,
                        Err(b) => p.apply(&a, &b)?,
                    },
                    _ => p.apply(&a, &self.sum_stream(req, labels::TRIPLE_B, &sb, all))?,
                };
                self.stats.elements += match p {
                    Product::Mul { shape } => numel(shape) as u64,
                    _ => (numel(&sa) * c.shape().last().copied().unwrap_or(1)) as u64,
                };
                (c, labels::TRIPLE_C)
            }
            Request::Mask { .. } => {
                self.req = req;
                self.stats.requests += 1;
                return Ok((req, Tensor::zeros(&[0])));
            }
            Request::Square { shape } => {
                let a = self.sum_stream(req, labels::SQUARE_A, shape, all);
                (a.mul(&a)?, labels::SQUARE_A2)
            }
            Request::Trunc { shape, scale } => {
                let r = self.sum_stream(req, labels::TRUNC_R, shape, all);
                {
                    let div = SignedFloorDiv::new(*scale)?;
                    (r.map(|v| div.floor(v)), labels::TRUNC_R2)
                }
            }
        };
        let shape = full.shape().to_vec();
        let others_sum = self.sum_stream(req, label, &shape, others);
        let correction = full.sub(&others_sum)?;
        self.req = req;
        self.stats.requests += 1;
        self.stats.correction_bytes += 8 * correction.len() as u64;
        Ok((req, correction))
    }
}
