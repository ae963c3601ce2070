//! Privacy of additive sharing: any `n − 1` shares are independent of the secret.
//!
//! Statistical test (deterministic: every seed is fixed, so the outcome never changes):
//! for each `n ∈ {2, 3, 5}` and each set `S` of `n − 1` parties, we collect the view of
//! `S` for 100,000 samples of two different secrets: each share's 8 bytes, plus the 8 bytes
//! of the sum of the shares in `S` (so that a leak in the *joint* distribution, invisible
//! in each share alone, still shows). Each view is histogrammed by (column, byte position,
//! byte value) and the two histograms are compared with a chi-square test of homogeneity;
//! each histogram is also tested against the uniform distribution.
//!
//! **Threshold**: a test fails when its p-value is below α = 0.001 (for the 2048 cells
//! of one column that is a statistic above about 2250 with 2047 degrees of freedom). A
//! negative control (a sharing whose random share lacks its top byte) must fail the same
//! test, which shows the test has the power to see a leak confined to one byte in eight.

use syft_ring::{Prg, Seed, Tensor};
use syft_share::AdditiveShares;
use syft_share::dev::{ChiSquare, chi_square_homogeneity, chi_square_uniform, positional_byte_histogram};

const SAMPLES: usize = 100_000;
const ALPHA: f64 = 0.001;

/// The histogram of the view of parties `subset`: per column (each share, then their sum),
/// 8 byte positions × 256 values.
fn view_histogram(shares: &[Tensor<u64>], subset: &[usize]) -> Vec<u64> {
    let mut sum = Tensor::<u64>::zeros(shares[0].shape());
    let mut hist = Vec::new();
    for &p in subset {
        hist.extend(positional_byte_histogram(&shares[p].to_le_bytes(), 8));
        for (acc, &x) in sum.data_mut().iter_mut().zip(shares[p].data()) {
            *acc = acc.wrapping_add(x);
        }
    }
    if subset.len() > 1 {
        hist.extend(positional_byte_histogram(&sum.to_le_bytes(), 8));
    }
    hist
}

/// The sets of `n − 1` parties (all parties but one).
fn subsets(n: usize) -> Vec<Vec<usize>> {
    (0..n).map(|missing| (0..n).filter(|&p| p != missing).collect()).collect()
}

fn secrets() -> Vec<(&'static str, Tensor<u64>)> {
    vec![
        ("zero", Tensor::zeros(&[SAMPLES])),
        ("2^63 + 1", Tensor::full(&[SAMPLES], 0x8000_0000_0000_0001)),
        ("-1", Tensor::full(&[SAMPLES], u64::MAX)),
        ("random", Prg::new(&Seed::from_u64(0xABCD)).u64_tensor(&[SAMPLES])),
    ]
}

#[test]
fn any_n_minus_1_shares_are_independent_of_the_secret() {
    for n in [2usize, 3, 5] {
        let secrets = secrets();
        // Distinct, fixed seeds per (n, secret).
        let sharings: Vec<AdditiveShares> = secrets
            .iter()
            .enumerate()
            .map(|(i, (_, x))| {
                let seed = Seed::from_u64(1000 * n as u64 + i as u64);
                AdditiveShares::split(x, n, &mut Prg::new(&seed)).unwrap()
            })
            .collect();
        for subset in subsets(n) {
            let base = view_histogram(sharings[0].shares(), &subset);
            let u = chi_square_uniform(&base).unwrap();
            assert!(u.accepts(ALPHA), "n={n} S={subset:?}: view of secret 0 is not uniform: {u:?}");
            for ((name, _), sh) in secrets.iter().zip(&sharings).skip(1) {
                let other = view_histogram(sh.shares(), &subset);
                let c: ChiSquare = chi_square_homogeneity(&base, &other).unwrap();
                assert!(c.accepts(ALPHA), "n={n} S={subset:?}: views of 0 and {name} differ: {c:?}");
                let u = chi_square_uniform(&other).unwrap();
                assert!(u.accepts(ALPHA), "n={n} S={subset:?}: view of {name} is not uniform: {u:?}");
            }
        }
    }
}

#[test]
fn the_test_detects_a_leaky_sharing() {
    // Negative control: a two-party sharing whose random share misses its top byte, so the
    // other share's top byte follows the secret's. The statistic must reject it.
    let leaky = |x: &Tensor<u64>, seed: u64| -> Vec<Tensor<u64>> {
        let r = Prg::new(&Seed::from_u64(seed)).u64_tensor(x.shape()).map(|w| w & 0x00FF_FFFF_FFFF_FFFF);
        vec![r.clone(), x.sub(&r).unwrap()]
    };
    let a = leaky(&Tensor::zeros(&[SAMPLES]), 1);
    let b = leaky(&Tensor::full(&[SAMPLES], 0x8000_0000_0000_0001), 2);
    let c = chi_square_homogeneity(&view_histogram(&a, &[1]), &view_histogram(&b, &[1])).unwrap();
    assert!(!c.accepts(ALPHA), "the leak went unnoticed: {c:?}");
    // ...and the share that lacks its top byte is visibly non-uniform.
    assert!(!chi_square_uniform(&view_histogram(&a, &[0])).unwrap().accepts(ALPHA));
}

#[test]
fn first_n_minus_1_shares_do_not_depend_on_the_secret_at_all() {
    // Deterministic: with the same PRG seed, parties 0 .. n−2 receive exactly the same
    // shares whatever the secret (they are the PRG output); only the last share differs.
    for n in [2usize, 3, 5] {
        let x = Tensor::<u64>::from_vec(vec![0, 1, u64::MAX, 1 << 63]);
        let y = Tensor::<u64>::from_vec(vec![7, 0, 12345, 1]);
        let seed = Seed::from_u64(42);
        let sx = AdditiveShares::split(&x, n, &mut Prg::new(&seed)).unwrap();
        let sy = AdditiveShares::split(&y, n, &mut Prg::new(&seed)).unwrap();
        assert_eq!(sx.shares()[..n - 1], sy.shares()[..n - 1]);
        assert_ne!(sx.shares()[n - 1], sy.shares()[n - 1]);
        // For any other set of n − 1 parties (missing party j), adding y − x to party j's
        // share maps sharings of x onto sharings of y without changing the view of the
        // others: a bijection on the randomness, so the views are identically distributed.
        let delta = y.sub(&x).unwrap();
        for j in 0..n - 1 {
            let mut shifted = sx.shares().to_vec();
            shifted[j] = shifted[j].add(&delta).unwrap();
            let shifted = AdditiveShares::from_shares(shifted).unwrap();
            assert_eq!(shifted.reconstruct(), y);
            for p in (0..n).filter(|&p| p != j) {
                assert_eq!(shifted.shares()[p], sx.shares()[p]);
            }
        }
    }
}

#[test]
fn shares_cover_the_whole_ring() {
    // PySyft drew shares from [−2^63, 2^63 − 1), missing one value; ours are PRG words, so
    // both extremes occur in a large enough sample of the top byte.
    let x = Tensor::<u64>::zeros(&[SAMPLES]);
    let sh = AdditiveShares::split(&x, 2, &mut Prg::new(&Seed::from_u64(3))).unwrap();
    let top: Vec<u8> = sh.shares()[0].data().iter().map(|w| w.to_be_bytes()[0]).collect();
    assert!(top.contains(&0x00) && top.contains(&0xFF) && top.contains(&0x7F) && top.contains(&0x80));
}
