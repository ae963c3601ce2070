//! Encrypted training of the MNIST networks A–D, convolutional ones included: LeNet
//! (network C) and MiniONN's network B trained on secret-shared images and labels, with
//! a secret-shared model.
//!
//! Model, training images and one-hot labels are fixed-point encoded and shared between
//! `bob` and `alice`, with `crypto_provider` dealing Beaver material and helping with
//! ReLU and max pooling. Forward pass, summed squared-error loss, backward pass (the
//! convolutions' gradients are Beaver products, max pooling's backward one product with
//! its one-hot mask) and SGD all run under encryption; only every tenth batch's loss is
//! decrypted, for the progress bar. After training the model owner decrypts the model
//! and evaluates it in plaintext on the test set. The same training runs in plaintext
//! from the same initial weights and batch order, beside it.
//!
//! ```text
//! cargo run --release --example secure_training_zoo -- --net c --data-dir ../shared/data/mnist --json
//! # per-batch time on a subset (the first 20 batches of the epoch's order):
//! cargo run --release --example secure_training_zoo -- --net c --batches 20 --json
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use syft::nn::progress::Progress;
use syft::nn::zoo::{MNIST_CLASSES, Network};
use syft::nn::{Reduction, mse_loss};
use syft::prelude::*;

/// Encrypted training of MNIST network A–D on encrypted digits.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// The network, by letter.
    #[arg(long, default_value = "c")]
    net: Network,
    /// Training epochs.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Train on only the first N batches of the order (both runs), to time a subset.
    #[arg(long)]
    batches: Option<usize>,
    /// Learning rate per example (SGD on the summed squared error, step `lr / batch`).
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Use only the first N training digits.
    #[arg(long)]
    train_images: Option<usize>,
    /// Fractional decimal digits of the fixed-point encoding.
    #[arg(long, default_value_t = 4)]
    precision: u32,
    /// Seed of the initialisation and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keep each ReLU before the max pool that follows it (by default the pool moves
    /// first, in both runs: the same function and gradients with fewer ReLUs).
    #[arg(long)]
    keep_layer_order: bool,
    /// Only the plaintext training (to choose a learning rate).
    #[arg(long)]
    plain_only: bool,
    #[command(flatten)]
    common: common::Common,
    #[command(flatten)]
    placement: common::Placement,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("secure_training_zoo", |args: Args| run(&args))
}

/// The session's traffic so far: every byte its members sent (framing included), and the
/// longest chain of dependent messages (docs/PROTOCOLS.md §2.4).
fn traffic(session: &MpcSession) -> Result<(u64, u64)> {
    let stats = session.comm_stats()?;
    Ok((stats.bytes(), stats.rounds()))
}

/// Decrypts a shared loss (for the progress bar).
fn decrypt_loss(loss: &SharedTensor) -> Result<f64> {
    Ok(loss.clone().get()?.float_precision().item()?)
}

#[allow(clippy::too_many_lines, reason = "one straight story, as the other MNIST examples")]
fn run(args: &Args) -> Result<()> {
    let say = |line: String| args.common.say(line);
    if args.batch == 0 {
        return Err(WorkerError::InvalidArgument { op: "--batch", reason: "must be at least 1".into() }.into());
    }
    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let train = mnist.train.to_dataset::<f32>(false)?;
    let test = mnist.test.to_dataset::<f32>(false)?;
    let n = args.train_images.unwrap_or(train.len()).min(train.len());
    let inputs = train.inputs().slice_axis(0, 0, n)?;
    let labels = &train.labels()[..n];
    let one_hot = Tensor::<f32>::one_hot(labels, MNIST_CLASSES)?;
    let mut order = common::batch_order(n, args.batch, args.epochs, args.seed);
    let full_batches = order.len();
    if let Some(limit) = args.batches {
        order.truncate(limit);
    }
    #[allow(clippy::cast_precision_loss, reason = "batch sizes are small")]
    let step = args.lr / args.batch as f64;
    let net = args.net;
    say(format!(
        "network {net} ({}), {n} training digits, batch {}, {} epoch(s): {} of {full_batches} batches; SGD step \
         {step:.2e} on the summed squared error, fixed precision {}",
        net.description(),
        args.batch,
        args.epochs,
        order.len(),
        args.precision
    ));
    let build = || -> Result<Sequential<Cpu<f32>>> {
        let mut init = Prg::stream(&Seed::from_u64(args.seed), 0, 0);
        let model = net.build(&Cpu::<f32>::new(), &mut init)?;
        Ok(if args.keep_layer_order { model } else { syft::onnx::max_pool_before_relu(&model).0 })
    };

    // Plaintext reference: same weights, same batch order.
    let cpu = Cpu::<f32>::new();
    let plain_model = build()?;
    let mut plain_opt = Sgd::new(plain_model.parameters(), SgdConfig::new(step));
    let start = Instant::now();
    for batch in &order {
        plain_opt.zero_grad();
        let x = Var::constant(&cpu, inputs.index_select(0, batch)?);
        let y = Var::constant(&cpu, one_hot.index_select(0, batch)?);
        let loss = mse_loss(&plain_model.forward(&x)?, &y, Reduction::Sum)?;
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
    if args.plain_only {
        return Ok(());
    }

    // Encrypted: the workers.
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["bob", "alice", "crypto_provider"])?;
    let (bob, alice, crypto_provider) = (workers.get("bob")?, workers.get("alice")?, workers.get("crypto_provider")?);
    let encoder = FixedEncoder::new(10, args.precision)?;
    let shared = build()?.fix_precision_with(encoder).share(&[bob, alice], crypto_provider)?;
    let session = shared.session().clone();
    let mut opt = Sgd::new(shared.parameters(), SgdConfig::new(step));
    let (bytes_before, rounds_before) = traffic(&session)?;
    let bar = Progress::new(order.len(), "encrypted training", args.common.json);
    let start = Instant::now();
    let mut last_loss = f64::NAN;
    for (i, batch) in order.iter().enumerate() {
        // The data owner shares a batch of images and one-hot labels.
        let x = inputs.index_select(0, batch)?.fix_precision_with(encoder)?.share(&[bob, alice], crypto_provider)?;
        let y = one_hot.index_select(0, batch)?.fix_precision_with(encoder)?.share(&[bob, alice], crypto_provider)?;
        let (x, y) = (shared.input(x), shared.input(y));
        opt.zero_grad();
        let loss = mse_loss(&shared.forward(&x)?, &y, Reduction::Sum)?;
        loss.backward()?;
        opt.step()?;
        if i % 10 == 0 {
            #[allow(clippy::cast_precision_loss, reason = "batch sizes are small")]
            let per_example = decrypt_loss(&loss.value())? / batch.len() as f64;
            last_loss = per_example;
            bar.set_message(format!("loss {last_loss:.4}"));
        }
        bar.inc(1);
    }
    bar.finish();
    #[allow(clippy::cast_precision_loss, reason = "counts of batches")]
    let batches = order.len().max(1) as f64;
    let seconds = start.elapsed().as_secs_f64();
    let seconds_per_batch = seconds / batches;
    let (bytes_after, rounds_after) = traffic(&session)?;
    #[allow(clippy::cast_precision_loss, reason = "byte and round counts")]
    let (bytes, rounds) =
        (bytes_after.saturating_sub(bytes_before) as f64, rounds_after.saturating_sub(rounds_before) as f64);

    // The model owner decrypts the model and evaluates it in plaintext.
    let trained = syft::decrypt_model(shared.module())?;
    let test_accuracy = common::plain_accuracy(&trained, test.inputs(), test.labels())?;
    #[allow(clippy::cast_precision_loss, reason = "counts of batches")]
    let epoch_seconds_estimate = seconds_per_batch * full_batches as f64;
    say(format!(
        "encrypted: test accuracy {:.2}% (plaintext {:.2}%), loss {last_loss:.4} (batch of the last tenth), \
         {seconds_per_batch:.3} s per batch ({:.0} s for {} batches{}), {:.1} MB and {:.0} rounds per batch",
        100.0 * test_accuracy,
        100.0 * plain_test_accuracy,
        seconds,
        order.len(),
        if order.len() < full_batches {
            format!("; the full {full_batches} would take about {epoch_seconds_estimate:.0} s at this rate")
        } else {
            String::new()
        },
        bytes / batches / 1e6,
        rounds / batches
    ));
    if args.common.json {
        let report = serde_json::json!({
            "example": "secure_training_zoo",
            "network": net.to_string(),
            "train_images": n,
            "epochs": args.epochs,
            "batch": args.batch,
            "batches": order.len(),
            "batches_in_full_run": full_batches,
            "lr": args.lr,
            "loss": "mse-sum",
            "precision_fractional": args.precision,
            "max_pool_before_relu": !args.keep_layer_order,
            "test_examples": test.len(),
            "test_split": common::test_split_name(&mnist),
            "test_accuracy": test_accuracy,
            "plain_test_accuracy": plain_test_accuracy,
            "seconds_per_batch": seconds_per_batch,
            "plain_seconds_per_batch": plain_seconds_per_batch,
            "full_run_seconds_estimate": epoch_seconds_estimate,
            "bytes_per_batch": bytes / batches,
            "rounds_per_batch": rounds / batches,
            "last_loss": last_loss,
            "transport": args.placement.transport.to_string(),
        });
        println!("{report}");
    }
    Ok(())
}
