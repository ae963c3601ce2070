//! Trains the Part 11 tutorial's MLP (784-500-10: Linear, ReLU, Linear) on MNIST with
//! Adam and cross-entropy through log-softmax, then reports test accuracy.
//!
//! ```text
//! cargo run --release --example train_mnist -- --data-dir ../shared/data/mnist
//! cargo run --release --example train_mnist -- --json --save mlp.safetensors
//! ```
//!
//! The recipe is the tutorial's: batch 64, shuffled every epoch, Adam with lr 1e-3,
//! 10 epochs, PyTorch's default initialisation. Training runs on one thread by default
//! (`--threads`) so its time per epoch compares with single-threaded PyTorch. Without the
//! official test files in `--data-dir`, the last 2,000 training digits are held out as
//! the test split, and the output says so. With `--json`, the last line printed is one
//! JSON object with the figures.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use syft::nn::progress::Progress;
use syft::nn::save_safetensors;
use syft::nn::train::{evaluate, train_epoch};
use syft::prelude::*;

/// Train an MLP on MNIST (syft-rs, plaintext f32).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Training epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the initialisation and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Save the trained weights here (safetensors, PyTorch names `0.weight`, ...).
    #[arg(long)]
    save: Option<PathBuf>,
    #[command(flatten)]
    common: common::Common,
    /// Threads for the matrix products (1 for the single-threaded timing).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("train_mnist", |args: Args| run(&args))
}

fn run(args: &Args) -> Result<()> {
    let threads = args.threads.max(1);
    syft::ring::Parallelism::set_global_threads(threads)?;
    let cpu: Cpu<f32> = if threads == 1 { Cpu::single_threaded() } else { Cpu::new() };
    let say = |line: String| args.common.say(line);

    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let train = mnist.train.to_dataset::<f32>(true)?;
    let test = mnist.test.to_dataset::<f32>(true)?;
    say(format!("MNIST: {} training digits, {} test digits ({})", train.len(), test.len(), mnist.test_split));

    let seed = Seed::from_u64(args.seed);
    let mut init = Prg::stream(&seed, 0, 0);
    let mut shuffle = Prg::stream(&seed, 0, 1);
    let mut model = Sequential::new()
        .with(Linear::new(&cpu, 784, 500, true, &mut init)?)
        .with(ReLU::new())
        .with(Linear::new(&cpu, 500, 10, true, &mut init)?);
    let mut optimizer = Adam::new(model.parameters(), AdamConfig::new(args.lr));
    say(format!(
        "model: Linear(784, 500), ReLU, Linear(500, 10): {} parameters; Adam lr {}, batch {}, {} thread(s)",
        model.num_parameters(),
        args.lr,
        args.batch,
        threads
    ));

    model.train();
    let mut epoch_seconds = Vec::with_capacity(args.epochs);
    let mut train_losses = Vec::with_capacity(args.epochs);
    for epoch in 1..=args.epochs {
        let bar = Progress::new(train.num_batches(args.batch), &format!("epoch {epoch}"), args.common.json);
        let stats = train_epoch(&cpu, &model, &mut optimizer, &train, args.batch, &mut shuffle, &bar)?;
        bar.finish();
        say(format!("epoch {epoch:>2}: mean loss {:.4}, {:.3} s", stats.mean_loss, stats.seconds));
        epoch_seconds.push(stats.seconds);
        train_losses.push(stats.mean_loss);
    }

    model.eval();
    let bar = Progress::new(test.num_batches(1000), "test", args.common.json);
    let eval = evaluate(&cpu, &model, &test, 1000, &bar)?;
    bar.finish();
    let seconds_per_epoch = mean(&epoch_seconds);
    say(format!(
        "test accuracy: {:.2}% ({}/{}) on the {}; mean loss {:.4}; {:.3} s per epoch",
        100.0 * eval.accuracy,
        eval.correct,
        eval.total,
        mnist.test_split,
        eval.mean_loss,
        seconds_per_epoch
    ));

    if let Some(path) = &args.save {
        save_safetensors(&model, path)?;
        say(format!("saved weights to {}", path.display()));
    }

    if args.common.json {
        let test_split = common::test_split_name(&mnist);
        let report = serde_json::json!({
            "example": "train_mnist",
            "model": "mlp-784-500-10",
            "optimizer": "adam",
            "lr": args.lr,
            "batch": args.batch,
            "epochs": args.epochs,
            "threads": threads,
            "seed": args.seed,
            "train_examples": train.len(),
            "test_examples": test.len(),
            "test_split": test_split,
            "test_accuracy": eval.accuracy,
            "test_loss": eval.mean_loss,
            "seconds_per_epoch": seconds_per_epoch,
            "epoch_seconds": epoch_seconds,
            "train_loss": train_losses,
        });
        println!("{report}");
    }
    Ok(())
}

#[allow(clippy::cast_precision_loss, reason = "a handful of epochs")]
fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}
