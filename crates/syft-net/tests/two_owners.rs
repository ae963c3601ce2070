//! Part 11 for real: two owners, two programs. Three worker processes (`bob`, `alice`,
//! `crypto_provider`) serve two clients, each a process of its own with its own
//! certificate:
//!
//! 1. the **model owner** shares its model (an MLP 16-12-3) and grants it to the data
//!    owner, then exits, leaving the shares on the workers;
//! 2. the **data owner** shares its inputs in its own session, classifies them under
//!    encryption with the granted model, decrypts the predictions, and tries to read the
//!    weights and the logits (refused);
//! 3. the model owner comes back and tries to read the data owner's inputs and
//!    predictions (refused); so do `alice` and the crypto provider with their own
//!    certificates.
//!
//! This program is all of them: run without arguments it starts the deployment and
//! re-executes itself as each client (`model-owner`, `data-owner`, `snoop`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

mod common;

use common::Deployment;
use std::path::{Path, PathBuf};
use syft_net::{NetClient, NetworkWorker, Security, TlsIdentity};
use syft_ring::Tensor;
use syft_worker::transport::call;
use syft_worker::{
    Hub, MpcSession, ObjectId, RemoteErrorKind, Request, SharedHandle, SharedTensor, Worker, WorkerError,
};

const WORKERS: [&str; 3] = ["bob", "alice", "crypto_provider"];
const IN: usize = 16;
const HIDDEN: usize = 12;
const OUT: usize = 3;
const N: usize = 24;

/// A deterministic pseudo-random sequence in [-1, 1) (the model owner's weights and the
/// data owner's inputs, reproduced by the test to check the predictions).
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn matrix(seed: u64, rows: usize, cols: usize) -> Tensor<f64> {
    Tensor::from_vec(values(seed, rows * cols)).reshape(&[rows, cols]).unwrap()
}

/// The model: weights and biases of two layers.
fn model() -> [Tensor<f64>; 4] {
    [matrix(1, IN, HIDDEN), matrix(2, 1, HIDDEN), matrix(3, HIDDEN, OUT), matrix(4, 1, OUT)]
}

fn inputs() -> Tensor<f64> {
    matrix(5, N, IN)
}

/// The plaintext predictions and each one's margin over the runner-up (only this test,
/// which plays no role, computes them).
fn plain_predictions() -> Vec<(u64, f64)> {
    let [w1, b1, w2, b2] = model();
    let x = inputs();
    let h = x.matmul(&w1).unwrap().add(&b1.broadcast_to(&[N, HIDDEN]).unwrap()).unwrap();
    let h = Tensor::from_vec(h.data().iter().map(|v| v.max(0.0)).collect()).reshape(&[N, HIDDEN]).unwrap();
    let y = h.matmul(&w2).unwrap().add(&b2.broadcast_to(&[N, OUT]).unwrap()).unwrap();
    y.data()
        .chunks(OUT)
        .map(|r| {
            let mut best = 0;
            for (i, v) in r.iter().enumerate() {
                if *v > r[best] {
                    best = i;
                }
            }
            let runner_up = r.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, v)| *v).fold(f64::MIN, f64::max);
            (best as u64, r[best] - runner_up)
        })
        .collect()
}

/// What a client process needs: where the workers are and its own certificate directory.
struct Env {
    dir: PathBuf,
    addresses: Vec<String>,
}

impl Env {
    fn from_args(args: &[String]) -> Self {
        Self { dir: PathBuf::from(&args[2]), addresses: args[3..6].to_vec() }
    }

    /// Connects as `me` to every worker but itself.
    fn connect(&self, me: &str) -> (std::sync::Arc<Hub>, Vec<NetworkWorker>) {
        let p = |f: &str| self.dir.join(me).join(f);
        let identity = TlsIdentity::from_files(&p("ca.pem"), &p("cert.pem"), &p("key.pem")).unwrap();
        let client = NetClient::new(me, Security::Tls(identity), common::test_config());
        let hub = Hub::new();
        let workers = WORKERS
            .iter()
            .zip(&self.addresses)
            .filter(|(w, _)| **w != me)
            .map(|(w, a)| client.connect(&hub, w, a).unwrap())
            .collect();
        (hub, workers)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, WorkerError>) {
    match result {
        Err(WorkerError::Remote { error, .. }) if error.kind == RemoteErrorKind::Forbidden => {
            println!("  {what}: refused ({})", error.message);
        }
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

/// Step 1: share the model, grant it to the data owner, publish the handles.
fn model_owner(env: &Env) {
    let (_hub, w) = env.connect("model_owner");
    let session = MpcSession::new(&[&w[0], &w[1]], &w[2]).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let handles: Vec<SharedHandle> = model()
        .iter()
        .map(|t| {
            let s = SharedTensor::share(&enc.encode(t).unwrap(), Some(enc), &session).unwrap();
            s.grant("data_owner").unwrap();
            // The shares stay on the workers when this program exits.
            for p in s.share_pointers() {
                p.set_garbage_collect_data(false);
            }
            s.handle()
        })
        .collect();
    write_json(&env.file("model.json"), &handles);
}

/// Step 2: classify under encryption with the granted model; decrypt the predictions.
fn data_owner(env: &Env) {
    let (_hub, w) = env.connect("data_owner");
    let session = MpcSession::new(&[&w[0], &w[1]], &w[2]).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let handles: Vec<SharedHandle> = read_json(&env.file("model.json"));
    let [w1, b1, w2, b2] = <[SharedHandle; 4]>::try_from(handles).unwrap();
    let [w1, b1, w2, b2] = [w1, b1, w2, b2].map(|h| SharedTensor::from_handle(&h, &session).unwrap());
    let x = SharedTensor::share(&enc.encode(&inputs()).unwrap(), Some(enc), &session).unwrap();
    let h = x.matmul(&w1).unwrap().add(&b1.broadcast_to(&[N, HIDDEN]).unwrap()).unwrap().relu().unwrap();
    let logits = h.matmul(&w2).unwrap().add(&b2.broadcast_to(&[N, OUT]).unwrap()).unwrap();
    let pred = logits.argmax(1).unwrap();
    let keep = |s: &SharedTensor| {
        for p in s.share_pointers() {
            p.set_garbage_collect_data(false);
        }
        s.share_pointers().iter().map(|p| (p.location().to_string(), p.id_at_location())).collect::<Vec<_>>()
    };
    // The inputs' and the predictions' share ids, for the others to try to read.
    // (The predictions are decrypted below, which removes their shares from the workers:
    // their negation, as telling as they are, stays.)
    let kept = pred.neg().unwrap();
    let mut exposed = keep(&x);
    exposed.extend(keep(&kept));

    println!("data owner tries to read the model owner's weights and its own logits:");
    refused("the first layer's weights, decrypted", w1.clone().get());
    refused("one share of the weights", w1.share_pointers()[0].clone().get());
    refused("the logits (computed from the granted weights)", logits.clone().get());
    refused("the hidden activations", h.clone().get());

    let predictions = pred.clone().get().unwrap().into_raw();
    write_json(&env.file("predictions.json"), &predictions.data().to_vec());
    write_json(&env.file("exposed.json"), &exposed);
    drop((w1, b1, w2, b2));
}

/// Step 3: the model owner, alice and the crypto provider try to read the data owner's
/// inputs and predictions, and the weights' shares (workers).
fn snoop(env: &Env, who: &str) {
    let (_hub, w) = env.connect(who);
    let exposed: Vec<(String, ObjectId)> = read_json(&env.file("exposed.json"));
    println!("{who} tries to read the data owner's inputs and predictions:");
    for (location, id) in &exposed {
        let Some(worker) = w.iter().find(|x| x.id() == location) else { continue };
        refused(&format!("get {id} on {location}"), call(worker.transport().as_ref(), &Request::Get { id: *id }));
        refused(
            &format!("move {id} from {location}"),
            call(worker.transport().as_ref(), &Request::Move { id: *id, to: "crypto_provider".into() }),
        );
    }
    let handles: Vec<SharedHandle> = read_json(&env.file("model.json"));
    if who != "model_owner" {
        for (location, id) in handles.iter().flat_map(|h| h.shares.iter()) {
            let Some(worker) = w.iter().find(|x| x.id() == location) else { continue };
            refused(
                &format!("get weight share {id} on {location}"),
                call(worker.transport().as_ref(), &Request::Get { id: *id }),
            );
        }
    }
    for worker in &w {
        match call(worker.transport().as_ref(), &Request::List) {
            Ok(syft_worker::Response::List(items)) => {
                let ids: Vec<ObjectId> = items.iter().map(|(id, _)| *id).collect();
                assert!(exposed.iter().all(|(_, id)| !ids.contains(id)), "{who} lists the data owner's objects");
                println!("  list on {}: {} objects of its own", worker.id(), ids.len());
            }
            other => refused(&format!("list on {}", worker.id()), other),
        }
    }
}

fn run_role(deployment: &Deployment, role: &str, who: &str) {
    let exe = std::env::current_exe().unwrap();
    let addresses: Vec<&str> = deployment.workers.iter().map(|(_, a, _)| a.as_str()).collect();
    let status = std::process::Command::new(exe)
        .arg(role)
        .arg(deployment.dir.path())
        .args(&addresses)
        .arg(who)
        .status()
        .unwrap();
    assert!(status.success(), "{role} ({who}) failed: {status}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() > 1 {
        let env = Env::from_args(&args);
        match args[1].as_str() {
            "model-owner" => model_owner(&env),
            "data-owner" => data_owner(&env),
            "snoop" => snoop(&env, &args[6]),
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let deployment = Deployment::start(&WORKERS, &["model_owner", "data_owner"], &[]);
    run_role(&deployment, "model-owner", "model_owner");
    run_role(&deployment, "data-owner", "data_owner");
    let predictions: Vec<u64> = read_json(&deployment.dir.path().join("predictions.json"));
    let plain = plain_predictions();
    assert_eq!(predictions.len(), plain.len());
    for (i, (p, (q, margin))) in predictions.iter().zip(&plain).enumerate() {
        // Fixed point with 3 decimal digits: a prediction may differ only on a near tie.
        assert!(p == q || *margin < 0.05, "input {i}: encrypted {p}, plaintext {q} (margin {margin})");
    }
    for who in ["model_owner", "alice", "crypto_provider"] {
        run_role(&deployment, "snoop", who);
    }
    println!("two_owners: 1 passed, 0 failed");
}
