//! PRG fill rate: AES-128-CTR keystream into `u64` ring tensors.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::{Prg, Seed};

fn prg_fill(c: &mut Criterion) {
    let mut g = c.benchmark_group("prg_fill");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    for &n in &[1usize << 12, 1 << 20] {
        let mut buf = vec![0u64; n];
        g.throughput(Throughput::Bytes((n * 8) as u64));
        g.bench_function(format!("u64x{n}"), |b| {
            let mut prg = Prg::new(&Seed::from_u64(1));
            b.iter(|| {
                prg.fill_u64(&mut buf);
                black_box(&buf);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, prg_fill);
criterion_main!(benches);
