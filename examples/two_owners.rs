//! Part 11 for real: a model owner and a data owner, two programs with their own
//! certificates, and three worker processes that enforce who may do what.
//!
//! - `model-owner`: trains the MLP 784-500-10 in plaintext, shares it among `bob` and
//!   `alice` (crypto provider `crypto_provider`), grants it to `data_owner`, writes where
//!   the shares are to a file and exits; the shares stay on the workers.
//! - `data-owner`: shares its test images in its own session, classifies them under
//!   encryption with the granted model, decrypts the predictions (the only output it may
//!   read), counts the correct ones against its own labels, and tries to read the model's
//!   weights and its logits: refused.
//! - `snoop --as NAME`: the model owner (or a worker's certificate) tries to read the data
//!   owner's images and predictions: refused.
//!
//! Without a subcommand it runs the whole walkthrough on loopback: certificates in a
//! temporary directory, the three workers as processes of this program, then each role
//! as a process of its own. `docs/DEPLOY.md` gives the same steps as separate commands.
//!
//! ```text
//! cargo run --release --example two_owners
//! cargo run --release --example two_owners -- --data-dir ../shared/data/mnist --images 2000
//! ```

use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;
use syft::net::{NetClient, NetConfig, Security, TlsIdentity};
use syft::nn::mnist::{DEFAULT_HELD_OUT, Mnist};
use syft::nn::progress::Progress;
use syft::nn::train::train_epoch;
use syft::prelude::*;
use syft::worker::transport::call;
use syft::worker::{ObjectId, RemoteErrorKind, Request};

/// The worker ids: two computing parties, then the crypto provider.
const WORKERS: [&str; 3] = ["bob", "alice", "crypto_provider"];
const MODEL_OWNER: &str = "model_owner";
const DATA_OWNER: &str = "data_owner";

/// Part 11 with two owners and workers that enforce ownership.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    role: Option<Role>,
    #[command(flatten)]
    demo: Common,
}

#[derive(ClapArgs, Debug, Clone)]
struct Common {
    /// Directory with the MNIST IDX files.
    #[arg(long, default_value = "data/mnist", global = true)]
    data_dir: PathBuf,
    /// Test images the data owner classifies.
    #[arg(long, default_value_t = 500, global = true)]
    images: usize,
    /// Images per encrypted batch.
    #[arg(long, default_value_t = 50, global = true)]
    batch: usize,
    /// Plaintext training epochs of the model owner.
    #[arg(long, default_value_t = 2, global = true)]
    epochs: usize,
}

#[derive(ClapArgs, Debug, Clone)]
struct Deployment {
    /// The directory `syft-worker gen-certs` wrote (this role uses `DIR/NAME/`).
    #[arg(long)]
    certs: PathBuf,
    /// The workers' addresses: `bob=HOST:PORT,alice=HOST:PORT,crypto_provider=HOST:PORT`.
    #[arg(long, value_delimiter = ',')]
    workers: Vec<String>,
    /// The directory where the model owner publishes its model's handles and the data
    /// owner the ids it leaves on the workers.
    #[arg(long)]
    exchange: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Role {
    /// Train, share and grant the model; publish its handles.
    ModelOwner(Deployment),
    /// Classify the test images with the granted model.
    DataOwner(Deployment),
    /// Try to read the data owner's images and predictions as `--as`.
    Snoop {
        #[command(flatten)]
        deployment: Deployment,
        /// Whose certificate to use.
        #[arg(long = "as")]
        who: String,
    },
    /// Serve a worker (the `syft-worker` command line; used by the walkthrough).
    #[command(hide = true, external_subcommand)]
    Worker(Vec<String>),
}

type Mlp = Sequential<Cpu<f32>>;

fn architecture(seed: u64) -> Result<Mlp> {
    let cpu = Cpu::<f32>::new();
    let mut init = Prg::stream(&Seed::from_u64(seed), 0, 0);
    Ok(Sequential::new()
        .with(Linear::new(&cpu, 784, 500, true, &mut init)?)
        .with(ReLU::new())
        .with(Linear::new(&cpu, 500, 10, true, &mut init)?))
}

fn fail(reason: impl std::fmt::Display) -> syft::Error {
    WorkerError::InvalidArgument { op: "two_owners", reason: reason.to_string() }.into()
}

/// Connects as `me` to the workers of the deployment (its own certificate directory).
fn connect(d: &Deployment, me: &str) -> Result<(Arc<Hub>, Vec<NetworkWorker>)> {
    let p = |f: &str| d.certs.join(me).join(f);
    let identity = TlsIdentity::from_files(&p("ca.pem"), &p("cert.pem"), &p("key.pem")).map_err(fail)?;
    let client = NetClient::new(me, Security::Tls(identity), NetConfig::default());
    let hub = Hub::new();
    let mut workers = Vec::new();
    for entry in &d.workers {
        let (id, address) = entry.split_once('=').ok_or_else(|| fail(format!("--workers entry {entry:?}")))?;
        if id != me {
            workers.push(client.connect(&hub, id, address).map_err(fail)?);
        }
    }
    Ok((hub, workers))
}

fn find<'a>(workers: &'a [NetworkWorker], id: &str) -> Result<&'a NetworkWorker> {
    workers.iter().find(|w| w.id() == id).ok_or_else(|| fail(format!("no worker {id}")))
}

fn write_json(path: &Path, value: serde_json::Result<serde_json::Value>) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(&value.map_err(fail)?).map_err(fail)?;
    std::fs::write(path, bytes).map_err(|e| fail(format!("{}: {e}", path.display())))
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(fail)
}

/// What a refused attempt looks like; anything else is a failure of the walkthrough.
fn refused<T>(what: &str, outcome: std::result::Result<T, impl Into<syft::Error>>) -> Result<()> {
    match outcome.map_err(Into::into) {
        Err(syft::Error::Worker(WorkerError::Remote { error, .. })) if error.kind == RemoteErrorKind::Forbidden => {
            println!("  {what}: refused ({})", error.message);
            Ok(())
        }
        Err(other) => Err(fail(format!("{what}: expected a refusal, got {other}"))),
        Ok(_) => Err(fail(format!("{what}: it was allowed"))),
    }
}

fn model_owner(common: &Common, d: &Deployment) -> Result<()> {
    let mnist = Mnist::load_or_hold_out(&common.data_dir, DEFAULT_HELD_OUT)?;
    let cpu = Cpu::<f32>::new();
    let mut model = architecture(0)?;
    let train = mnist.train.to_dataset::<f32>(true)?;
    let mut optimizer = Adam::new(model.parameters(), AdamConfig::new(1e-3));
    let mut shuffle = Prg::stream(&Seed::from_u64(0), 0, 1);
    model.train();
    for epoch in 1..=common.epochs {
        let bar = Progress::new(train.num_batches(64), &format!("model owner: training epoch {epoch}"), true);
        let stats = train_epoch(&cpu, &model, &mut optimizer, &train, 64, &mut shuffle, &bar)?;
        println!("model owner: plaintext training epoch {epoch}, mean loss {:.4}", stats.mean_loss);
    }
    model.eval();
    let (_hub, w) = connect(d, MODEL_OWNER)?;
    let shared = share_model(
        &model,
        FixedEncoder::default(),
        &[find(&w, "bob")?, find(&w, "alice")?],
        find(&w, "crypto_provider")?,
    )?;
    shared.grant(DATA_OWNER)?;
    shared.keep_on_workers(true);
    write_json(&d.exchange.join("model.json"), serde_json::to_value(shared.handles()))?;
    println!("model owner: model shared among bob and alice and granted to {DATA_OWNER}");
    Ok(())
}

fn data_owner(common: &Common, d: &Deployment) -> Result<serde_json::Value> {
    let mnist = Mnist::load_or_hold_out(&common.data_dir, DEFAULT_HELD_OUT)?;
    let test = mnist.test.to_dataset::<f32>(true)?;
    let images = common.images.min(test.len());
    let inputs = test.inputs().slice_axis(0, 0, images)?;
    let labels = &test.labels()[..images];
    let (_hub, w) = connect(d, DATA_OWNER)?;
    let (bob, alice, cp) = (find(&w, "bob")?, find(&w, "alice")?, find(&w, "crypto_provider")?);
    let handles: Vec<SharedHandle> =
        serde_json::from_value(read_json(&d.exchange.join("model.json"))?).map_err(fail)?;
    let encoder = FixedEncoder::default();
    let model = borrow_model(&architecture(0)?, &handles, encoder, &[bob, alice], cp)?;

    let start = Instant::now();
    let mut correct = 0usize;
    let mut last: Option<(SharedTensor, SharedTensor, SharedTensor)> = None;
    for b in (0..images).step_by(common.batch.max(1)) {
        let end = (b + common.batch.max(1)).min(images);
        let x = inputs.slice_axis(0, b, end)?.fix_precision_with(encoder)?.share(&[bob, alice], cp)?;
        let logits = (*no_grad(|| model.forward(&model.input(x.clone())))?.value()).clone();
        let pred = logits.argmax_one_hot(1)?;
        // Decrypting removes the predictions' shares from the workers: keep their negation
        // (as telling as they are) for the others to try to read.
        let kept = pred.neg()?;
        // The data owner's entitled output: its predictions.
        let decided = pred.get()?.into_raw().argmax_axis(1)?;
        correct += decided.data().iter().zip(&labels[b..end]).filter(|(p, l)| p == l).count();
        last = Some((x, logits, kept));
    }
    let seconds = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss, reason = "counts of images")]
    let accuracy = correct as f64 / images.max(1) as f64;
    println!("data owner: encrypted accuracy {:.2}% ({correct}/{images}), {seconds:.2} s", 100.0 * accuracy);

    let (x, logits, kept) = last.ok_or_else(|| fail("no images"))?;
    println!("data owner tries to read the model owner's weights and its own logits:");
    let first = model.parameters().into_iter().next().ok_or_else(|| fail("no parameters"))?;
    refused("the first layer's weights, decrypted", (*first.value()).clone().get())?;
    refused("one share of those weights", first.value().share_pointers()[0].clone().get())?;
    refused("the last batch's logits", logits.get())?;

    // Leave the last batch's images and (negated) predictions on the workers for the others
    // to try.
    let mut exposed: Vec<(String, ObjectId)> = Vec::new();
    for t in [&x, &kept] {
        for p in t.share_pointers() {
            p.set_garbage_collect_data(false);
            exposed.push((p.location().to_string(), p.id_at_location()));
        }
    }
    write_json(&d.exchange.join("exposed.json"), serde_json::to_value(&exposed))?;
    Ok(serde_json::json!({ "images": images, "secure_accuracy": accuracy, "seconds": seconds }))
}

fn snoop(d: &Deployment, who: &str) -> Result<()> {
    let (_hub, w) = connect(d, who)?;
    let exposed: Vec<(String, ObjectId)> =
        serde_json::from_value(read_json(&d.exchange.join("exposed.json"))?).map_err(fail)?;
    println!("{who} tries to read the data owner's images and predictions:");
    for (location, id) in &exposed {
        let Ok(worker) = find(&w, location) else { continue };
        refused(
            &format!("get object {id} on {location}"),
            call(worker.transport().as_ref(), &Request::Get { id: *id }),
        )?;
        let to = if location == "bob" { "alice" } else { "bob" };
        refused(
            &format!("move object {id} from {location} to {to}"),
            call(worker.transport().as_ref(), &Request::Move { id: *id, to: to.into() }),
        )?;
    }
    if who != MODEL_OWNER {
        let handles: Vec<SharedHandle> =
            serde_json::from_value(read_json(&d.exchange.join("model.json"))?).map_err(fail)?;
        for (location, id) in handles.iter().flat_map(|h| h.shares.iter()).take(4) {
            let Ok(worker) = find(&w, location) else { continue };
            refused(
                &format!("get weight share {id} on {location}"),
                call(worker.transport().as_ref(), &Request::Get { id: *id }),
            )?;
        }
    }
    Ok(())
}

/// A child process of this program in `role`, its output passed through.
fn child(args: &[String]) -> Result<()> {
    let exe = std::env::current_exe().map_err(fail)?;
    let status = Command::new(exe).args(args).status().map_err(fail)?;
    if status.success() { Ok(()) } else { Err(fail(format!("{} failed ({status})", args[0]))) }
}

/// The whole walkthrough on loopback.
fn demo(common: &Common) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("syft-two-owners-{}", std::process::id()));
    let workers: Vec<String> = WORKERS.iter().map(|s| (*s).to_string()).collect();
    syft::net::gen_certs(&dir, &workers, &[MODEL_OWNER.into(), DATA_OWNER.into()]).map_err(fail)?;
    println!("certificates: {} (ca/ apart, one directory per identity)", dir.display());
    let mut procs = Vec::new();
    let mut addresses = Vec::new();
    for (i, w) in WORKERS.iter().enumerate() {
        let peers: Vec<&str> = WORKERS.iter().copied().filter(|p| p != w).collect();
        let p = |f: &str| dir.join(w).join(f).display().to_string();
        let mut args = vec!["worker".to_string(), "--id".into(), (*w).into(), "--listen".into(), "127.0.0.1:0".into()];
        args.extend(["--peer-listen".into(), "127.0.0.1:0".into(), "--exit-on-stdin-eof".into()]);
        args.extend(["--clients".into(), format!("{MODEL_OWNER},{DATA_OWNER}"), "--peers".into(), peers.join(",")]);
        if i < 2 {
            args.extend(["--dealers".into(), "crypto_provider".into()]);
        }
        args.extend(["--ca".into(), p("ca.pem"), "--cert".into(), p("cert.pem"), "--key".into(), p("key.pem")]);
        let exe = std::env::current_exe().map_err(fail)?;
        let mut proc =
            Command::new(exe).args(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().map_err(fail)?;
        let mut line = String::new();
        let stdout = proc.stdout.take().ok_or_else(|| fail("worker output"))?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map_err(fail)?;
        let listen =
            line.split_whitespace().find_map(|x| x.strip_prefix("listen=")).ok_or_else(|| fail(line.clone()))?;
        println!("worker {w} listening on {listen}");
        addresses.push(format!("{w}={listen}"));
        procs.push(proc);
    }
    let deployment = |role: &str| -> Vec<String> {
        let mut v = vec![role.to_string(), "--certs".into(), dir.display().to_string()];
        v.extend(["--workers".into(), addresses.join(","), "--exchange".into(), dir.display().to_string()]);
        v.extend([
            "--data-dir".into(),
            common.data_dir.display().to_string(),
            "--images".into(),
            common.images.to_string(),
        ]);
        v.extend(["--batch".into(), common.batch.to_string(), "--epochs".into(), common.epochs.to_string()]);
        v
    };
    let outcome = (|| {
        child(&deployment("model-owner"))?;
        child(&deployment("data-owner"))?;
        for who in [MODEL_OWNER, "alice", "crypto_provider"] {
            let mut args = deployment("snoop");
            args.extend(["--as".into(), who.into()]);
            child(&args)?;
        }
        Ok(())
    })();
    for mut p in procs {
        drop(p.stdin.take());
        let _ = p.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.role {
        None => demo(&cli.demo),
        Some(Role::ModelOwner(d)) => model_owner(&cli.demo, d),
        Some(Role::DataOwner(d)) => data_owner(&cli.demo, d).map(|report| println!("{report}")),
        Some(Role::Snoop { deployment, who }) => snoop(deployment, who),
        Some(Role::Worker(args)) => {
            let argv = std::iter::once("syft-worker".to_string()).chain(args.iter().skip(1).cloned());
            return ExitCode::from(syft::net::cli::run(argv));
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("two_owners: {e}");
            ExitCode::FAILURE
        }
    }
}
