//! Losses: mean squared error (any backend), the softmax cross-entropy as one op (any
//! backend with [`LossOps`]: plaintext, fixed-point and secret-shared) and cross-entropy
//! through log-softmax (float backends).

use syft_autograd::ops::LossOps;
use syft_autograd::{Backend, FloatBackend, OpResult, Var};

/// How a loss reduces over elements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The sum (the Part 12 tutorial's `((pred - target)**2).sum()`).
    Sum,
    /// The mean (PyTorch's default).
    #[default]
    Mean,
}

/// `Σ (pred − target)²` or its mean. Only `sub`, `mul` and `mul_scalar`: runs on shares.
pub fn mse_loss<B: Backend>(pred: &Var<B>, target: &Var<B>, reduction: Reduction) -> OpResult<B, Var<B>> {
    let sq = pred.sub(target)?.square()?;
    match reduction {
        Reduction::Sum => sq.sum(),
        Reduction::Mean => sq.mean(),
    }
}

/// The softmax cross-entropy of logits `[n, k]` against one-hot targets `[n, k]`, summed
/// over the rows or their mean: one backend op computes the loss and its gradient
/// `softmax(z) − y` together ([`Var::softmax_cross_entropy`]), so it runs on shares as
/// one protocol. `Reduction::Mean` is PyTorch's `F.cross_entropy` with probabilities as
/// targets (and [`cross_entropy`]'s value); `Reduction::Sum` is `n` times that, with the
/// gradient `softmax(z) − y` (SGD's step then carries the `1/n`).
pub fn softmax_cross_entropy<B: Backend + LossOps<B>>(
    logits: &Var<B>,
    one_hot: &Var<B>,
    reduction: Reduction,
) -> OpResult<B, Var<B>> {
    let sum = logits.softmax_cross_entropy(one_hot)?;
    match reduction {
        Reduction::Sum => Ok(sum),
        Reduction::Mean => {
            let rows = logits.shape().first().copied().unwrap_or(0);
            #[allow(clippy::cast_precision_loss, reason = "batch sizes are far below 2^52")]
            let inverse = 1.0 / rows.max(1) as f64;
            sum.mul_scalar(inverse)
        }
    }
}

/// Mean cross-entropy of logits `[n, k]` against one-hot targets `[n, k]`, through
/// log-softmax (PyTorch's `F.cross_entropy` with probabilities as targets).
pub fn cross_entropy<B: FloatBackend>(logits: &Var<B>, one_hot: &Var<B>) -> OpResult<B, Var<B>> {
    logits.cross_entropy(one_hot)
}

/// Mean cross-entropy of logits `[n, k]` against class indices (PyTorch's
/// `F.cross_entropy(logits, labels)`, i.e. `F.nll_loss(F.log_softmax(logits, 1), labels)`).
pub fn cross_entropy_with_labels<B: FloatBackend>(logits: &Var<B>, labels: &[usize]) -> OpResult<B, Var<B>> {
    let one_hot = one_hot(logits.backend(), labels, logits.shape().get(1).copied().unwrap_or(0))?;
    logits.cross_entropy(&one_hot)
}

/// Mean negative log-likelihood of log-probabilities `[n, k]` against one-hot targets.
pub fn nll_loss<B: FloatBackend>(log_probs: &Var<B>, one_hot: &Var<B>) -> OpResult<B, Var<B>> {
    log_probs.nll_loss(one_hot)
}

/// One-hot rows of `labels` over `k` classes, as a public constant of the backend.
pub fn one_hot<B: Backend>(backend: &B, labels: &[usize], k: usize) -> OpResult<B, Var<B>> {
    let mut values = vec![0.0; labels.len() * k];
    for (i, &c) in labels.iter().enumerate() {
        if c >= k {
            return Err(syft_autograd::Error::InvalidArgument {
                op: "one_hot",
                reason: format!("label {c} at index {i} is not below {k} classes"),
            }
            .into());
        }
        values[i * k + c] = 1.0;
    }
    Ok(Var::constant(backend, backend.constant(&[labels.len(), k], &values)?))
}
