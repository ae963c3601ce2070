//! Packing and unpacking PrivateCompare's digits of `Z_67` (ten to a word, five per
//! 32-bit half; `syft_ring::digits`) on every path this CPU runs: one message of a ReLU
//! over the tutorial's 50×500 hidden layer at 32 bits, 800,000 digits, on one thread.

#![allow(clippy::expect_used, reason = "benchmark code: a failure aborts the bench")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use syft_ring::digits::{DIGITS_PER_WORD, pack_z67_with_path, packed_len, unpack_z67_with_path};
use syft_ring::gemm::KernelPath;
use syft_ring::{Prg, Seed, Z67};

const DIGITS: usize = 50 * 500 * 32;

fn bench(c: &mut Criterion) {
    let mut prg = Prg::new(&Seed::from_u64(7));
    let digits: Vec<Z67> = (0..DIGITS).map(|_| Z67::new(prg.next_u64())).collect();
    let mut packed = vec![0u8; packed_len(DIGITS)];
    let mut back = vec![Z67::new(0); packed.len() / 8 * DIGITS_PER_WORD];
    let mut g = c.benchmark_group("z67_digits_800k");
    g.throughput(Throughput::Elements(DIGITS as u64));
    for path in [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Portable] {
        if !path.available() {
            continue;
        }
        g.bench_function(format!("pack_{}", path.name()), |b| {
            b.iter(|| pack_z67_with_path(path, black_box(&digits), &mut packed).expect("lengths"));
        });
        g.bench_function(format!("unpack_{}", path.name()), |b| {
            b.iter(|| black_box(unpack_z67_with_path(path, black_box(&packed), &mut back).expect("lengths")));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
