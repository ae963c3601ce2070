//! Bytes and online rounds per element, measured on the in-memory network, against
//! docs/PROTOCOLS.md §6.9 (exact formulas, per sender) and the SecureNN paper's Tables 1–2
//! (upper bounds on the total, with ℓ = 64 and log p = 8; bits / 8 = bytes).
//!
//! Bytes are payload bytes sent per element (per row for argmax, per window for pooling),
//! for party 0, party 1 and the helper. Rounds are online rounds: the longest chain of
//! dependent messages, offline dealer material counting 0 (see `common`).
//!
//! `cargo test -p syft-securenn --test costs -- --nocapture` prints the table of the
//! crate README.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

mod common;

use common::{run, signed_tensor};
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Accounting, BitProducts, Config, DivParams, Helper, Pool2d, Profile, SnnParty, Width};

/// Elements (rows, windows) per measurement: a multiple of 5, so that every message of
/// `Z_67` digits (`N·k` or a multiple, `k` even) fills whole words of ten digits under
/// compressed accounting.
const N: usize = 80;

type PartyFn = Box<dyn Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync>;
type HelperFn = Box<dyn Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync>;

/// One protocol to measure: its input (per unit: element, row or window), the party and
/// helper calls.
struct Case {
    name: &'static str,
    input: Tensor<u64>,
    units: usize,
    party: PartyFn,
    helper: HelperFn,
}

fn values(n: usize, seed: u64) -> Vec<i64> {
    let mut prg = Prg::new(&Seed::from_u64(seed));
    (0..n).map(|_| (prg.next_u64() as i64) >> 4).collect()
}

fn cases(units: usize) -> Vec<Case> {
    let x = signed_tensor(&values(units, 1));
    let n = units;
    let rows10 = Tensor::new(&[units, 10], values(units * 10, 2).iter().map(|&v| v as u64).collect()).unwrap();
    let img2 = Tensor::new(&[1, 1, 2, 2 * units], values(4 * units, 3).iter().map(|&v| v as u64).collect()).unwrap();
    let img3 = Tensor::new(&[1, 1, 3, 3 * units], values(9 * units, 4).iter().map(|&v| v as u64).collect()).unwrap();
    let idx = Tensor::from_vec((0..units as u64).map(|i| i % 4).collect());
    let pos = Tensor::from_vec((0..units as u64).map(|i| 1000 + i).collect());
    let div_params = DivParams { scale: 1000, quotient_bits: 10 };
    vec![
        Case {
            name: "ShareConvert",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.share_convert(&s[0])?.map(|v| v.get())])),
            helper: Box::new(move |h| h.share_convert(&[n])),
        },
        Case {
            name: "ComputeMSB",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.compute_msb(&s[0].map(syft_ring::OddRing::new))?])),
            helper: Box::new(move |h| h.compute_msb(&[n])),
        },
        Case {
            name: "DReLU",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.drelu(&s[0])?])),
            helper: Box::new(move |h| h.drelu(&[n])),
        },
        Case {
            name: "ReLU",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.relu(&s[0])?.value])),
            helper: Box::new(move |h| h.relu(&[n])),
        },
        Case {
            name: "ReLU backward",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.relu_backward(&s[0], &s[0])?])),
            helper: Box::new(move |h| h.relu_backward(&[n])),
        },
        Case {
            name: "SelectShare",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.select(&s[0], &s[0], &s[0])?])),
            helper: Box::new(move |h| h.select(&[n])),
        },
        Case {
            name: "x > y (shared)",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.gt(&s[0], &s[0])?])),
            helper: Box::new(move |h| h.gt(&[n])),
        },
        Case {
            name: "x == y (shared)",
            input: x.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.eq(&s[0], &s[0])?])),
            helper: Box::new(move |h| h.eq(&[n])),
        },
        Case {
            name: "argmax k=10 (per row)",
            input: rows10.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.argmax(&s[0], 1)?.index])),
            helper: Box::new(move |h| h.argmax(&[n, 10], 1)),
        },
        Case {
            name: "max k=10 (per row)",
            input: rows10.clone(),
            units,
            party: Box::new(|p, s| Ok(vec![p.max(&s[0], 1)?])),
            helper: Box::new(move |h| h.max(&[n, 10], 1)),
        },
        Case {
            name: "argmax one-hot k=10 (per row)",
            input: rows10,
            units,
            party: Box::new(|p, s| Ok(vec![p.argmax_one_hot(&s[0], 1)?.index])),
            helper: Box::new(move |h| h.argmax_one_hot(&[n, 10], 1)),
        },
        Case {
            name: "MaxPool 2x2 + mask (per window)",
            input: img2,
            units,
            party: Box::new(|p, s| Ok(vec![p.maxpool2d(&s[0], Pool2d::new(2, 2))?.value])),
            helper: Box::new(move |h| h.maxpool2d(&[1, 1, 2, 2 * n], Pool2d::new(2, 2))),
        },
        Case {
            name: "MaxPool 3x3 + mask (per window)",
            input: img3,
            units,
            party: Box::new(|p, s| Ok(vec![p.maxpool2d(&s[0], Pool2d::new(3, 3))?.value])),
            helper: Box::new(move |h| h.maxpool2d(&[1, 1, 3, 3 * n], Pool2d::new(3, 3))),
        },
        Case {
            name: "DMP n=4 (per window)",
            input: idx,
            units,
            party: Box::new(|p, s| Ok(vec![p.dmp(&s[0], 4)?])),
            helper: Box::new(move |h| h.dmp(&[n], 4)),
        },
        Case {
            name: "DIV s=1000 K=10",
            input: pos,
            units,
            party: Box::new(move |p, s| Ok(vec![p.div(&s[0], &s[0], div_params)?])),
            helper: Box::new(move |h| h.div(&[n], div_params)),
        },
    ]
}

/// Measured bytes per unit (party 0, party 1, helper) and online rounds.
fn measure(config: Config, case: &Case) -> ([f64; 3], u64) {
    measure_at(config, case, Width::FULL)
}

/// [`measure`] with the comparisons at `width`.
fn measure_at(config: Config, case: &Case, width: Width) -> ([f64; 3], u64) {
    let r = run(
        config,
        77,
        std::slice::from_ref(&case.input),
        |p, s| {
            p.set_width(width);
            (case.party)(p, s)
        },
        |h| {
            h.set_width(width);
            (case.helper)(h)
        },
    );
    let per = |i: usize| r.sent(i) as f64 / case.units as f64;
    ([per(0), per(1), per(2)], r.rounds())
}

fn configs() -> [(Config, &'static str); 5] {
    [
        (Config::fast(), "fast, compressed"),
        (Config::fast().with_bit_products(BitProducts::Beaver), "fast, Beaver bit products"),
        (Config::fast().with_accounting(Accounting::Paper), "fast, paper acct."),
        (Config::paper(), "paper, compressed"),
        (Config::paper().with_accounting(Accounting::Paper), "paper, paper acct."),
    ]
}

/// DReLU per element (P0, P1, helper) and rounds at width `k` (docs/PROTOCOLS.md §6.9):
/// with `B = ⌈k/8⌉` bytes per value of `Z_2^k` or `Z_(2^k−1)` and `k` digits of PrivateCompare,
/// - fast: `B + k` from each party (the share of `c`, PrivateCompare), `B + k + 8` from
///   the helper (`x`, its bits, the output bit over `Z_L`), twice that under paper
///   accounting; 3 rounds;
/// - paper profile: ShareConvert `B + k` / `k + 2B` and ComputeMSB `B + k + 16` /
///   `B + k + 24` (a Beaver product), under paper accounting `2(k + 2B)` and
///   `2(B + k + 16) + 8` from the helper; 8 rounds.
///
/// At `k = 64`: 72 / 72 / 80 (fast) and 160 / 160 / 176 (paper profile).
fn drelu_cost_at(c: Config, width: Width) -> ([f64; 3], u64) {
    let paper_acct = c.accounting == Accounting::Paper;
    let (b, k) = (width.bytes() as f64, f64::from(width.bits()));
    let dk = digit_bytes(c, width);
    match c.profile {
        Profile::Fast => ([b + dk, b + dk, if paper_acct { 2.0 * (b + k + 8.0) } else { b + dk + 8.0 }], 3),
        _ => {
            let parties = 2.0 * b + 2.0 * dk + 16.0;
            let helper =
                if paper_acct { 2.0 * (k + 2.0 * b) + 2.0 * (b + k + 16.0) + 8.0 } else { 3.0 * b + 2.0 * dk + 24.0 };
            ([parties, parties, helper], 8)
        }
    }
}

/// Bytes of `k` digits of `Z_67` (one element's PrivateCompare message, or the helper's
/// shares of its bits): packed ten to an 8-byte word under compressed accounting (0.8
/// bytes per digit when the message fills whole words, as every message here does), one
/// byte each under paper accounting.
fn digit_bytes(c: Config, width: Width) -> f64 {
    let k = f64::from(width.bits());
    if c.accounting == Accounting::Paper { k } else { k * 8.0 / 10.0 }
}

const MUL: [f64; 3] = [16.0, 16.0, 8.0];

/// Per-sender bytes equal up to rounding (the formulas have tenths of bytes).
fn assert_close(got: [f64; 3], want: [f64; 3], what: &str) {
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-9), "{what}: got {got:?}, want {want:?}");
}

/// One product of a DReLU bit with a payload value (docs/PROTOCOLS.md §6.6) and the rounds
/// it adds: fast profile, `v + ρ` from each party (8 bytes) and `g·(v + ρ)` from the
/// helper (8, or 16 under paper accounting), riding on DReLU's rounds; paper profile, a
/// Beaver product after DReLU.
fn times_cost(c: Config) -> ([f64; 3], u64) {
    match (c.profile, c.bit_products) {
        (Profile::Fast, BitProducts::ThroughHelper) => {
            ([8.0, 8.0, if c.accounting == Accounting::Paper { 16.0 } else { 8.0 }], 0)
        }
        _ => (MUL, 1),
    }
}

fn add(a: [f64; 3], b: [f64; 3], times_b: f64) -> [f64; 3] {
    [a[0] + times_b * b[0], a[1] + times_b * b[1], a[2] + times_b * b[2]]
}

/// The exact formula of each case under `c` (our algorithms), per unit.
fn formula(name: &str, c: Config) -> Option<([f64; 3], u64)> {
    formula_at(name, c, Width::FULL)
}

/// [`formula`] with the comparisons at `width` (ShareConvert and ComputeMSB on their own
/// always run at the full width).
fn formula_at(name: &str, c: Config, width: Width) -> Option<([f64; 3], u64)> {
    let (d, rd) = drelu_cost_at(c, width);
    // A DReLU followed by products with its bits: `rs` rounds.
    let (t, rt) = times_cost(c);
    let rs = rd + rt;
    let paper_acct = c.accounting == Accounting::Paper;
    let helper_share = if paper_acct { 16.0 } else { 8.0 };
    // ShareConvert and ComputeMSB on their own run at 64 bits.
    let d64 = digit_bytes(c, Width::FULL);
    // argmax over k = 10 by the tournament: 9 DReLUs; products: 9 for the values, 9 − 5
    // for the indices (the 5 first-level pairs select locally).
    Some(match name {
        "ShareConvert" => ([8.0 + d64, 8.0 + d64, if paper_acct { 160.0 } else { d64 + 16.0 }], 4),
        "ComputeMSB" => match c.profile {
            Profile::Fast => ([8.0 + d64, 8.0 + d64, if paper_acct { 160.0 } else { d64 + 16.0 }], 3),
            _ => ([24.0 + d64, 24.0 + d64, if paper_acct { 184.0 } else { d64 + 32.0 }], 4),
        },
        "DReLU" | "x > y (shared)" => (d, rd),
        "x == y (shared)" => (add([0.0; 3], d, 2.0), rd),
        "ReLU" => (add(d, t, 1.0), rs),
        "ReLU backward" | "SelectShare" => (MUL, 1),
        "argmax k=10 (per row)" => (add(add([0.0; 3], d, 9.0), t, 13.0), 4 * rs),
        "max k=10 (per row)" => (add(add([0.0; 3], d, 9.0), t, 9.0), 4 * rs),
        // one-hot: level 1 local; levels 2–4 track 2·(2 + 2) + (4 + 4) + (8 + 2) columns.
        "argmax one-hot k=10 (per row)" => (add(add([0.0; 3], d, 9.0), t, 9.0 + 26.0), 4 * rs),
        // 2x2: level 1 local, level 2 tracks 2 + 2 columns; 3x3: levels 2–4 track 8 + 8 + 8.
        "MaxPool 2x2 + mask (per window)" => (add(add([0.0; 3], d, 3.0), t, 3.0 + 4.0), 2 * rs),
        "MaxPool 3x3 + mask (per window)" => (add(add([0.0; 3], d, 8.0), t, 8.0 + 24.0), 4 * rs),
        "DMP n=4 (per window)" => ([8.0, 8.0, 4.0 * helper_share], 2),
        "DIV s=1000 K=10" => (add(add([0.0; 3], d, 10.0), t, 10.0), 10 * rs),
        _ => return None,
    })
}

/// The paper's totals (all senders, bytes per unit) and rounds, where Tables 1–2 give them.
fn paper_bound(name: &str) -> Option<(f64, u64)> {
    let l = 8.0; // ℓ bits = 8 bytes
    let llogp = 64.0; // ℓ·log p bits = 64 bytes
    Some(match name {
        "ShareConvert" => (4.0 * llogp + 6.0 * l, 4),
        "ComputeMSB" => (4.0 * llogp + 13.0 * l, 5),
        "DReLU" | "x > y (shared)" => (8.0 * llogp + 19.0 * l, 8),
        "ReLU" => (8.0 * llogp + 24.0 * l, 10),
        "SelectShare" | "ReLU backward" => (5.0 * l, 2),
        "x == y (shared)" => (2.0 * (8.0 * llogp + 19.0 * l), 8),
        // MaxPool_n (linear scan with index) plus DMP_n for the mask; the paper's argmax
        // is MaxPool over the k logits.
        "argmax k=10 (per row)" | "max k=10 (per row)" => (9.0 * (8.0 * llogp + 29.0 * l), 81),
        // k = 10 is not a power of two, so no DMP: the bound (docs/PROTOCOLS.md §6.9)
        // tracks the one-hot vector during the scan instead, k more products per step.
        "argmax one-hot k=10 (per row)" => (9.0 * (8.0 * llogp + 29.0 * l) + 9.0 * 10.0 * 5.0 * l, 81),
        "MaxPool 2x2 + mask (per window)" => (3.0 * (8.0 * llogp + 29.0 * l) + 2.0 * 5.0 * l, 29),
        "MaxPool 3x3 + mask (per window)" => (8.0 * (8.0 * llogp + 29.0 * l) + 8.0 * 9.0 * 5.0 * l, 72),
        "DMP n=4 (per window)" => (2.0 * 5.0 * l, 2),
        "DIV s=1000 K=10" => (10.0 * (8.0 * llogp + 24.0 * l), 100),
        _ => return None,
    })
}

#[test]
fn costs_equal_the_formulas_and_stay_within_the_paper() {
    println!("| protocol | configuration | P0 | P1 | helper | total | rounds | paper total | paper rounds |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for case in cases(N) {
        for (config, cname) in configs() {
            let (bytes, rounds) = measure(config, &case);
            let total: f64 = bytes.iter().sum();
            let (want, want_rounds) = formula(case.name, config).unwrap();
            assert_close(bytes, want, &format!("{}, {cname}: bytes per unit", case.name));
            assert_eq!(rounds, want_rounds, "{}, {cname}: rounds", case.name);
            let (bound, bound_rounds) = paper_bound(case.name).unwrap();
            // The paper's figures assume paper accounting; compressed accounting only saves.
            assert!(total <= bound, "{}, {cname}: {total} > paper {bound}", case.name);
            assert!(rounds <= bound_rounds, "{}, {cname}: {rounds} rounds > paper {bound_rounds}", case.name);
            println!(
                "| {} | {cname} | {:.1} | {:.1} | {:.1} | {total:.1} | {rounds} | {bound} | {bound_rounds} |",
                case.name, bytes[0], bytes[1], bytes[2]
            );
        }
    }
}

/// At 32 bits (the workers' width for fixed-point values) every protocol built on DReLU
/// costs exactly the `k = 32` formulas of docs/PROTOCOLS.md §6.9: fast DReLU 36 / 36 / 44
/// bytes, ReLU 44 / 44 / 52, the same rounds as at 64 bits.
#[test]
fn costs_at_32_bits_equal_the_formulas() {
    let width = Width::FIXED_POINT;
    let (fast, fast_rounds) = drelu_cost_at(Config::fast(), width);
    assert_close(fast, [29.6, 29.6, 37.6], "fast DReLU at 32 bits");
    assert_eq!(fast_rounds, 3);
    let (paper, paper_rounds) = drelu_cost_at(Config::paper(), width);
    assert_close(paper, [75.2, 75.2, 87.2], "paper-profile DReLU at 32 bits");
    assert_eq!(paper_rounds, 8);
    println!("| protocol | configuration | P0 | P1 | helper | rounds | at 64 bits |");
    println!("|---|---|---|---|---|---|---|");
    for case in cases(N) {
        if matches!(case.name, "ShareConvert" | "ComputeMSB") {
            continue;
        }
        for (config, cname) in configs() {
            let (bytes, rounds) = measure_at(config, &case, width);
            let (want, want_rounds) = formula_at(case.name, config, width).unwrap();
            assert_close(bytes, want, &format!("{}, {cname}, k = 32: bytes per unit", case.name));
            assert_eq!(rounds, want_rounds, "{}, {cname}, k = 32: rounds", case.name);
            let (full, full_rounds) = formula(case.name, config).unwrap();
            assert_eq!(rounds, full_rounds, "{}: the width does not change the rounds", case.name);
            println!(
                "| {} | {cname} | {:.1} | {:.1} | {:.1} | {rounds} | {:.1?} |",
                case.name, bytes[0], bytes[1], bytes[2], full
            );
        }
    }
}

/// The paper profile under paper accounting reproduces the paper's Tables 1–2 exactly
/// (docs/PROTOCOLS.md §6.9): DReLU `8ℓ log p + 19ℓ`, ReLU `+ 5ℓ`,
/// ShareConvert `4ℓ log p + 6ℓ`, ComputeMSB `4ℓ log p + 13ℓ`, DIV `8ℓ log p + 24ℓ` per bit.
#[test]
fn paper_profile_reproduces_the_paper_tables() {
    let config = Config::paper().with_accounting(Accounting::Paper);
    for case in cases(N) {
        let exact =
            ["ShareConvert", "ComputeMSB", "DReLU", "ReLU", "SelectShare", "DMP n=4 (per window)", "DIV s=1000 K=10"];
        if exact.contains(&case.name) {
            let (bytes, _) = measure(config, &case);
            let total: f64 = bytes.iter().sum();
            assert_eq!(total, paper_bound(case.name).unwrap().0, "{}", case.name);
        }
    }
}

/// Rounds never depend on the number of elements, except that few rows of argmax and max
/// switch to all pairs (below; 40 rows of 10 are past that switch).
#[test]
fn rounds_do_not_depend_on_the_size() {
    for (config, _) in configs() {
        for (a, b) in cases(40).iter().zip(cases(300).iter()) {
            assert_eq!(measure(config, a).1, measure(config, b).1, "{}", a.name);
        }
    }
}

/// A few rows of argmax, its one-hot form and max over k = 10 go by all pairs
/// (docs/PROTOCOLS.md §8.1): per row 45 DReLUs, then 10 with 10 products riding on them,
/// in two DReLUs' rounds instead of the tournament's four; at both widths. The paper has
/// no figure for this trade of bytes for rounds.
#[test]
fn a_few_rows_of_argmax_go_by_all_pairs_in_two_comparisons() {
    const ROWS: usize = 4;
    let rows = Tensor::new(&[ROWS, 10], values(ROWS * 10, 5).iter().map(|&v| v as u64).collect()).unwrap();
    let cases = [
        Case {
            name: "argmax",
            input: rows.clone(),
            units: ROWS,
            party: Box::new(|p, s| Ok(vec![p.argmax(&s[0], 1)?.index])),
            helper: Box::new(|h| h.argmax(&[ROWS, 10], 1)),
        },
        Case {
            name: "argmax one-hot",
            input: rows.clone(),
            units: ROWS,
            party: Box::new(|p, s| Ok(vec![p.argmax_one_hot(&s[0], 1)?.index])),
            helper: Box::new(|h| h.argmax_one_hot(&[ROWS, 10], 1)),
        },
        Case {
            name: "max",
            input: rows,
            units: ROWS,
            party: Box::new(|p, s| Ok(vec![p.max(&s[0], 1)?])),
            helper: Box::new(|h| h.max(&[ROWS, 10], 1)),
        },
    ];
    for width in [Width::FULL, Width::FIXED_POINT] {
        for case in &cases {
            for (config, cname) in configs() {
                let (bytes, rounds) = measure_at(config, case, width);
                let (d, rd) = drelu_cost_at(config, width);
                let (t, rt) = times_cost(config);
                let want = add(add([0.0; 3], d, 55.0), t, 10.0);
                assert_close(bytes, want, &format!("{}, {cname}, {width:?}: bytes per row", case.name));
                assert_eq!(rounds, 2 * rd + rt, "{}, {cname}, {width:?}: rounds", case.name);
            }
        }
    }
}
