//! Encrypted training of small convolutional networks: the convolution's gradients with
//! respect to its input and its kernel are Beaver products too, max pooling is SecureNN's
//! (its backward pass one Beaver product with the one-hot mask), and sum/average pooling
//! is local, so models with `Conv2d` and pooling layers train on shared data as they do
//! in plaintext.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

use syft::nn::{AvgPool2d, Conv2d, Flatten, MaxPool2d, Optimizer, Reduction, mse_loss};
use syft::prelude::*;

#[derive(Clone, Copy, Debug)]
enum Pool {
    None,
    Max,
    Avg,
}

/// Conv(1→2, 3×3, padding 1) → ReLU → [2×2 pooling] → Flatten → Linear, the same weights
/// for every call with the same seed.
fn cnn(backend: &Cpu<f32>, pool: Pool, seed: u64) -> Sequential<Cpu<f32>> {
    let mut rng = Prg::new(&Seed::from_u64(seed));
    let conv = Conv2d::new(backend, 1, 2, (3, 3), Conv2dParams::new(1, 1), true, &mut rng).map_err(|_| ()).unwrap();
    let features = if matches!(pool, Pool::None) { 2 * 4 * 4 } else { 2 * 2 * 2 };
    let fc = Linear::new(backend, features, 1, true, &mut rng).map_err(|_| ()).unwrap();
    let model = Sequential::new().with(conv).with(ReLU::new());
    let model = match pool {
        Pool::None => model,
        Pool::Max => model.with(MaxPool2d::new(2)),
        Pool::Avg => model.with(AvgPool2d::new(2)),
    };
    model.with(Flatten::new()).with(fc)
}

/// Four 1×4×4 images and their targets.
fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x: Vec<f64> = (0..64).map(|i| f64::from((i * 7 % 11) as u8) / 10.0 - 0.5).collect();
    (Tensor::new(&[4, 1, 4, 4], x).unwrap(), Tensor::new(&[4, 1], vec![0.5, -0.25, 1.0, 0.0]).unwrap())
}

const STEPS: usize = 6;
const LR: f64 = 0.02;

fn plain_losses(pool: Pool) -> Vec<f64> {
    let cpu = Cpu::<f32>::default();
    let model = cnn(&cpu, pool, 11);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(LR));
    let (x, y) = data();
    let x = Var::constant(&cpu, x.map(|v| v as f32));
    let y = Var::constant(&cpu, y.map(|v| v as f32));
    (0..STEPS)
        .map(|_| {
            opt.zero_grad();
            let loss = mse_loss(&model.forward(&x).unwrap(), &y, Reduction::Sum).unwrap();
            loss.backward().unwrap();
            opt.step().unwrap();
            loss.value().item().unwrap().into()
        })
        .collect()
}

fn encrypted_losses(pool: Pool) -> Vec<f64> {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let james = VirtualWorker::new(&hub, "james").unwrap();
    let enc = FixedEncoder::new(10, 4).unwrap();
    let (x, y) = data();
    let x = x.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let y = y.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let model = share_model(&cnn(&Cpu::<f32>::default(), pool, 11), enc, &[&bob, &alice], &james).unwrap();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(LR));
    let mut losses = Vec::new();
    for _ in 0..STEPS {
        opt.zero_grad();
        let pred = model.forward(&x).unwrap();
        let loss = pred.sub(&y).unwrap().square().unwrap().sum().unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        losses.push((*loss.value()).clone().get().unwrap().float_precision().item().unwrap());
    }
    drop((x, y, model, opt));
    for w in [&bob, &alice, &james] {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
    losses
}

#[test]
fn convolutional_networks_train_encrypted_as_in_plaintext() {
    for pool in [Pool::None, Pool::Max, Pool::Avg] {
        let (encrypted, plain) = (encrypted_losses(pool), plain_losses(pool));
        for (step, (e, p)) in encrypted.iter().zip(&plain).enumerate() {
            assert!((e - p).abs() <= 0.02 * p.abs() + 0.005, "{pool:?} step {step}: encrypted {e} vs plaintext {p}");
        }
        assert!(plain[STEPS - 1] < plain[0], "{pool:?}: the reference training does not learn: {plain:?}");
    }
}

#[test]
fn padded_max_pooling_is_a_typed_error_on_shared_tensors() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let james = VirtualWorker::new(&hub, "james").unwrap();
    let enc = FixedEncoder::new(10, 3).unwrap();
    let x = data().0.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let pool = syft::autograd::Pool2d { window: (2, 2), params: Conv2dParams { stride: (2, 2), padding: (1, 1) } };
    let err = x.max_pool2d(pool).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("padded max pooling"), "{err}");
}
