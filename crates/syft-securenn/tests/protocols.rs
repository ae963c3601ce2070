//! Every protocol against its plaintext counterpart: random tensors including 0, ±1 (one
//! unit in the last place), and ± the largest value of the documented range, in every
//! configuration (fast and paper profile, compressed and paper accounting).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

mod common;

use common::{all_configs, run, run_shares, signed_tensor, signed_values};
use proptest::prelude::*;
use syft_ring::{OddRing, Prg, Seed, Tensor, from_signed};
use syft_securenn::{Config, DivParams, Pool2d, Profile};

/// DReLU's range is `[−2^62, 2^62)`.
const DRELU_LIMIT: i64 = 1 << 62;
/// The safe range of comparisons and max: `|x| < 2^61`.
const CMP_LIMIT: i64 = 1 << 61;

fn config_strategy() -> impl Strategy<Value = Config> {
    (0usize..4).prop_map(|i| all_configs()[i])
}

/// Values in DReLU's range, weighted toward the edges.
fn drelu_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        Just(1),
        Just(-1),
        Just(DRELU_LIMIT - 1),
        Just(-DRELU_LIMIT),
        Just(-DRELU_LIMIT + 1),
        -5000i64..5000,
        -DRELU_LIMIT..DRELU_LIMIT,
        (0u32..63, any::<i64>()).prop_map(|(e, v)| v >> (63 - e)),
    ]
}

/// Values in the comparison range, with many small ones so that ties occur.
fn cmp_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        Just(1),
        Just(-1),
        Just(CMP_LIMIT - 1),
        Just(-CMP_LIMIT + 1),
        -3i64..3,
        -CMP_LIMIT + 1..CMP_LIMIT,
        (0u32..62, any::<i64>()).prop_map(|(e, v)| v >> (63 - e)),
    ]
}

/// A value of the comparison range: an edge (0, ±1, ±(2^61 − 1)) one time in four,
/// otherwise a random magnitude below 2^60.
fn wide(prg: &mut Prg) -> i64 {
    match prg.next_u64() % 8 {
        0 => CMP_LIMIT - 1,
        1 => -CMP_LIMIT + 1,
        2 => [0, 1, -1][(prg.next_u64() % 3) as usize],
        _ => (prg.next_u64() as i64) >> 4,
    }
}

fn bits(v: impl IntoIterator<Item = bool>) -> Tensor<u64> {
    Tensor::from_vec(v.into_iter().map(u64::from).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn relu_and_its_derivative_match_plaintext(config in config_strategy(), vals in prop::collection::vec(drelu_value(), 1..48), seed: u64) {
        let x = signed_tensor(&vals);
        let n = vals.len();
        let r = run(config, seed, &[x], |p, s| {
            let out = p.relu(&s[0])?;
            let back = p.relu_backward(&s[0], &out.derivative)?;
            Ok(vec![out.value, out.derivative, back])
        }, move |h| { h.relu(&[n])?; h.relu_backward(&[n]) });
        let want: Vec<i64> = vals.iter().map(|&v| v.max(0)).collect();
        prop_assert_eq!(signed_values(&r.outputs[0]), want.clone());
        prop_assert_eq!(&r.outputs[1], &bits(vals.iter().map(|&v| v >= 0)));
        // backward of x itself: x·[x ≥ 0] = relu(x)
        prop_assert_eq!(signed_values(&r.outputs[2]), want);
    }

    #[test]
    fn comparisons_match_plaintext(
        config in config_strategy(),
        pairs in prop::collection::vec((cmp_value(), cmp_value(), 0u8..4), 1..40),
        seed: u64,
    ) {
        // A quarter of the pairs are ties, a quarter differ by one unit.
        let xs: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let ys: Vec<i64> = pairs.iter().map(|&(x, y, k)| match k { 0 => x, 1 => if x < CMP_LIMIT - 1 { x + 1 } else { x - 1 }, _ => y }).collect();
        let n = xs.len();
        let (x, y) = (signed_tensor(&xs), signed_tensor(&ys));
        let r = run(config, seed, &[x, y.clone()], move |p, s| {
            Ok(vec![
                p.ge(&s[0], &s[1])?, p.gt(&s[0], &s[1])?, p.le(&s[0], &s[1])?, p.lt(&s[0], &s[1])?, p.eq(&s[0], &s[1])?,
                p.ge_public(&s[0], &y)?, p.gt_public(&s[0], &y)?, p.le_public(&s[0], &y)?, p.lt_public(&s[0], &y)?, p.eq_public(&s[0], &y)?,
            ])
        }, move |h| {
            for _ in 0..2 { h.ge(&[n])?; h.gt(&[n])?; h.le(&[n])?; h.lt(&[n])?; h.eq(&[n])?; }
            Ok(())
        });
        let z = || xs.iter().zip(&ys);
        let want = [
            bits(z().map(|(a, b)| a >= b)), bits(z().map(|(a, b)| a > b)), bits(z().map(|(a, b)| a <= b)),
            bits(z().map(|(a, b)| a < b)), bits(z().map(|(a, b)| a == b)),
        ];
        for (i, w) in want.iter().enumerate() {
            prop_assert_eq!(&r.outputs[i], w, "shared comparison {}", i);
            prop_assert_eq!(&r.outputs[i + 5], w, "public comparison {}", i);
        }
    }

    #[test]
    fn argmax_and_max_take_the_first_maximum(
        config in config_strategy(),
        // A few rows go by all pairs, 70 or more by the tournament (docs/PROTOCOLS.md §8.1).
        rows in prop_oneof![1usize..6, 70usize..73],
        k in 1usize..12,
        tiny in any::<bool>(),
        seed: u64,
    ) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        // Tiny values give many ties; otherwise values span the comparison range.
        let vals: Vec<i64> = (0..rows * k).map(|_| if tiny { (prg.next_u64() % 3) as i64 - 1 } else { wide(&mut prg) }).collect();
        let x = Tensor::new(&[rows, k], vals.iter().map(|&v| v as u64).collect()).unwrap();
        let shape = [rows, k];
        let r = run(config, seed, &[x], |p, s| {
            let a = p.argmax(&s[0], 1)?;
            let o = p.argmax_one_hot(&s[0], 1)?;
            let m = p.max(&s[0], 1)?;
            let col = p.argmax(&s[0], 0)?;
            Ok(vec![a.value, a.index, o.value, o.index, o.one_hot.unwrap(), m, col.value, col.index])
        }, move |h| { h.argmax(&shape, 1)?; h.argmax_one_hot(&shape, 1)?; h.max(&shape, 1)?; h.argmax(&shape, 0) });
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
        prop_assert_eq!(signed_values(&r.outputs[2]), max.clone());
        prop_assert_eq!(r.outputs[3].data(), &idx[..]);
        prop_assert_eq!(r.outputs[4].data(), &oh[..]);
        prop_assert_eq!(r.outputs[4].shape(), &[rows, k]);
        prop_assert_eq!(signed_values(&r.outputs[5]), max);
        // Along axis 0.
        for c in 0..k {
            let column: Vec<i64> = (0..rows).map(|r| vals[r * k + c]).collect();
            let m = *column.iter().max().unwrap();
            prop_assert_eq!(r.outputs[6].data()[c] as i64, m);
            prop_assert_eq!(r.outputs[7].data()[c], column.iter().position(|&v| v == m).unwrap() as u64);
        }
    }

    #[test]
    fn maxpool2d_forward_and_backward_match_plaintext(
        config in config_strategy(),
        (n, c, h, w) in (1usize..3, 1usize..3, 2usize..7, 2usize..7),
        (kh, kw, sh, sw) in (1usize..4, 1usize..4, 1usize..4, 1usize..4),
        tiny in any::<bool>(),
        seed: u64,
    ) {
        prop_assume!(kh <= h && kw <= w);
        let params = Pool2d { kernel: (kh, kw), stride: (sh, sw) };
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let shape = [n, c, h, w];
        let len = n * c * h * w;
        let vals: Vec<i64> = (0..len).map(|_| if tiny { (prg.next_u64() % 3) as i64 } else { wide(&mut prg) }).collect();
        let x = Tensor::new(&shape, vals.iter().map(|&v| v as u64).collect()).unwrap();
        let out_shape = params.output_shape(&shape).unwrap();
        let (oh, ow) = (out_shape[2], out_shape[3]);
        let grad_vals: Vec<i64> = (0..n * c * oh * ow).map(|i| i as i64 * 1000 - 7).collect();
        let grad = Tensor::new(&out_shape, grad_vals.iter().map(|&v| v as u64).collect()).unwrap();
        let r = run(config, seed, &[x, grad], move |p, s| {
            let pool = p.maxpool2d(&s[0], params)?;
            let back = p.maxpool2d_backward(&pool, &s[1])?;
            Ok(vec![pool.value, pool.mask, back])
        }, move |hp| { hp.maxpool2d(&shape, params)?; hp.maxpool2d_backward(&shape, params) });
        let k = kh * kw;
        let mut want_v = Vec::new();
        let mut want_mask = Vec::new();
        let mut want_back = vec![0i64; len];
        for plane in 0..n * c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let offs: Vec<usize> = (0..k).map(|q| (plane * h + oy * sh + q / kw) * w + ox * sw + q % kw).collect();
                    let m = offs.iter().map(|&o| vals[o]).max().unwrap();
                    let first = offs.iter().position(|&o| vals[o] == m).unwrap();
                    want_mask.extend((0..k).map(|q| u64::from(q == first)));
                    want_back[offs[first]] += grad_vals[want_v.len()];
                    want_v.push(m);
                }
            }
        }
        prop_assert_eq!(signed_values(&r.outputs[0]), want_v);
        prop_assert_eq!(r.outputs[1].data(), &want_mask[..]);
        prop_assert_eq!(signed_values(&r.outputs[2]), want_back);
    }

    #[test]
    fn dmp_gives_the_one_hot_vector(config in config_strategy(), log_n in 0u32..5, idx in prop::collection::vec(any::<u64>(), 1..20), seed: u64) {
        let n = 1usize << log_n;
        let idx: Vec<u64> = idx.iter().map(|&i| i % n as u64).collect();
        let m = idx.len();
        let r = run(config, seed, &[Tensor::from_vec(idx.clone())], move |p, s| Ok(vec![p.dmp(&s[0], n)?]), move |h| h.dmp(&[m], n));
        let want: Vec<u64> = idx.iter().flat_map(|&i| (0..n as u64).map(move |j| u64::from(j == i))).collect();
        prop_assert_eq!(r.outputs[0].shape(), &[m, n]);
        prop_assert_eq!(r.outputs[0].data(), &want[..]);
    }

    #[test]
    fn division_is_exactly_floor_x_s_over_y(
        config in config_strategy(),
        binary in any::<bool>(),
        pairs in prop::collection::vec((1u64..1_000_000, 0u64..=1000, 0u8..5), 1..12),
        seed: u64,
    ) {
        let (scale, bits) = if binary { (8192u64, 14u32) } else { (1000, 10) };
        // y up to 1000 (at scale s: Y ≤ 10^6 units), x ≤ y, with 0 and x = y included.
        let ys: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        let xs: Vec<u64> = pairs.iter().map(|&(y, f, k)| match k { 0 => 0, 1 => y, _ => y * f / 1000 }).collect();
        let params = DivParams { scale, quotient_bits: bits };
        let n = xs.len();
        let r = run(config, seed, &[Tensor::from_vec(xs.clone()), Tensor::from_vec(ys.clone())],
            move |p, s| Ok(vec![p.div(&s[0], &s[1], params)?]), move |h| h.div(&[n], params));
        let want: Vec<u64> = xs.iter().zip(&ys).map(|(&x, &y)| ((u128::from(x) * u128::from(scale)) / u128::from(y)) as u64).collect();
        prop_assert_eq!(r.outputs[0].data(), &want[..]);
    }

    #[test]
    fn signed_division_rounds_toward_zero(
        pairs in prop::collection::vec((-1_000_000i64..1_000_000, 1i64..1_000_000, any::<bool>()), 1..8),
        seed: u64,
    ) {
        let scale = 1000u64;
        let xs: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let ys: Vec<i64> = pairs.iter().map(|&(_, y, neg)| if neg { -y } else { y }).collect();
        // |x/y| < 10^6 → K = ⌈log2(10^9 + 1)⌉ = 30
        let params = DivParams::for_quotients_below(scale, 1e6).unwrap();
        let n = xs.len();
        let r = run(Config::fast(), seed, &[signed_tensor(&xs), signed_tensor(&ys)],
            move |p, s| Ok(vec![p.div_signed(&s[0], &s[1], params)?]), move |h| h.div_signed(&[n], params));
        let want: Vec<i64> = xs.iter().zip(&ys).map(|(&x, &y)| (i128::from(x) * 1000 / i128::from(y)) as i64).collect();
        prop_assert_eq!(signed_values(&r.outputs[0]), want);
    }

    #[test]
    fn public_division_is_within_one_unit(vals in prop::collection::vec(-1_000_000_000i64..1_000_000_000, 1..20), d in 1u64..5000, seed: u64) {
        let x = signed_tensor(&vals);
        let scale = 1000u64;
        let d_fixed = from_signed(-(d as i64) * 250); // −d/4 at scale 1000
        let r = run(Config::fast(), seed, &[x], move |p, s| Ok(vec![p.div_public(&s[0], d)?, p.div_public_fixed(&s[0], d_fixed, scale)?]), |_| Ok(()));
        prop_assert_eq!(r.total_sent(), 0);
        for (i, &v) in vals.iter().enumerate() {
            let got = r.outputs[0].data()[i] as i64;
            let floor = v.div_euclid(d as i64);
            prop_assert!(got == floor || got == floor + 1, "{v}/{d}: {got}");
            let got = r.outputs[1].data()[i] as i64;
            let exact = (i128::from(v) * 1000) as f64 / -(d as f64 * 250.0);
            prop_assert!((got as f64 - exact).abs() <= 1.0, "{v}/(-{d}/4): {got} vs {exact}");
        }
    }

    #[test]
    fn select_and_where_pick_the_right_branch(config in config_strategy(), vals in prop::collection::vec((any::<u64>(), any::<u64>(), any::<bool>()), 1..30), seed: u64) {
        let a = Tensor::from_vec(vals.iter().map(|v| v.0).collect());
        let b = Tensor::from_vec(vals.iter().map(|v| v.1).collect());
        let bit = bits(vals.iter().map(|v| v.2));
        let n = vals.len();
        let r = run(config, seed, &[bit, a, b], |p, s| Ok(vec![p.select(&s[0], &s[1], &s[2])?, p.where_(&s[0], &s[1], &s[2])?]),
            move |h| { h.select(&[n])?; h.select(&[n]) });
        let sel: Vec<u64> = vals.iter().map(|v| if v.2 { v.1 } else { v.0 }).collect();
        let wh: Vec<u64> = vals.iter().map(|v| if v.2 { v.0 } else { v.1 }).collect();
        prop_assert_eq!(r.outputs[0].data(), &sel[..]);
        prop_assert_eq!(r.outputs[1].data(), &wh[..]);
    }
}

/// Edge values of DReLU's range.
fn edge_values() -> Vec<i64> {
    vec![
        0,
        1,
        -1,
        2,
        -2,
        1000,
        -1000,
        DRELU_LIMIT - 1,
        -DRELU_LIMIT,
        -DRELU_LIMIT + 1,
        DRELU_LIMIT - 2,
        1 << 40,
        -(1 << 40),
    ]
}

/// docs/PROTOCOLS.md §10, share splits: one share in {0, 1, 2^62, 2^63 − 1, 2^63, 2^63 + 1,
/// 2^64 − 2, 2^64 − 1}.
#[test]
fn drelu_is_right_for_adversarial_share_splits() {
    let splits = [0u64, 1, 1 << 62, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX];
    let mut vals = Vec::new();
    let mut s0 = Vec::new();
    for &v in &edge_values() {
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
                |p, s| Ok(vec![p.drelu(&s[0])?]),
                move |h| h.drelu(&[n]),
            );
            assert_eq!(r.outputs[0], bits(vals.iter().map(|&v| v >= 0)), "{config:?}");
        }
    }
}

/// Outside `[−2^62, 2^62)` DReLU is documented as wrong, not silently supported.
#[test]
fn drelu_outside_its_range_is_wrong() {
    let vals = [DRELU_LIMIT, DRELU_LIMIT + 5, i64::MAX, -DRELU_LIMIT - 1, i64::MIN];
    for config in all_configs() {
        let r = run(config, 5, &[signed_tensor(&vals)], |p, s| Ok(vec![p.drelu(&s[0])?]), |h| h.drelu(&[5]));
        for (i, &v) in vals.iter().enumerate() {
            assert_ne!(r.outputs[0].data()[i], u64::from(v >= 0), "{config:?}: {v}");
        }
    }
}

/// ShareConvert (paper profile) and ComputeMSB (both profiles) on their own.
#[test]
fn share_convert_and_compute_msb() {
    let mut prg = Prg::new(&Seed::from_u64(31));
    let mut a: Vec<u64> = (0..400).map(|_| prg.next_u64()).filter(|&v| v != u64::MAX).collect();
    a.extend([0, 1, 1 << 63, (1 << 63) - 1, u64::MAX - 1]);
    let n = a.len();
    for config in [Config::paper(), Config::paper().with_accounting(syft_securenn::Accounting::Paper)] {
        let r = run(
            config,
            3,
            &[Tensor::from_vec(a.clone())],
            |p, s| {
                let y = p.share_convert(&s[0])?;
                Ok(vec![y.map(OddRing::get)])
            },
            move |h| h.share_convert(&[n]),
        );
        // Reconstruct over Z_(2^64-1).
        let y0 = &r.endpoints[0].outputs[0];
        let y1 = &r.endpoints[1].outputs[0];
        for (e, &want) in a.iter().enumerate() {
            let sum = syft_ring::Scalar::add(OddRing::new(y0.data()[e]), OddRing::new(y1.data()[e]));
            assert_eq!(sum.get(), want, "{config:?}");
        }
    }
    // ComputeMSB of a ∈ [0, 2^64 − 2] from shares over the odd ring.
    let mut s0 = Vec::new();
    let mut s1 = Vec::new();
    for &v in &a {
        let r = OddRing::new(prg.next_u64());
        s0.push(r.get());
        s1.push(syft_ring::Scalar::sub(OddRing::new(v), r).get());
    }
    for config in all_configs() {
        let r = run_shares(
            config,
            4,
            [vec![Tensor::from_vec(s0.clone())], vec![Tensor::from_vec(s1.clone())]],
            |p, s| Ok(vec![p.compute_msb(&s[0].map(OddRing::new))?]),
            move |h| h.compute_msb(&[n]),
        );
        let want: Vec<u64> = a.iter().map(|v| v >> 63).collect();
        assert_eq!(r.outputs[0].data(), &want[..], "{config:?}");
    }
}

/// Fixed point at PySyft's scale 10^3: ReLU and comparisons on encoded reals, including
/// the largest documented magnitudes (2^62/s for ReLU, 2^61/s for comparisons).
#[test]
fn fixed_point_values_at_scale_1000() {
    let scale = 1000.0;
    let reals = [0.0, 0.001, -0.001, 1.5, -1.5, 3.25, -1e6, 4.6e15, -4.6e15, 1.0, -1.0];
    let enc: Vec<i64> = reals.iter().map(|&v: &f64| (v * scale).round() as i64).collect();
    let x = signed_tensor(&enc);
    let threshold = signed_tensor(&[1000]); // 1.0
    let n = enc.len();
    let r = run(
        Config::default(),
        9,
        &[x],
        move |p, s| {
            let relu = p.relu(&s[0])?;
            Ok(vec![relu.value, p.gt_public(&s[0], &threshold)?])
        },
        move |h| {
            h.relu(&[n])?;
            h.gt(&[n])
        },
    );
    let dec: Vec<f64> = signed_values(&r.outputs[0]).iter().map(|&v| v as f64 / scale).collect();
    for (i, &v) in reals.iter().enumerate() {
        assert!((dec[i] - v.max(0.0)).abs() < 1e-9, "relu({v}) = {}", dec[i]);
        assert_eq!(r.outputs[1].data()[i], u64::from(v > 1.0), "{v} > 1");
    }
}

/// Empty tensors cost nothing and work everywhere.
#[test]
fn empty_tensors() {
    let e = Tensor::<u64>::zeros(&[0, 3]);
    let r = run(
        Config::paper(),
        1,
        &[e.clone(), e],
        |p, s| Ok(vec![p.relu(&s[0])?.value, p.eq(&s[0], &s[1])?, p.max(&s[0], 1)?, p.dmp(&s[0], 4)?]),
        |h| {
            h.relu(&[0, 3])?;
            h.eq(&[0, 3])?;
            h.max(&[0, 3], 1)?;
            h.dmp(&[0, 3], 4)
        },
    );
    assert_eq!(r.total_sent(), 0);
    assert_eq!(r.outputs[2].shape(), &[0]);
    assert_eq!(r.outputs[3].shape(), &[0, 3, 4]);
}

/// Rank-3 input, reducing the middle axis, with the one-hot laid out along it.
#[test]
fn argmax_along_a_middle_axis() {
    let shape = [2, 5, 3];
    let vals: Vec<i64> = (0..30).map(|i| ((i * 7919) % 13) as i64 - 6).collect();
    let x = Tensor::new(&shape, vals.iter().map(|&v| v as u64).collect()).unwrap();
    for profile in [Profile::Fast, Profile::Paper] {
        let config = Config { profile, ..Config::default() };
        let r = run(
            config,
            2,
            std::slice::from_ref(&x),
            |p, s| {
                let a = p.argmax_one_hot(&s[0], 1)?;
                Ok(vec![a.value, a.index, a.one_hot.unwrap()])
            },
            move |h| h.argmax_one_hot(&shape, 1),
        );
        for o in 0..2 {
            for i in 0..3 {
                let col: Vec<i64> = (0..5).map(|c| vals[(o * 5 + c) * 3 + i]).collect();
                let m = *col.iter().max().unwrap();
                let first = col.iter().position(|&v| v == m).unwrap();
                assert_eq!(r.outputs[0].data()[o * 3 + i] as i64, m);
                assert_eq!(r.outputs[1].data()[o * 3 + i], first as u64);
                for c in 0..5 {
                    assert_eq!(r.outputs[2].data()[(o * 5 + c) * 3 + i], u64::from(c == first));
                }
            }
        }
    }
}

/// DIV at the edges of its range: `Y·2^(K−1) ≤ 2^62` and `X·s < 2^63`, with `x = y`,
/// `x = 0` and `x = y − 1 unit`.
#[test]
fn division_at_the_range_limits() {
    let (scale, bits) = (1000u64, 10u32);
    let y_max = 1u64 << 53; // Y·2^9 = 2^62
    let ys = vec![y_max, y_max, y_max, 1, 1, 3, y_max - 1];
    let xs = vec![y_max, 0, y_max - 1, 1, 0, 2, 12345];
    let params = DivParams { scale, quotient_bits: bits };
    for config in all_configs() {
        let r = run(
            config,
            17,
            &[Tensor::from_vec(xs.clone()), Tensor::from_vec(ys.clone())],
            move |p, s| Ok(vec![p.div(&s[0], &s[1], params)?]),
            move |h| h.div(&[7], params),
        );
        let want: Vec<u64> =
            xs.iter().zip(&ys).map(|(&x, &y)| ((u128::from(x) * u128::from(scale)) / u128::from(y)) as u64).collect();
        assert_eq!(r.outputs[0].data(), &want[..], "{config:?}");
    }
}
