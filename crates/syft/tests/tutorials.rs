//! The PySyft tutorials, cell by cell, as one kit run over both transports: Part 1 (basic
//! tools), Part 3 (pointer chains and `move`), Part 11 (encrypted MNIST classification)
//! and Part 12 (training an encrypted network on encrypted data). Each part runs once with
//! in-process workers and once with worker processes on loopback over TLS, with the
//! observable state (values, stores, object counts) asserted after each cell.
//!
//! The worker processes are this test program itself (`serve_if_requested` first in
//! `main`), so the test has its own `main` (`harness = false`); an argument filters the
//! parts by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

use std::collections::BTreeSet;
use syft::nn::mnist::Mnist;
use syft::nn::progress::Progress;
use syft::nn::train::train_epoch;
use syft::nn::{Reduction, mse_loss};
use syft::prelude::*;
use syft::worker::ObjectId;

fn t(v: &[f32]) -> Tensor<f32> {
    Tensor::from_vec(v.to_vec())
}

fn ids(w: &dyn Worker) -> BTreeSet<ObjectId> {
    w.objects().unwrap().into_iter().map(|(id, _)| id).collect()
}

fn start(names: &[&str], transport: Transport) -> Workers {
    Workers::builder(&Hub::new()).names(names).transport(transport).start().unwrap()
}

fn part1_basic_tools(transport: Transport) {
    // bob = sy.VirtualWorker(hook, id="bob")
    let workers = start(&["bob"], transport);
    let bob = workers.get("bob").unwrap();

    // x = torch.tensor([1,2,3,4,5]); y = x + x  (local)
    let x = t(&[1., 2., 3., 4., 5.]);
    assert_eq!(x.add(&x).unwrap().data(), &[2., 4., 6., 8., 10.]);

    // x_ptr = x.send(bob); y_ptr = y.send(bob)
    let y = t(&[1., 1., 1., 1., 1.]);
    let x_ptr = x.send(bob).unwrap();
    let y_ptr = y.send(bob).unwrap();
    // bob._objects holds both
    assert_eq!(ids(bob), BTreeSet::from([x_ptr.id_at_location(), y_ptr.id_at_location()]));

    // z = x_ptr + x_ptr: computed on bob, the result stays there
    let z = x_ptr.add(&x_ptr).unwrap();
    assert_eq!(z.location(), "bob");
    assert_eq!(bob.object_count().unwrap(), 3);

    // pointer metadata: location, id_at_location, id, owner
    assert_eq!(x_ptr.location(), bob.id());
    assert_eq!(x_ptr.owner(), LOCAL_WORKER);
    assert_ne!(x_ptr.id(), x_ptr.id_at_location());
    assert_eq!(format!("{x_ptr}"), format!("{}@bob", x_ptr.id_at_location()));

    // x_ptr.get(), y_ptr.get(), z.get(): each removes the object from bob
    assert_eq!(x_ptr.get().unwrap().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(bob.object_count().unwrap(), 2);
    assert_eq!(y_ptr.get().unwrap().data(), &[1., 1., 1., 1., 1.]);
    assert_eq!(z.get().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    // z = torch.add(x, y) on pointers
    let x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap();
    let y = t(&[1., 1., 1., 1., 1.]).send(bob).unwrap();
    let z = x.add(&y).unwrap();
    assert_eq!(z.get().unwrap().data(), &[2., 3., 4., 5., 6.]);
    drop((x, y));
    assert_eq!(bob.object_count().unwrap(), 0, "dropped pointers delete their objects");

    // Remote autograd: x, y with requires_grad on bob; z = (x + y).sum(); z.backward()
    let be = Cpu::<f32>::default();
    let x = Var::new(&be, t(&[1., 2., 3., 4., 5.]), true).send(bob).unwrap();
    let y = Var::new(&be, t(&[1., 1., 1., 1., 1.]), true).send(bob).unwrap();
    let z = x.add(&y).unwrap().sum().unwrap();
    z.backward().unwrap();
    let x = x.get().unwrap();
    assert_eq!(x.value().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(x.grad().unwrap().data(), &[1., 1., 1., 1., 1.]);
    // The gradient is also reachable as a pointer on bob.
    let gy = y.grad().unwrap();
    assert_eq!(gy.get().unwrap().data(), &[1., 1., 1., 1., 1.]);
    drop((y, z));
    assert_eq!(bob.object_count().unwrap(), 0);
}

fn part3_pointer_chains_and_move(transport: Transport) {
    let workers = start(&["bob", "alice"], transport);
    let (bob, alice) = (workers.get("bob").unwrap(), workers.get("alice").unwrap());

    // x_ptr = x.send(bob); pointer_to_x_ptr = x_ptr.send(alice)
    let x_ptr = t(&[1., 2., 3., 4.]).send(bob).unwrap();
    let data_id = x_ptr.id_at_location();
    let pointer_to_x_ptr = x_ptr.send(alice).unwrap();
    assert_eq!(pointer_to_x_ptr.location(), "alice");
    // bob holds the data, alice holds a pointer to it
    assert_eq!(ids(bob), BTreeSet::from([data_id]));
    let alice_objs = alice.objects().unwrap();
    assert_eq!(alice_objs.len(), 1);
    assert_eq!(alice_objs[0].1.kind, ObjectKind::Pointer { location: "bob".into(), id: data_id });

    // x_ptr = pointer_to_x_ptr.get(): alice's pointer comes back; bob keeps the data
    let x_ptr = pointer_to_x_ptr.get().unwrap();
    assert_eq!(x_ptr.location(), "bob");
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 0));
    // x = x_ptr.get()
    assert_eq!(x_ptr.get().unwrap().data(), &[1., 2., 3., 4.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    // Arithmetic through pointer -> pointer -> data: alice forwards to bob.
    let p2p2x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap().send(alice).unwrap();
    let y = p2p2x.add(&p2p2x).unwrap();
    assert_eq!(bob.object_count().unwrap(), 2, "bob holds x and the sum");
    assert_eq!(alice.object_count().unwrap(), 2, "alice holds two pointers");
    let inner = y.get().unwrap();
    assert_eq!(inner.get().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 1));
    let x = p2p2x.get().unwrap().get().unwrap();
    assert_eq!(x.data(), &[1., 2., 3., 4., 5.]);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));

    // x = x.move(alice): bob sends the data to alice directly
    let x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 0));
    let x = x.move_to(alice).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 1));
    assert_eq!(x.location(), "alice");
    assert_eq!(x.get().unwrap().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(alice.object_count().unwrap(), 0);

    // Dropping a pointer chain deletes along it, worker to worker.
    let chain = t(&[1.]).send(bob).unwrap().send(alice).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 1));
    drop(chain);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));

    // A pointer on bob to bob's own object: an operation on it is forwarded to bob
    // itself while bob serves it.
    let p = t(&[1., 2.]).send(bob).unwrap().send(bob).unwrap();
    let y = p.add(&p).unwrap();
    let inner = y.get().unwrap();
    assert_eq!(inner.location(), "bob");
    assert_eq!(inner.get().unwrap().data(), &[2., 4.]);
    drop(p);
    assert_eq!(bob.object_count().unwrap(), 0);

    // Five hops back and forth: bob -> alice -> bob -> bob -> alice.
    // A chain built in a loop has no fixed type: the untyped pointer says at `get` what
    // came back.
    let mut p = t(&[3.]).send(bob).unwrap().into_untyped();
    for w in [alice, bob, bob, alice] {
        p = p.send(w).unwrap();
    }
    let mut y = p.add(&p).unwrap();
    for _ in 0..4 {
        y = y.get().unwrap().into_pointer().unwrap();
    }
    assert_eq!(y.get().unwrap().into_tensor().unwrap().data(), &[6.]);
    drop(p);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));
}

/// Part 12's toy network with its deterministic initial weights.
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

fn toy_data() -> (Tensor<f64>, Tensor<f64>) {
    let data = Tensor::new(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.]).unwrap();
    let target = Tensor::new(&[4, 1], vec![0., 0., 1., 1.]).unwrap();
    (data, target)
}

fn plain_losses(iterations: usize) -> Vec<f64> {
    let cpu = Cpu::<f64>::default();
    let model = toy_model(&cpu);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1));
    let (data, target) = toy_data();
    let (x, y) = (Var::constant(&cpu, data), Var::constant(&cpu, target));
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

fn encrypted_losses(transport: Transport, precision: u32, iterations: usize) -> Vec<f64> {
    // alice, bob, james = VirtualWorker(...)
    let workers = start(&["alice", "bob", "james"], transport);
    let (alice, bob, james) =
        (workers.get("alice").unwrap(), workers.get("bob").unwrap(), workers.get("james").unwrap());
    let enc = FixedEncoder::new(10, precision).unwrap();

    // data = data.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    let (data, target) = toy_data();
    let data = data.fix_precision_with(enc).unwrap().share_requires_grad(&[bob, alice], james).unwrap();
    let target = target.fix_precision_with(enc).unwrap().share_requires_grad(&[bob, alice], james).unwrap();
    // model = model.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    let model = toy_model(&Cpu::<f32>::default()).fix_precision_with(enc).share(&[bob, alice], james).unwrap();

    // print(data): an additive sharing whose shares live on bob and alice
    let shown = format!("{:?}", data.value());
    assert!(shown.contains("AdditiveSharingTensor") && shown.contains("@bob") && shown.contains("@alice"), "{shown}");
    assert!(data.requires_grad());
    for w in [bob, alice] {
        // data, target, and 4 parameters
        assert_eq!(w.object_count().unwrap(), 6);
    }
    assert_eq!(james.object_count().unwrap(), 0, "the crypto provider holds no shares");

    // opt = optim.SGD(params=model.parameters(), lr=0.1)
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1));
    let mut losses = Vec::new();
    for _ in 0..iterations {
        opt.zero_grad();
        let pred = model.forward(&data).unwrap();
        let loss = pred.sub(&target).unwrap().square().unwrap().sum().unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        // print(loss.get().float_precision())
        losses.push(loss.get().unwrap().float_precision().item().unwrap());
    }
    // The model owner decrypts the trained model.
    drop(opt);
    let plain = model.get().unwrap();
    assert_eq!(plain.num_parameters(), 9);
    drop((data, target));
    for w in [bob, alice, james] {
        assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
    }
    losses
}

fn part12_encrypted_training_on_encrypted_data(transport: Transport) {
    let p3 = encrypted_losses(transport, 3, 20);
    assert_eq!(p3.len(), 20);
    assert!(p3[19] < p3[0] / 10.0, "the loss decreases: {p3:?}");
    let p4 = encrypted_losses(transport, 4, 20);
    let plain = plain_losses(20);
    for (i, (e, p)) in p4.iter().zip(&plain).enumerate() {
        assert!((e - p).abs() <= (0.02 * p.abs()).max(0.005), "iteration {i}: encrypted {e} vs plaintext {p}");
    }
}

fn part11_encrypted_classification(transport: Transport) {
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
    let workers = start(&["bob", "alice", "crypto_provider"], transport);
    let (bob, alice, crypto_provider) =
        (workers.get("bob").unwrap(), workers.get("alice").unwrap(), workers.get("crypto_provider").unwrap());
    // model.fix_precision().share(alice, bob, crypto_provider=crypto_provider)
    let model = model.fix_precision().share(&[bob, alice], crypto_provider).unwrap();
    let mut correct: Option<SharedTensor> = None;
    let mut agreeing: Option<SharedTensor> = None;
    for b in (0..n).step_by(50) {
        // data.fix_precision().share(...), target.share(...)
        let data = images.slice_axis(0, b, b + 50).unwrap().fix_precision().unwrap();
        let data = data.share(&[bob, alice], crypto_provider).unwrap();
        let target =
            Tensor::<u64>::one_hot(&labels[b..b + 50], 10).unwrap().share(&[bob, alice], crypto_provider).unwrap();
        // output = model(data); pred = output.argmax(dim=1); correct += pred.eq(target).sum()
        let pred = model.infer(&data).unwrap().argmax_one_hot(1).unwrap();
        let hits = pred.mul(&target).unwrap().sum().unwrap();
        let plain = Tensor::<u64>::one_hot(&plain_pred.data()[b..b + 50], 10).unwrap();
        let agree = pred.mul_public_raw(&plain).unwrap().sum().unwrap();
        correct = Some(match correct {
            None => hits,
            Some(c) => c.add(&hits).unwrap(),
        });
        agreeing = Some(match agreeing {
            None => agree,
            Some(c) => c.add(&agree).unwrap(),
        });
    }
    // Only the two counts are decrypted.
    let score = correct.unwrap().get().unwrap().into_raw().item().unwrap();
    let agree = agreeing.unwrap().get().unwrap().into_raw().item().unwrap();
    let plain_correct = plain_pred.data().iter().zip(labels).filter(|(p, l)| p == l).count() as u64;
    assert!(agree >= 99, "secure and plaintext predictions agree on {agree}/100");
    assert!(score.abs_diff(plain_correct) <= 1, "encrypted score {score}, plaintext {plain_correct}");
    assert!(score >= 80, "a trained model classifies most digits: {score}/100");
}

type Part = (&'static str, fn(Transport));

const PARTS: [Part; 4] = [
    ("part1_basic_tools", part1_basic_tools),
    ("part3_pointer_chains_and_move", part3_pointer_chains_and_move),
    ("part11_encrypted_classification", part11_encrypted_classification),
    ("part12_encrypted_training_on_encrypted_data", part12_encrypted_training_on_encrypted_data),
];

fn main() {
    serve_if_requested();
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let (mut passed, mut failed) = (0, 0);
    for transport in [Transport::InProcess, Transport::Tcp] {
        for (name, part) in PARTS {
            let full = format!("{name} [{transport}]");
            if !filter.is_empty() && !filter.iter().any(|f| full.contains(f.as_str())) {
                continue;
            }
            let outcome = std::panic::catch_unwind(|| part(transport));
            println!("test {full} ... {}", if outcome.is_ok() { "ok" } else { "FAILED" });
            if outcome.is_ok() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    println!("tutorials: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
