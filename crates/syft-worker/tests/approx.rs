//! The approximations on shared tensors as one operation each (docs/PROTOCOLS.md §11):
//! every result against plaintext within the protocol layer's tolerances, one request per
//! member of the session, bad arguments refused at the client before any request (the
//! session stays usable), and the softmax cross-entropy's gradient through autograd
//! against the plaintext backend's.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::Arc;
use syft_autograd::{Cpu, Var};
use syft_fixed::FixedEncoder;
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, SharedBackend, SharedTensor, VirtualWorker, Worker};

/// A session of `n` parties and a crypto provider on a fresh hub.
struct Setup {
    hub: Arc<Hub>,
    workers: Vec<VirtualWorker>,
    session: Arc<MpcSession>,
}

fn setup(n: usize) -> Setup {
    let hub = Hub::new();
    let names = ["bob", "alice", "carol", "crypto_provider"];
    let mut workers: Vec<VirtualWorker> = names[..n].iter().map(|w| VirtualWorker::new(&hub, w).unwrap()).collect();
    workers.push(VirtualWorker::new(&hub, names[3]).unwrap());
    let parties: Vec<&dyn Worker> = workers[..n].iter().map(|w| w as &dyn Worker).collect();
    let session = MpcSession::new(&parties, &workers[n]).unwrap();
    Setup { hub, workers, session }
}

fn enc4() -> FixedEncoder {
    FixedEncoder::new(10, 4).unwrap()
}

fn share(t: &Tensor<f64>, s: &Arc<MpcSession>) -> SharedTensor {
    SharedTensor::share(&enc4().encode(t).unwrap(), Some(enc4()), s).unwrap()
}

fn reveal(t: SharedTensor) -> Tensor<f64> {
    t.get().unwrap().float_precision()
}

fn spread(n: usize, lo: f64, hi: f64) -> Tensor<f64> {
    #[allow(clippy::cast_precision_loss, reason = "small counts")]
    let v = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    Tensor::from_vec(v)
}

#[track_caller]
fn assert_close(name: &str, xs: &Tensor<f64>, got: &Tensor<f64>, want: impl Fn(f64) -> f64, tol: impl Fn(f64) -> f64) {
    assert_eq!(xs.shape(), got.shape(), "{name}");
    for (&x, &g) in xs.data().iter().zip(got.data()) {
        assert!((g - want(x)).abs() <= tol(x), "{name}({x}): got {g}, want {} ± {}", want(x), tol(x));
    }
}

/// Logits with ranges up to 10 per row and their one-hot targets.
fn logits_and_targets() -> (Tensor<f64>, Tensor<f64>) {
    let (rows, k) = (5, 10);
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let z = Tensor::new(&[rows, k], (0..rows * k).map(|i| ((i as f64) * 1.37).sin() * 5.0).collect()).unwrap();
    let y = Tensor::<f64>::one_hot(&[3, 0, 9, 4, 4], k).unwrap();
    (z, y)
}

fn softmax_f64(z: &Tensor<f64>) -> Tensor<f64> {
    let k = z.shape()[1];
    let mut out = Vec::with_capacity(z.len());
    for row in z.data().chunks(k) {
        let m = row.iter().copied().fold(f64::MIN, f64::max);
        let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
        out.extend(row.iter().map(|v| (v - m).exp() / sum));
    }
    Tensor::new(z.shape(), out).unwrap()
}

fn cross_entropy_f64(z: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let p = softmax_f64(z);
    -p.data().iter().zip(y.data()).map(|(p, y)| y * p.ln()).sum::<f64>()
}

/// Softmax's documented accuracy at `s = 10^4` for logit ranges up to 10 (absolute).
const SOFTMAX_TOL: f64 = 0.02;

/// One row's loss: the logarithm's accuracy on `[1, k]` plus a few units.
fn row_loss_tol(k: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "small counts")]
    let k = k as f64;
    k.ln().powi(2) / 512.0 + 512.0 / 1e4 + 0.005
}

#[test]
fn exp_reciprocal_and_ln_match_plaintext_among_two_and_three_parties() {
    for n in [2, 3] {
        let s = setup(n);
        let xs = spread(41, -8.0, 4.0);
        let got = reveal(share(&xs, &s.session).exp().unwrap());
        // The limit's x²/2^9 (as x²/400 for |x| ≤ 8), the truncations' 2^9/s, 2 units.
        assert_close("exp", &xs, &got, f64::exp, |x| (x * x / 400.0 + 512.0 / 1e4) * x.exp() + 2e-4);

        let xs = spread(37, 1.0, 10.0);
        let got = reveal(share(&xs, &s.session).reciprocal(0.1, 8).unwrap());
        assert_close("reciprocal", &xs, &got, |x| 1.0 / x, |_| 4e-4);

        let xs = spread(50, 0.2, 25.0);
        let got = reveal(share(&xs, &s.session).ln(6).unwrap());
        assert_close("ln", &xs, &got, f64::ln, |x| x.ln().powi(2) / 512.0 + 512.0 / 1e4 + 0.005);

        drop(got);
        for w in &s.workers {
            assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
        }
    }
}

#[test]
fn softmax_and_the_losses_match_plaintext() {
    let s = setup(2);
    let (z, y) = logits_and_targets();
    let (zs, ys) = (share(&z, &s.session), share(&y, &s.session));
    let (rows, k) = (z.shape()[0], z.shape()[1]);
    let p = softmax_f64(&z);
    let loss = cross_entropy_f64(&z, &y);
    let grad = p.sub(&y).unwrap();
    #[allow(clippy::cast_precision_loss, reason = "small counts")]
    let loss_tol = rows as f64 * row_loss_tol(k);

    let within = |name: &str, got: &Tensor<f64>, want: &Tensor<f64>| {
        assert_eq!(got.shape(), want.shape(), "{name}");
        for (g, w) in got.data().iter().zip(want.data()) {
            assert!((g - w).abs() <= SOFTMAX_TOL, "{name}: {g} vs {w}");
        }
    };
    within("softmax", &reveal(zs.softmax().unwrap()), &p);
    let ce = reveal(zs.cross_entropy(&ys).unwrap());
    assert!(ce.shape().is_empty());
    assert!((ce.item().unwrap() - loss).abs() <= loss_tol, "cross-entropy {ce:?} vs {loss}");
    within("cross_entropy_backward", &reveal(zs.cross_entropy_backward(&ys).unwrap()), &grad);
    let (l, g) = zs.softmax_cross_entropy(&ys).unwrap();
    assert!((reveal(l).item().unwrap() - loss).abs() <= loss_tol);
    within("softmax_cross_entropy", &reveal(g), &grad);
}

#[test]
fn each_approximation_is_one_request_per_member() {
    let s = setup(2);
    let (z, y) = logits_and_targets();
    let (zs, ys) = (share(&z, &s.session), share(&y, &s.session));
    let positive = share(&spread(8, 1.0, 4.0), &s.session);
    // Two parties and the crypto provider: three requests, whatever the protocol's rounds.
    let members = 3;
    let count = |name: &str, f: &dyn Fn() -> Vec<SharedTensor>| {
        let before = s.hub.requests_sent();
        let outs = f();
        assert_eq!(s.hub.requests_sent() - before, members, "{name}");
        drop(outs);
    };
    count("exp", &|| vec![zs.exp().unwrap()]);
    count("reciprocal", &|| vec![positive.reciprocal(0.25, 8).unwrap()]);
    count("ln", &|| vec![positive.ln(6).unwrap()]);
    count("softmax", &|| vec![zs.softmax().unwrap()]);
    count("cross_entropy", &|| vec![zs.cross_entropy(&ys).unwrap()]);
    count("cross_entropy_backward", &|| vec![zs.cross_entropy_backward(&ys).unwrap()]);
    count("softmax_cross_entropy", &|| {
        let (l, g) = zs.softmax_cross_entropy(&ys).unwrap();
        vec![l, g]
    });
}

#[test]
fn bad_arguments_are_refused_at_the_client_before_any_request() {
    let s = setup(2);
    let (z, y) = logits_and_targets();
    let (zs, ys) = (share(&z, &s.session), share(&y, &s.session));
    let raw = SharedTensor::share(&Tensor::from_vec(vec![1u64, 2, 3]), None, &s.session).unwrap();
    let integers =
        SharedTensor::share(&Tensor::from_vec(vec![1u64, 2, 3]), Some(FixedEncoder::INTEGER), &s.session).unwrap();
    let wide = share(&Tensor::<f64>::zeros(&[1, 30_000]), &s.session);
    let flat = zs.reshape(&[50]).unwrap();
    let integer_rows = integers.reshape(&[1, 3]).unwrap();
    let transposed = ys.transpose().unwrap();
    let other_shape = zs.reshape(&[10, 5]).unwrap();
    // Every operand exists before: a refusal sends nothing (and deletes nothing).
    let before = s.hub.requests_sent();
    assert!(raw.exp().is_err(), "a raw ring tensor");
    assert!(integers.exp().is_err(), "no fractional part");
    assert!(zs.reciprocal(-1.0, 8).is_err(), "a negative start");
    assert!(zs.reciprocal(f64::NAN, 8).is_err(), "not a number");
    assert!(zs.reciprocal(0.5, 65).is_err(), "too many iterations");
    assert!(zs.ln(1000).is_err(), "too many iterations");
    assert!(flat.softmax().is_err(), "rank 1");
    assert!(integer_rows.softmax().is_err(), "integer encoding");
    assert!(wide.softmax().is_err(), "1/k is zero at the encoding");
    assert!(zs.cross_entropy(&transposed).is_err(), "target shape");
    assert!(zs.softmax_cross_entropy(&other_shape).is_err(), "target shape");
    assert!(zs.cross_entropy_backward(&integers).is_err(), "target encoding");
    assert_eq!(s.hub.requests_sent(), before, "a refused operation sent a request");
    // The session is still usable.
    let e = reveal(share(&Tensor::from_vec(vec![0.0, 1.0]), &s.session).exp().unwrap());
    assert!((e.data()[1] - std::f64::consts::E).abs() < 0.2);

    // SecureNN protocols need exactly two parties.
    let three = setup(3);
    let (zs3, ys3) = (share(&z, &three.session), share(&y, &three.session));
    let before = three.hub.requests_sent();
    assert!(zs3.softmax().is_err());
    assert!(zs3.softmax_cross_entropy(&ys3).is_err());
    assert_eq!(three.hub.requests_sent(), before);
}

#[test]
fn the_softmax_cross_entropy_gradient_matches_the_plaintext_backend() {
    let s = setup(2);
    let backend = SharedBackend::new(s.session.clone(), enc4());
    let cpu = Cpu::<f64>::default();
    let (_, y) = logits_and_targets();
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let x = Tensor::new(&[5, 6], (0..30).map(|i| ((i as f64) * 0.61).cos()).collect()).unwrap();
    #[allow(clippy::cast_precision_loss, reason = "small indices")]
    let w = Tensor::new(&[6, 10], (0..60).map(|i| ((i as f64) * 0.83).sin()).collect()).unwrap();

    // Plaintext: the mean through log-softmax, times the rows (the summed loss).
    let (px, pw) = (Var::constant(&cpu, x.clone()), Var::param(&cpu, w.clone()));
    let plain_logits = px.matmul(&pw).unwrap();
    let plain = plain_logits.cross_entropy(&Var::constant(&cpu, y.clone())).unwrap().mul_scalar(5.0).unwrap();
    plain.backward().unwrap();
    let plain_loss = plain.value().item().unwrap();

    // Shared: the fused operation, then autograd through the product.
    let sx = Var::constant(&backend, backend.share(&x).unwrap());
    let sw = Var::param(&backend, backend.share(&w).unwrap());
    let sy = Var::constant(&backend, backend.share(&y).unwrap());
    let loss = sx.matmul(&sw).unwrap().softmax_cross_entropy(&sy).unwrap();
    loss.backward().unwrap();
    let shared_loss = reveal((*loss.value()).clone()).item().unwrap();
    assert!((shared_loss - plain_loss).abs() <= 5.0 * row_loss_tol(10), "loss {shared_loss} vs {plain_loss}");

    // dW = xᵀ (softmax − y): each entry a sum of 5 terms, each within the softmax's
    // tolerance times |x| ≤ 1.
    let gw = reveal((*sw.grad().unwrap()).clone());
    let want = pw.grad().unwrap();
    assert_eq!(gw.shape(), want.shape());
    for (g, p) in gw.data().iter().zip(want.data()) {
        assert!((g - p).abs() <= 5.0 * SOFTMAX_TOL, "dW: {g} vs {p}");
    }
}
