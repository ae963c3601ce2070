//! Hostile requests against real worker processes over TLS: shapes far past the worker's
//! limits, element counts that overflow, a reshape to an overflowing shape followed by an
//! operation, pooling with an absurd padding, a frame past the frame limit. Each gets a
//! typed error, and the worker then still serves a legitimate client.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use common::Deployment;
use syft_net::NetworkWorker;
use syft_ring::{Conv2dParams, Tensor};
use syft_worker::mpc::{MpcOp, MpcRequest};
use syft_worker::transport::call;
use syft_worker::{MpcSession, RemoteErrorKind, Request, Response, Sendable, SharedTensor, Worker, WorkerError};

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: Result<T, WorkerError>, kind: RemoteErrorKind) {
    match result {
        Err(WorkerError::Remote { error, .. }) if error.kind == kind => {}
        other => panic!("expected {kind:?}, got {other:?}"),
    }
}

fn still_serves(bob: &NetworkWorker) {
    let x = Tensor::from_vec(vec![1.0f32, 2.0]).send(bob).unwrap();
    assert_eq!(x.add(&x).unwrap().get().unwrap().data(), &[2.0, 4.0]);
}

#[test]
fn shapes_past_the_limits_are_typed_errors() {
    let d = Deployment::start(&["bob", "alice", "crypto_provider"], &["me"], &[]);
    let (_hub, w) = d.connect_as("me");
    let bob = &w[0];
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0]).send(bob).unwrap();

    // A shape of 2^40 elements, and one whose element count overflows.
    assert_kind(x.reshape(&[1 << 20, 1 << 20]), RemoteErrorKind::LimitExceeded);
    assert_kind(x.reshape(&[usize::MAX, 2]), RemoteErrorKind::LimitExceeded);
    // An overflowing reshape whose wrapped element count equals the real one (2^63 · 2 +
    // 4 wraps to 4): refused, and the next operation on the tensor works.
    assert_kind(x.reshape(&[1 << 63, 2, 4]), RemoteErrorKind::LimitExceeded);
    assert_eq!(x.reshape(&[2, 2]).unwrap().shape().unwrap(), vec![2, 2]);
    // Pooling with a padding of 2^20 (its output would be 2^42 elements).
    let img = Tensor::from_vec(vec![1.0f32; 4]).reshape(&[1, 1, 2, 2]).unwrap().send(bob).unwrap();
    let huge = Conv2dParams { stride: (1, 1), padding: (1 << 20, 1 << 20) };
    assert_kind(img.avg_pool2d((2, 2), huge), RemoteErrorKind::LimitExceeded);
    assert_kind(img.max_pool2d((2, 2), Conv2dParams { stride: (0, 1), padding: (0, 0) }), RemoteErrorKind::Compute);
    // A broadcast to 2^40 elements.
    let col = Tensor::from_vec(vec![1.0f32; 1 << 20]).reshape(&[1 << 20, 1]).unwrap().send(bob).unwrap();
    let row = Tensor::from_vec(vec![1.0f32; 1 << 20]).reshape(&[1, 1 << 20]).unwrap().send(bob).unwrap();
    assert_kind(col.add(&row), RemoteErrorKind::LimitExceeded);
    assert_kind(col.matmul(&row), RemoteErrorKind::LimitExceeded);
    drop((col, row));

    // The same through multi-party requests: a party and the dealer check before they
    // allocate anything.
    let session = MpcSession::new(&[&w[0], &w[1]], &w[2]).unwrap();
    let s = SharedTensor::share(&Tensor::from_vec(vec![1u64, 2, 3, 4]), None, &session).unwrap();
    assert_kind(s.broadcast_to(&[1 << 20, 1 << 20, 4]), RemoteErrorKind::LimitExceeded);
    let relu = MpcOp::Relu { shape: vec![1 << 20, 1 << 20], bits: 64 };
    let dealer = call(
        w[2].transport().as_ref(),
        &Request::Mpc(MpcRequest::Run { session: session.id(), op: relu, args: vec![], results: vec![] }),
    );
    assert_kind(dealer, RemoteErrorKind::LimitExceeded);
    let share = s.share_pointers()[0].id_at_location();
    let windows = MpcOp::PoolWindows { window: (2, 2), params: huge };
    let party = call(
        bob.transport().as_ref(),
        &Request::Mpc(MpcRequest::Run {
            session: session.id(),
            op: MpcOp::Reshape(vec![1, 1, 2, 2]),
            args: vec![share],
            results: vec![77],
        }),
    );
    assert!(matches!(party, Ok(Response::Info(_))), "{party:?}");
    let party = call(
        bob.transport().as_ref(),
        &Request::Mpc(MpcRequest::Run { session: session.id(), op: windows, args: vec![77], results: vec![78] }),
    );
    assert_kind(party, RemoteErrorKind::LimitExceeded);

    still_serves(bob);
    assert_eq!(s.get().unwrap().into_raw().data(), &[1, 2, 3, 4]);
}

#[test]
fn a_frame_past_the_limit_closes_only_that_connection() {
    let d = Deployment::start(&["bob"], &["me"], &["--max-frame", "1048576"]);
    let (_hub, w) = d.connect_as("me");
    let bob = &w[0];
    // 2 MiB of data in one request: the worker refuses the frame and drops the connection.
    let big = Tensor::from_vec(vec![0.5f32; 1 << 19]);
    match big.send(bob) {
        Err(WorkerError::Transport { .. }) => {}
        other => panic!("expected the connection to be refused, got {other:?}"),
    }
    // A new connection is served.
    let (_hub2, w2) = d.connect_as("me");
    still_serves(&w2[0]);
}

#[test]
fn per_owner_storage_is_capped() {
    let d = Deployment::start(&["bob"], &["me"], &["--max-stored-bytes", "100000"]);
    let (_hub, w) = d.connect_as("me");
    let bob = &w[0];
    let a = Tensor::from_vec(vec![1.0f32; 20_000]).send(bob).unwrap();
    assert_kind(Tensor::from_vec(vec![1.0f32; 20_000]).send(bob), RemoteErrorKind::LimitExceeded);
    // Computing a result counts too.
    assert_kind(a.add(&a), RemoteErrorKind::LimitExceeded);
    drop(a);
    still_serves(bob);
}
