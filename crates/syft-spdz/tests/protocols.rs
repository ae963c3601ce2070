//! SPDZ protocols against plaintext: exact ring results, fixed-point results within the
//! truncation bound, and communication counters against the formulas.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]
#![allow(clippy::cast_possible_wrap, reason = "signed views of ring elements")]

use proptest::prelude::*;
use syft_ring::{Conv2dParams, Prg, Seed, Tensor, from_signed, signed};
use syft_share::{AdditiveShares, Comm, CommCounters, run_parties_with};
use syft_spdz::{
    Dealer, DealerLink, DealerStats, Party, Product, Request, SignedFloorDiv, TripleSource, distribute_seeds,
    floor_div_signed, preprocess, serve_request,
};

/// What each endpoint returns: its output share (computing parties) and its counters.
struct Outcome {
    out: Option<Tensor<u64>>,
    counters: CommCounters,
    rounds: u64,
}

/// Runs `f` at `n` computing parties (endpoints 0..n) with a dealer at endpoint n that
/// serves `plan` on demand. Inputs are shared from `secrets`.
fn run_online<F>(
    n: usize,
    seed: u64,
    secrets: &[Tensor<u64>],
    plan: &[Request],
    f: F,
) -> (Tensor<u64>, Vec<Outcome>, DealerStats)
where
    F: Fn(&mut Party<'_>, &[Tensor<u64>]) -> syft_spdz::Result<Tensor<u64>> + Sync,
{
    let mut prg = Prg::new(&Seed::from_u64(seed));
    let shared: Vec<AdditiveShares<u64>> =
        secrets.iter().map(|s| AdditiveShares::split(s, n, &mut prg).unwrap()).collect();
    let mut inputs: Vec<Option<Vec<Tensor<u64>>>> =
        (0..n).map(|i| Some(shared.iter().map(|s| s.shares()[i].clone()).collect())).collect();
    inputs.push(None);
    let seeds: Vec<Seed> = (0..n).map(|i| Seed::from_u64(seed ^ (1000 + i as u64))).collect();
    let dealer_stats = std::sync::Mutex::new(DealerStats::default());
    let results = run_parties_with(inputs, |comm, input| {
        let parties: Vec<usize> = (0..n).collect();
        match input {
            None => {
                let mut dealer = Dealer::with_seeds(seeds.clone()).unwrap();
                distribute_seeds(comm, &mut dealer, &parties).unwrap();
                for r in plan {
                    serve_request(comm, &mut dealer, n - 1, r).unwrap();
                }
                *dealer_stats.lock().unwrap() = dealer.stats();
                let rounds = comm.stats().rounds();
                Outcome { out: None, counters: comm.stats().snapshot(), rounds }
            }
            Some(shares) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, n, me, n).unwrap();
                let before = comm.stats().snapshot();
                let rounds0 = comm.stats().rounds();
                let out = {
                    let mut party = Party::new(comm, &mut link, parties).unwrap();
                    f(&mut party, &shares).unwrap()
                };
                Outcome {
                    out: Some(out),
                    counters: comm.stats().since(&before),
                    rounds: comm.stats().rounds() - rounds0,
                }
            }
        }
    })
    .unwrap();
    let outs: Vec<Tensor<u64>> = results.iter().filter_map(|o| o.out.clone()).collect();
    let revealed = AdditiveShares::from_shares(outs).unwrap().reconstruct();
    let stats = *dealer_stats.lock().unwrap();
    (revealed, results, stats)
}

fn tensor(prg: &mut Prg, shape: &[usize]) -> Tensor<u64> {
    prg.u64_tensor(shape)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn ring_products_are_exact(n in 2usize..4, m in 1usize..6, k in 1usize..6, v in 1usize..6, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let x = tensor(&mut prg, &[m, k]);
        let y = tensor(&mut prg, &[m, k]);
        let w = tensor(&mut prg, &[k, v]);
        let plan = vec![
            Request::Triple(Product::Mul { shape: vec![m, k] }),
            Request::Triple(Product::MatMul { lhs: vec![m, k], rhs: vec![k, v], lhs_t: false, rhs_t: false }),
            Request::Square { shape: vec![m, k] },
            Request::Triple(Product::MatMul { lhs: vec![m, k], rhs: vec![m, k], lhs_t: true, rhs_t: false }),
        ];
        let (out, _, _) = run_online(n, seed, &[x.clone(), y.clone(), w.clone()], &plan, |p, s| {
            let xy = p.mul(&s[0], &s[1])?;
            let xw = p.matmul(&s[0], &s[2])?;
            let xx = p.square(&s[0])?;
            let xtx = p.matmul_t(&s[0], true, &s[1], false)?;
            Ok(Tensor::concat(&[&xy.into_shape(&[m * k])?, &xw.into_shape(&[m * v])?, &xx.into_shape(&[m * k])?, &xtx.into_shape(&[k * k])?], 0)?)
        });
        let want = Tensor::concat(&[
            &x.mul(&y).unwrap().into_shape(&[m * k]).unwrap(),
            &x.matmul(&w).unwrap().into_shape(&[m * v]).unwrap(),
            &x.mul(&x).unwrap().into_shape(&[m * k]).unwrap(),
            &x.transpose().unwrap().matmul(&y).unwrap().into_shape(&[k * k]).unwrap(),
        ], 0).unwrap();
        prop_assert_eq!(out, want);
    }

    #[test]
    fn conv_and_batched_matmul_are_exact(n in 2usize..4, h in 3usize..6, pad in 0usize..2, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let params = Conv2dParams::new(1, pad);
        let x = tensor(&mut prg, &[2, 2, h, h]);
        let k = tensor(&mut prg, &[3, 2, 3, 3]);
        let a = tensor(&mut prg, &[2, 3, 4]);
        let b = tensor(&mut prg, &[2, 4, 2]);
        let plan = vec![
            Request::Triple(Product::Conv2d { input: vec![2, 2, h, h], kernel: vec![3, 2, 3, 3], params }),
            Request::Triple(Product::MatMul { lhs: vec![2, 3, 4], rhs: vec![2, 4, 2], lhs_t: false, rhs_t: false }),
        ];
        let (out, _, _) = run_online(n, seed, &[x.clone(), k.clone(), a.clone(), b.clone()], &plan, |p, s| {
            let y = p.conv2d(&s[0], &s[1], params)?;
            let z = p.matmul(&s[2], &s[3])?;
            let yl = y.len();
            Ok(Tensor::concat(&[&y.into_shape(&[yl])?, &z.into_shape(&[12])?], 0)?)
        });
        let y = x.conv2d(&k, params).unwrap();
        let yl = y.len();
        let want = Tensor::concat(&[&y.into_shape(&[yl]).unwrap(), &a.matmul(&b).unwrap().into_shape(&[12]).unwrap()], 0).unwrap();
        prop_assert_eq!(out, want);
    }

    #[test]
    fn conv_gradients_are_exact(n in 2usize..4, h in 3usize..6, pad in 0usize..2, stride in 1usize..3, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let params = Conv2dParams::new(stride, pad);
        let (input, kernel) = (vec![2, 2, h, h], vec![3, 2, 3, 3]);
        let Ok(out_shape) = Product::Conv2d { input: input.clone(), kernel: kernel.clone(), params }.output_shape() else {
            return Ok(());
        };
        let x = tensor(&mut prg, &input);
        let k = tensor(&mut prg, &kernel);
        let g = tensor(&mut prg, &out_shape);
        let plan = vec![
            Request::Triple(Product::Conv2dInputGrad { input: input.clone(), kernel: kernel.clone(), params }),
            Request::Triple(Product::Conv2dKernelGrad { input: input.clone(), kernel: kernel.clone(), params }),
        ];
        let (out, outcomes, _) = run_online(n, seed, &[x.clone(), k.clone(), g.clone()], &plan, |p, s| {
            let dx = p.conv2d_input_grad(&s[2], &s[1], &input, params)?;
            let dk = p.conv2d_kernel_grad(&s[0], &s[2], &kernel, params)?;
            let (lx, lk) = (dx.len(), dk.len());
            Ok(Tensor::concat(&[&dx.into_shape(&[lx])?, &dk.into_shape(&[lk])?], 0)?)
        });
        let dx = Tensor::conv2d_input_grad(&g, &k, &input, params).unwrap();
        let dk = Tensor::conv2d_kernel_grad(&x, &g, &kernel, params).unwrap();
        let (lx, lk) = (dx.len(), dk.len());
        let want = Tensor::concat(&[&dx.into_shape(&[lx]).unwrap(), &dk.into_shape(&[lk]).unwrap()], 0).unwrap();
        prop_assert_eq!(out, want);
        // Each product opens its two operands, once, in one round.
        for o in outcomes.iter().filter(|o| o.out.is_some()) {
            let per_peer = 8 * (2 * g.len() + k.len() + x.len()) as u64;
            prop_assert_eq!(o.counters.bytes_sent(), per_peer * (n as u64 - 1));
            prop_assert_eq!(o.rounds, 2);
        }
    }

    #[test]
    fn fixed_point_products_within_one_unit(
        n in 2usize..4,
        vals in prop::collection::vec(prop_oneof![Just(0.0), Just(0.001), Just(-0.001), -1000.0f64..1000.0], 8),
        seed: u64,
    ) {
        let scale = 1000u64;
        let enc = |v: f64| from_signed((v * scale as f64).round() as i64);
        let xs: Vec<u64> = vals[..4].iter().map(|&v| enc(v)).collect();
        let ys: Vec<u64> = vals[4..].iter().map(|&v| enc(v)).collect();
        let x = Tensor::new(&[4], xs.clone()).unwrap();
        let y = Tensor::new(&[4], ys.clone()).unwrap();
        let mut plan = vec![Request::Triple(Product::Mul { shape: vec![4] })];
        if n > 2 {
            plan.push(Request::Trunc { shape: vec![4], scale });
        }
        let (out, _, _) = run_online(n, seed, &[x, y], &plan, |p, s| {
            let z = p.mul(&s[0], &s[1])?;
            p.truncate(&z, scale)
        });
        for i in 0..4 {
            let exact = signed(xs[i]) as i128 * signed(ys[i]) as i128;
            let floor = exact.div_euclid(scale as i128);
            let got = signed(out.data()[i]) as i128;
            prop_assert!(got == floor || got == floor + 1, "x={} y={} got {} want {}", signed(xs[i]), signed(ys[i]), got, floor);
        }
    }
}

proptest! {
    #[test]
    fn reciprocal_division_equals_floor_division(v: u64, s in 1u64..=i64::MAX as u64, small in 1u64..100_000) {
        for s in [s, small, 1, 2, 1000, 1 << 16, i64::MAX as u64] {
            let div = SignedFloorDiv::new(s).unwrap();
            for v in [v, 0, 1, u64::MAX, 1 << 63, (1 << 63) - 1, (1 << 63) + 1, v.wrapping_neg()] {
                prop_assert_eq!(div.floor(v), floor_div_signed(v, s), "v={} s={}", v, s);
                prop_assert_eq!(div.floor(v) as i64, (v as i64).div_euclid(s as i64));
            }
        }
    }
}

#[test]
fn parties_out_of_step_stop_with_an_error() {
    // Party 0 skips a request number, so its material belongs to another request than party
    // 1's and the dealer's. Unchecked, the product would silently be wrong; with the
    // request number in every header (docs/PROTOCOLS.md §2.2) both parties stop with an
    // error.
    let x = Tensor::from_vec(vec![3u64, 4]);
    let shares = AdditiveShares::split(&x, 2, &mut Prg::new(&Seed::from_u64(1))).unwrap();
    let mut inputs: Vec<Option<Tensor<u64>>> = shares.into_shares().into_iter().map(Some).collect();
    inputs.push(None);
    let plan = [Request::Triple(Product::Mul { shape: vec![2] })];
    let results = run_parties_with(inputs, |comm, input| {
        let parties = vec![0, 1];
        match input {
            None => {
                let mut dealer = Dealer::new(2).unwrap();
                distribute_seeds(comm, &mut dealer, &parties).unwrap();
                for r in &plan {
                    serve_request(comm, &mut dealer, 1, r).unwrap();
                }
                None
            }
            Some(share) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
                if me == 0 {
                    link.reserve_req().unwrap();
                }
                let mut party = Party::new(comm, &mut link, parties).unwrap();
                Some(party.mul(&share, &share))
            }
        }
    })
    .unwrap();
    let errors: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(errors.len(), 2);
    // Both parties stop with an error. At least one sees the other's message at another
    // request (out of step); the other sees that, or, when its peer has already stopped,
    // that its peer hung up.
    let out_of_step =
        |r: &Result<_, _>| matches!(r, Err(syft_spdz::SpdzError::Share(syft_share::ShareError::OutOfStep { .. })));
    let hung_up =
        |r: &Result<_, _>| matches!(r, Err(syft_spdz::SpdzError::Share(syft_share::ShareError::Disconnected { .. })));
    assert!(errors.iter().any(out_of_step), "expected an out-of-step error, got {errors:?}");
    for r in &errors {
        assert!(out_of_step(r) || hung_up(r), "expected an out-of-step or hang-up error, got {r:?}");
    }
}

#[test]
fn bad_divisors_are_errors() {
    assert!(SignedFloorDiv::new(0).is_err());
    assert!(SignedFloorDiv::new(1 << 63).is_err());
    assert!(syft_spdz::truncate_local(&Tensor::from_vec(vec![1]), 0, 0).is_err());
}

#[test]
fn values_near_the_documented_limit_truncate_correctly() {
    // The documented reliable range at scale 10^3: |v1·v2| ≤ 1.6·10^4 keeps the product
    // below 2^34 before truncation, a failure probability below 2^-30 per element.
    let scale = 1000u64;
    let enc = |v: f64| from_signed((v * 1000.0).round() as i64);
    let xs = [126.491, -126.491, 0.0, 0.001, -0.001, 16000.0, -1.0, 126.0];
    let ys = [126.491, 126.491, -5.0, 0.001, 1.0, -1.0, -16000.0, -126.999];
    let x = Tensor::new(&[8], xs.iter().map(|&v| enc(v)).collect()).unwrap();
    let y = Tensor::new(&[8], ys.iter().map(|&v| enc(v)).collect()).unwrap();
    for (n, owned) in [(2, false), (3, false), (2, true), (3, true)] {
        let mut plan = vec![Request::Triple(Product::Mul { shape: vec![8] })];
        if n > 2 {
            plan.push(Request::Trunc { shape: vec![8], scale });
        }
        let (out, _, _) = run_online(n, 7, &[x.clone(), y.clone()], &plan, |p, s| {
            let z = p.mul(&s[0], &s[1])?;
            // Both forms of truncation: by reference, and over the owned product.
            if owned { p.truncate_owned(z, scale) } else { p.truncate(&z, scale) }
        });
        for i in 0..8 {
            let exact = (signed(x.data()[i]) as i128 * signed(y.data()[i]) as i128).div_euclid(1000);
            let got = signed(out.data()[i]) as i128;
            assert!(got == exact || got == exact + 1, "n={n}: got {got} want {exact}");
        }
    }
}

#[test]
fn local_truncation_fails_at_the_documented_rate() {
    // |x| = 2^62 before truncation: the documented failure probability is |x|/2^64 = 1/4.
    let count = 4000;
    let x = Tensor::full(&[count], 1u64 << 62);
    let one = Tensor::full(&[count], 1u64);
    let plan = vec![Request::Triple(Product::Mul { shape: vec![count] })];
    let (out, _, _) = run_online(2, 13, &[x, one], &plan, |p, s| {
        let z = p.mul(&s[0], &s[1])?;
        p.truncate(&z, 1 << 16)
    });
    let want = 1i64 << 46;
    let mut failures = 0;
    for &g in out.data() {
        let d = signed(g) - want;
        if d != 0 && d != 1 {
            failures += 1;
            // A failure is garbage (about 2^64/s off), never a small error.
            assert!(d.unsigned_abs() > 1 << 40);
        }
    }
    let rate = f64::from(failures) / count as f64;
    assert!((0.2..0.3).contains(&rate), "failure rate {rate}");
}

#[test]
fn counters_match_the_formulas() {
    let (m, k, v) = (5, 7, 3);
    let mut prg = Prg::new(&Seed::from_u64(3));
    let x = tensor(&mut prg, &[m, k]);
    let w = tensor(&mut prg, &[k, v]);
    for n in [2usize, 3] {
        let plan =
            vec![Request::Triple(Product::MatMul { lhs: vec![m, k], rhs: vec![k, v], lhs_t: false, rhs_t: false })];
        let (out, outcomes, dealer) = run_online(n, 11, &[x.clone(), w.clone()], &plan, |p, s| p.matmul(&s[0], &s[1]));
        assert_eq!(out, x.matmul(&w).unwrap());
        for o in &outcomes[..n] {
            // (|x| + |y|)·8 bytes to each other computing party, in exactly one round.
            let per_peer = ((m * k + k * v) * 8) as u64;
            assert_eq!(o.counters.total().bytes_sent, per_peer * (n as u64 - 1));
            assert_eq!(o.rounds, 1);
        }
        // Dealer: |c|·8 bytes of correction to the last party, plus one 16-byte seed per party.
        let d = &outcomes[n];
        assert_eq!(d.counters.peer(n - 1).bytes_sent, (m * v * 8 + 16) as u64);
        for i in 0..n - 1 {
            assert_eq!(d.counters.peer(i).bytes_sent, 16);
        }
        assert_eq!(dealer.correction_bytes, (m * v * 8) as u64);
    }
}

#[test]
fn reused_mask_opens_only_the_fresh_operand() {
    let (m, k, v, batches) = (4, 6, 3, 5);
    let mut prg = Prg::new(&Seed::from_u64(5));
    let w = tensor(&mut prg, &[k, v]);
    let xs: Vec<Tensor<u64>> = (0..batches).map(|_| tensor(&mut prg, &[m, k])).collect();
    let mut secrets = vec![w.clone()];
    secrets.extend(xs.iter().cloned());
    let mut plan = vec![Request::Mask { shape: vec![k, v] }];
    for _ in 0..batches {
        plan.push(Request::TripleWithMask {
            product: Product::MatMul { lhs: vec![m, k], rhs: vec![k, v], lhs_t: false, rhs_t: false },
            mask_req: 1,
            mask_shape: vec![k, v],
        });
    }
    // Backward-style product with the transposed weights: G · Wᵀ.
    let g = tensor(&mut prg, &[m, v]);
    secrets.push(g.clone());
    plan.push(Request::TripleWithMask {
        product: Product::MatMul { lhs: vec![m, v], rhs: vec![k, v], lhs_t: false, rhs_t: true },
        mask_req: 1,
        mask_shape: vec![k, v],
    });
    let (out, outcomes, _) = run_online(2, 9, &secrets, &plan, |p, s| {
        let opened = p.open_operand(&s[0])?;
        let mut outs = Vec::new();
        for x in &s[1..=batches] {
            outs.push(p.matmul_opened(x, false, &opened, false)?.into_shape(&[m * v])?);
        }
        outs.push(p.matmul_opened(&s[batches + 1], false, &opened, true)?.into_shape(&[m * k])?);
        let refs: Vec<&Tensor<u64>> = outs.iter().collect();
        Ok(Tensor::concat(&refs, 0)?)
    });
    let mut want: Vec<Tensor<u64>> = xs.iter().map(|x| x.matmul(&w).unwrap().into_shape(&[m * v]).unwrap()).collect();
    want.push(g.matmul(&w.transpose().unwrap()).unwrap().into_shape(&[m * k]).unwrap());
    let refs: Vec<&Tensor<u64>> = want.iter().collect();
    assert_eq!(out, Tensor::concat(&refs, 0).unwrap());
    for o in &outcomes[..2] {
        // 8|W| once, then 8|X| per product.
        let expect = 8 * (k * v + batches * m * k + m * v) as u64;
        assert_eq!(o.counters.total().bytes_sent, expect);
        assert_eq!(o.rounds, 1 + batches as u64 + 1);
    }
}

#[test]
fn preprocessed_material_matches_online_and_rejects_unplanned_requests() {
    let mut prg = Prg::new(&Seed::from_u64(21));
    let x = tensor(&mut prg, &[3, 4]);
    let y = tensor(&mut prg, &[3, 4]);
    let shares_x = AdditiveShares::split(&x, 2, &mut prg).unwrap();
    let shares_y = AdditiveShares::split(&y, 2, &mut prg).unwrap();
    let plan = vec![Request::Triple(Product::Mul { shape: vec![3, 4] })];
    let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
    let (sources, stats) = preprocess(&mut dealer, &plan).unwrap();
    assert_eq!(stats.correction_bytes, 12 * 8);
    let inputs: Vec<_> = sources
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, shares_x.shares()[i].clone(), shares_y.shares()[i].clone()))
        .collect();
    let outs = run_parties_with(inputs, |comm, (mut source, xs, ys)| {
        let mut party = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        let z = party.mul(&xs, &ys).unwrap();
        // A request that was not planned is an error and consumes nothing.
        let err = party.mul(&xs, &ys).unwrap_err();
        (z, err.to_string())
    })
    .unwrap();
    let z = AdditiveShares::from_shares(outs.iter().map(|o| o.0.clone()).collect()).unwrap().reconstruct();
    assert_eq!(z, x.mul(&y).unwrap());
    assert!(outs[0].1.contains("no preprocessed material"), "{}", outs[0].1);
}

#[test]
fn shape_errors_come_before_any_communication() {
    let outs = run_parties_with(vec![(), ()], |comm, ()| {
        let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
        let (mut sources, _) = preprocess(&mut dealer, &[]).unwrap();
        let mut source = sources.remove(comm.id());
        let mut party = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        let a = Tensor::<u64>::zeros(&[2, 3]);
        let e1 = party.mul(&a, &Tensor::zeros(&[3, 2])).is_err();
        let e2 = party.matmul(&a, &a).is_err();
        let e3 = party.conv2d(&a, &a, Conv2dParams::default()).is_err();
        let e4 = party.truncate(&a, 1).is_err();
        (e1 && e2 && e3 && e4, party.comm.stats().bytes_sent())
    })
    .unwrap();
    for (all_errors, sent) in outs {
        assert!(all_errors);
        assert_eq!(sent, 0);
    }
}

#[test]
fn fixed_point_values_over_shares() {
    use syft_fixed::{Fixed, FixedEncoder};
    let enc = FixedEncoder::default();
    let xf = Tensor::<f64>::new(&[2, 3], vec![1.5, -2.25, 0.0, 3.125, -0.001, 7.0]).unwrap();
    let wf = Tensor::<f64>::new(&[3, 2], vec![0.5, -1.0, 2.0, 0.25, -3.0, 1.5]).unwrap();
    let x = enc.encode(&xf).unwrap();
    let w = enc.encode(&wf).unwrap();
    for n in [2usize, 3] {
        let mut plan =
            vec![Request::Triple(Product::MatMul { lhs: vec![2, 3], rhs: vec![3, 2], lhs_t: false, rhs_t: false })];
        if n > 2 {
            plan.push(Request::Trunc { shape: vec![2, 2], scale: 1000 });
        }
        let (out, _, _) = run_online(n, 17, &[x.clone(), w.clone()], &plan, |p, s| {
            let a = Fixed::from_raw(s[0].clone(), enc);
            let b = Fixed::from_raw(s[1].clone(), enc);
            Ok(a.matmul(&b, p)?.into_raw())
        });
        let got: Tensor<f64> = enc.decode(&out);
        let want = xf.matmul(&wf).unwrap();
        for (g, w) in got.data().iter().zip(want.data()) {
            assert!((g - w).abs() <= 0.0025, "n={n}: {g} vs {w}");
        }
    }
}

/// The last party's openings do not wait for its correction (`next_deferred`): here the
/// dealer serves a product, and an opened-operand product, only once party 0 has finished
/// it, which needs party 1's differences. Had party 1 waited for the correction before
/// sending them, nobody could go on, and the receives would time out. The results are
/// still exact.
#[test]
fn the_last_partys_openings_leave_before_its_correction() {
    use std::sync::mpsc;
    use std::time::Duration;
    let mut prg = Prg::new(&Seed::from_u64(31));
    let (x, w) = (tensor(&mut prg, &[3, 5]), tensor(&mut prg, &[5, 4]));
    let matmul = Product::MatMul { lhs: vec![3, 5], rhs: vec![5, 4], lhs_t: false, rhs_t: false };
    let plan = [
        Request::Triple(matmul.clone()),
        Request::Mask { shape: vec![5, 4] },
        Request::TripleWithMask { product: matmul, mask_req: 2, mask_shape: vec![5, 4] },
    ];
    let xs = AdditiveShares::split(&x, 2, &mut prg).unwrap();
    let ws = AdditiveShares::split(&w, 2, &mut prg).unwrap();
    let mut inputs: Vec<Option<(Tensor<u64>, Tensor<u64>)>> =
        (0..2).map(|i| Some((xs.shares()[i].clone(), ws.shares()[i].clone()))).collect();
    inputs.push(None);
    // Party 0 says when it has finished each product.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = std::sync::Mutex::new(done_rx);
    let done_tx = std::sync::Mutex::new(done_tx);
    let results = run_parties_with(inputs, |comm, input| {
        comm.set_timeout(Some(Duration::from_secs(10)));
        match input {
            None => {
                let mut dealer = Dealer::new(2).unwrap();
                distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
                let rx = done_rx.lock().unwrap();
                rx.recv_timeout(Duration::from_secs(10)).expect("party 0 finishes the first product first");
                serve_request(comm, &mut dealer, 1, &plan[0]).unwrap();
                serve_request(comm, &mut dealer, 1, &plan[1]).unwrap();
                rx.recv_timeout(Duration::from_secs(10)).expect("party 0 finishes the second product first");
                serve_request(comm, &mut dealer, 1, &plan[2]).unwrap();
                None
            }
            Some((x, w)) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
                let mut party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
                let tx = (me == 0).then(|| done_tx.lock().unwrap().clone());
                let z = party.matmul(&x, &w).unwrap();
                if let Some(tx) = &tx {
                    tx.send(()).unwrap();
                }
                let opened = party.open_operand(&w).unwrap();
                let zo = party.matmul_opened(&x, false, &opened, false).unwrap();
                if let Some(tx) = &tx {
                    tx.send(()).unwrap();
                }
                Some((z, zo))
            }
        }
    })
    .unwrap();
    let (z0, zo0) = results[0].clone().unwrap();
    let (z1, zo1) = results[1].clone().unwrap();
    let want = x.matmul(&w).unwrap();
    assert_eq!(z0.add(&z1).unwrap(), want);
    assert_eq!(zo0.add(&zo1).unwrap(), want);
}
