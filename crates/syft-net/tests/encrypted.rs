//! Encrypted inference over worker processes: a small model and a batch of data shared
//! between `bob` and `alice` with `crypto_provider` dealing, evaluated with SPDZ products
//! and SecureNN ReLU and argmax, exactly as in process. The predictions, ReLU masks and
//! communication costs are identical to the in-process run, the logits agree within the
//! fixed-point error, and no worker keeps an object afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use syft_autograd::{Cpu, Var, no_grad};
use syft_fixed::FixedEncoder;
use syft_nn::{Linear, Module, ReLU, Sequential};
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, SharedBackend, SharedTensor, VirtualWorker, Worker, WorkerError};

fn model() -> Sequential<Cpu<f32>> {
    let cpu = Cpu::<f32>::default();
    let w = |shape: &[usize], f: &dyn Fn(usize) -> f32| {
        let n: usize = shape.iter().product();
        Var::param(&cpu, Tensor::new(shape, (0..n).map(f).collect()).unwrap())
    };
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let fc1 = Linear::from_parameters(
        w(&[6, 4], &|i| ((i * 7 % 11) as f32 - 5.0) / 8.0),
        Some(w(&[6], &|i| (i as f32 - 2.5) / 10.0)),
    )
    .unwrap();
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let fc2 =
        Linear::from_parameters(w(&[3, 6], &|i| ((i * 5 % 7) as f32 - 3.0) / 4.0), Some(w(&[3], &|i| i as f32 / 10.0)))
            .unwrap();
    Sequential::new().with(fc1).with(ReLU::new()).with(fc2)
}

fn input() -> Tensor<f32> {
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let v: Vec<f32> = (0..20).map(|i| ((i * 13 % 17) as f32 - 8.0) / 4.0).collect();
    Tensor::new(&[5, 4], v).unwrap()
}

struct Outcome {
    logits: Tensor<f64>,
    one_hot: Tensor<u64>,
    relu: Tensor<f64>,
    relu_mask: Tensor<u64>,
    argmax: Tensor<u64>,
    costs: syft_worker::SessionStats,
}

/// The encrypted flow of Part 11 on any workers.
fn encrypted(parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Outcome {
    let enc = FixedEncoder::default();
    let session = MpcSession::new(parties, crypto_provider).unwrap();
    let backend = SharedBackend::new(session.clone(), enc);
    // The model owner shares the model (weights marked reusable, as share_model does).
    let shared = model()
        .map_parameters(&backend, |_, t: &Tensor<f32>| -> Result<SharedTensor, WorkerError> {
            let s = backend.share_f32(t)?;
            s.mark_reusable();
            Ok(s)
        })
        .unwrap();
    // The data owner shares the data.
    let x = backend.share_f32(&input()).unwrap();
    let before = session.comm_stats().unwrap();
    let out = no_grad(|| shared.forward(&Var::constant(&backend, x.clone()))).unwrap();
    let logits = out.value();
    let one_hot = logits.argmax_one_hot(1).unwrap();
    let (relu, relu_mask) = x.relu_with_mask().unwrap();
    let argmax = logits.argmax(1).unwrap();
    let after = session.comm_stats().unwrap();
    let costs = after.since(&before);
    Outcome {
        logits: (*logits).clone().get().unwrap().float_precision(),
        one_hot: one_hot.get().unwrap().into_raw(),
        relu: relu.get().unwrap().float_precision(),
        relu_mask: relu_mask.get().unwrap().into_raw(),
        argmax: argmax.get().unwrap().into_raw(),
        costs,
    }
}

fn close(a: &Tensor<f64>, b: &Tensor<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.data().iter().zip(b.data()) {
        assert!((x - y).abs() <= tol, "{x} vs {y}");
    }
}

#[test]
fn encrypted_inference_over_worker_processes_matches_the_in_process_run() {
    // In process.
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let local = encrypted(&[&bob, &alice], &crypto);

    // Over TLS, worker processes with direct party-to-party channels.
    let net_hub = Hub::new();
    let cluster = common::cluster(&["bob", "alice", "crypto_provider"], &net_hub);
    let ws = cluster.workers();
    let remote = encrypted(&[&ws[0], &ws[1]], &ws[2]);

    assert_eq!(remote.one_hot, local.one_hot, "the same predictions");
    assert_eq!(remote.argmax, local.argmax);
    assert_eq!(remote.relu_mask, local.relu_mask);
    assert_eq!(remote.relu, local.relu, "ReLU of shares is exact");
    close(&remote.logits, &local.logits, 0.003);
    assert_eq!(remote.costs, local.costs, "the same bytes, messages and rounds per member");
    assert!(local.costs.rounds() >= local.costs.members.iter().map(|m| m.own_rounds).max().unwrap_or(0));

    // Against plaintext.
    let plain = model().forward(&Var::constant(&Cpu::<f32>::default(), input())).unwrap().value().map(f64::from);
    close(&remote.logits, &plain, 0.01);
    let plain_argmax: Vec<u64> = plain.argmax_axis(1).unwrap().into_vec().into_iter().map(|i| i as u64).collect();
    assert_eq!(remote.argmax.data(), plain_argmax.as_slice());
    assert_eq!(remote.relu, input().map(|v| f64::from(v.max(0.0))));

    // Nothing is left on any worker once the shared values are gone.
    for w in ws {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
}
