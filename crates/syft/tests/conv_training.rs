//! Encrypted training of a small convolutional network: the convolution's gradients with
//! respect to its input and its kernel are Beaver products too, so a model with a
//! `Conv2d` layer trains on shared data as it does in plaintext.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

use syft::nn::{Conv2d, Flatten, Optimizer, Reduction, mse_loss};
use syft::prelude::*;

/// Conv(1→2, 3×3, padding 1) → ReLU → Flatten → Linear(32 → 1), the same weights for every
/// call with the same seed.
fn cnn(backend: &Cpu<f32>, seed: u64) -> Sequential<Cpu<f32>> {
    let mut rng = Prg::new(&Seed::from_u64(seed));
    let conv = Conv2d::new(backend, 1, 2, (3, 3), Conv2dParams::new(1, 1), true, &mut rng).map_err(|_| ()).unwrap();
    let fc = Linear::new(backend, 2 * 4 * 4, 1, true, &mut rng).map_err(|_| ()).unwrap();
    Sequential::new().with(conv).with(ReLU::new()).with(Flatten::new()).with(fc)
}

/// Four 1×4×4 images and their targets.
fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x: Vec<f64> = (0..64).map(|i| f64::from((i * 7 % 11) as u8) / 10.0 - 0.5).collect();
    (Tensor::new(&[4, 1, 4, 4], x).unwrap(), Tensor::new(&[4, 1], vec![0.5, -0.25, 1.0, 0.0]).unwrap())
}

const STEPS: usize = 6;
const LR: f64 = 0.02;

fn plain_losses() -> Vec<f64> {
    let cpu = Cpu::<f32>::default();
    let model = cnn(&cpu, 11);
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

#[test]
fn a_convolutional_network_trains_encrypted_as_in_plaintext() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let james = VirtualWorker::new(&hub, "james").unwrap();
    let enc = FixedEncoder::new(10, 4).unwrap();
    let (x, y) = data();
    let x = x.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let y = y.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let model = share_model(&cnn(&Cpu::<f32>::default(), 11), enc, &[&bob, &alice], &james).unwrap();
    let mut opt = Sgd::new(model.module.parameters(), SgdConfig::new(LR));
    let mut losses = Vec::new();
    for _ in 0..STEPS {
        opt.zero_grad();
        let pred = model.module.forward(&x).unwrap();
        let loss = pred.sub(&y).unwrap().square().unwrap().sum().unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        losses.push((*loss.value()).clone().get_f64().unwrap().item().unwrap());
    }
    let plain = plain_losses();
    for (step, (e, p)) in losses.iter().zip(&plain).enumerate() {
        assert!((e - p).abs() <= 0.02 * p.abs() + 0.005, "step {step}: encrypted {e} vs plaintext {p}");
    }
    assert!(plain[STEPS - 1] < plain[0], "the reference training does not learn: {plain:?}");
    drop((x, y, model, opt));
    for w in [&bob, &alice, &james] {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
}
