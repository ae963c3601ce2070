//! Shared tensors whose shares live on workers: results against plaintext, typed errors
//! before any protocol starts, no leaked objects, and no reconstructed value on a worker.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use syft_fixed::FixedEncoder;
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, SharedTensor, VirtualWorker, Worker, WorkerError};

fn workers(hub: &std::sync::Arc<Hub>, names: &[&str]) -> Vec<VirtualWorker> {
    names.iter().map(|n| VirtualWorker::new(hub, n).unwrap()).collect()
}

fn f(shape: &[usize], v: &[f64]) -> Tensor<f64> {
    Tensor::new(shape, v.to_vec()).unwrap()
}

fn close(a: &Tensor<f64>, b: &Tensor<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.data().iter().zip(b.data()) {
        assert!((x - y).abs() <= tol, "{x} vs {y}");
    }
}

#[test]
fn fixed_point_arithmetic_through_workers() {
    for n in [2usize, 3] {
        let hub = Hub::new();
        let names = ["bob", "alice", "carol", "james"];
        let ws = workers(&hub, &names[..n]);
        let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
        let parties: Vec<&dyn Worker> = ws.iter().map(|w| w as &dyn Worker).collect();
        let session = MpcSession::new(&parties, &crypto).unwrap();
        let enc = FixedEncoder::default();
        let x = f(&[2, 3], &[1.5, -2.25, 0.0, 3.125, -0.001, 7.0]);
        let w = f(&[3, 2], &[0.5, -1.0, 2.0, 0.25, -3.0, 1.5]);
        let xs = SharedTensor::share(&enc.encode(&x).unwrap(), Some(enc), &session).unwrap();
        let wsh = SharedTensor::share(&enc.encode(&w).unwrap(), Some(enc), &session).unwrap();

        let y = xs.matmul(&wsh).unwrap();
        close(&y.get().unwrap().float_precision(), &x.matmul(&w).unwrap(), 0.003);
        let z = xs.mul(&xs).unwrap().add(&xs).unwrap().sum().unwrap();
        let want = x.mul(&x).unwrap().add(&x).unwrap().sum_all();
        close(&z.get().unwrap().float_precision(), &Tensor::scalar(want), 0.01);
        let s = xs.mul_scalar(0.1).unwrap().add_public(&f(&[3], &[1.0, 2.0, 3.0])).unwrap();
        close(&s.get().unwrap().float_precision(), &x.scale(0.1).add(&f(&[3], &[1.0, 2.0, 3.0])).unwrap(), 0.002);
        // Weights opened once and reused for several batches.
        for _ in 0..3 {
            let y = xs.matmul_ex(false, &wsh, false, true).unwrap();
            close(&y.get().unwrap().float_precision(), &x.matmul(&w).unwrap(), 0.003);
        }
        drop((xs, wsh));
        for wk in ws.iter().chain(std::iter::once(&crypto)) {
            assert_eq!(wk.object_count().unwrap(), 0, "{} leaked objects", wk.id());
        }
    }
}

#[test]
fn errors_come_before_any_protocol_and_leave_nothing_behind() {
    let hub = Hub::new();
    let ws = workers(&hub, &["bob", "alice"]);
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let session = MpcSession::new(&[&ws[0], &ws[1]], &crypto).unwrap();
    let enc = FixedEncoder::default();
    let a = SharedTensor::share(&enc.encode(&f(&[2, 3], &[1.0; 6])).unwrap(), Some(enc), &session).unwrap();
    let b = SharedTensor::share(&enc.encode(&f(&[2, 3], &[1.0; 6])).unwrap(), Some(enc), &session).unwrap();
    let other = FixedEncoder::new(10, 4).unwrap();
    let c = SharedTensor::share(&other.encode(&f(&[3, 2], &[1.0; 6])).unwrap(), Some(other), &session).unwrap();
    let before: Vec<usize> = ws.iter().map(|w| w.object_count().unwrap()).collect();
    assert!(a.matmul(&b).is_err(), "inner dimensions differ");
    assert!(matches!(a.matmul(&c), Err(WorkerError::PrecisionMismatch { .. })));
    assert!(a.add(&c).is_err());
    assert!(a.mul(&f_share(&session, &[4])).is_err());
    assert!(a.sum_axis(5, false).is_err());
    let after: Vec<usize> = ws.iter().map(|w| w.object_count().unwrap()).collect();
    assert_eq!(before, after);
    // A session needs distinct workers.
    assert!(MpcSession::new(&[&ws[0], &ws[0]], &crypto).is_err());
    assert!(MpcSession::new(&[&ws[0], &ws[1]], &ws[1]).is_err());
}

fn f_share(session: &std::sync::Arc<MpcSession>, shape: &[usize]) -> SharedTensor {
    let enc = FixedEncoder::default();
    SharedTensor::share(&enc.encode(&Tensor::<f64>::zeros(shape)).unwrap(), Some(enc), session).unwrap()
}

#[test]
fn no_worker_ever_holds_a_reconstructed_value() {
    let hub = Hub::new();
    let ws = workers(&hub, &["bob", "alice"]);
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let session = MpcSession::new(&[&ws[0], &ws[1]], &crypto).unwrap();
    let enc = FixedEncoder::default();
    let x = f(&[4, 4], &(0..16).map(f64::from).collect::<Vec<_>>());
    let xs = SharedTensor::share(&enc.encode(&x).unwrap(), Some(enc), &session).unwrap();
    let y = xs.matmul(&xs).unwrap();
    let z = y.add(&xs).unwrap();
    let secrets = [enc.encode(&x).unwrap(), enc.encode(&x.matmul(&x).unwrap()).unwrap()];
    // Inspect every share a worker holds: none equals a secret (shares are uniform).
    for p in xs.share_pointers().iter().chain(y.share_pointers()).chain(z.share_pointers()) {
        let copy = syft_worker::PointerTensor::attach(&hub, p.location(), p.id_at_location()).unwrap();
        copy.set_garbage_collect_data(false);
        let info = copy.describe().unwrap();
        assert_eq!(info.kind, syft_worker::ObjectKind::Ring);
    }
    let held: Vec<Tensor<u64>> = ws
        .iter()
        .flat_map(|w| {
            w.objects().unwrap().into_iter().map(|(id, _)| {
                let p = syft_worker::PointerTensor::attach(&hub, w.id(), id).unwrap();
                p.set_garbage_collect_data(false);
                // Take a copy by fetching and storing back under the same id.
                let t = p.get().unwrap().into_ring().unwrap();
                let back = syft_worker::Request::Store { id, value: syft_worker::Value::Ring(t.clone()) };
                syft_worker::transport::call(w.transport().as_ref(), &back).unwrap();
                t
            })
        })
        .collect();
    for h in &held {
        for s in &secrets {
            assert_ne!(h, s, "a worker holds a reconstructed value");
        }
    }
    assert_eq!(crypto.object_count().unwrap(), 0, "the crypto provider holds no shares");
    close(&z.get().unwrap().float_precision(), &x.matmul(&x).unwrap().add(&x).unwrap(), 0.01);
}

#[test]
fn securenn_relu_and_argmax_through_workers() {
    let hub = Hub::new();
    let ws = workers(&hub, &["bob", "alice"]);
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let session = MpcSession::new(&[&ws[0], &ws[1]], &crypto).unwrap();
    let enc = FixedEncoder::default();
    let x = f(&[2, 4], &[1.5, -2.25, 0.0, 3.125, -0.001, 7.0, 7.0, -3.0]);
    let xs = SharedTensor::share(&enc.encode(&x).unwrap(), Some(enc), &session).unwrap();
    let (r, d) = xs.relu_with_mask().unwrap();
    close(&r.get().unwrap().float_precision(), &x.map(|v| v.max(0.0)), 0.0);
    assert_eq!(d.get().unwrap().into_raw().data(), &[1, 0, 1, 1, 0, 1, 1, 0]);
    let one_hot = xs.argmax_one_hot(1).unwrap();
    assert_eq!(one_hot.get().unwrap().into_raw().data(), &[0, 0, 0, 1, 0, 1, 0, 0], "first maximum wins ties");
    let idx = xs.argmax(1).unwrap();
    assert_eq!(idx.get().unwrap().into_raw().data(), &[3, 1]);
    drop(xs);
    for w in ws.iter().chain(std::iter::once(&crypto)) {
        assert_eq!(w.object_count().unwrap(), 0);
    }
}

#[test]
fn exp_reciprocal_softmax_and_cross_entropy_approximate_plaintext() {
    let hub = Hub::new();
    let ws = workers(&hub, &["bob", "alice"]);
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let session = MpcSession::new(&[&ws[0], &ws[1]], &crypto).unwrap();
    let enc = FixedEncoder::new(10, 4).unwrap();
    let share = |t: &Tensor<f64>| SharedTensor::share(&enc.encode(t).unwrap(), Some(enc), &session).unwrap();

    let x = f(&[2, 4], &[-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, -0.25, -6.0]);
    let e = share(&x).exp().unwrap().get().unwrap().float_precision();
    for (g, v) in e.data().iter().zip(x.data()) {
        assert!((g - v.exp()).abs() <= 0.05 * v.exp() + 0.002, "exp({v}) = {g}");
    }
    let s = f(&[4], &[1.0, 2.5, 7.0, 10.0]);
    let r = share(&s).reciprocal(0.1, 8).unwrap().get().unwrap().float_precision();
    for (g, v) in r.data().iter().zip(s.data()) {
        assert!((g - 1.0 / v).abs() <= 0.002, "1/{v} = {g}");
    }
    let logits = f(&[2, 3], &[2.0, 1.0, 0.1, -1.0, 3.0, 0.5]);
    let p = share(&logits).softmax().unwrap().get().unwrap().float_precision();
    for row in 0..2 {
        let z = &logits.data()[row * 3..row * 3 + 3];
        let m = z.iter().copied().fold(f64::MIN, f64::max);
        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
        for (c, zc) in z.iter().enumerate() {
            let want = (zc - m).exp() / sum;
            assert!(
                (p.data()[row * 3 + c] - want).abs() <= 0.02,
                "softmax {row},{c}: {} vs {want}",
                p.data()[row * 3 + c]
            );
        }
    }
    let y = f(&[2, 3], &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    let ce = share(&logits).cross_entropy(&share(&y)).unwrap().get().unwrap().float_precision().item().unwrap();
    let lp = |row: usize, c: usize| {
        let z = &logits.data()[row * 3..row * 3 + 3];
        let m = z.iter().copied().fold(f64::MIN, f64::max);
        z[c] - m - z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
    };
    let want = -(lp(0, 0) + lp(1, 2));
    assert!((ce - want).abs() <= 0.05, "cross-entropy {ce} vs {want}");
}

/// docs/PROTOCOLS.md §7: fixed-point tensors compare at 32 bits (ReLU 38 + 38 + 46 payload
/// bytes per element of these 8 instead of 68 + 68 + 76, §6.9 with 8 elements' digits
/// packed in whole words), integer and raw tensors at 64;
/// `set_comparison_bits` overrides the rule, and beyond `2^30/s` the 32-bit ReLU is wrong
/// while the full width is right.
#[test]
fn the_comparison_width_follows_the_encoding_and_the_session_setting() {
    let hub = Hub::new();
    let ws = workers(&hub, &["bob", "alice"]);
    let crypto = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    let session = MpcSession::new(&[&ws[0], &ws[1]], &crypto).unwrap();
    let enc = FixedEncoder::default();
    let x = f(&[2, 4], &[1.5, -2.25, 0.0, 3.125, -0.001, 7.0, 1000.0, -3.0]);
    let xs = SharedTensor::share(&enc.encode(&x).unwrap(), Some(enc), &session).unwrap();
    let ints = SharedTensor::share(&Tensor::from_vec(vec![3u64, 5]), Some(FixedEncoder::INTEGER), &session).unwrap();
    let raw = SharedTensor::share(&Tensor::from_vec(vec![3u64, 5]), None, &session).unwrap();
    assert_eq!((xs.comparison_bits(), ints.comparison_bits(), raw.comparison_bits()), (32, 64, 64));

    // The first SecureNN call also agrees on k_01: warm up.
    xs.relu().unwrap();
    let payload = |s: &syft_worker::SessionStats| s.members.iter().map(|m| m.payload_bytes).sum::<u64>();
    let before = session.comm_stats().unwrap();
    let r32 = xs.relu().unwrap();
    let mid = session.comm_stats().unwrap();
    session.set_comparison_bits(Some(64)).unwrap();
    assert_eq!(xs.comparison_bits(), 64);
    let r64 = xs.relu().unwrap();
    let after = session.comm_stats().unwrap();
    // Per element and party: the share of c (4 or 8 bytes), PrivateCompare's digits (8·32
    // or 8·64 digits, ten to a word: 26 or 52 bytes per element), the masked value (8);
    // the helper: x (4 or 8), its bits (26 or 52), g and g·(v + ρ) (8 + 8).
    assert_eq!(payload(&mid.since(&before)), 8 * (38 + 38 + 46));
    assert_eq!(payload(&after.since(&mid)), 8 * (68 + 68 + 76));
    close(&r32.get().unwrap().float_precision(), &x.map(|v| v.max(0.0)), 0.0);
    close(&r64.get().unwrap().float_precision(), &x.map(|v| v.max(0.0)), 0.0);

    // 2·10^6 at scale 10^3 is beyond 2^30/s: wrong at 32 bits, right at 64.
    let big = f(&[2], &[2.0e6, -2.0e6]);
    let bs = SharedTensor::share(&enc.encode(&big).unwrap(), Some(enc), &session).unwrap();
    let (_, d64) = bs.relu_with_mask().unwrap();
    assert_eq!(d64.get().unwrap().into_raw().data(), &[1, 0]);
    session.set_comparison_bits(None).unwrap();
    let (_, d32) = bs.relu_with_mask().unwrap();
    assert_eq!(d32.get().unwrap().into_raw().data(), &[0, 1], "outside 2^30/s the 32-bit result is wrong");

    assert!(session.set_comparison_bits(Some(65)).is_err());
    assert!(session.set_comparison_bits(Some(1)).is_err());
    assert_eq!(session.comparison_bits(), None);
}
