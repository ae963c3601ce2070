//! Trains the MNIST networks A–D of the private-inference literature in plaintext, saves
//! their weights (safetensors) and exports each as ONNX, ready for
//! `secure_inference --model`.
//!
//! ```text
//! cargo run --release --example train_zoo -- --data-dir ../shared/data/mnist --net a,b,c,d --out-dir models
//! cargo run --release --example secure_inference -- --model models/c.onnx --data-dir ../shared/data/mnist
//! ```
//!
//! The recipe: Adam (lr 1e-3), batch 64, cross-entropy through log-softmax, batches
//! shuffled every epoch, PyTorch's default initialisation, the same seed for every
//! network. Network A is exported for flat `[N, 784]` inputs (as an MLP is usually
//! exported), B–D for `[N, 1, 28, 28]` images. After exporting, the ONNX file is imported
//! back and must classify the test set exactly as the trained model does.

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use syft::nn::progress::Progress;
use syft::nn::train::{evaluate, train_epoch};
use syft::nn::zoo::Network;
use syft::nn::{Dataset, save_safetensors};
use syft::prelude::*;

/// Train MNIST networks A–D in plaintext; save safetensors and ONNX.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// The networks, by letter.
    #[arg(long, value_delimiter = ',', default_value = "a,b,c,d")]
    net: Vec<Network>,
    /// Training epochs per network.
    #[arg(long, default_value_t = 3)]
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
    /// Where `X.safetensors` and `X.onnx` are written (X the network's letter).
    #[arg(long, default_value = "models")]
    out_dir: PathBuf,
    #[command(flatten)]
    common: common::Common,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("train_zoo", |args: Args| run(&args))
}

/// The shape of one example as the exported model reads it.
fn example_shape(net: Network) -> Vec<usize> {
    if net.is_convolutional() { vec![1, 28, 28] } else { vec![784] }
}

/// The predicted class of every example, in batches of 1,000.
fn predictions(model: &Sequential<Cpu<f32>>, data: &Dataset<f32>) -> Result<Vec<usize>> {
    let cpu = Cpu::<f32>::new();
    let mut out = Vec::with_capacity(data.len());
    no_grad(|| -> Result<()> {
        for batch in data.batches(1000)? {
            let logits = model.forward(&Var::constant(&cpu, batch?.inputs))?;
            out.extend(logits.value().argmax_axis(1)?.into_vec());
        }
        Ok(())
    })?;
    Ok(out)
}

fn run(args: &Args) -> Result<()> {
    let say = |line: String| args.common.say(line);
    if args.batch == 0 {
        return Err(WorkerError::InvalidArgument { op: "--batch", reason: "must be at least 1".into() }.into());
    }
    let io =
        |path: &Path, e: std::io::Error| -> Error { syft::nn::Error::Io { path: path.to_owned(), source: e }.into() };
    std::fs::create_dir_all(&args.out_dir).map_err(|e| io(&args.out_dir, e))?;
    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let cpu = Cpu::<f32>::new();
    let mut reports = Vec::new();
    for &net in &args.net {
        let flat = !net.is_convolutional();
        let train = mnist.train.to_dataset::<f32>(flat)?;
        let test = mnist.test.to_dataset::<f32>(flat)?;
        let seed = Seed::from_u64(args.seed);
        let mut init = Prg::stream(&seed, 0, 0);
        let mut shuffle = Prg::stream(&seed, 0, 1);
        let mut model = net.build(&cpu, &mut init)?;
        say(format!(
            "network {net} ({}): {} parameters; Adam lr {}, batch {}, {} epochs",
            net.description(),
            model.num_parameters(),
            args.lr,
            args.batch,
            args.epochs
        ));
        let mut optimizer = Adam::new(model.parameters(), AdamConfig::new(args.lr));
        model.train();
        let mut seconds = 0.0;
        let mut epoch_accuracy = Vec::with_capacity(args.epochs);
        for epoch in 1..=args.epochs {
            let bar = Progress::new(train.num_batches(args.batch), &format!("{net} epoch {epoch}"), args.common.json);
            let stats = train_epoch(&cpu, &model, &mut optimizer, &train, args.batch, &mut shuffle, &bar)?;
            bar.finish();
            seconds += stats.seconds;
            let eval = evaluate(&cpu, &model, &test, 1000, &Progress::new(0, "test", true))?;
            epoch_accuracy.push(eval.accuracy);
            say(format!(
                "  epoch {epoch}: mean loss {:.4}, {:.1} s; test accuracy {:.2}%",
                stats.mean_loss,
                stats.seconds,
                100.0 * eval.accuracy
            ));
        }
        model.eval();

        let weights = args.out_dir.join(format!("{}.safetensors", net.letter()));
        save_safetensors(&model, &weights)?;
        let onnx_path = args.out_dir.join(format!("{}.onnx", net.letter()));
        let bytes = syft::onnx::export(&model, &example_shape(net))?;
        std::fs::write(&onnx_path, &bytes).map_err(|e| io(&onnx_path, e))?;

        // The exported file classifies the test set as the trained model does.
        let imported = syft::onnx::load(&onnx_path)?;
        let ours = predictions(&model, &test)?;
        let theirs = predictions(imported.module(), &test)?;
        let correct = ours.iter().zip(test.labels()).filter(|(p, l)| p == l).count();
        let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
        if differ != 0 {
            return Err(common::failed(&format!(
                "{}: the imported model disagrees with the trained one on {differ} test digits",
                onnx_path.display()
            )));
        }
        #[allow(clippy::cast_precision_loss, reason = "counts of digits")]
        let accuracy = correct as f64 / test.len().max(1) as f64;
        say(format!(
            "network {net}: test accuracy {:.2}% ({correct}/{}); saved {} and {} ({} bytes; imports back \
             with identical predictions)",
            100.0 * accuracy,
            test.len(),
            weights.display(),
            onnx_path.display(),
            bytes.len()
        ));
        reports.push(serde_json::json!({
            "network": net.to_string(),
            "parameters": model.num_parameters(),
            "epochs": args.epochs,
            "test_accuracy": accuracy,
            "epoch_test_accuracy": epoch_accuracy,
            "train_seconds": seconds,
            "weights": weights.display().to_string(),
            "onnx": onnx_path.display().to_string(),
            "onnx_bytes": bytes.len(),
        }));
    }
    if args.common.json {
        let report = serde_json::json!({
            "example": "train_zoo",
            "optimizer": "adam",
            "lr": args.lr,
            "batch": args.batch,
            "seed": args.seed,
            "test_split": common::test_split_name(&mnist),
            "networks": reports,
        });
        println!("{report}");
    }
    Ok(())
}
