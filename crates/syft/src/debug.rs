//! [`FixedPointBackend`]: the encrypted path's fixed-point arithmetic in the clear, for
//! debugging a model's numerics before running it on shares (CrypTen's and MP-SPDZ's
//! "debug mode").
//!
//! The backend implements the same autograd op traits as
//! [`SharedBackend`](syft_worker::SharedBackend), over plaintext ring tensors
//! (`Tensor<u64>`) with the same [`FixedEncoder`] and the same truncation points:
//!
//! | op | what both backends compute |
//! | --- | --- |
//! | `constant` | the encoding of the values (an error out of range) |
//! | `add`, `sub`, `neg`, sums, reshapes, pooling sums, `mul_mask` | ring arithmetic, no truncation |
//! | `mul`, `matmul`, `conv2d` and its two gradients | the ring product, then one truncation by `s` |
//! | `mul_scalar(c)` | `c` written as `m / 2^k` with a 16-bit `m`; the product by `m`, then one truncation by `2^k` |
//! | `relu_with_mask`, `max_pool2d_with_mask` | exact comparisons of the signed values; masks are 0/1 (`[x ≥ 0]` for ReLU, the first maximum of each window) |
//! | `max_pool2d_backward` | the gradient times the one-hot mask (no truncation), scattered back |
//! | `softmax_cross_entropy` | shares: the row maxima, then iterative approximations (docs/PROTOCOLS.md §11); here: the exact loss and gradient of the decoded logits, encoded, the row maxima's comparisons checked |
//!
//! Truncation here is exact signed floor division (an arithmetic shift for binary scales),
//! so a result is `floor(x/s)` where the shares give `floor(x/s)` or `floor(x/s) + 1`, and
//! never the wrap-around failure of truncation on shares. Instead, the backend *records*
//! every element where the encrypted path is at risk ([`Concern`]):
//!
//! - a truncation whose input `x` (ring units, before dividing) exceeds
//!   [`FixedEncoder::safe_truncation_input`] at the backend's failure exponent (default
//!   [`SAFE_FAILURE_EXPONENT`], i.e. `|x| > 2^24`: on shares it fails with probability
//!   `|x| / 2^64 > 2^-40`);
//! - a value that leaves the representable range `|x| < 2^63` (it wraps around, on shares
//!   and here alike);
//! - a comparison input outside SecureNN's valid range (docs/PROTOCOLS.md §7).
//!
//! [`FixedPointBackend::report`] returns the counts per op, the largest magnitudes, the
//! first few examples and the expected number of wrong elements on shares.
//!
//! ```
//! use syft::debug::FixedPointBackend;
//! use syft::prelude::*;
//!
//! # fn main() -> syft::Result<()> {
//! let backend = FixedPointBackend::new(FixedEncoder::default());
//! let a = Var::constant(&backend, backend.encode(&Tensor::from_vec(vec![1.5, -2.0]))?);
//! let b = Var::constant(&backend, backend.encode(&Tensor::from_vec(vec![0.5, 4.0]))?);
//! let c = a.mul(&b)?;
//! assert_eq!(backend.decode(&c.value()).data(), &[0.75, -8.0]);
//! assert!(backend.report().is_clean());
//!
//! // 100 · 100 = 10^4 is far below where it fits (9.2e12) but above the safe 16.8.
//! let big = Var::constant(&backend, backend.encode(&Tensor::from_vec(vec![100.0]))?);
//! let _ = big.mul(&big)?;
//! let report = backend.report();
//! assert_eq!(report.count("mul"), 1);
//! assert_eq!(report.examples[0].real_abs, 1e4);
//! # Ok(())
//! # }
//! ```

use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use syft_autograd::ops::{ActivationOps, ConvOps, LossOps, MatmulOps, ReduceOps, TensorOps};
use syft_autograd::{Backend, Conv2dParams, Cpu, CpuFloat, OpResult, Pool2d, Transpose};
use syft_fixed::{FixedEncoder, FixedError, Rounding, SAFE_FAILURE_EXPONENT, divide};
use syft_nn::Module;
use syft_ring::{Float, Parallelism, Tensor, from_signed, signed};

/// 2^63, the representable bound of a signed ring value.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
/// 2^64, the ring's modulus.
const TWO_POW_64: f64 = 2.0 * TWO_POW_63;
/// DReLU is correct for signed inputs in `[−2^62, 2^62)` (docs/PROTOCOLS.md §7).
const DRELU_RANGE: f64 = 4_611_686_018_427_387_904.0;
/// Max and max pooling are correct when every value's magnitude is below `2^61`.
const MAX_RANGE: f64 = DRELU_RANGE / 2.0;
/// How many flagged elements a report keeps as examples.
pub const MAX_EXAMPLES: usize = 8;

/// Why an element was flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Concern {
    /// A truncation's input is above the safe bound: on shares it fails (garbage, about
    /// `2^64/s` off) with probability `|x| / 2^64`, more than `2^-failure_exponent`.
    Truncation,
    /// A value is outside the signed 64-bit range: it wraps around (on shares too).
    Overflow,
    /// A comparison's input is outside SecureNN's valid range (docs/PROTOCOLS.md §7):
    /// for ReLU a value outside `[−2^62, 2^62)`; for max pooling a magnitude of `2^61` or
    /// more (the sufficient condition: below it every pairwise difference is in range).
    Comparison,
}

impl std::fmt::Display for Concern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Truncation => "truncation above the safe bound",
            Self::Overflow => "outside the representable range",
            Self::Comparison => "comparison outside its valid range",
        })
    }
}

/// One flagged element.
#[derive(Clone, Debug, PartialEq)]
pub struct Flagged {
    /// The op (`"mul"`, `"matmul"`, `"mul_scalar"`, `"conv2d"`, `"add"`, `"relu"`, ...).
    pub op: &'static str,
    /// Why.
    pub concern: Concern,
    /// The element's row-major index in the op's output.
    pub index: usize,
    /// The exact value's magnitude in ring units: for a truncation, before dividing (for
    /// a product of fixed-point values, at scale `s²`).
    pub ring_abs: f64,
    /// The exact result's magnitude in real units: `|v1·v2|` for a product of
    /// fixed-point values (comparable with [`FixedEncoder::safe_product_abs`]), `|v·c|`
    /// for `mul_scalar(c)`, otherwise `|v|`.
    pub real_abs: f64,
}

/// The flagged elements of one op for one concern.
#[derive(Clone, Debug, PartialEq)]
pub struct OpSummary {
    /// The op.
    pub op: &'static str,
    /// Why.
    pub concern: Concern,
    /// How many elements were flagged.
    pub count: u64,
    /// The largest flagged magnitude, ring units.
    pub max_ring_abs: f64,
    /// The largest flagged magnitude, real units.
    pub max_real_abs: f64,
}

/// What a [`FixedPointBackend`] has seen since it was created or last
/// [reset](FixedPointBackend::reset_report).
#[derive(Clone, Debug, PartialEq)]
pub struct NumericsReport {
    /// The encoding.
    pub encoder: FixedEncoder,
    /// The failure exponent `e` of the safe bound: truncations fail with probability at
    /// most `2^-e` per element below it.
    pub failure_exponent: u32,
    /// The safe bound on a truncation's input, ring units (`2^(64−e)`).
    pub safe_truncation_input: f64,
    /// The number of elements truncated (flagged or not).
    pub truncated_elements: u64,
    /// The largest truncation input seen, ring units (flagged or not).
    pub max_truncation_input: f64,
    /// The expected number of elements that truncation on shares gets wrong over the
    /// whole run: `Σ |x| / 2^64` over every truncated element.
    pub expected_truncation_failures: f64,
    /// The flagged elements per op and concern, sorted by op name.
    pub ops: Vec<OpSummary>,
    /// The first [`MAX_EXAMPLES`] flagged elements, in the order they were seen.
    pub examples: Vec<Flagged>,
}

impl NumericsReport {
    /// Whether nothing was flagged.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.ops.is_empty()
    }

    /// The number of flagged elements, over all ops and concerns.
    #[must_use]
    pub fn flagged(&self) -> u64 {
        self.ops.iter().map(|o| o.count).sum()
    }

    /// The number of flagged elements of one op, over all concerns.
    #[must_use]
    pub fn count(&self, op: &str) -> u64 {
        self.ops.iter().filter(|o| o.op == op).map(|o| o.count).sum()
    }

    /// The number of flagged elements for one concern, over all ops.
    #[must_use]
    pub fn count_concern(&self, concern: Concern) -> u64 {
        self.ops.iter().filter(|o| o.concern == concern).map(|o| o.count).sum()
    }
}

impl std::fmt::Display for NumericsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "fixed-point report ({}): {} truncated elements, largest input {:.3e} (safe ≤ {:.3e} for 2^-{}), \
             {:.3e} expected failures on shares",
            self.encoder,
            self.truncated_elements,
            self.max_truncation_input,
            self.safe_truncation_input,
            self.failure_exponent,
            self.expected_truncation_failures
        )?;
        if self.ops.is_empty() {
            return writeln!(f, "  nothing flagged");
        }
        for o in &self.ops {
            writeln!(f, "  {}: {} elements, {} (largest |v| {:.3e})", o.op, o.count, o.concern, o.max_real_abs)?;
        }
        for e in &self.examples {
            writeln!(
                f,
                "  e.g. {}[{}]: |v| = {:.3e} ({:.3e} ring units), {}",
                e.op, e.index, e.real_abs, e.ring_abs, e.concern
            )?;
        }
        Ok(())
    }
}

/// The mutable part of the backend: what has been seen.
#[derive(Debug, Default)]
struct Log {
    truncated: u64,
    max_truncation_input: f64,
    expected_failures: f64,
    ops: BTreeMap<(&'static str, Concern), (u64, f64, f64)>,
    examples: Vec<Flagged>,
}

impl Log {
    fn flag(&mut self, op: &'static str, concern: Concern, index: usize, ring_abs: f64, real_abs: f64) {
        let entry = self.ops.entry((op, concern)).or_insert((0, 0.0, 0.0));
        entry.0 += 1;
        entry.1 = entry.1.max(ring_abs);
        entry.2 = entry.2.max(real_abs);
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Flagged { op, concern, index, ring_abs, real_abs });
        }
    }
}

/// Plaintext fixed-point tensors as an autograd backend, with exactly
/// [`SharedBackend`](syft_worker::SharedBackend)'s encoding and truncation points, that
/// reports the values that leave the ranges where the encrypted path is reliable (see
/// the [module docs](self)).
///
/// Clones share one report: a model's parameters hold clones of the backend, and
/// everything they compute lands in the same [`report`](Self::report).
#[derive(Clone)]
pub struct FixedPointBackend {
    encoder: FixedEncoder,
    failure_exponent: u32,
    par: Parallelism,
    log: Arc<Mutex<Log>>,
}

impl std::fmt::Debug for FixedPointBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedPointBackend")
            .field("encoder", &self.encoder)
            .field("failure_exponent", &self.failure_exponent)
            .finish_non_exhaustive()
    }
}

impl FixedPointBackend {
    /// A backend with `encoder`, flagging truncations whose failure probability on shares
    /// exceeds `2^-40` ([`SAFE_FAILURE_EXPONENT`]).
    #[must_use]
    pub fn new(encoder: FixedEncoder) -> Self {
        Self::with_failure_exponent(encoder, SAFE_FAILURE_EXPONENT)
    }

    /// A backend flagging truncations whose failure probability on shares exceeds
    /// `2^-failure_exponent` per element.
    #[must_use]
    pub fn with_failure_exponent(encoder: FixedEncoder, failure_exponent: u32) -> Self {
        Self { encoder, failure_exponent, par: Parallelism::Auto, log: Arc::default() }
    }

    /// The encoder.
    #[must_use]
    pub fn encoder(&self) -> FixedEncoder {
        self.encoder
    }

    /// The failure exponent of the safe bound.
    #[must_use]
    pub fn failure_exponent(&self) -> u32 {
        self.failure_exponent
    }

    /// Encodes a float tensor at this backend's precision (an error out of range).
    pub fn encode<F: Float>(&self, x: &Tensor<F>) -> Result<Tensor<u64>> {
        Ok(self.encoder.encode(x)?)
    }

    /// Decodes a ring tensor of this backend to real numbers.
    #[must_use]
    pub fn decode(&self, x: &Tensor<u64>) -> Tensor<f64> {
        self.encoder.decode(x)
    }

    /// A snapshot of what has been flagged so far.
    #[must_use]
    pub fn report(&self) -> NumericsReport {
        let log = self.lock();
        NumericsReport {
            encoder: self.encoder,
            failure_exponent: self.failure_exponent,
            safe_truncation_input: self.safe_input(),
            truncated_elements: log.truncated,
            max_truncation_input: log.max_truncation_input,
            expected_truncation_failures: log.expected_failures,
            ops: log
                .ops
                .iter()
                .map(|(&(op, concern), &(count, max_ring_abs, max_real_abs))| OpSummary {
                    op,
                    concern,
                    count,
                    max_ring_abs,
                    max_real_abs,
                })
                .collect(),
            examples: log.examples.clone(),
        }
    }

    /// Forgets everything seen so far (for every clone of this backend).
    pub fn reset_report(&self) {
        *self.lock() = Log::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn safe_input(&self) -> f64 {
        FixedEncoder::safe_truncation_input(self.failure_exponent)
    }

    fn scale(&self) -> f64 {
        self.encoder.scale() as f64
    }

    /// Flags the elements of `exact` (a result's exact value, ring units) outside the
    /// representable range.
    fn check_range(&self, op: &'static str, exact: &Tensor<f64>) {
        if exact.data().iter().all(|v| v.abs() < TWO_POW_63) {
            return;
        }
        let scale = self.scale();
        let mut log = self.lock();
        for (i, v) in exact.data().iter().enumerate() {
            if v.abs() >= TWO_POW_63 {
                log.flag(op, Concern::Overflow, i, v.abs(), v.abs() / scale);
            }
        }
    }

    /// Flags comparison inputs outside `[−range, range)`.
    fn check_comparison(&self, op: &'static str, x: &Tensor<u64>, range: f64) {
        let out = |v: u64| {
            let v = signed(v) as f64;
            v < -range || v >= range
        };
        if !x.data().iter().any(|&v| out(v)) {
            return;
        }
        let scale = self.scale();
        let mut log = self.lock();
        for (i, &v) in x.data().iter().enumerate() {
            if out(v) {
                let m = (signed(v) as f64).abs();
                log.flag(op, Concern::Comparison, i, m, m / scale);
            }
        }
    }

    /// Truncates `ring` (the ring result before truncation) by `divisor`, flagging the
    /// elements whose exact value `exact` (ring units) is above the safe bound or outside
    /// the representable range.
    fn truncate(&self, op: &'static str, ring: Tensor<u64>, exact: &Tensor<f64>, divisor: u64) -> Tensor<u64> {
        let safe = self.safe_input();
        // Real units: the exact value at the result's scale, divided by s.
        let to_real = 1.0 / (self.scale() * divisor as f64);
        {
            let mut log = self.lock();
            let mut expected = 0.0;
            let mut largest: f64 = 0.0;
            for (i, v) in exact.data().iter().enumerate() {
                let m = v.abs();
                expected += (m / TWO_POW_64).min(1.0);
                largest = largest.max(m);
                if m >= TWO_POW_63 {
                    log.flag(op, Concern::Overflow, i, m, m * to_real);
                } else if m > safe {
                    log.flag(op, Concern::Truncation, i, m, m * to_real);
                }
            }
            log.truncated += exact.len() as u64;
            log.expected_failures += expected;
            log.max_truncation_input = log.max_truncation_input.max(largest);
        }
        let mut ring = ring;
        ring.map_inplace(|x| divide(x, divisor, Rounding::Floor));
        ring
    }
}

/// Each element's signed value, exactly for magnitudes below 2^53.
fn exact(x: &Tensor<u64>) -> Tensor<f64> {
    x.map(|v| signed(v) as f64)
}

/// Writes a real constant as `m / 2^k` with `|m| < 2^16` and `1 ≤ k ≤ 62`, exactly as
/// `SharedTensor::mul_scalar` does.
fn scalar_fraction(c: f64) -> Result<(i64, u32)> {
    let invalid = |reason: String| FixedError::InvalidArgument { op: "mul_scalar", reason };
    if !c.is_finite() {
        return Err(invalid(format!("{c} is not a finite constant")).into());
    }
    if c == 0.0 {
        return Ok((0, 1));
    }
    let e = c.abs().log2().floor();
    #[allow(clippy::cast_possible_truncation, reason = "clamped to a small range")]
    let k = (15.0 - e).clamp(1.0, 62.0) as u32;
    let scaled = (c * 2f64.powi(k as i32)).round();
    if scaled.abs() >= 2f64.powi(62) {
        return Err(invalid(format!("constant {c} is too large")).into());
    }
    #[allow(clippy::cast_possible_truncation, reason = "checked to fit above")]
    Ok((scaled as i64, k))
}

/// Rebuilds a plaintext model on `backend`, encoding every parameter at its precision
/// (what [`share_model`](crate::share_model) does before sharing).
pub fn fixed_point_model<T: CpuFloat, M: Module<Cpu<T>>>(
    model: &M,
    backend: &FixedPointBackend,
) -> Result<M::Mapped<FixedPointBackend>> {
    model.map_parameters(backend, |_, t: &Tensor<T>| backend.encode(t))
}

impl Backend for FixedPointBackend {
    type Tensor = Tensor<u64>;
    type Mask = Tensor<bool>;
    type Error = crate::Error;

    fn name(&self) -> String {
        format!("fixed-point-debug(precision {})", self.encoder.precision_fractional())
    }
}

impl TensorOps<Self> for FixedPointBackend {
    fn shape(&self, x: &Tensor<u64>) -> Vec<usize> {
        x.shape().to_vec()
    }
    fn constant(&self, shape: &[usize], values: &[f64]) -> OpResult<Self, Tensor<u64>> {
        self.encode(&Tensor::new(shape, values.to_vec())?)
    }
    fn add(&self, a: &Tensor<u64>, b: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        let out = a.add(b)?;
        self.check_range("add", &exact(a).add(&exact(b))?);
        Ok(out)
    }
    fn sub(&self, a: &Tensor<u64>, b: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        let out = a.sub(b)?;
        self.check_range("sub", &exact(a).sub(&exact(b))?);
        Ok(out)
    }
    fn neg(&self, a: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        self.check_range("neg", &exact(a).neg());
        Ok(a.neg())
    }
    fn mul(&self, a: &Tensor<u64>, b: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        let ring = a.mul(b)?;
        let exact = exact(a).mul(&exact(b))?;
        Ok(self.truncate("mul", ring, &exact, self.encoder.scale()))
    }
    fn mul_scalar(&self, a: &Tensor<u64>, c: f64) -> OpResult<Self, Tensor<u64>> {
        let (m, k) = scalar_fraction(c)?;
        let ring = a.map(|v| v.wrapping_mul(from_signed(m)));
        #[allow(clippy::cast_precision_loss, reason = "|m| < 2^16 is exact")]
        let exact = exact(a).scale(m as f64);
        Ok(self.truncate("mul_scalar", ring, &exact, 1u64 << k))
    }
    fn reshape(&self, a: &Tensor<u64>, shape: &[usize]) -> OpResult<Self, Tensor<u64>> {
        Ok(a.reshape(shape)?)
    }
    fn transpose(&self, a: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        Ok(a.transpose()?)
    }
    fn broadcast_to(&self, a: &Tensor<u64>, shape: &[usize]) -> OpResult<Self, Tensor<u64>> {
        Ok(a.broadcast_to(shape)?)
    }
}

impl ReduceOps<Self> for FixedPointBackend {
    fn sum_all(&self, x: &Tensor<u64>) -> OpResult<Self, Tensor<u64>> {
        self.check_range("sum", &Tensor::scalar(exact(x).sum_all()));
        Ok(Tensor::scalar(x.sum_all()))
    }
    fn sum_axis(&self, x: &Tensor<u64>, axis: usize, keepdim: bool) -> OpResult<Self, Tensor<u64>> {
        let out = x.sum_axis(axis, keepdim)?;
        self.check_range("sum_axis", &exact(x).sum_axis(axis, keepdim)?);
        Ok(out)
    }
    fn sum_to_shape(&self, x: &Tensor<u64>, shape: &[usize]) -> OpResult<Self, Tensor<u64>> {
        let out = x.sum_to_shape(shape)?;
        self.check_range("sum_to_shape", &exact(x).sum_to_shape(shape)?);
        Ok(out)
    }
}

impl MatmulOps<Self> for FixedPointBackend {
    fn matmul(&self, a: &Tensor<u64>, ta: Transpose, b: &Tensor<u64>, tb: Transpose) -> OpResult<Self, Tensor<u64>> {
        let ring = a.matmul_ex(ta, b, tb, self.par)?;
        let exact = exact(a).matmul_ex(ta, &exact(b), tb, self.par)?;
        Ok(self.truncate("matmul", ring, &exact, self.encoder.scale()))
    }
}

impl ConvOps<Self> for FixedPointBackend {
    fn conv2d(&self, x: &Tensor<u64>, w: &Tensor<u64>, p: Conv2dParams) -> OpResult<Self, Tensor<u64>> {
        let ring = x.conv2d(w, p)?;
        let exact = exact(x).conv2d(&exact(w), p)?;
        Ok(self.truncate("conv2d", ring, &exact, self.encoder.scale()))
    }
    fn conv2d_input_grad(
        &self,
        grad_out: &Tensor<u64>,
        w: &Tensor<u64>,
        input_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, Tensor<u64>> {
        let ring = Tensor::conv2d_input_grad(grad_out, w, input_shape, p)?;
        let exact = Tensor::conv2d_input_grad(&exact(grad_out), &exact(w), input_shape, p)?;
        Ok(self.truncate("conv2d_input_grad", ring, &exact, self.encoder.scale()))
    }
    fn conv2d_kernel_grad(
        &self,
        x: &Tensor<u64>,
        grad_out: &Tensor<u64>,
        kernel_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, Tensor<u64>> {
        let ring = Tensor::conv2d_kernel_grad(x, grad_out, kernel_shape, p)?;
        let exact = Tensor::conv2d_kernel_grad(&exact(x), &exact(grad_out), kernel_shape, p)?;
        Ok(self.truncate("conv2d_kernel_grad", ring, &exact, self.encoder.scale()))
    }
    fn max_pool2d_with_mask(&self, x: &Tensor<u64>, pool: Pool2d) -> OpResult<Self, (Tensor<u64>, Tensor<bool>)> {
        if pool.params.padding != (0, 0) {
            return Err(FixedError::InvalidArgument {
                op: "max_pool2d",
                reason: format!(
                    "padded max pooling is not supported on shared tensors (padding {:?})",
                    pool.params.padding
                ),
            }
            .into());
        }
        self.check_comparison("max_pool2d", x, MAX_RANGE);
        let windows = x.pool_windows(pool.window, pool.params, 0)?;
        Ok(windows.max_last_axis_with_mask(|a, b| signed(a) > signed(b))?)
    }
    fn max_pool2d_backward(
        &self,
        grad_out: &Tensor<u64>,
        mask: &Tensor<bool>,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, Tensor<u64>> {
        let spread = spread_over_taps(grad_out, pool)?;
        let routed = spread.zip_map(mask, |g, hit| if hit { g } else { 0 })?;
        let out = routed.pool_windows_adjoint(input_shape, pool.window, pool.params)?;
        let exact_routed = exact(&routed);
        self.check_range(
            "max_pool2d_backward",
            &exact_routed.pool_windows_adjoint(input_shape, pool.window, pool.params)?,
        );
        Ok(out)
    }
    fn sum_pool2d(&self, x: &Tensor<u64>, pool: Pool2d) -> OpResult<Self, Tensor<u64>> {
        let out = x.pool_windows(pool.window, pool.params, 0)?.sum_axis(4, false)?;
        self.check_range("sum_pool2d", &exact(x).pool_windows(pool.window, pool.params, 0.0)?.sum_axis(4, false)?);
        Ok(out)
    }
    fn sum_pool2d_backward(
        &self,
        grad_out: &Tensor<u64>,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, Tensor<u64>> {
        let spread = spread_over_taps(grad_out, pool)?;
        let out = spread.pool_windows_adjoint(input_shape, pool.window, pool.params)?;
        self.check_range(
            "sum_pool2d_backward",
            &exact(&spread).pool_windows_adjoint(input_shape, pool.window, pool.params)?,
        );
        Ok(out)
    }
}

impl ActivationOps<Self> for FixedPointBackend {
    fn relu_with_mask(&self, x: &Tensor<u64>) -> OpResult<Self, (Tensor<u64>, Tensor<bool>)> {
        self.check_comparison("relu", x, DRELU_RANGE);
        let mask = x.map(|v| signed(v) >= 0);
        let y = x.map(|v| if signed(v) >= 0 { v } else { 0 });
        Ok((y, mask))
    }
    fn mul_mask(&self, x: &Tensor<u64>, mask: &Tensor<bool>) -> OpResult<Self, Tensor<u64>> {
        Ok(x.zip_map(mask, |v, m| if m { v } else { 0 })?)
    }
}

impl LossOps<Self> for FixedPointBackend {
    /// The exact softmax cross-entropy and its gradient of the decoded logits and targets
    /// (through `Cpu<f64>`), encoded at this backend's precision: the encrypted path's
    /// approximations are within the tolerances of docs/PROTOCOLS.md §11 of it. The row
    /// maxima's comparison inputs are checked as `max_pool2d`'s are.
    fn softmax_cross_entropy(
        &self,
        logits: &Tensor<u64>,
        one_hot: &Tensor<u64>,
    ) -> OpResult<Self, (Tensor<u64>, Tensor<u64>)> {
        self.check_comparison("softmax_cross_entropy", logits, MAX_RANGE);
        let cpu = Cpu::<f64>::single_threaded();
        let (loss, grad) = cpu.softmax_cross_entropy(&self.decode(logits), &self.decode(one_hot))?;
        Ok((self.encode(&loss)?, self.encode(&grad)?))
    }
}

/// `[N, C, OH, OW]` → `[N, C, OH, OW, KH·KW]`, each value repeated over its window's taps.
fn spread_over_taps(g: &Tensor<u64>, pool: Pool2d) -> Result<Tensor<u64>> {
    let mut shape = g.shape().to_vec();
    shape.push(1);
    let column = g.reshape(&shape)?;
    shape.pop();
    shape.push(pool.taps());
    Ok(column.broadcast_to(&shape)?)
}
