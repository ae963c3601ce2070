//! Encrypted training at MNIST scale: SecureNN's "Network A" (an MLP 784-128-128-10
//! with ReLU) trained on secret-shared images and labels, with a secret-shared model.
//!
//! Model, training images and one-hot labels are fixed-point encoded and shared between
//! `bob` and `alice`, with `crypto_provider` dealing Beaver material and helping with
//! ReLU. Forward pass, squared-error loss, backward pass and SGD all run under
//! encryption, pipelined (the client does not wait for each step's acknowledgements); only
//! the loss is decrypted, every `--loss-every` batches and after the last one (for the
//! progress bar). After
//! training the model owner decrypts the model and evaluates it in plaintext on the test
//! set. The same training runs in plaintext from the same initial weights and batch
//! order, beside it.
//!
//! ```text
//! cargo run --release --example secure_training_mnist -- --data-dir ../shared/data/mnist --epochs 5 --json
//! # the workload of CrypTen's MNIST training example (any MLP with --layers):
//! cargo run --release --example secure_training_mnist -- --layers 784,500,10 --batch 64 --loss ce --lr 0.1
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use syft::nn::progress::Progress;
use syft::nn::{Reduction, mse_loss, softmax_cross_entropy};
use syft::prelude::*;

/// Encrypted training of an MLP on encrypted MNIST digits.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Training epochs.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// The MLP's layer widths, input first (784) and classes last (10); ReLU between
    /// layers. The default is SecureNN's Network A; `784,500,10` is CrypTen's MNIST example.
    #[arg(long, value_delimiter = ',', default_value = "784,128,128,10")]
    layers: Vec<usize>,
    /// Learning rate per example (SGD on the summed loss, step `lr / batch`); 0.05 for
    /// `mse` and 0.2 for `ce` by default.
    #[arg(long)]
    lr: Option<f64>,
    /// Use only the first N training digits.
    #[arg(long)]
    train_images: Option<usize>,
    /// The loss: summed squared error (`mse`) or summed softmax cross-entropy (`ce`; under
    /// encryption one operation computes the loss and its gradient, with CrypTen-style
    /// iterative exponential, reciprocal and logarithm).
    #[arg(long, value_enum, default_value_t = LossKind::Mse)]
    loss: LossKind,
    /// Fractional decimal digits of the fixed-point encoding.
    #[arg(long, default_value_t = 4)]
    precision: u32,
    /// Seed of the initialisation and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Decrypt the loss for the progress line every this many batches (and after the
    /// last one)
    #[arg(long, default_value_t = 10)]
    loss_every: usize,
    #[command(flatten)]
    common: common::Common,
    #[command(flatten)]
    placement: common::Placement,
}

/// The training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LossKind {
    /// Summed squared error against one-hot labels.
    Mse,
    /// Summed softmax cross-entropy.
    Ce,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("secure_training_mnist", |args: Args| run(&args))
}

fn mlp(layers: &[usize], seed: u64) -> Result<Sequential<Cpu<f32>>> {
    if layers.len() < 2 || layers.first() != Some(&784) || layers.last() != Some(&10) || layers.contains(&0) {
        return Err(WorkerError::InvalidArgument {
            op: "--layers",
            reason: format!("{layers:?}: widths from 784 to 10, none zero"),
        }
        .into());
    }
    let cpu = Cpu::<f32>::new();
    let mut init = Prg::stream(&Seed::from_u64(seed), 0, 0);
    let mut model = Sequential::new();
    for (i, w) in layers.windows(2).enumerate() {
        if i > 0 {
            model = model.with(ReLU::new());
        }
        model = model.with(Linear::new(&cpu, w[0], w[1], true, &mut init)?);
    }
    Ok(model)
}

fn run(args: &Args) -> Result<()> {
    let say = |line: String| args.common.say(line);
    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let train = mnist.train.to_dataset::<f32>(true)?;
    let test = mnist.test.to_dataset::<f32>(true)?;
    let n = args.train_images.unwrap_or(train.len()).min(train.len());
    let inputs = train.inputs().slice_axis(0, 0, n)?;
    let labels = &train.labels()[..n];
    let one_hot = Tensor::<f32>::one_hot(labels, 10)?;
    let order = common::batch_order(n, args.batch, args.epochs, args.seed);
    let lr = args.lr.unwrap_or(match args.loss {
        LossKind::Mse => 0.05,
        LossKind::Ce => 0.2,
    });
    #[allow(clippy::cast_precision_loss, reason = "batch sizes are small")]
    let step = lr / args.batch as f64;
    say(format!(
        "Network A (784-128-128-10), {n} training digits, batch {}, {} epochs, SGD step {step:.2e} on the summed \
         {} loss, fixed precision {}",
        args.batch,
        args.epochs,
        format!("{:?}", args.loss).to_lowercase(),
        args.precision
    ));

    // Plaintext reference: same weights, same batch order.
    let cpu = Cpu::<f32>::new();
    let plain_model = mlp(&args.layers, args.seed)?;
    let mut plain_opt = Sgd::new(plain_model.parameters(), SgdConfig::new(step));
    let start = Instant::now();
    for batch in &order {
        plain_opt.zero_grad();
        let x = Var::constant(&cpu, inputs.index_select(0, batch)?);
        let y = Var::constant(&cpu, one_hot.index_select(0, batch)?);
        let logits = plain_model.forward(&x)?;
        let loss = match args.loss {
            LossKind::Mse => mse_loss(&logits, &y, Reduction::Sum)?,
            LossKind::Ce => softmax_cross_entropy(&logits, &y, Reduction::Sum)?,
        };
        loss.backward()?;
        plain_opt.step()?;
    }
    #[allow(clippy::cast_precision_loss, reason = "counts of batches")]
    let plain_seconds_per_batch = start.elapsed().as_secs_f64() / order.len().max(1) as f64;
    let plain_test_accuracy = common::plain_accuracy(&plain_model, test.inputs(), test.labels())?;
    say(format!(
        "plaintext: test accuracy {:.2}%, {:.4} s per batch",
        100.0 * plain_test_accuracy,
        plain_seconds_per_batch
    ));

    // Encrypted: the workers.
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["bob", "alice", "crypto_provider"])?;
    let (bob, alice, crypto_provider) = (workers.get("bob")?, workers.get("alice")?, workers.get("crypto_provider")?);
    let encoder = FixedEncoder::new(10, args.precision)?;
    let owner_model = mlp(&args.layers, args.seed)?;
    let shared = share_model(&owner_model, encoder, &[bob, alice], crypto_provider)?;
    let session = shared.session().clone();
    let mut opt = Sgd::new(shared.parameters(), SgdConfig::new(step));
    let stats_before = session.comm_stats()?;
    let requests_before = hub.requests_sent();
    let bar = Progress::new(order.len(), "encrypted training", args.common.json);
    let start = Instant::now();
    let mut last_loss = f64::NAN;
    // The steps are pipelined: the client sends each operation without waiting for the
    // workers' acknowledgements, so they go from one to the next without a round trip to
    // the client in between. Decrypting the loss waits for everything before it.
    session.pipelined(|| -> Result<()> {
        for (i, batch) in order.iter().enumerate() {
            // The data owner shares a batch of images and one-hot labels.
            let x =
                inputs.index_select(0, batch)?.fix_precision_with(encoder)?.share(&[bob, alice], crypto_provider)?;
            let y =
                one_hot.index_select(0, batch)?.fix_precision_with(encoder)?.share(&[bob, alice], crypto_provider)?;
            let (x, y) = (shared.input(x), shared.input(y));
            opt.zero_grad();
            let logits = shared.forward(&x)?;
            // Either loss is summed over the batch. The cross-entropy is one operation on
            // the shares that returns the loss and its gradient softmax(z) − y together.
            let loss = match args.loss {
                LossKind::Mse => mse_loss(&logits, &y, Reduction::Sum)?,
                LossKind::Ce => softmax_cross_entropy(&logits, &y, Reduction::Sum)?,
            };
            loss.backward()?;
            // The loss is decrypted for the progress line every `--loss-every` batches and
            // after the last one.
            if i % args.loss_every.max(1) == 0 || i + 1 == order.len() {
                last_loss = (*loss.value()).clone().get()?.float_precision().item()? / batch.len() as f64;
                bar.set_message(format!("loss {last_loss:.4}"));
            }
            opt.step()?;
            bar.inc(1);
        }
        Ok(())
    })?;
    bar.finish();
    #[allow(clippy::cast_precision_loss, reason = "counts of batches")]
    let batches = order.len().max(1) as f64;
    let seconds_per_batch = start.elapsed().as_secs_f64() / batches;
    #[allow(clippy::cast_precision_loss, reason = "counts of requests")]
    let requests_per_batch = hub.requests_sent().saturating_sub(requests_before) as f64 / batches;
    let stats_after = session.comm_stats()?;
    let traffic = stats_after.since(&stats_before);
    let (bytes, rounds) = (traffic.bytes(), traffic.rounds());

    // The model owner decrypts the model and evaluates it in plaintext.
    let trained = syft::decrypt_model(shared.module())?;
    let test_accuracy = common::plain_accuracy(&trained, test.inputs(), test.labels())?;
    say(format!(
        "encrypted: test accuracy {:.2}% (plaintext {:.2}%), last batch loss {last_loss:.4}, {seconds_per_batch:.4} s \
         per batch, {:.1} MB, {:.0} rounds and {requests_per_batch:.0} requests from the client per batch",
        100.0 * test_accuracy,
        100.0 * plain_test_accuracy,
        bytes as f64 / batches / 1e6,
        rounds as f64 / batches
    ));
    if args.common.json {
        let report = serde_json::json!({
            "example": "secure_training_mnist",
            "model": format!("mlp-{}", args.layers.iter().map(ToString::to_string).collect::<Vec<_>>().join("-")),
            "train_images": n,
            "epochs": args.epochs,
            "batch": args.batch,
            "lr": lr,
            "precision_fractional": args.precision,
            "loss": format!("{:?}", args.loss).to_lowercase(),
            "test_examples": test.len(),
            "test_split": mnist.test_split.to_string(),
            "test_accuracy": test_accuracy,
            "plain_test_accuracy": plain_test_accuracy,
            "seconds_per_batch": seconds_per_batch,
            "plain_seconds_per_batch": plain_seconds_per_batch,
            "bytes_per_batch": bytes as f64 / batches,
            "rounds_per_batch": rounds as f64 / batches,
            "requests_per_batch": requests_per_batch,
            "last_loss": last_loss,
        });
        println!("{report}");
    }
    Ok(())
}
