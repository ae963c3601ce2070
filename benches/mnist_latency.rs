//! Encrypted inference latency of the tutorial's MLP 784-500-10 (Part 11), end to end
//! through the workers: the client shares one batch of images, the workers run
//! `linear → ReLU → linear → argmax` under encryption (SPDZ products with the weights opened
//! once and reused, SecureNN ReLU and argmax), and the shares of every intermediate are
//! deleted again, as in `examples/secure_mnist.rs`.
//!
//! Benchmarks (`mnist_mlp`):
//!
//! - `batch_1`: one image per inference (latency: every request, hand-off and round is
//!   paid per image);
//! - `batch_50`: fifty images per inference (throughput; criterion reports images/s).
//!
//! The workers are in-process ([`VirtualWorker`]s, one thread each: `bob`, `alice`, and
//! `crypto_provider`). The weights are random fixed-point values of the trained model's
//! magnitude; the numbers do not depend on them. Run with
//! `cargo bench -p syft-benches --bench mnist_latency`.

#![allow(clippy::expect_used, reason = "benchmark setup fails loudly")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use syft_autograd::ops::{ActivationOps, MatmulOps};
use syft_fixed::FixedEncoder;
use syft_ring::{Prg, Seed, Tensor};
use syft_worker::{Hub, MpcSession, SharedBackend, SharedTensor, VirtualWorker, Worker};

/// The shared MLP: weights `[out, in]` and biases `[out]` of both layers.
struct Mlp {
    backend: SharedBackend,
    layers: Vec<(SharedTensor, SharedTensor)>,
}

/// A float tensor of `shape` with values uniform in `[-scale, scale)`.
fn uniform(prg: &mut Prg, shape: &[usize], scale: f64) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    #[allow(clippy::cast_precision_loss, reason = "53-bit values are exact in f64")]
    let values = (0..n).map(|_| ((prg.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale).collect();
    Tensor::new(shape, values).expect("shape")
}

impl Mlp {
    /// Shares a random 784-500-10 MLP among `bob` and `alice`, weights marked reusable.
    fn new(session: &Arc<MpcSession>, prg: &mut Prg) -> Self {
        let backend = SharedBackend::new(session.clone(), FixedEncoder::new(10, 3).expect("encoder"));
        let layers = [(784, 500), (500, 10)]
            .into_iter()
            .map(|(inputs, outputs)| {
                let w = backend.share(&uniform(prg, &[outputs, inputs], 0.05)).expect("share weight");
                let b = backend.share(&uniform(prg, &[outputs], 0.05)).expect("share bias");
                w.mark_reusable();
                b.mark_reusable();
                (w, b)
            })
            .collect();
        Self { backend, layers }
    }

    /// Shares `x` (`[batch, 784]`) and returns the shared one-hot of each image's class.
    fn classify(&self, x: &Tensor<f64>) -> SharedTensor {
        let b = &self.backend;
        let mut h = b.share(x).expect("share input");
        for (i, (w, bias)) in self.layers.iter().enumerate() {
            h = b.linear(&h, w, Some(bias)).expect("linear");
            if i + 1 < self.layers.len() {
                h = b.relu_with_mask(&h).expect("relu").0;
            }
        }
        h.argmax_one_hot(1).expect("argmax")
    }
}

fn mnist_mlp(c: &mut Criterion) {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").expect("bob");
    let alice = VirtualWorker::new(&hub, "alice").expect("alice");
    let crypto_provider = VirtualWorker::new(&hub, "crypto_provider").expect("crypto provider");
    let session = MpcSession::new(&[&bob as &dyn Worker, &alice], &crypto_provider).expect("session");
    let mut prg = Prg::stream(&Seed::from_u64(7), 0, 0);
    let mlp = Mlp::new(&session, &mut prg);

    let mut group = c.benchmark_group("mnist_mlp");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    for batch in [1usize, 50] {
        let x = uniform(&mut prg, &[batch, 784], 1.0);
        // The first product opens the weights; later ones reuse the openings.
        drop(mlp.classify(&x));
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch_{batch}"), |bench| {
            bench.iter(|| drop(black_box(mlp.classify(&x))));
        });
    }
    group.finish();
}

criterion_group!(benches, mnist_mlp);
criterion_main!(benches);
