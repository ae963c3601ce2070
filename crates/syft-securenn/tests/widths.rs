//! Comparisons at a width `k < 64` (docs/PROTOCOLS.md §6.5, §7): DReLU, ReLU, `≥ > ≤ < ==`,
//! max, argmax and max pooling on the `k`-bit reductions of the shares equal the
//! plaintext for values inside `[−2^(k−2), 2^(k−2))` (differences, for comparisons), with
//! random and adversarial share splits, in every configuration; outside the range the
//! results are wrong, not clamped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

mod common;

use common::{all_configs, run, run_shares, signed_tensor, signed_values};
use proptest::prelude::*;
use syft_fixed::FixedEncoder;
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Config, DivParams, Pool2d, Width};

fn config_strategy() -> impl Strategy<Value = Config> {
    (0usize..4).prop_map(|i| all_configs()[i])
}

fn width_strategy() -> impl Strategy<Value = Width> {
    prop_oneof![Just(16u32), Just(32), Just(48), Just(64), 2u32..=64].prop_map(|b| Width::new(b).unwrap())
}

/// `2^(k−2)` as a signed value.
fn limit(w: Width) -> i64 {
    w.drelu_limit() as i64
}

/// A value in `[−lim, lim)`, an edge one time in four.
fn value_in(prg: &mut Prg, lim: i64) -> i64 {
    match prg.next_u64() % 8 {
        0 => lim - 1,
        1 => -lim,
        2 => [0, 1, -1][(prg.next_u64() % 3) as usize].clamp(-lim, lim - 1),
        _ => (prg.next_u64() % (2 * lim as u64)) as i64 - lim,
    }
}

fn bits(v: impl IntoIterator<Item = bool>) -> Tensor<u64> {
    Tensor::from_vec(v.into_iter().map(u64::from).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn relu_at_width_k_matches_plaintext(config in config_strategy(), width in width_strategy(), n in 1usize..40, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let vals: Vec<i64> = (0..n).map(|_| value_in(&mut prg, limit(width))).collect();
        let r = run(config, seed, &[signed_tensor(&vals)], move |p, s| {
            p.set_width(width);
            let out = p.relu(&s[0])?;
            Ok(vec![out.value, out.derivative, p.drelu(&s[0])?])
        }, move |h| { h.set_width(width); h.relu(&[n])?; h.drelu(&[n]) });
        prop_assert_eq!(signed_values(&r.outputs[0]), vals.iter().map(|&v| v.max(0)).collect::<Vec<_>>());
        prop_assert_eq!(&r.outputs[1], &bits(vals.iter().map(|&v| v >= 0)));
        prop_assert_eq!(&r.outputs[2], &bits(vals.iter().map(|&v| v >= 0)));
    }

    #[test]
    fn comparisons_at_width_k_match_plaintext(config in config_strategy(), width in width_strategy(), n in 1usize..30, seed: u64) {
        // |x|, |y| < 2^(k−3): every difference is in DReLU's range.
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let half = (limit(width) / 2).max(1);
        let xs: Vec<i64> = (0..n).map(|_| value_in(&mut prg, half).max(-half + 1)).collect();
        let ys: Vec<i64> = xs.iter().map(|&x| match prg.next_u64() % 3 { 0 => x, 1 => (x + 1).min(half - 1), _ => value_in(&mut prg, half).max(-half + 1) }).collect();
        let y = signed_tensor(&ys);
        let r = run(config, seed, &[signed_tensor(&xs), y.clone()], move |p, s| {
            p.set_width(width);
            Ok(vec![p.ge(&s[0], &s[1])?, p.gt(&s[0], &s[1])?, p.le(&s[0], &s[1])?, p.lt(&s[0], &s[1])?, p.eq(&s[0], &s[1])?, p.lt_public(&s[0], &y)?])
        }, move |h| { h.set_width(width); h.ge(&[n])?; h.gt(&[n])?; h.le(&[n])?; h.lt(&[n])?; h.eq(&[n])?; h.lt(&[n]) });
        let z = || xs.iter().zip(&ys);
        prop_assert_eq!(&r.outputs[0], &bits(z().map(|(a, b)| a >= b)));
        prop_assert_eq!(&r.outputs[1], &bits(z().map(|(a, b)| a > b)));
        prop_assert_eq!(&r.outputs[2], &bits(z().map(|(a, b)| a <= b)));
        prop_assert_eq!(&r.outputs[3], &bits(z().map(|(a, b)| a < b)));
        prop_assert_eq!(&r.outputs[4], &bits(z().map(|(a, b)| a == b)));
        prop_assert_eq!(&r.outputs[5], &bits(z().map(|(a, b)| a < b)));
    }

    #[test]
    fn argmax_max_and_maxpool_at_width_k_match_plaintext(
        config in config_strategy(),
        width in width_strategy(),
        (rows, k) in (1usize..5, 1usize..11),
        tiny in any::<bool>(),
        seed: u64,
    ) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let half = (limit(width) / 2).max(1);
        let draw = |prg: &mut Prg| if tiny { (prg.next_u64() % 3) as i64 - 1 } else { value_in(prg, half).max(-half + 1) };
        let draw = |prg: &mut Prg| { let v = draw(prg); v.clamp(-half + 1, half - 1) };
        let vals: Vec<i64> = (0..rows * k).map(|_| draw(&mut prg)).collect();
        let x = Tensor::new(&[rows, k], vals.iter().map(|&v| v as u64).collect()).unwrap();
        // A 1×1×2×(2·rows) image for a 2×2 pool.
        let img_vals: Vec<i64> = (0..4 * rows).map(|_| draw(&mut prg)).collect();
        let img = Tensor::new(&[1, 1, 2, 2 * rows], img_vals.iter().map(|&v| v as u64).collect()).unwrap();
        let shape = [rows, k];
        let img_shape = [1, 1, 2, 2 * rows];
        let pool = Pool2d::new(2, 2);
        let r = run(config, seed, &[x, img], move |p, s| {
            p.set_width(width);
            let a = p.argmax(&s[0], 1)?;
            let o = p.argmax_one_hot(&s[0], 1)?;
            let m = p.max(&s[0], 1)?;
            let mp = p.maxpool2d(&s[1], pool)?;
            Ok(vec![a.value, a.index, o.one_hot.unwrap(), m, mp.value, mp.mask])
        }, move |h| { h.set_width(width); h.argmax(&shape, 1)?; h.argmax_one_hot(&shape, 1)?; h.max(&shape, 1)?; h.maxpool2d(&img_shape, pool) });
        let mut max = Vec::new();
        let mut idx = Vec::new();
        let mut oh = vec![0u64; rows * k];
        for row in vals.chunks(k) {
            let m = *row.iter().max().unwrap();
            let i = row.iter().position(|&v| v == m).unwrap();
            oh[max.len() * k + i] = 1;
            max.push(m);
            idx.push(i as u64);
        }
        prop_assert_eq!(signed_values(&r.outputs[0]), max.clone());
        prop_assert_eq!(r.outputs[1].data(), &idx[..]);
        prop_assert_eq!(r.outputs[2].data(), &oh[..]);
        prop_assert_eq!(signed_values(&r.outputs[3]), max);
        let mut pooled = Vec::new();
        let mut mask = Vec::new();
        for t in 0..rows {
            let win = [img_vals[2 * t], img_vals[2 * t + 1], img_vals[2 * rows + 2 * t], img_vals[2 * rows + 2 * t + 1]];
            let m = *win.iter().max().unwrap();
            let first = win.iter().position(|&v| v == m).unwrap();
            mask.extend((0..4).map(|q| u64::from(q == first)));
            pooled.push(m);
        }
        prop_assert_eq!(signed_values(&r.outputs[4]), pooled);
        prop_assert_eq!(r.outputs[5].data(), &mask[..]);
    }
}

/// Adversarial share splits at 32 bits: one share (of the 64-bit sharing) at the edges of
/// `Z_2^64` and of `Z_2^32`, every configuration.
/// Thousands of elements: PrivateCompare's messages, the helper's bit shares and the
/// packed digits are computed in parts on the thread pool (docs/PROTOCOLS.md §6.2), in
/// every configuration, at 32 bits and at the full width.
#[test]
fn relu_of_thousands_of_elements_matches_plaintext() {
    let n = 2 * 1024 + 301;
    for (i, config) in all_configs().into_iter().enumerate() {
        for width in [Width::new(32).unwrap(), Width::FULL] {
            let mut prg = Prg::new(&Seed::from_u64(i as u64));
            let vals: Vec<i64> = (0..n).map(|_| value_in(&mut prg, limit(width).min(1 << 40))).collect();
            let r = run(
                config,
                i as u64,
                &[signed_tensor(&vals)],
                move |p, s| {
                    p.set_width(width);
                    let out = p.relu(&s[0])?;
                    Ok(vec![out.value, out.derivative])
                },
                move |h| {
                    h.set_width(width);
                    h.relu(&[n])
                },
            );
            let what = format!("config {i}, {} bits", width.bits());
            assert_eq!(signed_values(&r.outputs[0]), vals.iter().map(|&v| v.max(0)).collect::<Vec<_>>(), "{what}");
            assert_eq!(r.outputs[1], bits(vals.iter().map(|&v| v >= 0)), "{what}");
        }
    }
}

#[test]
fn drelu_at_32_bits_is_right_for_adversarial_share_splits() {
    let width = Width::FIXED_POINT;
    let lim = limit(width);
    let values = [0i64, 1, -1, 2, -2, 1000, -1000, lim - 1, -lim, -lim + 1, lim - 2, 1 << 20, -(1 << 20)];
    let splits = [
        0u64,
        1,
        (1 << 31) - 1,
        1 << 31,
        (1 << 32) - 2,
        (1 << 32) - 1,
        1 << 32,
        (1 << 63) + (1 << 32) - 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut vals = Vec::new();
    let mut s0 = Vec::new();
    for &v in &values {
        for &x0 in &splits {
            vals.push(v);
            s0.push(x0);
        }
    }
    let s1: Vec<u64> = vals.iter().zip(&s0).map(|(&v, &x0)| (v as u64).wrapping_sub(x0)).collect();
    let n = vals.len();
    for config in all_configs() {
        for (a, b) in [(&s0, &s1), (&s1, &s0)] {
            let r = run_shares(
                config,
                11,
                [vec![Tensor::from_vec(a.clone())], vec![Tensor::from_vec(b.clone())]],
                move |p, s| {
                    p.set_width(width);
                    Ok(vec![p.drelu(&s[0])?])
                },
                move |h| {
                    h.set_width(width);
                    h.drelu(&[n])
                },
            );
            assert_eq!(r.outputs[0], bits(vals.iter().map(|&v| v >= 0)), "{config:?}");
        }
    }
}

/// Outside `[−2^(k−2), 2^(k−2))` DReLU at width `k` is wrong (the values wrap mod 2^k),
/// not clamped; the full width gets them right.
#[test]
fn drelu_outside_the_range_of_its_width_is_wrong() {
    for bits_k in [16u32, 32, 48] {
        let width = Width::new(bits_k).unwrap();
        let lim = limit(width);
        // Each is v with 2v mod 2^k of the other sign.
        let vals = [lim, lim + 5, 2 * lim - 1, -lim - 1, -2 * lim + 1, 3 * lim];
        let n = vals.len();
        for config in all_configs() {
            let r = run(
                config,
                5,
                &[signed_tensor(&vals)],
                move |p, s| {
                    let full = p.drelu(&s[0])?;
                    p.set_width(width);
                    Ok(vec![p.drelu(&s[0])?, full])
                },
                move |h| {
                    h.drelu(&[n])?;
                    h.set_width(width);
                    h.drelu(&[n])
                },
            );
            for (i, &v) in vals.iter().enumerate() {
                assert_ne!(r.outputs[0].data()[i], u64::from(v >= 0), "k={bits_k} {config:?}: {v}");
                assert_eq!(r.outputs[1].data()[i], u64::from(v >= 0), "full width {config:?}: {v}");
            }
        }
    }
}

/// Division at 32 bits: `Y·2^(K−1) ≤ 2^30` is the condition (docs/PROTOCOLS.md §6.8).
#[test]
fn division_at_32_bits() {
    let params = DivParams { scale: 1000, quotient_bits: 12 };
    // X·s < Y·2^12 and Y·2^11 ≤ 2^30.
    let xs: Vec<i64> = vec![0, 1, 999, 123_456, 2_000_000, 4];
    let ys: Vec<i64> = vec![7, 1000, 300, 250_000, 524_288, 1];
    let n = xs.len();
    let width = Width::FIXED_POINT;
    let r = run(
        Config::fast(),
        9,
        &[signed_tensor(&xs), signed_tensor(&ys)],
        move |p, s| {
            p.set_width(width);
            Ok(vec![p.div(&s[0], &s[1], params)?])
        },
        move |h| {
            h.set_width(width);
            h.div(&[n], params)
        },
    );
    let want: Vec<i64> = xs.iter().zip(&ys).map(|(&x, &y)| x * 1000 / y).collect();
    assert_eq!(signed_values(&r.outputs[0]), want);
}

/// The workers' rule: fixed-point encodings compare at 32 bits, integers at 64.
#[test]
fn the_width_follows_the_encoding() {
    assert_eq!(Width::for_encoding(Some(FixedEncoder::default())), Width::FIXED_POINT);
    assert_eq!(Width::for_encoding(Some(FixedEncoder::binary(16).unwrap())), Width::FIXED_POINT);
    assert_eq!(Width::for_encoding(Some(FixedEncoder::INTEGER)), Width::FULL);
    assert_eq!(Width::for_encoding(None), Width::FULL);
    assert_eq!(Width::FIXED_POINT.drelu_limit(), 1 << 30);
    assert_eq!(Width::FULL.drelu_limit(), 1 << 62);
    assert!(Width::new(1).is_err());
    assert!(Width::new(65).is_err());
    assert_eq!(Width::new(2).unwrap().bits(), 2);
    assert_eq!(Width::default(), Width::FULL);
}
