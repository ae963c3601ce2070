//! The encrypted deep-learning tutorials, cell by cell: Part 11 (encrypted MNIST
//! classification) and Part 12 (training an encrypted network on encrypted data).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

use syft::nn::mnist::Mnist;
use syft::nn::progress::Progress;
use syft::nn::train::train_epoch;
use syft::nn::{Adam, AdamConfig, Optimizer, Reduction, mse_loss};
use syft::prelude::*;

fn toy_model<B: Backend>(backend: &B) -> Sequential<B> {
    let t = |shape: &[usize], v: &[f64]| backend.constant(shape, v).map_err(|_| ()).unwrap();
    let fc1 = Linear::from_parameters(
        Var::param(backend, t(&[2, 2], &[0.0738, -0.2109, -0.1579, 0.3174])),
        Some(Var::param(backend, t(&[2], &[0.0, 0.1]))),
    )
    .map_err(|_| ())
    .unwrap();
    let fc2 = Linear::from_parameters(
        Var::param(backend, t(&[1, 2], &[-0.5368, 0.7050])),
        Some(Var::param(backend, t(&[1], &[-0.0343]))),
    )
    .map_err(|_| ())
    .unwrap();
    Sequential::new().with(fc1).with(ReLU::new()).with(fc2)
}

fn plain_losses(iterations: usize) -> Vec<f64> {
    let cpu = Cpu::<f64>::default();
    let model = toy_model(&cpu);
    let opt = Sgd::new(model.parameters(), SgdConfig::new(0.1));
    let mut opt = opt;
    let x = Var::constant(&cpu, Tensor::new(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.]).unwrap());
    let y = Var::constant(&cpu, Tensor::new(&[4, 1], vec![0., 0., 1., 1.]).unwrap());
    (0..iterations)
        .map(|_| {
            opt.zero_grad();
            let loss = mse_loss(&model.forward(&x).unwrap(), &y, Reduction::Sum).unwrap();
            loss.backward().unwrap();
            opt.step().unwrap();
            loss.value().item().unwrap()
        })
        .collect()
}

fn encrypted_losses(precision: u32, iterations: usize) -> Vec<f64> {
    // hook = sy.TorchHook(torch); alice, bob, james = VirtualWorker(...)
    let hub = Hub::new();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let james = VirtualWorker::new(&hub, "james").unwrap();
    let enc = FixedEncoder::new(10, precision).unwrap();

    // data, target = toy data; model = Net()
    let data = Tensor::<f64>::new(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.]).unwrap();
    let target = Tensor::<f64>::new(&[4, 1], vec![0., 0., 1., 1.]).unwrap();
    let model = toy_model(&Cpu::<f32>::default());

    // data = data.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True), same for target and model
    let data = data.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let target = target.fix_precision_with(enc).unwrap().share_requires_grad(&[&bob, &alice], &james).unwrap();
    let model = share_model(&model, enc, &[&bob, &alice], &james).unwrap();

    // print(data): an additive sharing whose shares live on bob and alice
    let shown = format!("{:?}", data.value());
    assert!(shown.contains("AdditiveSharingTensor") && shown.contains("@bob") && shown.contains("@alice"), "{shown}");
    assert!(data.requires_grad());
    for w in [&bob, &alice] {
        // data, target, and 4 parameters
        assert_eq!(w.object_count().unwrap(), 6);
    }
    assert_eq!(james.object_count().unwrap(), 0, "the crypto provider holds no shares");

    // opt = optim.SGD(params=model.parameters(), lr=0.1).fix_precision()
    let mut opt = Sgd::new(model.module.parameters(), SgdConfig::new(0.1));
    let mut losses = Vec::new();
    for _ in 0..iterations {
        opt.zero_grad();
        let pred = model.module.forward(&data).unwrap();
        let loss = pred.sub(&target).unwrap().square().unwrap().sum().unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        // print(loss.get().float_precision())
        losses.push((*loss.value()).clone().get_f64().unwrap().item().unwrap());
    }
    // After training the model owner can decrypt the model.
    let plain = syft::decrypt_model(&model.module).unwrap();
    assert_eq!(plain.num_parameters(), 9);
    drop((data, target, model, opt));
    for w in [&bob, &alice, &james] {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
    losses
}

#[test]
fn part12_encrypted_training_on_encrypted_data() {
    let p3 = encrypted_losses(3, 20);
    assert_eq!(p3.len(), 20);
    assert!(p3[19] < p3[0] / 10.0, "the loss decreases: {p3:?}");
    let p4 = encrypted_losses(4, 20);
    let plain = plain_losses(20);
    for (i, (e, p)) in p4.iter().zip(&plain).enumerate() {
        assert!((e - p).abs() <= (0.02 * p.abs()).max(0.005), "iteration {i}: encrypted {e} vs plaintext {p}");
    }
}

#[test]
fn part11_encrypted_classification() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mnist = Mnist::load_or_hold_out(&dir, 2000).unwrap();
    let cpu = Cpu::<f32>::new();
    // A smaller network than the tutorial's so the test is quick: 784-64-10.
    let mut init = Prg::new(&Seed::from_u64(7));
    let model = Sequential::new()
        .with(Linear::new(&cpu, 784, 64, true, &mut init).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 64, 10, true, &mut init).unwrap());
    let train = mnist.train.to_dataset::<f32>(true).unwrap();
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(1e-3));
    let bar = Progress::new(1, "", true);
    train_epoch(&cpu, &model, &mut opt, &train, 64, &mut Prg::new(&Seed::from_u64(8)), &bar).unwrap();

    let test = mnist.test.to_dataset::<f32>(true).unwrap();
    let n = 100;
    let images = test.inputs().slice_axis(0, 0, n).unwrap();
    let labels = &test.labels()[..n];
    let plain_pred =
        no_grad(|| model.forward(&Var::constant(&cpu, images.clone()))).unwrap().value().argmax_axis(1).unwrap();

    // bob and alice compute; crypto_provider deals.
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let crypto_provider = VirtualWorker::new(&hub, "crypto_provider").unwrap();
    // model.fix_precision().share(alice, bob, crypto_provider=crypto_provider)
    let shared = model.fix_precision_share(&[&bob, &alice], &crypto_provider).unwrap();
    let mut correct: Option<SharedTensor> = None;
    let mut agree = 0;
    for b in (0..n).step_by(50) {
        // data.fix_precision().share(...), target.fix_precision().share(...)
        let x = images
            .slice_axis(0, b, b + 50)
            .unwrap()
            .fix_precision()
            .unwrap()
            .share(&[&bob, &alice], &crypto_provider)
            .unwrap();
        let y = Tensor::<u64>::one_hot(&labels[b..b + 50], 10).unwrap();
        let y = SharedTensor::share(&y, None, shared.backend.session()).unwrap();
        // output = model(data); pred = output.argmax(dim=1); correct += pred.eq(target).sum()
        let out = no_grad(|| shared.module.forward(&Var::constant(&shared.backend, x))).unwrap();
        let pred = out.value().argmax_one_hot(1).unwrap();
        let hits = pred.mul(&y).unwrap().sum().unwrap();
        correct = Some(match correct {
            None => hits,
            Some(c) => c.add(&hits).unwrap(),
        });
        let p = pred.get().unwrap().argmax_axis(1).unwrap();
        agree += p.data().iter().zip(&plain_pred.data()[b..b + 50]).filter(|(a, b)| a == b).count();
    }
    // Only the score is decrypted.
    let score = correct.unwrap().get().unwrap().item().unwrap();
    let plain_correct = plain_pred.data().iter().zip(labels).filter(|(p, l)| p == l).count() as u64;
    assert!(agree >= 99, "secure and plaintext predictions agree on {agree}/100");
    assert!(score.abs_diff(plain_correct) <= 1, "encrypted score {score}, plaintext {plain_correct}");
    assert!(score >= 80, "a trained model classifies most digits: {score}/100");
}
