//! Temporary timing.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
use std::time::Instant;
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Config, Helper, SnnParty};
use syft_share::{AdditiveShares, Comm, run_parties_with};
use syft_spdz::{Dealer, DealerLink, Party, distribute_seeds};

fn session(config: Config, shares: &[Tensor<u64>], reps: usize) -> (f64, [f64; 3]) {
    let inputs = vec![Some(shares[0].clone()), Some(shares[1].clone()), None];
    let out = run_parties_with(inputs, |comm, input| match input {
        None => {
            let mut dealer = Dealer::new(2).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
            let mut h = Helper::new(comm, &mut dealer, [0, 1], config).unwrap();
            let t = Instant::now();
            for _ in 0..reps {
                h.relu(&[50, 500]).unwrap();
            }
            t.elapsed().as_secs_f64()
        }
        Some(x) => {
            let me = comm.id();
            let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
            let spdz = Party::new(comm, &mut link, vec![0, 1]).unwrap();
            let mut p = SnnParty::start(spdz, 2, config).unwrap();
            let t = Instant::now();
            for _ in 0..reps {
                p.relu(&x).unwrap();
            }
            t.elapsed().as_secs_f64()
        }
    })
    .unwrap();
    (out.iter().cloned().fold(0.0, f64::max) / reps as f64, [out[0], out[1], out[2]])
}

#[test]
#[ignore]
fn timing() {
    let mut prg = Prg::new(&Seed::from_u64(1));
    let hidden = prg.u64_tensor(&[50, 500]).map(|w| (w >> 48).wrapping_sub(1 << 15));
    let shares = AdditiveShares::split(&hidden, 2, &mut prg).unwrap().into_shares();
    let configs = if std::env::var("SNN_PAPER").is_ok() { vec![Config::paper()] } else { vec![Config::fast()] };
    for config in configs {
        let t0 = Instant::now();
        let (per, all) = session(config, &shares, 20);
        println!("{config:?}: {:.2} ms per relu ({:?}) total {:?}", per * 1e3, all, t0.elapsed());
    }
}

#[test]
#[ignore]
fn prg_speed() {
    let mut buf = vec![0u64; 1 << 17]; // 1 MiB
    let mut prg = Prg::new(&Seed::from_u64(3));
    let t = Instant::now();
    for _ in 0..100 {
        prg.fill_u64(&mut buf);
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "prg: {:.3} GB/s ({} ns/byte)",
        100.0 * 8.0 * (1 << 17) as f64 / dt / 1e9,
        dt * 1e9 / (100.0 * 8.0 * (1 << 17) as f64)
    );
    let mut small = vec![0u64; 512 * 64];
    let t = Instant::now();
    for _ in 0..400 {
        prg.fill_u64(&mut small);
    }
    let dt = t.elapsed().as_secs_f64();
    println!("prg small: {:.3} GB/s", 400.0 * 8.0 * small.len() as f64 / dt / 1e9);
    let t = Instant::now();
    for _ in 0..400 {
        let mut p = syft_ring::Prg::stream(&Seed::from_u64(3), 5, 6);
        p.fill_u64(&mut small);
    }
    let dt = t.elapsed().as_secs_f64();
    println!("prg small w/ key schedule: {:.3} GB/s", 400.0 * 8.0 * small.len() as f64 / dt / 1e9);
}
