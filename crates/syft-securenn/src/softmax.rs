//! Softmax, the softmax cross-entropy and its gradient over the rows of a `[rows, k]`
//! tensor of shared fixed-point logits (docs/PROTOCOLS.md §11.4–11.6): the row maximum
//! by the tournament (§8.1), then `syft_spdz`'s party-local exponential, reciprocal and
//! logarithm ([`syft_spdz::approx`], §11.1–11.3).
//!
//! Each function is one call at each computing party ([`SnnParty::softmax`],
//! [`cross_entropy`](SnnParty::cross_entropy),
//! [`cross_entropy_backward`](SnnParty::cross_entropy_backward),
//! [`softmax_cross_entropy`](SnnParty::softmax_cross_entropy)) and one call at the helper
//! with the same shape and encoder ([`Helper::softmax`] and so on): the helper takes its
//! part in the maximum, then serves the Beaver material of the approximations, which the
//! request lists of [`syft_spdz::approx`] name. Arguments are checked at the parties and
//! the helper alike before any message, so a rejected call leaves the session usable.
//!
//! The formulas, iteration counts and so the accuracy are those the orchestrator of
//! `syft-worker` ran op by op (`SharedTensor::softmax`, `cross_entropy`) and the
//! `secure_training_mnist` example's gradient `softmax(z) − y`.

use crate::error::{Result, invalid, shape_mismatch};
use crate::helper::Helper;
use crate::party::SnnParty;
use syft_fixed::FixedEncoder;
use syft_ring::Tensor;
use syft_spdz::{Product, Request, exp_requests, ln_requests, reciprocal_requests};

/// Newton iterations of softmax's reciprocal of the row sums, from `1/k`.
pub const SOFTMAX_RECIPROCAL_ITERATIONS: usize = 8;

/// Newton iterations of the cross-entropy's logarithm of the row sums, from 1.5.
pub const CROSS_ENTROPY_LN_ITERATIONS: usize = 6;

/// The result of [`SnnParty::softmax_cross_entropy`]: the loss and its gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftmaxCrossEntropy {
    /// Shares of the summed cross-entropy (a scalar, shape `[]`), at the logits' encoding.
    pub loss: Tensor<u64>,
    /// Shares of the gradient of the summed loss with respect to the logits,
    /// `softmax(z) − y` (shape `[rows, k]`), at the logits' encoding.
    pub grad: Tensor<u64>,
}

/// `(rows, k)` of a `[rows, k]` shape with `k ≥ 1`.
fn rows_k(op: &'static str, shape: &[usize]) -> Result<(usize, usize)> {
    match *shape {
        [rows, k] if k > 0 => Ok((rows, k)),
        _ => Err(invalid(op, format!("needs logits of shape [rows, k] with k ≥ 1, got {shape:?}"))),
    }
}

/// Logits and one-hot targets: one `[rows, k]` shape.
fn logits_and_targets(op: &'static str, z: &[usize], y: &[usize]) -> Result<(usize, usize)> {
    if z != y {
        return Err(shape_mismatch(op, z, y));
    }
    rows_k(op, z)
}

/// The reciprocal's start `1/k` (the row sums of `e^{z − max}` lie in `[1, k]`).
fn reciprocal_init(k: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "class counts are far below 2^52")]
    let k = k as f64;
    1.0 / k
}

/// The product that multiplies each row `[k]` by its scalar: a batched matrix product
/// `[rows, k, 1] · [rows, 1, 1]`, which opens the row sums' reciprocals once per row.
fn row_scaling(rows: usize, k: usize) -> Product {
    Product::MatMul { lhs: vec![rows, k, 1], rhs: vec![rows, 1, 1], lhs_t: false, rhs_t: false }
}

/// The product `Σ y·z` as one inner product `[1, N] · [N, 1]`.
fn inner_product(n: usize) -> Product {
    Product::MatMul { lhs: vec![1, n], rhs: vec![1, n], lhs_t: false, rhs_t: true }
}

/// The dealer requests after the maximum, in the parties' order: the exponential of the
/// shifted logits, then the softmax part (reciprocal of the row sums, row scaling) and
/// the cross-entropy part (logarithm of the row sums, inner product), as asked.
fn requests(rows: usize, k: usize, enc: FixedEncoder, softmax: bool, loss: bool) -> Result<Vec<Request>> {
    let mut out = exp_requests(&[rows, k], 2, enc)?;
    if softmax {
        out.extend(reciprocal_requests(&[rows, 1], 2, enc, reciprocal_init(k), SOFTMAX_RECIPROCAL_ITERATIONS)?);
        out.push(Request::Triple(row_scaling(rows, k)));
    }
    if loss {
        out.extend(ln_requests(&[rows, 1], 2, enc, CROSS_ENTROPY_LN_ITERATIONS)?);
        out.push(Request::Triple(inner_product(rows * k)));
    }
    Ok(out)
}

impl SnnParty<'_> {
    /// The softmax along the last axis of `[rows, k]` logits `z` encoded by `enc` (the
    /// result too): `p = e/Σe` with `e = e^{z − max}`. The row maximum (the tournament,
    /// §8.1) is subtracted first, so the exponentials lie in `(0, 1]` and their row sums
    /// in `[1, k]`, where Newton–Raphson from `1/k` converges
    /// ([`SOFTMAX_RECIPROCAL_ITERATIONS`] iterations). Then one batched product scales
    /// each row by its reciprocal.
    ///
    /// **Accuracy.** That of [`Party::exp`](syft_spdz::Party::exp) on `z − max ≤ 0`
    /// (absolute, since the values are at most 1) and of the reciprocal, which after 8
    /// iterations from `1/k` is converged for `k` up to about 30: within 0.02 of the
    /// softmax at `s = 10^4` for logit ranges up to 10, 0.01 at `s = 2^16` (the limit's own
    /// error dominates there; `softmax_and_the_loss_approximate_plaintext` in
    /// `tests/softmax.rs`).
    ///
    /// **Cost**, two parties, with `R_max`, `B_max` the rounds and bytes of
    /// [`max`](Self::max) over `k`: `R_max + 23` rounds (exponential 8, reciprocal 14,
    /// scaling 1); each party sends `B_max + rows·(72k + 232)` bytes, the helper
    /// `B_max + rows·(72k + 112)` (docs/PROTOCOLS.md §11.6).
    ///
    /// Helper: [`Helper::softmax`].
    pub fn softmax(&mut self, z: &Tensor<u64>, enc: FixedEncoder) -> Result<Tensor<u64>> {
        let (rows, k) = rows_k("softmax", z.shape())?;
        requests(rows, k, enc, true, false)?;
        if rows == 0 {
            return Ok(Tensor::zeros(z.shape()));
        }
        let (_, e) = self.shifted_exp(z, rows, enc)?;
        self.normalise(&e, rows, k, enc)
    }

    /// The summed cross-entropy `−Σ y·log softmax(z)` of `[rows, k]` logits `z` against
    /// targets `y` (one-hot rows, both shared and encoded by `enc`), a scalar (shape `[]`)
    /// at the same encoding. Computed as the orchestrator did:
    /// `Σ_rows (max + ln Σ e^{z − max}) − Σ y·z`, with [`CROSS_ENTROPY_LN_ITERATIONS`]
    /// Newton iterations of the logarithm and `Σ y·z` as one inner product (one
    /// truncation instead of `rows·k`).
    ///
    /// **Accuracy.** Each row's logarithm of a sum in `[1, k]` is within
    /// `(ln k)²/2^9 + 2^9/s + 0.005` for `k ≤ 25` ([`Party::ln`](syft_spdz::Party::ln)),
    /// so the loss is within `rows` times that.
    ///
    /// **Cost**, two parties: `R_max + 54` rounds (exponential 8, logarithm 45, inner
    /// product 1); each party sends `B_max + rows·(80k + 400)` bytes, the helper
    /// `B_max + rows·(64k + 360) + 8` (docs/PROTOCOLS.md §11.6).
    ///
    /// Helper: [`Helper::cross_entropy`].
    pub fn cross_entropy(&mut self, z: &Tensor<u64>, y: &Tensor<u64>, enc: FixedEncoder) -> Result<Tensor<u64>> {
        let (rows, k) = logits_and_targets("cross_entropy", z.shape(), y.shape())?;
        requests(rows, k, enc, false, true)?;
        if rows == 0 {
            return Ok(Tensor::scalar(0));
        }
        let (m, e) = self.shifted_exp(z, rows, enc)?;
        self.loss(z, y, &m, &e, enc)
    }

    /// The gradient of the summed cross-entropy with respect to the logits,
    /// `softmax(z) − y`, as the `secure_training_mnist` example computes it (the `1/batch`
    /// of a mean lives in the optimiser's step). Shapes, encoding, accuracy and cost are
    /// [`softmax`](Self::softmax)'s; the subtraction is local.
    ///
    /// Helper: [`Helper::cross_entropy_backward`].
    pub fn cross_entropy_backward(
        &mut self,
        z: &Tensor<u64>,
        y: &Tensor<u64>,
        enc: FixedEncoder,
    ) -> Result<Tensor<u64>> {
        logits_and_targets("cross_entropy_backward", z.shape(), y.shape())?;
        Ok(self.softmax(z, enc)?.sub(y)?)
    }

    /// The loss and its gradient together ([`cross_entropy`](Self::cross_entropy) and
    /// [`cross_entropy_backward`](Self::cross_entropy_backward)), sharing the maximum,
    /// the exponentials and their row sums: `R_max + 69` rounds instead of
    /// `2·R_max + 77`; each party sends `B_max + rows·(88k + 632)` bytes, the helper
    /// `B_max + rows·(72k + 472) + 8`.
    ///
    /// Helper: [`Helper::softmax_cross_entropy`].
    pub fn softmax_cross_entropy(
        &mut self,
        z: &Tensor<u64>,
        y: &Tensor<u64>,
        enc: FixedEncoder,
    ) -> Result<SoftmaxCrossEntropy> {
        let (rows, k) = logits_and_targets("softmax_cross_entropy", z.shape(), y.shape())?;
        requests(rows, k, enc, true, true)?;
        if rows == 0 {
            return Ok(SoftmaxCrossEntropy { loss: Tensor::scalar(0), grad: Tensor::zeros(z.shape()) });
        }
        let (m, e) = self.shifted_exp(z, rows, enc)?;
        let p = self.normalise(&e, rows, k, enc)?;
        let loss = self.loss(z, y, &m, &e, enc)?;
        Ok(SoftmaxCrossEntropy { loss, grad: p.sub(y)? })
    }

    /// The row maximum `m` (`[rows, 1]`) and `e^{z − m}`.
    fn shifted_exp(&mut self, z: &Tensor<u64>, rows: usize, enc: FixedEncoder) -> Result<(Tensor<u64>, Tensor<u64>)> {
        let m = self.max(z, 1)?.into_shape(&[rows, 1])?;
        let e = self.spdz().exp(&z.sub(&m)?, enc)?;
        Ok((m, e))
    }

    /// `e / Σ_row e`: the reciprocal of the row sums, then one batched product.
    fn normalise(&mut self, e: &Tensor<u64>, rows: usize, k: usize, enc: FixedEncoder) -> Result<Tensor<u64>> {
        let sums = e.sum_axis(1, true)?;
        let spdz = self.spdz();
        let r = spdz.reciprocal(&sums, enc, reciprocal_init(k), SOFTMAX_RECIPROCAL_ITERATIONS)?;
        let p = spdz.product(&row_scaling(rows, k), &e.reshape(&[rows, k, 1])?, &r.into_shape(&[rows, 1, 1])?)?;
        Ok(spdz.truncate_owned(p, enc.scale())?.into_shape(&[rows, k])?)
    }

    /// `Σ_rows (m + ln Σ_row e) − Σ y·z`.
    fn loss(
        &mut self,
        z: &Tensor<u64>,
        y: &Tensor<u64>,
        m: &Tensor<u64>,
        e: &Tensor<u64>,
        enc: FixedEncoder,
    ) -> Result<Tensor<u64>> {
        let spdz = self.spdz();
        let l = spdz.ln(&e.sum_axis(1, true)?, enc, CROSS_ENTROPY_LN_ITERATIONS)?;
        let n = z.len();
        let yz = spdz.product(&inner_product(n), &z.reshape(&[1, n])?, &y.reshape(&[1, n])?)?;
        let yz = spdz.truncate_owned(yz, enc.scale())?.sum_all();
        Ok(Tensor::scalar(m.sum_all().wrapping_add(l.sum_all()).wrapping_sub(yz)))
    }
}

impl Helper<'_> {
    /// Serves `requests` in order.
    fn serve_all(&mut self, requests: &[Request]) -> Result<()> {
        for r in requests {
            self.serve(r)?;
        }
        Ok(())
    }

    /// The helper's side of a softmax-based protocol on logits of `shape`: the maximum's
    /// part, then the approximations' material.
    fn softmax_based(
        &mut self,
        op: &'static str,
        shape: &[usize],
        enc: FixedEncoder,
        softmax: bool,
        loss: bool,
    ) -> Result<()> {
        let (rows, k) = rows_k(op, shape)?;
        let plan = requests(rows, k, enc, softmax, loss)?;
        if rows == 0 {
            return Ok(());
        }
        self.max(shape, 1)?;
        self.serve_all(&plan)
    }

    /// The helper's side of [`SnnParty::softmax`] (`shape`: the logits').
    pub fn softmax(&mut self, shape: &[usize], enc: FixedEncoder) -> Result<()> {
        self.softmax_based("softmax", shape, enc, true, false)
    }

    /// The helper's side of [`SnnParty::cross_entropy`] (`shape`: the logits').
    pub fn cross_entropy(&mut self, shape: &[usize], enc: FixedEncoder) -> Result<()> {
        self.softmax_based("cross_entropy", shape, enc, false, true)
    }

    /// The helper's side of [`SnnParty::cross_entropy_backward`] (`shape`: the logits').
    pub fn cross_entropy_backward(&mut self, shape: &[usize], enc: FixedEncoder) -> Result<()> {
        self.softmax_based("cross_entropy_backward", shape, enc, true, false)
    }

    /// The helper's side of [`SnnParty::softmax_cross_entropy`] (`shape`: the logits').
    pub fn softmax_cross_entropy(&mut self, shape: &[usize], enc: FixedEncoder) -> Result<()> {
        self.softmax_based("softmax_cross_entropy", shape, enc, true, true)
    }
}
