//! A party that stops answering without dying (its process paused with SIGSTOP) in the
//! middle of a protocol: the client gets a typed error naming the silent member within
//! the protocol timeout, and the other members drop the session.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
#![cfg(unix)]

mod common;

use common::Deployment;
use std::time::{Duration, Instant};
use syft_ring::Tensor;
use syft_worker::mpc::MpcRequest;
use syft_worker::transport::call;
use syft_worker::{MpcSession, RemoteErrorKind, Request, SharedTensor, Worker, WorkerError};

fn signal(sig: &str, pid: u32) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

#[test]
fn a_paused_party_is_named_within_the_protocol_timeout() {
    // Every worker waits at most 5 s for a peer's message (`--recv-timeout 5`).
    let d = Deployment::start(&["bob", "alice", "crypto_provider"], &["me"], &[]);
    let (_hub, w) = d.connect_as("me");
    let session = MpcSession::new(&[&w[0], &w[1]], &w[2]).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let x = SharedTensor::share(&enc.encode(&Tensor::<f64>::from_vec(vec![1.5, -2.0])).unwrap(), Some(enc), &session)
        .unwrap();
    assert_eq!(x.mul(&x).unwrap().get().unwrap().float_precision().data(), &[2.25, 4.0]);

    signal("-STOP", d.pid("alice"));
    let started = Instant::now();
    let outcome = x.mul(&x);
    let waited = started.elapsed();
    signal("-CONT", d.pid("alice"));
    match outcome {
        Err(WorkerError::Remote { error, .. }) => {
            assert_eq!(error.kind, RemoteErrorKind::Protocol, "{error:?}");
            assert!(error.message.contains("alice"), "the silent member is named: {}", error.message);
        }
        other => panic!("expected a protocol error naming alice, got {other:?}"),
    }
    assert!(waited < Duration::from_secs(15), "the client waited {waited:?} (protocol timeout 5 s)");

    // bob dropped the session: a later request in it is refused at once.
    let stats = call(w[0].transport().as_ref(), &Request::Mpc(MpcRequest::Stats { session: session.id() }));
    match stats {
        Err(WorkerError::Remote { error, .. }) => assert!(error.message.contains("not a member"), "{error:?}"),
        other => panic!("bob should have dropped the session, got {other:?}"),
    }
}
