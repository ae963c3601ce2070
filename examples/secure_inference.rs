//! Encrypted MNIST classification with a model brought from elsewhere: an ONNX file (what
//! `torch.onnx.export` writes, or `train_zoo`), or one of the networks A–D of the
//! literature with safetensors weights.
//!
//! The model owner imports the model in plaintext, fixed-point encodes it and
//! secret-shares it between `bob` and `alice`, with `crypto_provider` dealing the Beaver
//! material. The data owner shares the test images and one-hot labels the same way. The
//! workers classify under encryption and count the correct predictions under encryption;
//! the same imported model runs in plaintext beside it, and the encrypted predictions
//! that agree with it are counted under encryption too. These two counts are the only
//! values decrypted.
//!
//! The model's input must be one MNIST image: `[N, 1, 28, 28]` for a convolutional
//! network, `[N, 784]` for an MLP (any shape of 784 values per example); the images are
//! reshaped to it. Its output must be ten logits; a final `Softmax`/`LogSoftmax` is left
//! out (the argmax is the same).
//!
//! ```text
//! cargo run --release --example train_zoo -- --data-dir ../shared/data/mnist --net c
//! cargo run --release --example secure_inference -- --model models/c.onnx --data-dir ../shared/data/mnist
//! cargo run --release --example secure_inference -- --zoo c --weights models/c.safetensors --batch 1 --images 100 --json
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use syft::nn::load_safetensors;
use syft::nn::zoo::{MNIST_CLASSES, MNIST_PIXELS, Network};
use syft::prelude::*;

/// Encrypted MNIST classification with an imported model (ONNX, or networks A–D).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The ONNX model to classify with.
    #[arg(long, conflicts_with = "zoo", required_unless_present = "zoo")]
    model: Option<PathBuf>,
    /// Instead of `--model`: one of the networks A–D (`a`..`d`), with `--weights`.
    #[arg(long, requires = "weights")]
    zoo: Option<Network>,
    /// The weights of `--zoo` (safetensors, PyTorch names `0.weight`, ...).
    #[arg(long, requires = "zoo")]
    weights: Option<PathBuf>,
    /// Directory with the IDX files (`train-*`, and `t10k-*` for the official test set).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Number of test images to classify under encryption (all by default).
    #[arg(long)]
    images: Option<usize>,
    /// Images per encrypted batch.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Fractional decimal digits of the fixed-point encoding.
    #[arg(long, default_value_t = 3)]
    precision: u32,
    /// Keep each ReLU before the max pool that follows it (by default the pool moves
    /// first: the same function with a quarter of the ReLUs after a 2×2 pool).
    #[arg(long)]
    keep_layer_order: bool,
    #[command(flatten)]
    common: common::Common,
    #[command(flatten)]
    placement: common::Placement,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("secure_inference", |args: Args| run(&args))
}

fn invalid(op: &'static str, reason: String) -> Error {
    WorkerError::InvalidArgument { op, reason }.into()
}

/// The plaintext model and how it reads one image.
struct Model {
    module: Sequential<Cpu<f32>>,
    /// One example's shape (without the batch axis), 784 values.
    example: Vec<usize>,
    /// What it is, for the report.
    name: String,
}

/// Imports the ONNX model at `path` and checks that it reads MNIST images and outputs
/// ten logits.
fn onnx_model(path: &std::path::Path, batch: usize, say: &dyn Fn(String)) -> Result<Model> {
    let onnx = syft::onnx::load(path)?;
    let shape = onnx.input_shape();
    let (batch_dim, rest) = shape.split_first().ok_or_else(|| invalid("--model", "a scalar input".into()))?;
    let example: Vec<usize> = rest.iter().map(|d| d.unwrap_or(0)).collect();
    if example.is_empty() || example.iter().product::<usize>() != MNIST_PIXELS || example.contains(&0) {
        return Err(invalid(
            "--model",
            format!(
                "input {shape:?} (None: symbolic) does not hold one MNIST image: expected [N, 1, 28, 28] or [N, 784]"
            ),
        ));
    }
    let output = onnx.output_shape();
    if output.len() != 2 || output[1] != Some(MNIST_CLASSES) {
        return Err(invalid("--model", format!("output {output:?} is not [N, {MNIST_CLASSES}] logits")));
    }
    if let Some(fixed) = batch_dim
        && *fixed != batch
    {
        say(format!(
            "note: the model declares a batch of {fixed}; its layers take any batch, running batches of {batch}"
        ));
    }
    if let Some(activation) = onnx.output_activation() {
        say(format!("note: the model's final {activation:?} is left out; the argmax of the logits is the same"));
    }
    say(format!(
        "imported {} (opset {}, producer `{}`): {} layers, {} parameters, input [N, {}]",
        path.display(),
        onnx.opset(),
        onnx.producer(),
        onnx.module().len(),
        onnx.num_parameters(),
        example.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    ));
    Ok(Model { module: onnx.into_module(), example, name: path.display().to_string() })
}

/// Network `net` with the weights at `weights`.
fn zoo_model(net: Network, weights: &std::path::Path, say: &dyn Fn(String)) -> Result<Model> {
    let cpu = Cpu::<f32>::new();
    let mut module = net.build(&cpu, &mut Prg::new(&Seed::from_u64(0)))?;
    load_safetensors(&module, weights)?;
    module.eval();
    say(format!("network {net} ({}) with the weights of {}", net.description(), weights.display()));
    Ok(Model { module, example: vec![1, 28, 28], name: format!("zoo-{}", net.letter()) })
}

#[allow(clippy::too_many_lines, reason = "one straight story, as the other MNIST examples")]
fn run(args: &Args) -> Result<()> {
    let say = |line: String| args.common.say(line);
    if args.batch == 0 {
        return Err(invalid("--batch", "must be at least 1".into()));
    }
    if args.images == Some(0) {
        return Err(invalid("--images", "must be at least 1".into()));
    }
    let model = match (&args.model, args.zoo, &args.weights) {
        (Some(path), _, _) => onnx_model(path, args.batch, &say)?,
        (None, Some(net), Some(weights)) => zoo_model(net, weights, &say)?,
        _ => return Err(invalid("--model", "give --model FILE.onnx, or --zoo X --weights FILE".into())),
    };
    let model = if args.keep_layer_order {
        model
    } else {
        let (module, swapped) = syft::onnx::max_pool_before_relu(&model.module);
        if swapped > 0 {
            say(format!("moved {swapped} max pool(s) before the ReLU they followed (the same function, fewer ReLUs)"));
        }
        Model { module, ..model }
    };
    let mnist = common::load_mnist(&args.data_dir, &args.common)?;
    let test = mnist.test.to_dataset::<f32>(true)?;
    let images = args.images.unwrap_or(test.len()).min(test.len());
    let mut shape = vec![images];
    shape.extend_from_slice(&model.example);
    let inputs = test.inputs().slice_axis(0, 0, images)?.into_shape(&shape)?;
    let labels = &test.labels()[..images];

    // Plaintext reference: the same imported model, the same images, in the same run.
    let (plain_pred, plain_seconds) = common::plain_predictions(&model.module, &inputs, args.batch)?;
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
        &model.module,
        &inputs,
        labels,
        &plain_pred,
        args.batch,
        encoder,
        &[bob, alice],
        crypto_provider,
        &args.common,
    )?;
    let (secure_correct, agree, batches, secure_seconds) = (eval.correct, eval.agreeing, eval.batches, eval.seconds);

    #[allow(clippy::cast_precision_loss, reason = "counts of images and bytes")]
    let (n, nb, bytes, rounds) = (images as f64, batches.max(1) as f64, eval.bytes as f64, eval.rounds as f64);
    #[allow(clippy::cast_precision_loss, reason = "counts of images")]
    let (plain_accuracy, secure_accuracy, agreement) =
        (plain_correct as f64 / n, secure_correct as f64 / n, agree as f64 / n);
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
        "{secure_ms:.3} ms per image encrypted ({secure_seconds:.2} s for {images} in batches of {}; sharing the model \
         included), {plain_ms:.4} ms in plaintext; {:.0} bytes per image, {:.1} rounds per \
         batch (the longest chain of dependent messages)",
        args.batch,
        bytes / n,
        rounds / nb,
    ));
    if args.common.json {
        let report = serde_json::json!({
            "example": "secure_inference",
            "model": model.name,
            "input": model.example,
            "images": images,
            "batch": args.batch,
            "precision_fractional": args.precision,
            "max_pool_before_relu": !args.keep_layer_order,
            "test_split": common::test_split_name(&mnist),
            "plain_accuracy": plain_accuracy,
            "secure_accuracy": secure_accuracy,
            "agreement": agreement,
            "secure_ms_per_image": secure_ms,
            "plain_ms_per_image": plain_ms,
            "bytes_per_image": bytes / n,
            "rounds_per_batch": rounds / nb,
            "transport": args.placement.transport.to_string(),
        });
        println!("{report}");
    }
    Ok(())
}
