//! Matrix-multiplication throughput: the wrapping-`u64` GEMM (Z_2^64) against the `gemm`
//! crate's `f64` GEMM, on the shapes of an MNIST-sized dense layer.
//!
//! Throughput is reported in elements = multiply-adds (`m·k·n`), so criterion's `Melem/s` is
//! millions of multiply-adds per second. Run with `cargo bench -p benches --bench ring_matmul`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::gemm::{MatRef, Parallelism, gemm_float, gemm_u64};

/// `(m, k, n)`: a batch of `m` flattened 28×28 images times a 784 × 500 weight matrix.
const SHAPES: [(usize, usize, usize); 2] = [(64, 784, 500), (50, 784, 500)];

/// Deterministic full-range `u64`s (splitmix64).
fn words(len: usize, seed: u64) -> Vec<u64> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
        .collect()
}

/// Deterministic floats in `[-1, 1)`.
fn floats(len: usize, seed: u64) -> Vec<f64> {
    #[allow(clippy::cast_precision_loss, reason = "53-bit values are exact in f64")]
    let to_unit = |w: u64| (w >> 11) as f64 / (1u64 << 53) as f64;
    words(len, seed).into_iter().map(|w| 2.0 * to_unit(w) - 1.0).collect()
}

fn ring_matmul(c: &mut Criterion) {
    for (m, k, n) in SHAPES {
        let mut group = c.benchmark_group(format!("matmul_{m}x{k}x{n}"));
        group
            .throughput(Throughput::Elements((m * k * n) as u64))
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));

        let (a, b) = (words(m * k, 1), words(k * n, 2));
        let mut out = vec![0u64; m * n];
        for (name, par) in [("u64_single", Parallelism::Single), ("u64_multi", Parallelism::Auto)] {
            group.bench_function(name, |bench| {
                bench.iter(|| {
                    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
                    gemm_u64(&mut out, black_box(a), black_box(b), false, par);
                    black_box(&mut out);
                });
            });
        }

        let (af, bf) = (floats(m * k, 3), floats(k * n, 4));
        let mut outf = vec![0f64; m * n];
        for (name, par) in [("f64_single", Parallelism::Single), ("f64_multi", Parallelism::Auto)] {
            group.bench_function(name, |bench| {
                bench.iter(|| {
                    let (a, b) = (MatRef::row_major(&af, m, k), MatRef::row_major(&bf, k, n));
                    gemm_float(&mut outf, black_box(a), black_box(b), false, par);
                    black_box(&mut outf);
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, ring_matmul);
criterion_main!(benches);
