//! The numerical approximations on shared tensors: exponential, reciprocal, logarithm,
//! softmax and the softmax cross-entropy with its gradient. Each is one operation in the
//! session ([`MpcOp::Exp`] and so on: one request per member), run whole at the parties
//! by the protocol layer (`syft_spdz::approx`, `syft_securenn::softmax`;
//! docs/PROTOCOLS.md §11), so its rounds are among the parties only.

use super::SharedTensor;
use crate::error::{Result, WorkerError};
use crate::ops::MpcOp;
use syft_fixed::FixedEncoder;
use syft_securenn::softmax::SOFTMAX_RECIPROCAL_ITERATIONS;

impl SharedTensor {
    /// `e^self` by the limit `(1 + x/2^8)^(2^8)` (CrypTen's method): relative error about
    /// `x²/2^9` plus the truncations' `2^9/s` at scale `s`, valid for `−2^8 ≤ x` and up to a
    /// few tens (docs/PROTOCOLS.md §11.1). One request per member; eight rounds for two
    /// parties.
    pub fn exp(&self) -> Result<Self> {
        let enc = self.fixed_point("exp")?;
        self.approximation(MpcOp::Exp { shape: self.shape().to_vec(), enc }, enc)
    }

    /// `1/self` by Newton–Raphson, `y ← y·(2 − x·y)` from the public start `init`; it
    /// converges when `0 < init < 2/x`, quadratically, so `iterations` of 6 to 10 reach
    /// the fixed-point resolution (at most `syft_spdz::approx::MAX_ITERATIONS`; §11.2).
    /// One request per member; two rounds per iteration after the first, which is local.
    pub fn reciprocal(&self, init: f64, iterations: usize) -> Result<Self> {
        let enc = self.fixed_point("reciprocal")?;
        self.approximation(MpcOp::Reciprocal { shape: self.shape().to_vec(), enc, init, iterations }, enc)
    }

    /// `ln(self)` by Newton's method on `e^y = x`: `y ← y − 1 + x·e^{−y}`, from `y = 1.5`
    /// (§11.3): after 6 iterations within about `(ln x)²/2^9 + 2^9/s + 0.005` of `ln x` for
    /// `x ∈ [0.2, 25]`. One request per member; nine rounds per iteration after the first,
    /// which is local.
    pub fn ln(&self, iterations: usize) -> Result<Self> {
        let enc = self.fixed_point("ln")?;
        self.approximation(MpcOp::Ln { shape: self.shape().to_vec(), enc, iterations }, enc)
    }

    /// The softmax along the last axis of a `[rows, k]` tensor: the row maximum is
    /// subtracted first (SecureNN max), so the exponentials lie in `(0, 1]` and their sum
    /// in `[1, k]`, where Newton–Raphson from `1/k` converges (§11.4). Two parties; one
    /// request per member.
    pub fn softmax(&self) -> Result<Self> {
        let enc = self.logits("softmax", None)?;
        let op = MpcOp::Softmax { shape: self.shape().to_vec(), enc, bits: self.comparison_bits() };
        let shares = self.session().run(&op, &self.ids())?;
        Ok(self.derive(shares, self.shape().to_vec(), Some(enc)))
    }

    /// The summed cross-entropy `−Σ y·log softmax(self)` of `[rows, k]` logits against
    /// one-hot targets (both shared at one fixed-point encoding), a scalar, computed as
    /// `Σ_rows (max + ln Σ e^{z−max}) − Σ y·z` (§11.5). Two parties; one request per member.
    pub fn cross_entropy(&self, one_hot: &Self) -> Result<Self> {
        let enc = self.logits("cross_entropy", Some(one_hot))?;
        let op = MpcOp::CrossEntropy { shape: self.shape().to_vec(), enc, bits: self.comparison_bits() };
        let shares = self.session().run(&op, &self.ids2(one_hot))?;
        Ok(self.derive(shares, Vec::new(), Some(enc)))
    }

    /// The gradient of [`cross_entropy`](Self::cross_entropy) (the summed loss) with
    /// respect to the logits, `softmax(self) − one_hot`. Two parties; one request per
    /// member.
    pub fn cross_entropy_backward(&self, one_hot: &Self) -> Result<Self> {
        let enc = self.logits("cross_entropy_backward", Some(one_hot))?;
        let op = MpcOp::CrossEntropyBackward { shape: self.shape().to_vec(), enc, bits: self.comparison_bits() };
        let shares = self.session().run(&op, &self.ids2(one_hot))?;
        Ok(self.derive(shares, self.shape().to_vec(), Some(enc)))
    }

    /// The summed cross-entropy and its gradient `softmax(self) − one_hot` together,
    /// sharing the maximum and the exponentials (§11.6): `(loss, grad)`, the loss a
    /// scalar. Two parties; one request per member.
    pub fn softmax_cross_entropy(&self, one_hot: &Self) -> Result<(Self, Self)> {
        let enc = self.logits("softmax_cross_entropy", Some(one_hot))?;
        let op = MpcOp::SoftmaxCrossEntropy { shape: self.shape().to_vec(), enc, bits: self.comparison_bits() };
        let mut outs = self.session().run_multi(&op, &self.ids2(one_hot))?.into_iter();
        let (Some(loss), Some(grad)) = (outs.next(), outs.next()) else {
            return Err(WorkerError::InvalidArgument {
                op: "softmax_cross_entropy",
                reason: "the session returned fewer than two results".into(),
            });
        };
        Ok((self.derive(loss, Vec::new(), Some(enc)), self.derive(grad, self.shape().to_vec(), Some(enc))))
    }

    /// This tensor's fixed-point encoder, which the approximations need.
    fn fixed_point(&self, op: &'static str) -> Result<FixedEncoder> {
        self.encoder().ok_or_else(|| WorkerError::InvalidArgument { op, reason: "needs a fixed-point tensor".into() })
    }

    /// Runs an approximation of one operand, its arguments checked first as the members
    /// will check them (so a refusal leaves the session usable).
    fn approximation(&self, op: MpcOp, enc: FixedEncoder) -> Result<Self> {
        op.spec().material(self.session().parties())?;
        let shares = self.session().run(&op, &self.ids())?;
        Ok(self.derive(shares, self.shape().to_vec(), Some(enc)))
    }

    /// Checks the operands of a softmax-based protocol (two parties, `[rows, k]` logits with
    /// `k ≥ 1` at a fixed-point encoding, targets of the same shape, session and encoding)
    /// and returns the encoding.
    fn logits(&self, op: &'static str, targets: Option<&Self>) -> Result<FixedEncoder> {
        self.two_parties(op)?;
        let enc = self.fixed_point(op)?;
        let (rows, k) = match *self.shape() {
            [rows, k] if k > 0 => (rows, k),
            _ => {
                return Err(syft_ring::RingError::RankMismatch {
                    op,
                    expected: "2 ([rows, k] with k ≥ 1)",
                    shape: self.shape().to_vec(),
                }
                .into());
            }
        };
        // The approximations' own checks (a fractional part; the reciprocal's start 1/k
        // representable at the encoding), as every member will make them.
        syft_spdz::exp_requests(&[rows, k], 2, enc)?;
        #[allow(clippy::cast_precision_loss, reason = "class counts are far below 2^52")]
        let init = 1.0 / k as f64;
        syft_spdz::reciprocal_requests(&[rows, 1], 2, enc, init, SOFTMAX_RECIPROCAL_ITERATIONS)?;
        if let Some(y) = targets {
            self.same_session(op, y)?;
            self.linear_encoder(op, y)?;
            if y.shape() != self.shape() {
                return Err(syft_ring::RingError::ShapeMismatch {
                    op,
                    lhs: self.shape().to_vec(),
                    rhs: y.shape().to_vec(),
                }
                .into());
            }
        }
        Ok(enc)
    }
}
