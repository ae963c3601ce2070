//! Training and evaluation loops for classifiers on the plaintext [`Cpu`] backend:
//! cross-entropy through log-softmax, one optimizer step per batch, progress bars.

use crate::data::Dataset;
use crate::error::Result;
use crate::loss::{cross_entropy_with_labels, one_hot};
use crate::module::Module;
use crate::optim::Optimizer;
use crate::progress::Progress;
use std::time::Instant;
use syft_autograd::{Cpu, CpuFloat, Var, no_grad};
use syft_ring::Prg;

/// What one training epoch did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// The mean of the batch losses.
    pub mean_loss: f64,
    /// Wall-clock seconds of the epoch (batching, forward, backward, steps).
    pub seconds: f64,
    /// The number of optimizer steps.
    pub steps: usize,
}

/// What an evaluation found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Correct predictions over examples (0..=1).
    pub accuracy: f64,
    /// Mean cross-entropy per example.
    pub mean_loss: f64,
    /// Correct predictions.
    pub correct: usize,
    /// Examples seen.
    pub total: usize,
}

/// One epoch of minibatch training of a classifier with cross-entropy: batches
/// shuffled from `rng`, `zero_grad`, forward, loss, backward, `step` for each.
pub fn train_epoch<T: CpuFloat, M: Module<Cpu<T>>, O: Optimizer<Cpu<T>>>(
    backend: &Cpu<T>,
    model: &M,
    optimizer: &mut O,
    data: &Dataset<T>,
    batch_size: usize,
    rng: &mut Prg,
    progress: &Progress,
) -> Result<EpochStats> {
    let start = Instant::now();
    let mut total = 0.0;
    let mut steps = 0usize;
    for batch in data.shuffled_batches(batch_size, rng)? {
        let batch = batch?;
        optimizer.zero_grad();
        let x = Var::constant(backend, batch.inputs);
        let loss = cross_entropy_with_labels(&model.forward(&x)?, &batch.labels)?;
        loss.backward()?;
        optimizer.step()?;
        let value = loss.value().item()?.to_f64();
        total += value;
        steps += 1;
        progress.inc(1);
        if steps.is_multiple_of(20) {
            progress.set_message(format!("loss {value:.4}"));
        }
    }
    let mean_loss = if steps == 0 { 0.0 } else { total / count(steps) };
    Ok(EpochStats { mean_loss, seconds: start.elapsed().as_secs_f64(), steps })
}

/// Accuracy and mean cross-entropy of a classifier over a dataset, without recording
/// a graph.
pub fn evaluate<T: CpuFloat, M: Module<Cpu<T>>>(
    backend: &Cpu<T>,
    model: &M,
    data: &Dataset<T>,
    batch_size: usize,
    progress: &Progress,
) -> Result<Evaluation> {
    no_grad(|| {
        let mut correct = 0usize;
        let mut total = 0usize;
        let mut loss_sum = 0.0;
        for batch in data.batches(batch_size)? {
            let batch = batch?;
            let n = batch.labels.len();
            let logits = model.forward(&Var::constant(backend, batch.inputs))?;
            let k = logits.shape().get(1).copied().unwrap_or(0);
            let mean = logits.cross_entropy(&one_hot(backend, &batch.labels, k)?)?.value().item()?.to_f64();
            loss_sum += mean * count(n);
            let predicted = logits.value().argmax_axis(1)?;
            correct += predicted.data().iter().zip(&batch.labels).filter(|(p, l)| p == l).count();
            total += n;
            progress.inc(1);
        }
        let accuracy = if total == 0 { 0.0 } else { count(correct) / count(total) };
        let mean_loss = if total == 0 { 0.0 } else { loss_sum / count(total) };
        Ok(Evaluation { accuracy, mean_loss, correct, total })
    })
}

#[allow(clippy::cast_precision_loss, reason = "example counts are far below 2^52")]
fn count(n: usize) -> f64 {
    n as f64
}
