//! Pipelined regions (`MpcSession::pipelined`): the client sends step after step without
//! waiting for acknowledgements; results are those of the same steps run one by one, a
//! step that fails at a member is reported when the region waits, and nothing is left on
//! the workers.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::Arc;
use syft_fixed::FixedEncoder;
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, RemoteErrorKind, SharedTensor, VirtualWorker, Worker, WorkerError};

struct Setup {
    workers: Vec<VirtualWorker>,
    session: Arc<MpcSession>,
}

fn setup() -> Setup {
    let hub = Hub::new();
    let workers: Vec<VirtualWorker> =
        ["bob", "alice", "crypto_provider"].iter().map(|n| VirtualWorker::new(&hub, n).unwrap()).collect();
    let session = MpcSession::new(&[&workers[0] as &dyn Worker, &workers[1]], &workers[2]).unwrap();
    Setup { workers, session }
}

fn shared(session: &Arc<MpcSession>, shape: &[usize], v: &[f64]) -> SharedTensor {
    let enc = FixedEncoder::default();
    SharedTensor::share(&enc.encode(&Tensor::new(shape, v.to_vec()).unwrap()).unwrap(), Some(enc), session).unwrap()
}

fn assert_empty(workers: &[VirtualWorker]) {
    for w in workers {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
}

/// A small layer: `relu(x · w)`, and the one-hot of each row's maximum.
fn layer(x: &SharedTensor, w: &SharedTensor) -> (SharedTensor, SharedTensor) {
    let h = x.matmul_ex(false, w, false, true).unwrap().relu().unwrap();
    let one_hot = h.argmax_one_hot(1).unwrap();
    (h, one_hot)
}

#[test]
fn pipelined_steps_give_the_results_of_the_same_steps_run_one_by_one() {
    let s = setup();
    let x_values = [1.5, -2.0, 0.25, 3.0, -0.5, 1.0];
    let w_values = [0.5, -1.0, 2.0, 0.25, -3.0, 1.5, 1.0, 0.75, -0.25];
    let w = shared(&s.session, &[3, 3], &w_values);
    let one_by_one: Vec<(Vec<u64>, Vec<u64>)> = (0..3)
        .map(|_| {
            let (h, one_hot) = layer(&shared(&s.session, &[2, 3], &x_values), &w);
            (h.get().unwrap().into_raw().into_vec(), one_hot.get().unwrap().into_raw().into_vec())
        })
        .collect();
    let pipelined = s
        .session
        .pipelined(|| -> syft_worker::Result<Vec<(SharedTensor, SharedTensor)>> {
            // Several batches queued at once; the region reads the replies at its end.
            Ok((0..3).map(|_| layer(&shared(&s.session, &[2, 3], &x_values), &w)).collect())
        })
        .unwrap();
    for ((h, one_hot), (h_want, one_hot_want)) in pipelined.into_iter().zip(&one_by_one) {
        // Truncation rounds each share independently: the values agree to one unit.
        let h = h.get().unwrap().into_raw().into_vec();
        for (a, b) in h.iter().zip(h_want) {
            assert!(a.wrapping_sub(*b).wrapping_add(1) <= 2, "{a} vs {b}");
        }
        assert_eq!(&one_hot.get().unwrap().into_raw().into_vec(), one_hot_want);
    }
    drop(w);
    assert_empty(&s.workers);
}

#[test]
fn a_value_fetched_inside_a_region_sees_every_step_before_it() {
    let s = setup();
    let x = shared(&s.session, &[4], &[1.0, 2.0, 3.0, 4.0]);
    let total = s
        .session
        .pipelined(|| -> syft_worker::Result<f64> {
            let mut acc = x.clone();
            for _ in 0..5 {
                acc = acc.add(&x)?;
            }
            let sum = acc.sum()?;
            Ok(sum.get()?.float_precision().item().unwrap())
        })
        .unwrap();
    assert!((total - 60.0).abs() < 1e-9, "{total}");
    drop(x);
    assert_empty(&s.workers);
}

#[test]
fn more_steps_than_the_window_are_all_served_in_order() {
    let s = setup();
    let x = shared(&s.session, &[2], &[0.5, -0.25]);
    let acc = s
        .session
        .pipelined(|| -> syft_worker::Result<SharedTensor> {
            let mut acc = x.clone();
            for _ in 0..600 {
                acc = acc.add(&x)?;
            }
            Ok(acc)
        })
        .unwrap();
    let got = acc.get().unwrap().float_precision();
    assert_eq!(got.data(), &[300.5, -150.25]);
    drop(x);
    assert_empty(&s.workers);
}

#[test]
fn a_step_that_fails_at_the_workers_is_reported_when_the_region_waits() {
    let s = setup();
    let x = shared(&s.session, &[2], &[1.0, 2.0]);
    let outcome = s.session.pipelined(|| -> syft_worker::Result<SharedTensor> {
        // Fetching removes the shares from the workers; the client still holds `x`, so
        // the steps below pass its checks and are sent, and fail at the workers.
        let _ = x.clone().get()?;
        let y = x.add(&x)?;
        y.add(&y)
    });
    match outcome {
        Err(WorkerError::Remote { error, .. }) => assert_eq!(error.kind, RemoteErrorKind::UnknownObject, "{error}"),
        other => panic!("expected the step's failure, got {other:?}"),
    }
    // The session goes on: a failure that is not a protocol's leaves it in step.
    let z = shared(&s.session, &[2], &[3.0, 4.0]);
    let w = s.session.pipelined(|| z.add(&z)).unwrap();
    assert_eq!(w.get().unwrap().float_precision().data(), &[6.0, 8.0]);
    drop((x, z));
    assert_empty(&s.workers);
}

#[test]
fn a_member_that_stops_inside_a_region_fails_the_region() {
    let s = setup();
    let x = shared(&s.session, &[2], &[1.0, 2.0]);
    let outcome = s.session.pipelined(|| -> syft_worker::Result<SharedTensor> {
        let y = x.add(&x)?;
        s.workers[1].shutdown();
        y.mul(&y)
    });
    assert!(outcome.is_err(), "{outcome:?}");
}
