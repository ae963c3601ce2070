//! Matrix-multiplication throughput: the wrapping-`u64` GEMM (Z_2^64), on every kernel path
//! this CPU can run, against `f64` GEMM through the `gemm` crate, on the shapes of an
//! MNIST-sized dense layer.
//!
//! Benchmarks, per shape (`matmul_{m}x{k}x{n}`):
//!
//! - `u64_single` / `u64_multi`: the path programs use on this CPU (`KernelPath::selected`:
//!   the best the CPU has, or the one `SYFT_GEMM_KERNEL` forces).
//! - `u64_{path}_single` / `u64_{path}_multi`: `gemm_u64_with_path` forced to `avx512`,
//!   `avx2` and `portable` (those the CPU supports; `portable` one thread only), on one
//!   thread / on rayon's pool. So one run on an AVX-512 machine also measures the AVX2 path.
//! - `f64_single` / `f64_multi`: `gemm_float` (the `gemm` crate, which uses AVX-512 when the
//!   CPU has it).
//! - `f64_avx2_single` (x86-64 with AVX2 + FMA): the `gemm` crate's AVX2 + FMA kernels,
//!   called through its generic driver, the comparison for the AVX2 `u64` path.
//!
//! - `linear_{m}x{k}x{n}` (`m` = 1 and 4): `x · Wᵀ` for a row-major `n × k` weight `W`, the
//!   product of a linear layer at batch 1 to 4 (`wt_{path}`: the dot-product path, `W`
//!   streamed once per product) beside the same product with a `k × n` row-major `B`
//!   (`b_{path}`: the blocked kernel), one thread; and the same two in `f64` (`f64_wt`,
//!   `f64_b` through `gemm_float`, `f64_avx2_b` through the `gemm` crate's AVX2 kernels).
//!   These products read the whole weight (3.1 MB in `u64` or `f64`) for few multiply-adds
//!   each, so they are bound by memory bandwidth.
//!
//! Throughput is reported in elements = multiply-adds (`m·k·n`), so criterion's `Gelem/s` is
//! billions of multiply-adds per second. Run with
//! `cargo bench -p syft-benches --bench ring_matmul`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::gemm::{KernelPath, MatRef, Parallelism, gemm_float, gemm_u64_with_path};

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

/// `c = a · b` for row-major `f64` operands with the `gemm` crate's AVX2 + FMA (x86-v3)
/// kernels on one thread, whatever the CPU; `None` if it lacks AVX2 or FMA.
#[cfg(target_arch = "x86_64")]
fn gemm_f64_avx2(c: &mut [f64], a: &[f64], b: &[f64], (m, k, n): (usize, usize, usize)) -> Option<()> {
    use gemm_common::simd::{MixedSimd, V3};
    use gemm_f64::microkernel::fma::f64::{H_M, H_N, H_UKR, MR_DIV_N, NR, UKR};
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n, "gemm_f64_avx2: bad shapes");
    let simd = <V3 as MixedSimd<f64, f64, f64, f64>>::try_new()?;
    let (k_s, n_s) = (isize::try_from(k).ok()?, isize::try_from(n).ok()?);
    // SAFETY: `V3::try_new` succeeded, so the CPU has the features of the FMA kernels. The
    // pointers and strides describe row-major `m × k`, `k × n` and `m × n` matrices lying
    // inside `a`, `b` and `c` (lengths asserted above); `c` is exclusively borrowed and
    // `read_dst = false` (dst = 1·a·b, alpha ignored). The const parameters are those
    // `gemm-f64` instantiates the driver with for its FMA kernels (N = 4 lanes,
    // MR = MR_DIV_N·N), and the closure is its scalar multiply-add.
    unsafe {
        gemm_common::gemm::gemm_basic_generic::<V3, f64, 4, { MR_DIV_N * 4 }, NR, MR_DIV_N, H_M, H_N>(
            simd,
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n_s,
            false,
            a.as_ptr(),
            1,
            k_s,
            b.as_ptr(),
            1,
            n_s,
            0.0,
            1.0,
            false,
            false,
            false,
            |x, y, z| x * y + z,
            &UKR,
            &H_UKR,
            false,
            gemm_common::Parallelism::None,
        );
    }
    Some(())
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
        for (threads, par) in [("single", Parallelism::Single), ("multi", Parallelism::Auto)] {
            let path = KernelPath::selected();
            group.bench_function(format!("u64_{threads}"), |bench| {
                bench.iter(|| {
                    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
                    gemm_u64_with_path(&mut out, black_box(a), black_box(b), false, par, path);
                    black_box(&mut out);
                });
            });
        }
        for path in [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Portable] {
            if !path.available() {
                continue;
            }
            let pars: &[_] = if path == KernelPath::Portable {
                &[("single", Parallelism::Single)]
            } else {
                &[("single", Parallelism::Single), ("multi", Parallelism::Auto)]
            };
            for &(threads, par) in pars {
                group.bench_function(format!("u64_{}_{threads}", path.name()), |bench| {
                    bench.iter(|| {
                        let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
                        gemm_u64_with_path(&mut out, black_box(a), black_box(b), false, par, path);
                        black_box(&mut out);
                    });
                });
            }
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
        #[cfg(target_arch = "x86_64")]
        if gemm_f64_avx2(&mut outf, &af, &bf, (m, k, n)).is_some() {
            // The same product as `f64_single`, as a check that the call is right.
            let mut want = vec![0f64; m * n];
            let (a, b) = (MatRef::row_major(&af, m, k), MatRef::row_major(&bf, k, n));
            gemm_float(&mut want, a, b, false, Parallelism::Single);
            let close = outf.iter().zip(&want).all(|(x, y)| (x - y).abs() <= 1e-9 * (1.0 + y.abs()));
            assert!(close, "f64_avx2 disagrees with gemm_float");
            group.bench_function("f64_avx2_single", |bench| {
                bench.iter(|| gemm_f64_avx2(black_box(&mut outf), black_box(&af), black_box(&bf), (m, k, n)));
            });
        }
        group.finish();
    }
}

/// `(m, k, n)`: a linear layer's product `x · Wᵀ` with the 784 × 500 weight at batch 1 and 4.
const LINEAR: [(usize, usize, usize); 2] = [(1, 784, 500), (4, 784, 500)];

fn linear(c: &mut Criterion) {
    for (m, k, n) in LINEAR {
        let mut group = c.benchmark_group(format!("linear_{m}x{k}x{n}"));
        group
            .throughput(Throughput::Elements((m * k * n) as u64))
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        let (x, w) = (words(m * k, 5), words(n * k, 6));
        let mut out = vec![0u64; m * n];
        for path in [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Portable] {
            if !path.available() {
                continue;
            }
            group.bench_function(format!("wt_{}", path.name()), |bench| {
                bench.iter(|| {
                    let (a, b) = (MatRef::row_major(&x, m, k), MatRef::row_major(&w, n, k).t());
                    gemm_u64_with_path(&mut out, black_box(a), black_box(b), true, Parallelism::Single, path);
                    black_box(&mut out);
                });
            });
            group.bench_function(format!("b_{}", path.name()), |bench| {
                bench.iter(|| {
                    let (a, b) = (MatRef::row_major(&x, m, k), MatRef::row_major(&w, k, n));
                    gemm_u64_with_path(&mut out, black_box(a), black_box(b), true, Parallelism::Single, path);
                    black_box(&mut out);
                });
            });
        }
        let (xf, wf) = (floats(m * k, 7), floats(n * k, 8));
        let mut outf = vec![0f64; m * n];
        group.bench_function("f64_wt", |bench| {
            bench.iter(|| {
                let (a, b) = (MatRef::row_major(&xf, m, k), MatRef::row_major(&wf, n, k).t());
                gemm_float(&mut outf, black_box(a), black_box(b), true, Parallelism::Single);
                black_box(&mut outf);
            });
        });
        group.bench_function("f64_b", |bench| {
            bench.iter(|| {
                let (a, b) = (MatRef::row_major(&xf, m, k), MatRef::row_major(&wf, k, n));
                gemm_float(&mut outf, black_box(a), black_box(b), true, Parallelism::Single);
                black_box(&mut outf);
            });
        });
        #[cfg(target_arch = "x86_64")]
        if gemm_f64_avx2(&mut outf, &xf, &wf, (m, k, n)).is_some() {
            group.bench_function("f64_avx2_b", |bench| {
                bench.iter(|| gemm_f64_avx2(black_box(&mut outf), black_box(&xf), black_box(&wf), (m, k, n)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, ring_matmul, linear);
criterion_main!(benches);
