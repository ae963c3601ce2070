//! Two-party fixed-point matmul (64×784)·(784×500), the first layer of the tutorial's
//! MNIST network: the dealer phase (triple generation) and the online phase (one round of
//! openings, the local products, truncation) timed separately, beside a plaintext `u64`
//! matmul of the same shape.

#![allow(clippy::expect_used, reason = "benchmark setup fails loudly")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::{Parallelism, Prg, Seed, Transpose};
use syft_share::{AdditiveShares, run_parties_with};
use syft_spdz::{Dealer, Party, Product, Request, preprocess};

const M: usize = 64;
const K: usize = 784;
const N: usize = 500;
const SCALE: u64 = 1000;

fn bench(c: &mut Criterion) {
    let mut prg = Prg::new(&Seed::from_u64(1));
    // Fixed-point values of moderate size (|v| < 8 at scale 10^3).
    let x = prg.u64_tensor(&[M, K]).map(|w| (w >> 51).wrapping_sub(1 << 12));
    let w = prg.u64_tensor(&[K, N]).map(|w| (w >> 51).wrapping_sub(1 << 12));
    let xs = AdditiveShares::split(&x, 2, &mut prg).expect("split");
    let ws = AdditiveShares::split(&w, 2, &mut prg).expect("split");
    let product = Product::MatMul { lhs: vec![M, K], rhs: vec![K, N], lhs_t: false, rhs_t: false };
    let plan = [Request::Triple(product)];

    let mut g = c.benchmark_group("spdz_matmul_64x784x500");
    g.measurement_time(Duration::from_secs(4)).sample_size(20);
    g.throughput(Throughput::Elements((M * K * N) as u64));

    g.bench_function("plaintext_u64_matmul_multi_thread", |b| {
        b.iter(|| black_box(x.matmul_ex(Transpose::No, &w, Transpose::No, Parallelism::Auto).expect("matmul")));
    });
    g.bench_function("plaintext_u64_matmul_single_thread", |b| {
        b.iter(|| black_box(x.matmul_ex(Transpose::No, &w, Transpose::No, Parallelism::Single).expect("matmul")));
    });
    g.bench_function("dealer_phase", |b| {
        let mut dealer = Dealer::new(2).expect("dealer");
        b.iter(|| black_box(preprocess(&mut dealer, &plan).expect("preprocess")));
    });
    g.bench_function("online_phase_two_parties", |b| {
        let mut dealer = Dealer::new(2).expect("dealer");
        b.iter_batched(
            || {
                let (sources, _) = preprocess(&mut dealer, &plan).expect("preprocess");
                sources
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (s, xs.shares()[i].clone(), ws.shares()[i].clone()))
                    .collect::<Vec<_>>()
            },
            |inputs| {
                let outs = run_parties_with(inputs, |comm, (mut source, x, w)| {
                    let mut party = Party::new(comm, &mut source, vec![0, 1]).expect("party");
                    let z = party.matmul(&x, &w).expect("matmul");
                    party.truncate(&z, SCALE).expect("truncate")
                })
                .expect("parties");
                black_box(outs)
            },
            criterion::BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
