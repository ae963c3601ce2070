//! Softmax, the softmax cross-entropy and its gradient (`syft_securenn::softmax`) between
//! two parties and the helper, in one process: against plaintext `f64` within the
//! documented accuracy, against the orchestrator's op-by-op formula within the
//! first-order bound of its truncations (`syft_spdz::dev`), and their bytes and online
//! rounds against docs/PROTOCOLS.md §11.6.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]
#![allow(clippy::cast_precision_loss, reason = "small counts")]

mod common;

use common::{Run, run};
use proptest::prelude::*;
use syft_fixed::FixedEncoder;
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::softmax::{CROSS_ENTROPY_LN_ITERATIONS, SOFTMAX_RECIPROCAL_ITERATIONS};
use syft_securenn::{Accounting, Config, Helper, SnnParty};
use syft_spdz::dev::{Rounded, Roundings};

type PartyFn = Box<dyn Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync>;
type HelperFn = Box<dyn Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync>;

/// The `secure_training_mnist` example's default encoding (`--precision 4`).
fn enc4() -> FixedEncoder {
    FixedEncoder::new(10, 4).unwrap()
}

fn enc16() -> FixedEncoder {
    FixedEncoder::binary(16).unwrap()
}

/// `rows × k` logits uniform in `[−spread/2, spread/2]`, as encoded and decoded, and
/// one-hot targets of random classes.
fn batch(seed: u64, rows: usize, k: usize, spread: f64, enc: FixedEncoder) -> (Tensor<u64>, Tensor<u64>, Vec<f64>) {
    let mut prg = Prg::new(&Seed::from_u64(seed));
    let z: Vec<f64> =
        (0..rows * k).map(|_| spread * ((prg.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)).collect();
    let zt = enc.encode(&Tensor::new(&[rows, k], z).unwrap()).unwrap();
    let classes: Vec<usize> = (0..rows).map(|_| (prg.next_u64() % k as u64) as usize).collect();
    let y = enc.encode(&Tensor::<f64>::one_hot(&classes, k).unwrap()).unwrap();
    let decoded = enc.decode::<f64>(&zt).into_vec();
    (zt, y, decoded)
}

fn decode(enc: FixedEncoder, t: &Tensor<u64>) -> Vec<f64> {
    enc.decode::<f64>(t).into_vec()
}

/// Plaintext softmax of one row.
fn softmax_f64(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Plaintext cross-entropy of one row against class `c`.
fn cross_entropy_f64(z: &[f64], c: usize) -> f64 {
    let m = z.iter().copied().fold(f64::MIN, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[c]
}

fn class_of(y: &[f64]) -> usize {
    y.iter().position(|&v| v == 1.0).unwrap()
}

/// Runs the four protocols on `[rows, k]` logits: softmax, the loss, its gradient, and
/// both together (outputs: softmax, loss, gradient, fused loss, fused gradient).
fn run_all(config: Config, seed: u64, enc: FixedEncoder, z: &Tensor<u64>, y: &Tensor<u64>) -> Run {
    let shape = z.shape().to_vec();
    run(
        config,
        seed,
        &[z.clone(), y.clone()],
        |p, s| {
            let sm = p.softmax(&s[0], enc)?;
            let ce = p.cross_entropy(&s[0], &s[1], enc)?;
            let grad = p.cross_entropy_backward(&s[0], &s[1], enc)?;
            let both = p.softmax_cross_entropy(&s[0], &s[1], enc)?;
            Ok(vec![sm, ce, grad, both.loss, both.grad])
        },
        move |h| {
            h.softmax(&shape, enc)?;
            h.cross_entropy(&shape, enc)?;
            h.cross_entropy_backward(&shape, enc)?;
            h.softmax_cross_entropy(&shape, enc)
        },
    )
}

// ---------------------------------------------------------------------------------------
// Against plaintext f64.

/// Documented accuracy of softmax (and so of the gradient), absolute, for logit ranges up
/// to 10 and `k ≤ 30`.
fn softmax_tolerance(enc: FixedEncoder) -> f64 {
    if enc.scale() >= 1 << 16 { 0.01 } else { 0.02 }
}

/// Documented accuracy of one row's loss: the logarithm's on `[1, k]`, plus a few units.
fn row_loss_tolerance(enc: FixedEncoder, k: usize) -> f64 {
    (k as f64).ln().powi(2) / 512.0 + 512.0 / enc.scale() as f64 + 0.005
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn softmax_and_the_loss_approximate_plaintext(
        rows in 1usize..24,
        k in prop_oneof![Just(2usize), Just(10), 3usize..26],
        spread in 0.5f64..10.0,
        binary: bool,
        fast: bool,
        seed: u64,
    ) {
        let enc = if binary { enc16() } else { enc4() };
        let config = if fast { Config::fast() } else { Config::paper() };
        let (z, y, zs) = batch(seed, rows, k, spread, enc);
        let r = run_all(config, seed, enc, &z, &y);
        let ys = decode(enc, &y);
        let tol = softmax_tolerance(enc);
        let mut loss = 0.0;
        for row in 0..rows {
            let zr = &zs[row * k..(row + 1) * k];
            let c = class_of(&ys[row * k..(row + 1) * k]);
            let want = softmax_f64(zr);
            loss += cross_entropy_f64(zr, c);
            for (out, minus_y) in [(0, false), (2, true), (4, true)] {
                let got = decode(enc, &r.outputs[out]);
                for j in 0..k {
                    let w = want[j] - if minus_y && j == c { 1.0 } else { 0.0 };
                    let g = got[row * k + j];
                    prop_assert!((g - w).abs() <= tol, "output {} [{}, {}]: {} vs {}", out, row, j, g, w);
                }
            }
        }
        let ltol = rows as f64 * row_loss_tolerance(enc, k);
        for out in [1, 3] {
            let got = decode(enc, &r.outputs[out])[0];
            prop_assert!((got - loss).abs() <= ltol, "loss (output {}): {} vs {} ± {}", out, got, loss, ltol);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Against the orchestrator's formula.

/// One row of the orchestrator's softmax and loss, with the bounds of their truncations.
fn reference(enc: FixedEncoder, z: &[f64], c: usize) -> (Vec<Rounded>, Rounded) {
    let k = z.len();
    let mut r = Roundings::new(enc);
    let m = z.iter().copied().fold(f64::MIN, f64::max);
    let e: Vec<Rounded> = z.iter().map(|&v| syft_spdz::dev::exp(&mut r, &Rounded::exact(v - m))).collect();
    let sum = e.iter().fold(Rounded::exact(0.0), |a, b| a.add(b));
    let inv = syft_spdz::dev::reciprocal(&mut r, &sum, 1.0 / k as f64, SOFTMAX_RECIPROCAL_ITERATIONS);
    let p = e.iter().map(|ei| r.round(&ei.mul(&inv))).collect();
    let ln = syft_spdz::dev::ln(&mut r, &sum, CROSS_ENTROPY_LN_ITERATIONS);
    // Σ y·z of one row is z[c], exact at scale s², then one truncation.
    let loss = ln.add_const(m).sub(&r.round(&Rounded::exact(z[c])));
    (p, loss)
}

/// `|got − formula| ≤ 1.1·bound + 2 units` (second-order margin); returns the largest
/// share of the tolerance used.
fn within(what: &str, enc: FixedEncoder, got: f64, want: &Rounded) -> f64 {
    let tol = 1.1 * want.bound() + 2.0 * enc.resolution();
    let dev = (got - want.value()).abs();
    assert!(dev <= tol, "{what}: got {got}, formula {} ± {tol}", want.value());
    dev / tol
}

#[test]
fn the_protocols_compute_the_orchestrators_formulas() {
    for (enc, seed) in [(enc4(), 1), (enc16(), 2)] {
        // 30 rows of 10 classes: 300 softmax values, gradients and fused gradients.
        let (rows, k) = (30, 10);
        let (z, y, zs) = batch(seed, rows, k, 8.0, enc);
        let ys = decode(enc, &y);
        let r = run_all(Config::fast(), seed, enc, &z, &y);
        let (mut worst, mut total) = (0.0f64, Rounded::exact(0.0));
        for row in 0..rows {
            let zr = &zs[row * k..(row + 1) * k];
            let c = class_of(&ys[row * k..(row + 1) * k]);
            let (p, loss) = reference(enc, zr, c);
            total = total.add(&loss);
            for (j, pj) in p.iter().enumerate() {
                let i = row * k + j;
                let onehot = if j == c { 1.0 } else { 0.0 };
                worst = worst.max(within("softmax", enc, decode(enc, &r.outputs[0])[i], pj));
                for out in [2, 4] {
                    worst = worst.max(within("gradient", enc, decode(enc, &r.outputs[out])[i] + onehot, pj));
                }
            }
        }
        for out in [1, 3] {
            within("batch loss", enc, decode(enc, &r.outputs[out])[0], &total);
        }
        // The bound is not vacuous: the deviations use a good part of it.
        assert!(worst > 0.05, "softmax deviations at most {worst} of the bound");
    }
}

#[test]
fn each_rows_loss_is_the_orchestrators_formula() {
    // 300 losses, one call per row (each call one row of 10 classes).
    let (enc, rows, k) = (enc4(), 300, 10);
    let (z, y, zs) = batch(7, rows, k, 8.0, enc);
    let ys = decode(enc, &y);
    let r = run(
        Config::fast(),
        7,
        &[z, y],
        move |p, s| {
            let mut out = Vec::with_capacity(rows);
            for row in 0..rows {
                let zr = s[0].slice_axis(0, row, row + 1)?;
                let yr = s[1].slice_axis(0, row, row + 1)?;
                out.push(p.cross_entropy(&zr, &yr, enc)?);
            }
            Ok(out)
        },
        move |h| (0..rows).try_for_each(|_| h.cross_entropy(&[1, k], enc)),
    );
    let mut worst: f64 = 0.0;
    for row in 0..rows {
        let zr = &zs[row * k..(row + 1) * k];
        let c = class_of(&ys[row * k..(row + 1) * k]);
        let (_, loss) = reference(enc, zr, c);
        worst = worst.max(within("row loss", enc, decode(enc, &r.outputs[row])[0], &loss));
        let plain = cross_entropy_f64(zr, c);
        let got = decode(enc, &r.outputs[row])[0];
        assert!((got - plain).abs() <= row_loss_tolerance(enc, k), "row {row}: {got} vs {plain}");
    }
    assert!(worst > 0.05, "loss deviations at most {worst} of the bound");
}

// ---------------------------------------------------------------------------------------
// Costs.

/// Bytes per row sent by party 0, party 1 and the helper, and online rounds, of the four
/// protocols after the maximum (docs/PROTOCOLS.md §11.6), `k` classes, `rows` rows.
fn formula(rows: u64, k: u64) -> [([u64; 3], u64); 4] {
    let softmax = [rows * (72 * k + 232), rows * (72 * k + 232), rows * (72 * k + 112)];
    let loss = [rows * (80 * k + 400), rows * (80 * k + 400), rows * (64 * k + 360) + 8];
    let both = [rows * (88 * k + 632), rows * (88 * k + 632), rows * (72 * k + 472) + 8];
    [(softmax, 23), (loss, 54), (softmax, 23), (both, 69)]
}

#[test]
fn bytes_and_rounds_are_the_maximum_plus_the_formulas() {
    let configs = [Config::fast(), Config::paper(), Config::fast().with_accounting(Accounting::Paper)];
    for config in configs {
        for (rows, k) in [(7usize, 10usize), (3, 2), (5, 17)] {
            let enc = enc4();
            let (z, y, _) = batch(3, rows, k, 6.0, enc);
            let shape = vec![rows, k];
            let max = {
                let shape = shape.clone();
                run(config, 3, std::slice::from_ref(&z), |p, s| Ok(vec![p.max(&s[0], 1)?]), move |h| h.max(&shape, 1))
            };
            let protocols: [(&str, PartyFn, HelperFn); 4] = [
                ("softmax", Box::new(move |p, s| Ok(vec![p.softmax(&s[0], enc)?])), {
                    let shape = shape.clone();
                    Box::new(move |h| h.softmax(&shape, enc))
                }),
                ("cross_entropy", Box::new(move |p, s| Ok(vec![p.cross_entropy(&s[0], &s[1], enc)?])), {
                    let shape = shape.clone();
                    Box::new(move |h| h.cross_entropy(&shape, enc))
                }),
                (
                    "cross_entropy_backward",
                    Box::new(move |p, s| Ok(vec![p.cross_entropy_backward(&s[0], &s[1], enc)?])),
                    {
                        let shape = shape.clone();
                        Box::new(move |h| h.cross_entropy_backward(&shape, enc))
                    },
                ),
                (
                    "softmax_cross_entropy",
                    Box::new(move |p, s| {
                        let r = p.softmax_cross_entropy(&s[0], &s[1], enc)?;
                        Ok(vec![r.loss, r.grad])
                    }),
                    {
                        let shape = shape.clone();
                        Box::new(move |h| h.softmax_cross_entropy(&shape, enc))
                    },
                ),
            ];
            for ((name, party, helper), (bytes, rounds)) in protocols.into_iter().zip(formula(rows as u64, k as u64)) {
                let r = run(config, 3, &[z.clone(), y.clone()], party, helper);
                for (i, b) in bytes.iter().enumerate() {
                    assert_eq!(r.sent(i), max.sent(i) + b, "{name} {config:?} [{rows}, {k}]: endpoint {i}");
                }
                assert_eq!(r.rounds(), max.rounds() + rounds, "{name} {config:?} [{rows}, {k}]: rounds");
            }
        }
    }
}

#[test]
fn bad_arguments_fail_at_every_endpoint_before_any_message() {
    let enc = enc4();
    let integers = FixedEncoder::new(10, 0).unwrap();
    let z = Tensor::<u64>::zeros(&[2, 3]);
    let r = run(
        Config::fast(),
        1,
        &[z],
        move |p, s| {
            let x = &s[0];
            assert!(p.softmax(&x.reshape(&[6]).unwrap(), enc).is_err(), "rank 1");
            assert!(p.softmax(&Tensor::zeros(&[2, 0]), enc).is_err(), "no classes");
            assert!(p.softmax(x, integers).is_err(), "integer encoding");
            assert!(p.cross_entropy(x, &x.reshape(&[3, 2]).unwrap(), enc).is_err(), "target shape");
            assert!(p.cross_entropy_backward(x, &Tensor::zeros(&[2, 4]), enc).is_err(), "target shape");
            assert!(p.softmax_cross_entropy(x, &Tensor::zeros(&[1, 3]), enc).is_err(), "target shape");
            // 1/k is zero at the encoding: the reciprocal's start is rejected.
            assert!(p.softmax(&Tensor::zeros(&[1, 30_000]), enc).is_err(), "k too large for the scale");
            // No rows: nothing to compute, nothing sent.
            let empty = p.softmax(&Tensor::zeros(&[0, 4]), enc)?;
            let loss = p.softmax_cross_entropy(&Tensor::zeros(&[0, 4]), &Tensor::zeros(&[0, 4]), enc)?;
            Ok(vec![empty.reshape(&[0])?, loss.loss])
        },
        move |h| {
            assert!(h.softmax(&[6], enc).is_err());
            assert!(h.softmax(&[2, 0], enc).is_err());
            assert!(h.softmax(&[2, 3], integers).is_err());
            assert!(h.cross_entropy(&[2, 3, 1], enc).is_err());
            assert!(h.softmax(&[1, 30_000], enc).is_err());
            h.softmax(&[0, 4], enc)?;
            h.softmax_cross_entropy(&[0, 4], enc)
        },
    );
    assert_eq!(r.total_sent(), 0);
    assert_eq!(r.outputs[1].data(), &[0]);
}
