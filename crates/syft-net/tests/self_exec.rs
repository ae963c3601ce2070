//! `LocalCluster`'s default mode, exactly as an example uses it: `main` calls
//! `serve_if_requested()` first, and the cluster re-executes this program as its worker
//! processes (TLS, fresh certificates). A pointer chain, `move` and a shared computation
//! run across them; dropping the cluster stops every process.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::time::{Duration, Instant};
use syft_net::local::{LocalCluster, serve_if_requested};
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, Sendable, SharedTensor};

fn main() {
    serve_if_requested();
    let started = Instant::now();
    let hub = Hub::new();
    let cluster = LocalCluster::start(&["bob", "alice", "crypto_provider"], &hub).unwrap();
    let [bob, alice, crypto] = cluster.workers() else { panic!("three workers") };

    let x = Tensor::from_vec(vec![1.0f32, -2.0, 3.0]).send(bob).unwrap().send(alice).unwrap();
    let y = x.add(&x).unwrap().get().unwrap().move_to(alice).unwrap();
    assert_eq!(y.get().unwrap().data(), &[2.0, -4.0, 6.0]);

    let session = MpcSession::new(&[bob, alice], crypto).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let v = Tensor::<f64>::from_vec(vec![1.5, -2.25, 0.0, 4.0]);
    let s = SharedTensor::share(&enc.encode(&v).unwrap(), Some(enc), &session).unwrap();
    let r = s.relu().unwrap().mul(&s).unwrap();
    assert_eq!(r.get().unwrap().float_precision().data(), &[2.25, 0.0, 0.0, 16.0]);

    let pids: Vec<u32> = ["bob", "alice", "crypto_provider"].iter().map(|n| cluster.pid(n).unwrap()).collect();
    drop((x, s, session));
    drop(cluster);
    #[cfg(target_os = "linux")]
    for pid in pids {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker process {pid} still running");
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    println!("self_exec: 1 passed, 0 failed");
}
