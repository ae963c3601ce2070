//! What every example shares: its `main` (serve as a worker process when asked, parse the
//! flags, run, report the error), the common flags (and `--transport` for those that
//! start workers), printing for humans or for `--json`,
//! and loading MNIST with the note about the test split.

use clap::Parser;
use std::path::Path;
use std::process::ExitCode;
use syft::nn::mnist::{DEFAULT_HELD_OUT, Mnist, TestSplit};
use syft::nn::progress::Progress;
use syft::prelude::*;
use syft::tutorials::part11;

/// The flags every example takes.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Common {
    /// Print one JSON object as the last line (and no progress bars).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The flag of the examples that start workers.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Placement {
    /// Where the workers run: threads of this process (`in-process`), or worker processes
    /// on loopback over mutually authenticated TLS (`tcp`).
    #[arg(long, default_value_t = Transport::InProcess)]
    pub(crate) transport: Transport,
}

impl Placement {
    /// Starts the workers named `names` where the flag says.
    #[allow(dead_code, reason = "not every example starts workers")]
    pub(crate) fn workers(&self, hub: &std::sync::Arc<Hub>, names: &[&str]) -> Result<Workers> {
        Workers::builder(hub).names(names).transport(self.transport).start()
    }
}

impl Common {
    /// Prints a progress line: to standard output, or to standard error with `--json`
    /// (standard output then carries only the JSON report).
    pub(crate) fn say(&self, line: impl std::fmt::Display) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

/// The examples' `main`: a child started as a worker process serves and exits; otherwise
/// the flags are parsed and `run` runs, and an error is printed with the example's name.
pub(crate) fn main<A: Parser>(name: &str, run: impl FnOnce(A) -> Result<()>) -> ExitCode {
    // With `--transport tcp` this program also serves as the worker processes.
    serve_if_requested();
    match run(A::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads MNIST from `dir`, holding out the last training digits when the official test
/// files are missing (and saying so).
#[allow(dead_code, reason = "not every example reads MNIST")]
pub(crate) fn load_mnist(dir: &Path, common: &Common) -> Result<Mnist> {
    let mnist = Mnist::load_or_hold_out(dir, DEFAULT_HELD_OUT)?;
    if let TestSplit::HeldOut { count } = mnist.test_split {
        common.say(format!(
            "note: no t10k test files in {}; testing on the last {count} training digits instead",
            dir.display()
        ));
    }
    Ok(mnist)
}

/// The test split as the JSON reports name it.
#[allow(dead_code, reason = "not every example reads MNIST")]
pub(crate) fn test_split_name(mnist: &Mnist) -> String {
    match mnist.test_split {
        TestSplit::Official => "official t10k".to_owned(),
        split @ TestSplit::HeldOut { .. } => split.to_string(),
    }
}

/// An example's own check that did not hold, as an error.
#[allow(dead_code, reason = "not every example checks its own output")]
pub(crate) fn failed(what: &str) -> Error {
    WorkerError::InvalidArgument { op: "example", reason: what.to_owned() }.into()
}

/// The plaintext model's predictions on `inputs` (batch axis first), `batch` images at a
/// time ([`syft::tutorials::part11::plain_predictions`]), and the seconds they took.
#[allow(dead_code, reason = "only the classification examples evaluate")]
pub(crate) fn plain_predictions(
    module: &Sequential<Cpu<f32>>,
    inputs: &Tensor<f32>,
    batch: usize,
) -> Result<(Vec<usize>, f64)> {
    let start = std::time::Instant::now();
    let pred = part11::plain_predictions(module, inputs, batch)?;
    Ok((pred, start.elapsed().as_secs_f64()))
}

/// What an encrypted evaluation decrypted, and what it cost.
#[allow(dead_code, reason = "only the classification examples evaluate")]
pub(crate) struct EncryptedEvaluation {
    /// Correct predictions (the first of the two values decrypted).
    pub(crate) correct: usize,
    /// Predictions equal to the plaintext model's (the second).
    pub(crate) agreeing: usize,
    /// Encrypted batches run.
    pub(crate) batches: usize,
    /// Seconds from sharing the model to the decrypted counts.
    pub(crate) seconds: f64,
    /// Every byte every member of the session sent (framing included).
    pub(crate) bytes: u64,
    /// The longest chain of dependent messages across all parties and the dealer.
    pub(crate) rounds: u64,
}

/// Part 11's encrypted evaluation ([`syft::tutorials::part11::evaluate_encrypted`]): the
/// model owner shares `model`, the data owner shares each batch of images and its one-hot
/// labels, and the correct predictions and the agreements with `plain_pred` are counted
/// under encryption; only those two counts are decrypted. With a progress bar and the
/// figures the examples report.
#[allow(dead_code, reason = "only the classification examples evaluate")]
#[allow(clippy::too_many_arguments, reason = "the evaluation's inputs, each one thing")]
pub(crate) fn encrypted_evaluation(
    model: &Sequential<Cpu<f32>>,
    inputs: &Tensor<f32>,
    labels: &[usize],
    plain_pred: &[usize],
    batch: usize,
    encoder: FixedEncoder,
    parties: &[&dyn Worker],
    crypto_provider: &dyn Worker,
    common: &Common,
) -> Result<EncryptedEvaluation> {
    let bar = Progress::new(labels.len().div_ceil(batch.max(1)), "encrypted evaluation", common.json);
    let start = std::time::Instant::now();
    let eval = part11::evaluate_encrypted(
        model,
        inputs,
        labels,
        plain_pred,
        batch,
        encoder,
        parties,
        crypto_provider,
        || bar.inc(1),
    )?;
    bar.finish();
    let seconds = start.elapsed().as_secs_f64();
    Ok(EncryptedEvaluation {
        correct: eval.correct,
        agreeing: eval.agreeing,
        batches: eval.batches,
        seconds,
        bytes: eval.traffic.bytes(),
        rounds: eval.traffic.rounds(),
    })
}

/// The batch order of a training run: a seeded permutation of the `n` examples per epoch,
/// cut into batches, the same for the encrypted run and the plaintext one beside it.
#[allow(dead_code, reason = "only the training examples draw a batch order")]
pub(crate) fn batch_order(n: usize, batch: usize, epochs: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut prg = Prg::stream(&Seed::from_u64(seed), 0, 1);
    let mut out = Vec::new();
    for _ in 0..epochs {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            #[allow(clippy::cast_possible_truncation, reason = "index below n")]
            let j = (prg.next_u64() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        out.extend(idx.chunks(batch.max(1)).map(<[usize]>::to_vec));
    }
    out
}

/// A plaintext model's accuracy on `inputs`, in batches of 1,000.
#[allow(dead_code, reason = "only the training examples evaluate a trained model")]
pub(crate) fn plain_accuracy(module: &Sequential<Cpu<f32>>, inputs: &Tensor<f32>, labels: &[usize]) -> Result<f64> {
    let (pred, _) = plain_predictions(module, inputs, 1000)?;
    let hits = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    #[allow(clippy::cast_precision_loss, reason = "counts of images")]
    Ok(hits as f64 / labels.len().max(1) as f64)
}
