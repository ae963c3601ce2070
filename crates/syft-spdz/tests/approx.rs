//! The approximations of `syft_spdz::approx` among two and three parties and a dealer, in
//! one process: against plaintext `f64` within the documented accuracy, against the
//! orchestrator's op-by-op formula within the first-order bound of its truncations
//! (`syft_spdz::dev`), and their messages, bytes and rounds against the formulas of
//! docs/PROTOCOLS.md §11.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]
#![allow(clippy::cast_precision_loss, reason = "small counts")]

use proptest::prelude::*;
use syft_fixed::FixedEncoder;
use syft_ring::{Prg, Seed, Tensor};
use syft_share::{AdditiveShares, Comm, CommCounters, run_parties_with};
use syft_spdz::dev::{Rounded, Roundings};
use syft_spdz::{
    Dealer, DealerLink, Party, Request, distribute_seeds, exp_requests, ln_requests, preprocess, reciprocal_requests,
    serve_request,
};

/// What each endpoint reports: its output share (computing parties), its counters and
/// its rounds during the protocol.
struct Outcome {
    out: Option<Tensor<u64>>,
    counters: CommCounters,
    rounds: u64,
}

/// Runs `f` at `n` computing parties on shares of `x`, with a dealer at endpoint `n`
/// serving `plan` on demand; returns the revealed output and every endpoint's outcome.
fn run_online<F>(n: usize, seed: u64, x: &Tensor<u64>, plan: &[Request], f: F) -> (Tensor<u64>, Vec<Outcome>)
where
    F: Fn(&mut Party<'_>, &Tensor<u64>) -> syft_spdz::Result<Tensor<u64>> + Sync,
{
    let mut prg = Prg::new(&Seed::from_u64(seed));
    let shares = AdditiveShares::split(x, n, &mut prg).unwrap().into_shares();
    let mut inputs: Vec<Option<Tensor<u64>>> = shares.into_iter().map(Some).collect();
    inputs.push(None);
    let seeds: Vec<Seed> = (0..n).map(|i| Seed::from_u64(seed ^ (1000 + i as u64))).collect();
    let results = run_parties_with(inputs, |comm, input| {
        let parties: Vec<usize> = (0..n).collect();
        match input {
            None => {
                let mut dealer = Dealer::with_seeds(seeds.clone()).unwrap();
                distribute_seeds(comm, &mut dealer, &parties).unwrap();
                let before = comm.stats().snapshot();
                for r in plan {
                    serve_request(comm, &mut dealer, n - 1, r).unwrap();
                }
                Outcome { out: None, counters: comm.stats().since(&before), rounds: 0 }
            }
            Some(share) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, n, me, n).unwrap();
                let before = comm.stats().snapshot();
                let rounds0 = comm.stats().rounds();
                let out = {
                    let mut party = Party::new(comm, &mut link, parties).unwrap();
                    f(&mut party, &share).unwrap()
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
    (AdditiveShares::from_shares(outs).unwrap().reconstruct(), results)
}

/// The example's default encoding (`secure_training_mnist --precision 4`).
fn enc4() -> FixedEncoder {
    FixedEncoder::new(10, 4).unwrap()
}

fn uniform(prg: &mut Prg, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| lo + (hi - lo) * (prg.next_u64() >> 11) as f64 / (1u64 << 53) as f64).collect()
}

/// The values as the parties hold them: encoded by `enc`, then decoded.
fn encoded(enc: FixedEncoder, v: &[f64]) -> (Tensor<u64>, Vec<f64>) {
    let t = enc.encode(&Tensor::from_vec(v.to_vec())).unwrap();
    let back = enc.decode::<f64>(&t).into_vec();
    (t, back)
}

/// Which approximation to run.
#[derive(Clone, Copy, Debug)]
enum Func {
    Exp,
    Reciprocal { init: f64, iterations: usize },
    Ln { iterations: usize },
}

impl Func {
    fn plan(self, shape: &[usize], n: usize, enc: FixedEncoder) -> Vec<Request> {
        match self {
            Func::Exp => exp_requests(shape, n, enc),
            Func::Reciprocal { init, iterations } => reciprocal_requests(shape, n, enc, init, iterations),
            Func::Ln { iterations } => ln_requests(shape, n, enc, iterations),
        }
        .unwrap()
    }

    fn run(self, p: &mut Party<'_>, x: &Tensor<u64>, enc: FixedEncoder) -> syft_spdz::Result<Tensor<u64>> {
        match self {
            Func::Exp => p.exp(x, enc),
            Func::Reciprocal { init, iterations } => p.reciprocal(x, enc, init, iterations),
            Func::Ln { iterations } => p.ln(x, enc, iterations),
        }
    }

    /// The orchestrator's formula with its truncations' first-order bound.
    fn reference(self, enc: FixedEncoder, x: f64) -> Rounded {
        let mut r = Roundings::new(enc);
        let x = Rounded::exact(x);
        match self {
            Func::Exp => syft_spdz::dev::exp(&mut r, &x),
            Func::Reciprocal { init, iterations } => syft_spdz::dev::reciprocal(&mut r, &x, init, iterations),
            Func::Ln { iterations } => syft_spdz::dev::ln(&mut r, &x, iterations),
        }
    }

    /// Runs the approximation among `n` parties on `values`; returns the decoded
    /// results, the values as encoded, and the outcomes.
    fn shared(self, n: usize, seed: u64, enc: FixedEncoder, values: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<Outcome>) {
        let (x, xs) = encoded(enc, values);
        let plan = self.plan(x.shape(), n, enc);
        let (out, outcomes) = run_online(n, seed, &x, &plan, |p, s| self.run(p, s, enc));
        (enc.decode::<f64>(&out).into_vec(), xs, outcomes)
    }
}

/// `|got − want| ≤ tol` for every element, with a message naming the first failure.
fn assert_close(name: &str, xs: &[f64], got: &[f64], want: impl Fn(f64) -> f64, tol: impl Fn(f64) -> f64) {
    for ((&x, &g), i) in xs.iter().zip(got).zip(0..) {
        let w = want(x);
        assert!((g - w).abs() <= tol(x), "{name}({x}) [{i}]: got {g}, want {w} ± {}", tol(x));
    }
}

// ---------------------------------------------------------------------------------------
// Against plaintext f64.

/// `e^x` within the documented relative error, the limit's `x²/2^9` (taken as `x²/400` to
/// cover the higher-order terms for `|x| ≤ 8`) plus `2^9/s` for the truncations, and 2
/// units.
fn exp_tolerance(enc: FixedEncoder) -> impl Fn(f64) -> f64 {
    let s = enc.scale() as f64;
    move |x: f64| (x * x / 400.0 + 512.0 / s) * x.exp() + 2.0 / s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn exp_approximates_the_exponential(n in 2usize..4, seed: u64, binary: bool) {
        let enc = if binary { FixedEncoder::binary(16).unwrap() } else { enc4() };
        let values = uniform(&mut Prg::new(&Seed::from_u64(seed)), 200, -8.0, 4.0);
        let (got, xs, _) = Func::Exp.shared(n, seed, enc, &values);
        assert_close("exp", &xs, &got, f64::exp, exp_tolerance(enc));
    }

    #[test]
    fn reciprocal_approximates_one_over_x(n in 2usize..4, seed: u64) {
        // softmax's use: sums in [1, k] from the start 1/k, 8 iterations.
        let enc = enc4();
        let values = uniform(&mut Prg::new(&Seed::from_u64(seed)), 200, 1.0, 10.0);
        let f = Func::Reciprocal { init: 0.1, iterations: 8 };
        let (got, xs, _) = f.shared(n, seed, enc, &values);
        // Converged: a few units (the last iteration's two truncations, 1/x ≤ 1).
        assert_close("reciprocal", &xs, &got, |x| 1.0 / x, |_| 4.0 / 1e4);
    }

    #[test]
    fn ln_approximates_the_logarithm(n in 2usize..4, seed: u64) {
        // cross-entropy's use: sums in [1, k], 6 iterations.
        let enc = enc4();
        let values = uniform(&mut Prg::new(&Seed::from_u64(seed)), 200, 1.0, 20.0);
        let f = Func::Ln { iterations: 6 };
        let (got, xs, _) = f.shared(n, seed, enc, &values);
        // The fixed point of the iteration is ln x − (ln x)²/2^9 for the limit, moved by
        // up to 2^9/s by the exponential's truncations; 6 iterations reach it within
        // 0.005 on [1, 20].
        assert_close("ln", &xs, &got, f64::ln, |x| x.ln().powi(2) / 512.0 + 512.0 / 1e4 + 0.005);
    }
}

#[test]
fn ln_is_within_its_documented_accuracy_on_its_range() {
    // The rustdoc's claim: within (ln x)²/2^9 + 2^9/s + 0.005 of ln x for x ∈ [0.2, 25]
    // after 6 iterations: 0.08 at s = 10^4, 0.035 at s = 2^16.
    let values: Vec<f64> = (0..300).map(|i| 0.2 + 24.8 * f64::from(i) / 299.0).collect();
    for (enc, bound) in [(enc4(), 0.08), (FixedEncoder::binary(16).unwrap(), 0.035)] {
        let (got, xs, _) = Func::Ln { iterations: 6 }.shared(2, 5, enc, &values);
        let s = enc.scale() as f64;
        assert_close("ln", &xs, &got, f64::ln, |x| x.ln().powi(2) / 512.0 + 512.0 / s + 0.005);
        assert_close("ln", &xs, &got, f64::ln, |_| bound);
    }
}

// ---------------------------------------------------------------------------------------
// Against the orchestrator's formula.

/// The shared result must lie within the first-order bound of the formula's truncations,
/// with 10 % and two units of margin for the second-order terms.
fn assert_formula(f: Func, n: usize, seed: u64, enc: FixedEncoder, values: &[f64]) -> f64 {
    let (got, xs, _) = f.shared(n, seed, enc, values);
    let unit = enc.resolution();
    let mut worst: f64 = 0.0;
    for (&x, &g) in xs.iter().zip(&got) {
        let r = f.reference(enc, x);
        let tol = 1.1 * r.bound() + 2.0 * unit;
        assert!((g - r.value()).abs() <= tol, "{f:?}({x}): got {g}, formula {} ± {tol}", r.value());
        worst = worst.max((g - r.value()).abs() / tol);
    }
    worst
}

#[test]
fn the_protocols_compute_the_orchestrators_formulas() {
    let mut prg = Prg::new(&Seed::from_u64(41));
    for (n, enc) in [(2, enc4()), (3, enc4()), (2, FixedEncoder::binary(16).unwrap())] {
        let e = uniform(&mut prg, 300, -10.0, 5.0);
        let r = uniform(&mut prg, 300, 1.0, 10.0);
        let l = uniform(&mut prg, 300, 0.5, 20.0);
        let cases = [
            (Func::Exp, e),
            (Func::Reciprocal { init: 0.1, iterations: 8 }, r.clone()),
            (Func::Reciprocal { init: 0.05, iterations: 3 }, r),
            (Func::Ln { iterations: 6 }, l.clone()),
            (Func::Ln { iterations: 2 }, l),
        ];
        for (i, (f, values)) in cases.into_iter().enumerate() {
            let worst = assert_formula(f, n, 100 + i as u64, enc, &values);
            // The bound is not vacuous: the deviations use a good part of it.
            assert!(worst > 0.05, "{f:?}: deviations at most {worst} of the bound");
        }
    }
}

#[test]
fn a_different_formula_is_caught() {
    // Seven squarings instead of eight: the formula check must reject it (at a scale
    // where the bound is tighter than the difference, x²/2^9 relative, for |x| > 2.2).
    let enc = FixedEncoder::binary(16).unwrap();
    let values = uniform(&mut Prg::new(&Seed::from_u64(3)), 300, -6.0, 4.0);
    let (x, xs) = encoded(enc, &values);
    let plan = vec![Request::Square { shape: vec![300] }; 7];
    let (out, _) = run_online(2, 9, &x, &plan, |p, s| {
        let mut t = p.truncate(s, 128)?;
        let one = if p.index() == 0 { enc.scale() } else { 0 };
        t.map_inplace(|v| v.wrapping_add(one));
        for _ in 0..7 {
            let sq = p.square(&t)?;
            t = p.truncate_owned(sq, enc.scale())?;
        }
        Ok(t)
    });
    let got = enc.decode::<f64>(&out).into_vec();
    let outside = xs
        .iter()
        .zip(&got)
        .filter(|&(&x, &g)| {
            let r = Func::Exp.reference(enc, x);
            (g - r.value()).abs() > 1.1 * r.bound() + 2.0 * enc.resolution()
        })
        .count();
    assert!(outside > 30, "only {outside} of 300 outside the bound");
}

// ---------------------------------------------------------------------------------------
// Costs.

/// Bytes each party sends to each peer, the dealer's bytes to the last party, and rounds,
/// per docs/PROTOCOLS.md §11 for `m` elements.
fn formula(f: Func, n: usize, m: u64) -> (u64, u64, u64) {
    let two = n == 2;
    match f {
        Func::Exp if two => (64 * m, 64 * m, 8),
        Func::Exp => (136 * m, 136 * m, 17),
        Func::Reciprocal { iterations: i, .. } => {
            let i = i as u64;
            if two {
                (32 * m * (i - 1), 16 * m * (i - 1), 2 * (i - 1))
            } else {
                (16 * m + 48 * m * (i - 1), 16 * m + 32 * m * (i - 1), 2 + 4 * (i - 1))
            }
        }
        Func::Ln { iterations: i } => {
            let i = i as u64;
            if two {
                (80 * m * (i - 1), 72 * m * (i - 1), 9 * (i - 1))
            } else {
                (8 * m + 160 * m * (i - 1), 8 * m + 152 * m * (i - 1), 1 + 19 * (i - 1))
            }
        }
    }
}

/// Messages each party sends to each peer, and the dealer's: one per opened tensor (two
/// per product, one per square and per truncation pair) and one correction per request.
fn messages(f: Func, n: usize) -> (u64, u64) {
    let two = n == 2;
    match f {
        Func::Exp if two => (8, 8),
        Func::Exp => (17, 17),
        Func::Reciprocal { iterations: i, .. } => {
            let i = i as u64;
            if two { (4 * (i - 1), 2 * (i - 1)) } else { (2 + 6 * (i - 1), 2 + 4 * (i - 1)) }
        }
        Func::Ln { iterations: i } => {
            let i = i as u64;
            if two { (10 * (i - 1), 9 * (i - 1)) } else { (1 + 20 * (i - 1), 1 + 19 * (i - 1)) }
        }
    }
}

#[test]
fn bytes_messages_and_rounds_match_the_formulas() {
    let m = 37;
    let values = uniform(&mut Prg::new(&Seed::from_u64(8)), m, 1.0, 5.0);
    for n in [2usize, 3] {
        for f in [Func::Exp, Func::Reciprocal { init: 0.2, iterations: 8 }, Func::Ln { iterations: 6 }] {
            let (_, _, outcomes) = f.shared(n, 12, enc4(), &values);
            let (per_peer, dealer, rounds) = formula(f, n, m as u64);
            let (party_messages, dealer_messages) = messages(f, n);
            for (i, o) in outcomes[..n].iter().enumerate() {
                for j in (0..n).filter(|&j| j != i) {
                    assert_eq!(o.counters.peer(j).bytes_sent, per_peer, "{f:?}, n = {n}: party {i} to {j}");
                    assert_eq!(o.counters.peer(j).messages_sent, party_messages, "{f:?}, n = {n}: party {i} to {j}");
                }
                assert_eq!(o.rounds, rounds, "{f:?}, n = {n}: party {i}'s rounds");
            }
            let d = &outcomes[n].counters;
            assert_eq!(d.peer(n - 1).bytes_sent, dealer, "{f:?}, n = {n}: dealer");
            assert_eq!(d.bytes_sent(), dealer, "{f:?}, n = {n}: the dealer sends only corrections");
            assert_eq!(d.total().messages_sent, dealer_messages, "{f:?}, n = {n}: dealer messages");
        }
    }
}

#[test]
fn rounds_do_not_depend_on_the_size() {
    for f in [Func::Exp, Func::Reciprocal { init: 0.2, iterations: 8 }, Func::Ln { iterations: 6 }] {
        let rounds = |m: usize| {
            let values = vec![2.0; m];
            f.shared(2, 1, enc4(), &values).2[0].rounds
        };
        assert_eq!(rounds(1), rounds(500), "{f:?}");
    }
}

#[test]
fn preprocessed_material_serves_the_plans() {
    // The request lists are exactly what the parties consume: an offline phase that
    // produced them serves every call, and nothing is left over.
    let enc = enc4();
    let (x, xs) = encoded(enc, &[1.5, 2.0, 7.25, 3.0]);
    let shape = x.shape().to_vec();
    let f_recip = Func::Reciprocal { init: 0.1, iterations: 8 };
    let f_ln = Func::Ln { iterations: 3 };
    let mut plan = Func::Exp.plan(&shape, 2, enc);
    plan.extend(f_recip.plan(&shape, 2, enc));
    plan.extend(f_ln.plan(&shape, 2, enc));
    let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
    let (sources, _) = preprocess(&mut dealer, &plan).unwrap();
    let shares = AdditiveShares::split(&x, 2, &mut Prg::new(&Seed::from_u64(4))).unwrap().into_shares();
    let inputs: Vec<_> = sources.into_iter().zip(shares).collect();
    let outs = run_parties_with(inputs, |comm, (mut source, share)| {
        let mut p = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        let e = p.exp(&share, enc).unwrap();
        let r = p.reciprocal(&share, enc, 0.1, 8).unwrap();
        let l = p.ln(&share, enc, 3).unwrap();
        (e, r, l, source.remaining())
    })
    .unwrap();
    let reveal = |i: usize| {
        let pick = |o: &(Tensor<u64>, Tensor<u64>, Tensor<u64>, usize)| [&o.0, &o.1, &o.2][i].clone();
        let t = AdditiveShares::from_shares(outs.iter().map(pick).collect()).unwrap().reconstruct();
        enc.decode::<f64>(&t).into_vec()
    };
    let tol = exp_tolerance(enc);
    assert_close("exp", &xs, &reveal(0), f64::exp, &tol);
    assert_close("reciprocal", &xs, &reveal(1), |x| 1.0 / x, |_| 0.002);
    assert_close("ln", &xs, &reveal(2), f64::ln, |_| 0.08);
    assert!(outs.iter().all(|o| o.3 == 0), "material left over");
}

#[test]
fn bad_arguments_fail_before_any_message() {
    let outs = run_parties_with(vec![(), ()], |comm, ()| {
        let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
        let (mut sources, _) = preprocess(&mut dealer, &[]).unwrap();
        let mut source = sources.remove(comm.id());
        let mut p = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        let x = Tensor::<u64>::zeros(&[3]);
        let enc = enc4();
        let integers = FixedEncoder::new(10, 0).unwrap();
        let errors = [
            p.reciprocal(&x, enc, 0.0, 8).is_err(),
            p.reciprocal(&x, enc, f64::INFINITY, 8).is_err(),
            p.reciprocal(&x, enc, 1e-6, 8).is_err(),
            p.reciprocal(&x, enc, 0.1, syft_spdz::approx::MAX_ITERATIONS + 1).is_err(),
            p.ln(&x, enc, 1000).is_err(),
            p.exp(&x, integers).is_err(),
        ];
        // Empty tensors and zero iterations need no material and send nothing.
        let empty = p.exp(&Tensor::zeros(&[0, 3]), enc).unwrap();
        let start = p.reciprocal(&x, enc, 0.5, 0).unwrap();
        (errors, empty.shape().to_vec(), start, p.comm.stats().bytes_sent())
    })
    .unwrap();
    for (errors, empty, _, sent) in &outs {
        assert!(errors.iter().all(|&e| e), "{errors:?}");
        assert_eq!(empty, &[0, 3]);
        assert_eq!(*sent, 0);
    }
    let start = outs[0].2.add(&outs[1].2).unwrap();
    assert_eq!(enc4().decode::<f64>(&start).into_vec(), vec![0.5; 3]);
}
