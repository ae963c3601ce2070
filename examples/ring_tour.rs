//! A tour of `syft-ring`: exact arithmetic modulo 2^64, tensors, the wrapping-u64 GEMM
//! and AES-CTR PRG streams, with a quick throughput measurement of each.
//!
//! `cargo run --release --example ring_tour [-- --json]`

use std::time::Instant;
use syft::prelude::*;
use syft::ring::gemm::{KernelPath, MatRef, Parallelism, gemm_u64};
use syft::ring::{from_signed, signed};

fn gmacs(m: usize, k: usize, n: usize, par: Parallelism, reps: usize) -> f64 {
    let mut prg = Prg::new(&Seed::from_u64(1));
    let a: Tensor<u64> = prg.ring_tensor(&[m, k]);
    let b: Tensor<u64> = prg.ring_tensor(&[k, n]);
    let mut c = vec![0u64; m * n];
    let (av, bv) = (MatRef::row_major(a.data(), m, k), MatRef::row_major(b.data(), k, n));
    gemm_u64(&mut c, av, bv, false, par);
    let t = Instant::now();
    for _ in 0..reps {
        gemm_u64(&mut c, av, bv, false, par);
    }
    (m * k * n * reps) as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn prg_gbps() -> f64 {
    let mut prg = Prg::new(&Seed::from_u64(2));
    let mut buf = vec![0u64; 1 << 20];
    prg.fill_u64(&mut buf);
    let reps = 50;
    let t = Instant::now();
    for _ in 0..reps {
        prg.fill_u64(&mut buf);
    }
    (buf.len() * 8 * reps) as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let json = std::env::args().any(|a| a == "--json");

    // Z_2^64 wraps; signed decoding reads two's complement.
    let minus_three = from_signed(-3);
    let product = minus_three.wrapping_mul(from_signed(7));
    // A product of random matrices equals the sum of products of its additive pieces:
    // the linearity every secret-sharing protocol relies on.
    let mut prg = Prg::new(&Seed::from_entropy()?);
    let x: Tensor<u64> = prg.ring_tensor(&[64, 784]);
    let w: Tensor<u64> = prg.ring_tensor(&[784, 500]);
    let x0: Tensor<u64> = prg.ring_tensor(&[64, 784]);
    let x1 = x.sub(&x0)?;
    let linear = x0.matmul(&w)?.add(&x1.matmul(&w)?)? == x.matmul(&w)?;

    let single = gmacs(64, 784, 500, Parallelism::Single, 20);
    let multi = gmacs(64, 784, 500, Parallelism::Auto, 20);
    let prg_rate = prg_gbps();
    let path = format!("{:?}", KernelPath::detect());

    if json {
        println!(
            "{}",
            serde_json::json!({
                "signed_product": signed(product),
                "linearity_holds": linear,
                "kernel_path": path,
                "gemm_u64_gmacs_single": single,
                "gemm_u64_gmacs_multi": multi,
                "prg_gbytes_per_s": prg_rate,
            })
        );
    } else {
        println!("(-3) * 7 in Z_2^64 decodes to {}", signed(product));
        println!("x·W == x0·W + x1·W for a random split x = x0 + x1: {linear}");
        println!(
            "u64 GEMM (64x784)·(784x500), {path} kernel: {single:.1} G multiply-adds/s on one thread, {multi:.1} multi-threaded"
        );
        println!("AES-CTR PRG fill: {prg_rate:.1} GB/s");
    }
    if !linear {
        return Err("linearity check failed".into());
    }
    Ok(())
}
