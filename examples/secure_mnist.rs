//! Part 11 of the tutorials: encrypted MNIST classification, model and data both secret.
//!
//! The model owner trains the MLP 784-500-10 in plaintext (or loads saved weights), then
//! fixed-point encodes it and secret-shares it between two workers, `bob` and `alice`,
//! with `crypto_provider` dealing the Beaver material. The data owner shares the test
//! images and one-hot labels the same way. The workers classify under encryption (SPDZ
//! products, SecureNN ReLU and argmax) and count the correct predictions under
//! encryption; only the count is decrypted. The same model runs in plaintext beside it,
//! and the number of encrypted predictions that agree with it is counted under encryption
//! the same way: these two counts are the only values decrypted.
//!
//! ```text
//! cargo run --release --example secure_mnist
//! cargo run --release --example secure_mnist -- --data-dir ../shared/data/mnist --json
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use syft::nn::mnist::Mnist;
use syft::nn::progress::Progress;
use syft::nn::train::train_epoch;
use syft::nn::{load_safetensors, save_safetensors};
use syft::prelude::*;

/// Encrypted MNIST classification (syft-rs, PySyft tutorial Part 11).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Number of test images to classify under encryption (all by default).
    #[arg(long)]
    images: Option<usize>,
    /// Images per encrypted batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Plaintext training epochs (Adam, lr 1e-3, batch 64) when no weights are given.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Load the model's weights from this safetensors file instead of training.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Save the trained weights here.
    #[arg(long)]
    save_weights: Option<PathBuf>,
    /// Fractional decimal digits of the fixed-point encoding (PySyft's default: 3).
    #[arg(long, default_value_t = 3)]
    precision: u32,
    /// Seed of the initialisation and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    common: common::Common,
    #[command(flatten)]
    placement: common::Placement,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("secure_mnist", |args: Args| run(&args))
}

type Mlp = Sequential<Cpu<f32>>;

fn train_model(args: &Args, mnist: &Mnist, say: &dyn Fn(String)) -> Result<Mlp> {
    let cpu = Cpu::<f32>::new();
    let seed = Seed::from_u64(args.seed);
    let mut init = Prg::stream(&seed, 0, 0);
    let mut shuffle = Prg::stream(&seed, 0, 1);
    let mut model = Sequential::new()
        .with(Linear::new(&cpu, 784, 500, true, &mut init)?)
        .with(ReLU::new())
        .with(Linear::new(&cpu, 500, 10, true, &mut init)?);
    if let Some(path) = &args.weights {
        load_safetensors(&model, path)?;
        say(format!("loaded weights from {}", path.display()));
        return Ok(model);
    }
    let train = mnist.train.to_dataset::<f32>(true)?;
    let mut optimizer = Adam::new(model.parameters(), AdamConfig::new(1e-3));
    model.train();
    for epoch in 1..=args.epochs {
        let bar = Progress::new(train.num_batches(64), &format!("training epoch {epoch}"), args.common.json);
        let stats = train_epoch(&cpu, &model, &mut optimizer, &train, 64, &mut shuffle, &bar)?;
        bar.finish();
        say(format!("plaintext training, epoch {epoch:>2}: mean loss {:.4} ({:.2} s)", stats.mean_loss, stats.seconds));
    }
    model.eval();
    if let Some(path) = &args.save_weights {
        save_safetensors(&model, path)?;
        say(format!("saved weights to {}", path.display()));
    }
    Ok(model)
}

fn run(args: &Args) -> Result<()> {
    let say = |line: String| args.common.say(line);
    if args.batch == 0 {
        return Err(
            syft::worker::WorkerError::InvalidArgument { op: "--batch", reason: "must be at least 1".into() }.into()
        );
    }
    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let model = train_model(args, &mnist, &say)?;
    let test = mnist.test.to_dataset::<f32>(true)?;
    let images = args.images.unwrap_or(test.len()).min(test.len());
    let inputs = test.inputs().slice_axis(0, 0, images)?;
    let labels = &test.labels()[..images];

    // Plaintext reference: the same model, the same images, in the same run.
    let (plain_pred, plain_seconds) = common::plain_predictions(&model, &inputs, args.batch)?;
    let plain_correct = plain_pred.iter().zip(labels).filter(|(p, l)| p == l).count();

    // The workers: two computing parties and a crypto provider.
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["bob", "alice", "crypto_provider"])?;
    let (bob, alice, crypto_provider) = (workers.get("bob")?, workers.get("alice")?, workers.get("crypto_provider")?);
    let encoder = FixedEncoder::new(10, args.precision)?;
    say(format!(
        "sharing the model between {} and {} (crypto provider: {}), fixed precision {}",
        bob.id(),
        alice.id(),
        crypto_provider.id(),
        args.precision
    ));

    let eval = common::encrypted_evaluation(
        &model,
        &inputs,
        labels,
        &plain_pred,
        args.batch,
        encoder,
        &[bob, alice],
        crypto_provider,
        &args.common,
    )?;
    let (secure_correct, agree, batches) = (eval.correct, eval.agreeing, eval.batches);
    let (secure_seconds, bytes, rounds) = (eval.seconds, eval.bytes, eval.rounds);

    #[allow(clippy::cast_precision_loss, reason = "counts of images")]
    let (n, nb) = (images.max(1) as f64, batches.max(1) as f64);
    let plain_accuracy = plain_correct as f64 / n;
    let secure_accuracy = secure_correct as f64 / n;
    let agreement = agree as f64 / n;
    let secure_ms = 1000.0 * secure_seconds / n;
    let plain_ms = 1000.0 * plain_seconds / n;
    say(format!(
        "encrypted accuracy {:.2}% ({secure_correct}/{images}), plaintext {:.2}% ({plain_correct}/{images}); \
         agreement {:.2}%",
        100.0 * secure_accuracy,
        100.0 * plain_accuracy,
        100.0 * agreement
    ));
    say(format!(
        "{secure_ms:.3} ms per image encrypted ({secure_seconds:.2} s for {images}, sharing the model \
         included), {plain_ms:.4} ms in plaintext; {:.0} bytes per image, {:.1} rounds per batch \
         of {} (the longest chain of dependent messages)",
        bytes as f64 / n,
        rounds as f64 / nb,
        args.batch
    ));
    if args.common.json {
        let test_split = common::test_split_name(&mnist);
        let report = serde_json::json!({
            "example": "secure_mnist",
            "images": images,
            "batch": args.batch,
            "precision_fractional": args.precision,
            "test_split": test_split,
            "plain_accuracy": plain_accuracy,
            "secure_accuracy": secure_accuracy,
            "agreement": agreement,
            "secure_ms_per_image": secure_ms,
            "plain_ms_per_image": plain_ms,
            "bytes_per_image": bytes as f64 / n,
            "rounds_per_batch": rounds as f64 / nb,
            "transport": args.placement.transport.to_string(),
        });
        println!("{report}");
    }
    Ok(())
}
