//! Losses and optimizers against hand-computed references: the Part 12 tutorial's
//! training run, SGD with momentum and weight decay, Adam, cross-entropy.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::{Cpu, Var};
use syft_nn::{
    Adam, AdamConfig, Linear, Module, Optimizer, ReLU, Reduction, Sequential, Sgd, SgdConfig, cross_entropy,
    cross_entropy_with_labels, mse_loss, nll_loss,
};
use syft_ring::Tensor;

fn t(shape: &[usize], v: &[f64]) -> Tensor<f64> {
    Tensor::new(shape, v.to_vec()).unwrap()
}

/// The Part 12 network, forward and backward by hand: returns the loss and gradients.
#[allow(clippy::type_complexity)]
fn reference_step(
    w1: &[[f64; 2]; 2],
    b1: &[f64; 2],
    w2: &[f64; 2],
    b2: f64,
) -> (f64, [[f64; 2]; 2], [f64; 2], [f64; 2], f64) {
    let data = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let target = [0.0, 0.0, 1.0, 1.0];
    let (mut loss, mut gw1, mut gb1, mut gw2, mut gb2) = (0.0, [[0.0; 2]; 2], [0.0; 2], [0.0; 2], 0.0);
    for (x, y) in data.iter().zip(target) {
        let z: Vec<f64> = (0..2).map(|j| w1[j][0] * x[0] + w1[j][1] * x[1] + b1[j]).collect();
        let h: Vec<f64> = z.iter().map(|&v| v.max(0.0)).collect();
        let pred = w2[0] * h[0] + w2[1] * h[1] + b2;
        loss += (pred - y) * (pred - y);
        let dp = 2.0 * (pred - y);
        gb2 += dp;
        for j in 0..2 {
            gw2[j] += dp * h[j];
            let dz = if z[j] > 0.0 { dp * w2[j] } else { 0.0 };
            gb1[j] += dz;
            gw1[j][0] += dz * x[0];
            gw1[j][1] += dz * x[1];
        }
    }
    (loss, gw1, gb1, gw2, gb2)
}

#[test]
fn part12_tutorial_training_matches_a_hand_written_reference() {
    let cpu = Cpu::<f64>::default();
    let (mut w1, mut b1, mut w2, mut b2) =
        ([[0.0738, -0.2109], [-0.1579, 0.3174]], [0.0, 0.1], [-0.5368, 0.7050], -0.0343);
    let fc1 = Linear::from_parameters(
        Var::param(&cpu, t(&[2, 2], &[w1[0][0], w1[0][1], w1[1][0], w1[1][1]])),
        Some(Var::param(&cpu, t(&[2], &b1))),
    )
    .unwrap();
    let fc2 =
        Linear::from_parameters(Var::param(&cpu, t(&[1, 2], &w2)), Some(Var::param(&cpu, t(&[1], &[b2])))).unwrap();
    let model = Sequential::new().with(fc1).with(ReLU::new()).with(fc2);
    let data = Var::constant(&cpu, t(&[4, 2], &[0., 0., 0., 1., 1., 0., 1., 1.]));
    let target = Var::constant(&cpu, t(&[4, 1], &[0., 0., 1., 1.]));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1));
    let mut losses = Vec::new();
    for _ in 0..20 {
        opt.zero_grad();
        let pred = model.forward(&data).unwrap();
        let loss = mse_loss(&pred, &target, Reduction::Sum).unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();

        let (ref_loss, gw1, gb1, gw2, gb2) = reference_step(&w1, &b1, &w2, b2);
        for j in 0..2 {
            for i in 0..2 {
                w1[j][i] -= 0.1 * gw1[j][i];
            }
            b1[j] -= 0.1 * gb1[j];
            w2[j] -= 0.1 * gw2[j];
        }
        b2 -= 0.1 * gb2;
        let got = loss.value().item().unwrap();
        assert!((got - ref_loss).abs() < 1e-12, "{got} vs {ref_loss}");
        losses.push(got);
    }
    let params = model.parameters();
    let expect = [w1[0][0], w1[0][1], w1[1][0], w1[1][1]];
    for (a, b) in params[0].value().data().iter().zip(expect) {
        assert!((a - b).abs() < 1e-12);
    }
    assert!((params[3].value().data()[0] - b2).abs() < 1e-12);
    assert!(losses[19] < losses[0], "the loss went down: {losses:?}");
}

#[test]
fn mse_sum_and_mean() {
    let cpu = Cpu::<f64>::default();
    let p = Var::param(&cpu, t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]));
    let y = Var::constant(&cpu, t(&[2, 2], &[0.0, 2.0, 5.0, 4.0]));
    let s = mse_loss(&p, &y, Reduction::Sum).unwrap();
    assert_eq!(s.value().item().unwrap(), 5.0);
    let m = mse_loss(&p, &y, Reduction::Mean).unwrap();
    assert_eq!(m.value().item().unwrap(), 1.25);
    m.backward().unwrap();
    assert_eq!(p.grad().unwrap().data(), &[0.5, 0.0, -1.0, 0.0]);
}

#[test]
fn cross_entropy_matches_the_formula() {
    let cpu = Cpu::<f64>::default();
    let logits = Var::param(&cpu, t(&[2, 3], &[1.0, 2.0, 3.0, 0.5, -1.0, 0.0]));
    let labels = [2usize, 0];
    let loss = cross_entropy_with_labels(&logits, &labels).unwrap();
    let row = |r: [f64; 3], c: usize| -(r[c] - r.iter().map(|v| v.exp()).sum::<f64>().ln());
    let expect = (row([1.0, 2.0, 3.0], 2) + row([0.5, -1.0, 0.0], 0)) / 2.0;
    assert!((loss.value().item().unwrap() - expect).abs() < 1e-12);
    loss.backward().unwrap();
    // d/dlogits = (softmax − one_hot) / n
    let g = logits.grad().unwrap();
    let z: f64 = [1.0f64, 2.0, 3.0].iter().map(|v| v.exp()).sum();
    assert!((g.data()[2] - ((3.0f64.exp() / z) - 1.0) / 2.0).abs() < 1e-12);
    // The one-hot and log-softmax + NLL forms agree.
    let one_hot = Var::constant(&cpu, Tensor::one_hot(&labels, 3).unwrap());
    let a = cross_entropy(&logits, &one_hot).unwrap().value().item().unwrap();
    let b = nll_loss(&logits.log_softmax(1).unwrap(), &one_hot).unwrap().value().item().unwrap();
    assert!((a - expect).abs() < 1e-12 && (b - expect).abs() < 1e-12);
    assert!(cross_entropy_with_labels(&logits, &[3, 0]).is_err());
}

#[test]
fn sgd_momentum_and_weight_decay_follow_pytorch() {
    // PyTorch: g' = g + wd·p; buf = g' (first step), then buf = m·buf + (1 − d)·g'; p -= lr·buf.
    let cpu = Cpu::<f64>::default();
    let p = Var::param(&cpu, t(&[1], &[1.0]));
    let mut opt = Sgd::new(vec![p.clone()], SgdConfig::new(0.1).momentum(0.9).weight_decay(0.01));
    let (mut x, mut buf) = (1.0f64, None::<f64>);
    for _ in 0..5 {
        opt.zero_grad();
        p.square().unwrap().sum().unwrap().backward().unwrap(); // g = 2p
        opt.step().unwrap();
        let g = 2.0 * x + 0.01 * x;
        let b = buf.map_or(g, |b| 0.9 * b + g);
        buf = Some(b);
        x -= 0.1 * b;
        assert!((p.value().data()[0] - x).abs() < 1e-12);
    }
    // Nesterov: p -= lr·(g + m·buf).
    let q = Var::param(&cpu, t(&[1], &[1.0]));
    let mut opt = Sgd::new(vec![q.clone()], SgdConfig::new(0.1).momentum(0.5).nesterov(true));
    q.square().unwrap().sum().unwrap().backward().unwrap();
    opt.step().unwrap();
    assert!((q.value().data()[0] - (1.0 - 0.1 * (2.0 + 0.5 * 2.0))).abs() < 1e-12);
}

#[test]
fn adam_follows_pytorch() {
    let cpu = Cpu::<f64>::default();
    let p = Var::param(&cpu, t(&[2], &[1.0, -2.0]));
    let cfg = AdamConfig::new(0.05);
    let mut opt = Adam::new(vec![p.clone()], cfg);
    let (mut x, mut m, mut v) = ([1.0f64, -2.0], [0.0f64; 2], [0.0f64; 2]);
    for step in 1..=10 {
        opt.zero_grad();
        p.square().unwrap().sum().unwrap().backward().unwrap();
        opt.step().unwrap();
        for i in 0..2 {
            let g = 2.0 * x[i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            let mhat = m[i] / (1.0 - 0.9f64.powi(step));
            let vhat = v[i] / (1.0 - 0.999f64.powi(step));
            x[i] -= 0.05 * mhat / (vhat.sqrt() + 1e-8);
        }
        for (got, want) in p.value().data().iter().zip(x) {
            assert!((got - want).abs() < 1e-12, "step {step}");
        }
    }
}

#[test]
fn optimizers_skip_parameters_without_gradients() {
    let cpu = Cpu::<f32>::default();
    let a = Var::param(&cpu, Tensor::from_vec(vec![1.0f32]));
    let b = Var::param(&cpu, Tensor::from_vec(vec![1.0f32]));
    let mut sgd = Sgd::new(vec![a.clone(), b.clone()], SgdConfig::new(0.5));
    a.sum().unwrap().backward().unwrap();
    sgd.step().unwrap();
    assert_eq!(a.value().data(), &[0.5]);
    assert_eq!(b.value().data(), &[1.0]);
    let mut adam = Adam::new(vec![b.clone()], AdamConfig::default());
    adam.step().unwrap();
    assert_eq!(b.value().data(), &[1.0]);
}

#[test]
fn mlp_learns_a_separable_problem() {
    let cpu = Cpu::<f32>::default();
    let mut rng = syft_ring::Prg::new(&syft_ring::Seed::from_u64(9));
    let model = Sequential::new()
        .with(Linear::new(&cpu, 2, 16, true, &mut rng).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 16, 2, true, &mut rng).unwrap());
    let xs = Tensor::<f32>::from_fn(&[64, 2], |i| (((i[0] * 2 + i[1]) as f32) * 0.731).sin());
    let labels: Vec<usize> = (0..64).map(|r| usize::from(xs.data()[2 * r] + xs.data()[2 * r + 1] > 0.0)).collect();
    let x = Var::constant(&cpu, xs);
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(0.05));
    for _ in 0..200 {
        opt.zero_grad();
        cross_entropy_with_labels(&model.forward(&x).unwrap(), &labels).unwrap().backward().unwrap();
        opt.step().unwrap();
    }
    let pred = model.forward(&x).unwrap().value().argmax_axis(1).unwrap();
    let correct = pred.data().iter().zip(&labels).filter(|(p, l)| p == l).count();
    assert!(correct >= 60, "{correct}/64");
}
