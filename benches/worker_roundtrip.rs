//! Round trip of a 1,000 × 1,000 `f32` tensor (4 MB) through a [`VirtualWorker`]:
//! `x.send(&bob)` then `ptr.get()`. Every request and answer is postcard bytes crossing a
//! thread boundary, exactly as with a network worker minus the socket. Throughput counts
//! the bytes sent and received (2 × 4 MB), so criterion prints GB/s; PySyft 0.2 managed
//! about 0.4 GB/s on the same round trip.
//!
//! The `parts` group times the pieces of that path on their own (tensor copy, the
//! little-endian payload both ways, postcard encoding and decoding of the `Store`
//! request), to show where the time goes.
//!
//! Run with `cargo bench -p syft-benches --bench worker_roundtrip`.

#![allow(clippy::expect_used, reason = "benchmark code: a failure should abort the run")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use syft_ring::Tensor;
use syft_worker::message::{decode, encode};
use syft_worker::{Hub, Request, Sendable, Value, VirtualWorker};

const N: usize = 1000;
const BYTES: u64 = 4 * (N * N) as u64;

fn tensor() -> Tensor<f32> {
    #[allow(clippy::cast_precision_loss, reason = "indices below 2^24 are exact in f32")]
    Tensor::from_fn(&[N, N], |i| (i[0] * N + i[1]) as f32 * 1e-3)
}

fn roundtrip(c: &mut Criterion) {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").expect("worker");
    let x = tensor();

    let mut group = c.benchmark_group("worker_roundtrip");
    group
        .throughput(Throughput::Bytes(2 * BYTES))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("send_get_f32_1000x1000", |b| {
        b.iter(|| {
            let ptr = x.send(&bob).expect("send");
            black_box(ptr.get().expect("get"))
        });
    });
    group.finish();
}

fn parts(c: &mut Criterion) {
    let x = tensor();
    let request = Request::Store { id: 1, value: Value::float(x.clone()) };
    let bytes = encode(&request).expect("encode");
    let payload = x.to_le_bytes();

    let mut group = c.benchmark_group("worker_roundtrip_parts");
    group
        .throughput(Throughput::Bytes(BYTES))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("tensor_clone", |b| b.iter(|| black_box(x.clone())));
    group.bench_function("to_le_bytes", |b| b.iter(|| black_box(x.to_le_bytes())));
    group.bench_function("from_le_bytes", |b| {
        b.iter(|| black_box(Tensor::<f32>::from_le_bytes(&[N, N], &payload).expect("decode")));
    });
    group.bench_function("encode_store_request", |b| b.iter(|| black_box(encode(&request).expect("encode"))));
    group.bench_function("decode_store_request", |b| {
        b.iter(|| black_box(decode::<Request>(&bytes).expect("decode")));
    });
    group.finish();
}

criterion_group!(benches, roundtrip, parts);
criterion_main!(benches);
