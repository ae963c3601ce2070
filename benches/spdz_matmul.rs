//! Two-party fixed-point matmul (64×784)·(784×500), the first layer of the tutorial's
//! MNIST network: the dealer phase (triple generation) and the online phase (one round of
//! openings, the local products, truncation) timed separately, beside a plaintext `u64`
//! matmul of the same shape.
//!
//! The parties run on long-lived threads, as in a deployment, each a one-thread rayon pool:
//! on a two-core machine each party gets one core, so its products run on one thread like
//! the single-thread plaintext baseline. Both plaintext figures are reported.

#![allow(clippy::expect_used, reason = "benchmark setup fails loudly")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::{Arc, mpsc};
use std::time::Duration;
use syft_ring::{Parallelism, Prg, Seed, Tensor, Transpose};
use syft_share::{AdditiveShares, InMemoryComm, InMemoryNetwork};
use syft_spdz::{Dealer, Party, Preprocessed, Product, Request, preprocess};

const M: usize = 64;
const K: usize = 784;
const N: usize = 500;
const SCALE: u64 = 1000;

/// Long-lived party threads: one single-thread rayon pool per party.
struct PartyThreads(Vec<rayon::ThreadPool>);

impl PartyThreads {
    fn new(parties: usize) -> Self {
        Self(
            (0..parties)
                .map(|i| {
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .thread_name(move |_| format!("party-{i}"))
                        .start_handler(move |_| {
                            // One core per party, so neither waits for the scheduler to
                            // move it off the other's core.
                            if let Some(cores) = core_affinity::get_core_ids()
                                && let Some(&core) = cores.get(i % cores.len())
                            {
                                core_affinity::set_for_current(core);
                            }
                        })
                        .build()
                        .expect("party pool")
                })
                .collect(),
        )
    }

    /// Runs `f` at every party on a fresh in-memory network; returns the outputs in party order.
    fn run<I, O>(&self, inputs: Vec<I>, f: fn(&mut InMemoryComm, I) -> O) -> Vec<O>
    where
        I: Send + 'static,
        O: Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let comms = InMemoryNetwork::new(self.0.len());
        for (i, ((pool, mut comm), input)) in self.0.iter().zip(comms).zip(inputs).enumerate() {
            let tx = tx.clone();
            pool.spawn(move || {
                let out = f(&mut comm, input);
                tx.send((i, out)).expect("collector alive");
            });
        }
        drop(tx);
        let mut outs: Vec<(usize, O)> = rx.iter().collect();
        assert_eq!(outs.len(), self.0.len(), "a party panicked");
        outs.sort_by_key(|(i, _)| *i);
        outs.into_iter().map(|(_, o)| o).collect()
    }
}

type Inputs = (Preprocessed, Tensor<u64>, Tensor<u64>);

/// One fresh fixed-point matmul: both operands opened, then truncated. The input shares
/// are handed back with the output (a party keeps its inputs), so that freeing the
/// benchmark's copies of them is not timed; the dealer material is consumed and freed.
fn online_matmul(comm: &mut InMemoryComm, (mut source, x, w): Inputs) -> (Tensor<u64>, Inputs) {
    let mut party = Party::new(comm, &mut source, vec![0, 1]).expect("party");
    let z = party.matmul(&x, &w).expect("matmul");
    let out = party.truncate_owned(z, SCALE).expect("truncate");
    (out, (source, x, w))
}

/// The operands, their shares and the material plan.
struct Setup {
    x: Tensor<u64>,
    w: Tensor<u64>,
    xs: AdditiveShares<u64>,
    ws: AdditiveShares<u64>,
    plan: [Request; 1],
}

impl Setup {
    fn new() -> Self {
        let mut prg = Prg::new(&Seed::from_u64(1));
        // Fixed-point values of moderate size (|v| < 8 at scale 10^3).
        let x = prg.u64_tensor(&[M, K]).map(|w| (w >> 51).wrapping_sub(1 << 12));
        let w = prg.u64_tensor(&[K, N]).map(|w| (w >> 51).wrapping_sub(1 << 12));
        let xs = AdditiveShares::split(&x, 2, &mut prg).expect("split");
        let ws = AdditiveShares::split(&w, 2, &mut prg).expect("split");
        let product = Product::MatMul { lhs: vec![M, K], rhs: vec![K, N], lhs_t: false, rhs_t: false };
        Self { x, w, xs, ws, plan: [Request::Triple(product)] }
    }

    fn plaintext(&self, par: Parallelism) -> Tensor<u64> {
        self.x.matmul_ex(Transpose::No, &self.w, Transpose::No, par).expect("matmul")
    }

    /// Fresh material and the parties' inputs for one online product.
    fn inputs(&self, dealer: &mut Dealer) -> Vec<Inputs> {
        let (sources, _) = preprocess(dealer, &self.plan).expect("preprocess");
        sources
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, self.xs.shares()[i].clone(), self.ws.shares()[i].clone()))
            .collect()
    }
}

fn bench(c: &mut Criterion) {
    let setup = Setup::new();
    let mut g = c.benchmark_group("spdz_matmul_64x784x500");
    g.measurement_time(Duration::from_secs(4)).sample_size(20);
    g.throughput(Throughput::Elements((M * K * N) as u64));

    g.bench_function("plaintext_u64_matmul_multi_thread", |b| {
        b.iter(|| black_box(setup.plaintext(Parallelism::Auto)));
    });
    g.bench_function("plaintext_u64_matmul_single_thread", |b| {
        b.iter(|| black_box(setup.plaintext(Parallelism::Single)));
    });
    g.bench_function("plaintext_u64_matmul_single_thread_after_dealing", |b| {
        // The same setup as the online benchmark below (material dealt, shares copied)
        // before every product: the plaintext product under the online phase's cache
        // conditions rather than in a hot loop.
        let mut dealer = Dealer::new(2).expect("dealer");
        b.iter_batched(
            || setup.inputs(&mut dealer),
            |inputs| (black_box(setup.plaintext(Parallelism::Single)), inputs),
            criterion::BatchSize::LargeInput,
        );
    });
    g.bench_function("plaintext_u64_matmul_one_per_core_concurrently", |b| {
        // The plaintext product on each party thread at once: one core's speed while the
        // other core is busy too, as in the online phase.
        let threads = PartyThreads::new(2);
        let shared = Arc::new((setup.x.clone(), setup.w.clone()));
        b.iter(|| {
            black_box(threads.run(vec![Arc::clone(&shared), Arc::clone(&shared)], |_, xw| {
                xw.0.matmul_ex(Transpose::No, &xw.1, Transpose::No, Parallelism::Single).expect("matmul")
            }))
        });
    });
    g.bench_function("dealer_phase", |b| {
        let mut dealer = Dealer::new(2).expect("dealer");
        b.iter(|| black_box(preprocess(&mut dealer, &setup.plan).expect("preprocess")));
    });
    g.bench_function("online_phase_two_parties", |b| {
        let mut dealer = Dealer::new(2).expect("dealer");
        let threads = PartyThreads::new(2);
        b.iter_batched(
            || setup.inputs(&mut dealer),
            |inputs| black_box(threads.run(inputs, online_matmul)),
            criterion::BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench);

criterion_main!(benches);
