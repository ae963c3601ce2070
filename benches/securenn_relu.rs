//! SecureNN on the tutorial's MNIST shapes, two computing parties and the helper on three
//! threads over in-memory channels: ReLU on the 50×500 hidden layer (fast and paper
//! profiles, at the full 64-bit width and at the 32 bits the workers use for fixed-point
//! values), ReLU on one image's 500 hidden units, and argmax over 10 classes for a batch
//! of 50. Each iteration is a whole
//! session: seeds from the helper, `k_01` from party 0, then the protocol.

#![allow(clippy::expect_used, reason = "benchmark code: a failure aborts the bench")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Config, Helper, SnnParty, Width};
use syft_share::{AdditiveShares, Comm, run_parties_with};
use syft_spdz::{Dealer, DealerLink, Party, distribute_seeds};

const BATCH: usize = 50;
const HIDDEN: usize = 500;
const CLASSES: usize = 10;

/// Runs one session: `party` at endpoints 0 and 1 on their shares, `helper` at endpoint 2.
fn session<P, H>(config: Config, width: Width, shares: &[Tensor<u64>], party: P, helper: H) -> Vec<Option<Tensor<u64>>>
where
    P: Fn(&mut SnnParty<'_>, &Tensor<u64>) -> syft_securenn::Result<Tensor<u64>> + Sync,
    H: Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync,
{
    let inputs = vec![Some(shares[0].clone()), Some(shares[1].clone()), None];
    run_parties_with(inputs, |comm, input| match input {
        None => {
            let mut dealer = Dealer::new(2).expect("dealer");
            distribute_seeds(comm, &mut dealer, &[0, 1]).expect("seeds");
            let mut h = Helper::new(comm, &mut dealer, [0, 1], config).expect("helper");
            h.set_width(width);
            helper(&mut h).expect("helper side");
            None
        }
        Some(x) => {
            let me = comm.id();
            let mut link = DealerLink::connect(comm, 2, me, 2).expect("link");
            let spdz = Party::new(comm, &mut link, vec![0, 1]).expect("party");
            let mut p = SnnParty::start(spdz, 2, config).expect("session");
            p.set_width(width);
            Some(party(&mut p, &x).expect("party side"))
        }
    })
    .expect("parties")
}

fn bench(c: &mut Criterion) {
    let mut prg = Prg::new(&Seed::from_u64(1));
    // Fixed-point activations at scale 10^3, |v| < 32.
    let hidden = prg.u64_tensor(&[BATCH, HIDDEN]).map(|w| (w >> 48).wrapping_sub(1 << 15));
    let logits = prg.u64_tensor(&[BATCH, CLASSES]).map(|w| (w >> 48).wrapping_sub(1 << 15));
    let hidden_shares = AdditiveShares::split(&hidden, 2, &mut prg).expect("split").into_shares();
    let logit_shares = AdditiveShares::split(&logits, 2, &mut prg).expect("split").into_shares();

    let mut g = c.benchmark_group("securenn_mnist");
    g.measurement_time(Duration::from_secs(3)).sample_size(15);
    g.throughput(Throughput::Elements((BATCH * HIDDEN) as u64));
    let full = Width::FULL;
    let k32 = Width::FIXED_POINT;
    for (name, config, width) in [
        ("relu_50x500_fast", Config::fast(), full),
        ("relu_50x500_fast_k32", Config::fast(), k32),
        ("relu_50x500_paper", Config::paper(), full),
        ("relu_50x500_paper_k32", Config::paper(), k32),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(session(
                    config,
                    width,
                    &hidden_shares,
                    |p, x| Ok(p.relu(x)?.value),
                    |h| h.relu(&[BATCH, HIDDEN]),
                ))
            });
        });
    }
    // One image's hidden layer: the batch-1 latency of a ReLU.
    let one = hidden.slice_axis(0, 0, 1).expect("one row");
    let one_shares = AdditiveShares::split(&one, 2, &mut prg).expect("split").into_shares();
    g.throughput(Throughput::Elements(HIDDEN as u64));
    g.bench_function("relu_1x500_fast_k32", |b| {
        b.iter(|| {
            black_box(session(Config::fast(), k32, &one_shares, |p, x| Ok(p.relu(x)?.value), |h| h.relu(&[1, HIDDEN])))
        });
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, width) in [("argmax_50x10_fast", full), ("argmax_50x10_fast_k32", k32)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(session(
                    Config::fast(),
                    width,
                    &logit_shares,
                    |p, x| Ok(p.argmax(x, 1)?.index),
                    |h| h.argmax(&[BATCH, CLASSES], 1),
                ))
            });
        });
    }
    g.bench_function("session_setup_only", |b| {
        b.iter(|| black_box(session(Config::fast(), full, &logit_shares, |_, x| Ok(x.clone()), |_| Ok(()))));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
