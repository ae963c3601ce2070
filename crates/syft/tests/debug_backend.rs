//! The fixed-point debug backend (`syft::debug`): the same model on `Cpu<f64>`, in the
//! clear at fixed point, and on shares; and what its report flags.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

use syft::debug::{Concern, FixedPointBackend};
use syft::nn::{Optimizer, Reduction, mse_loss};
use syft::prelude::*;
use syft::ring::signed;

const IN: usize = 4;
const HIDDEN: usize = 8;
const OUT: usize = 3;
const ROWS: usize = 5;

/// Deterministic weights in `[-0.5, 0.5]` (f32 values, so that every backend starts
/// from the same numbers).
fn weights(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|i| f64::from((((i as f64 + seed) * 1.618).sin() * 0.5) as f32)).collect()
}

fn inputs(scale: f64) -> Tensor<f64> {
    let v = (0..ROWS * IN).map(|i| ((i as f64 * 0.77).cos() * scale * 1000.0).round() / 1000.0).collect();
    Tensor::new(&[ROWS, IN], v).unwrap()
}

/// The MLP's first layer alone.
fn first_layer<B: Backend>(backend: &B) -> Linear<B> {
    let t = |shape: &[usize], v: &[f64]| backend.constant(shape, v).map_err(|_| ()).unwrap();
    Linear::from_parameters(
        Var::param(backend, t(&[HIDDEN, IN], &weights(HIDDEN * IN, 1.0))),
        Some(Var::param(backend, t(&[HIDDEN], &weights(HIDDEN, 2.0)))),
    )
    .map_err(|_| ())
    .unwrap()
}

/// The MLP `Linear(4, 8) → ReLU → Linear(8, 3)` with fixed weights, on any backend.
fn mlp<B: Backend>(backend: &B) -> Sequential<B> {
    let t = |shape: &[usize], v: &[f64]| backend.constant(shape, v).map_err(|_| ()).unwrap();
    let fc1 = first_layer(backend);
    let fc2 = Linear::from_parameters(
        Var::param(backend, t(&[OUT, HIDDEN], &weights(OUT * HIDDEN, 3.0))),
        Some(Var::param(backend, t(&[OUT], &weights(OUT, 4.0)))),
    )
    .map_err(|_| ())
    .unwrap();
    Sequential::new().with(fc1).with(ReLU::new()).with(fc2)
}

/// The MLP's output computed by hand on the encoded values: ring products, signed floor
/// division by `s` after each product, exact ReLU.
fn oracle(enc: FixedEncoder, x: &Tensor<f64>) -> Vec<i64> {
    let s = i128::from(enc.scale());
    let e =
        |v: &[f64]| -> Vec<i128> { v.iter().map(|&v| i128::from(enc.encode_value(v, 0).unwrap() as i64)).collect() };
    let (x, w1, b1) = (e(x.data()), e(&weights(HIDDEN * IN, 1.0)), e(&weights(HIDDEN, 2.0)));
    let (w2, b2) = (e(&weights(OUT * HIDDEN, 3.0)), e(&weights(OUT, 4.0)));
    let mut out = Vec::new();
    for r in 0..ROWS {
        let h: Vec<i128> = (0..HIDDEN)
            .map(|j| {
                let dot: i128 = (0..IN).map(|k| x[r * IN + k] * w1[j * IN + k]).sum();
                (dot.div_euclid(s) + b1[j]).max(0)
            })
            .collect();
        for o in 0..OUT {
            let dot: i128 = (0..HIDDEN).map(|j| h[j] * w2[o * HIDDEN + j]).sum();
            out.push((dot.div_euclid(s) + b2[o]) as i64);
        }
    }
    out
}

#[test]
fn the_mlp_agrees_with_f64_and_is_bit_exact_with_the_fixed_point_oracle() {
    let x = inputs(1.0);
    let cpu = Cpu::<f64>::default();
    let expected = mlp(&cpu).forward(&Var::constant(&cpu, x.clone())).unwrap().value().as_ref().clone();

    for enc in [FixedEncoder::default(), FixedEncoder::new(10, 4).unwrap(), FixedEncoder::binary(16).unwrap()] {
        let fixed = FixedPointBackend::new(enc);
        let y = mlp(&fixed).forward(&Var::constant(&fixed, fixed.encode(&x).unwrap())).unwrap();
        let ring: Vec<i64> = y.value().data().iter().map(|&v| signed(v)).collect();
        assert_eq!(ring, oracle(enc, &x), "{enc}: the encrypted path's arithmetic, exactly");

        // Against f64: encoding errors (half a unit per input and weight) and one floor
        // per layer, propagated through |x| ≤ 1, |w| ≤ 0.5: well within 32 units.
        let got = fixed.decode(&y.value());
        let tolerance = 32.0 * enc.resolution();
        let worst = got.data().iter().zip(expected.data()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst <= tolerance, "{enc}: off by {worst} > {tolerance}");
        // The inputs are small: nothing is flagged at 10^3 (dot products below 16.8).
        if enc == FixedEncoder::default() {
            assert!(fixed.report().is_clean(), "{}", fixed.report());
        }
    }
}

#[test]
fn a_model_converted_from_cpu_runs_the_same() {
    let enc = FixedEncoder::default();
    let fixed = FixedPointBackend::new(enc);
    let model = fixed_point_model(&mlp(&Cpu::<f32>::default()), &fixed).unwrap();
    let x = inputs(1.0);
    let y = model.forward(&Var::constant(&fixed, fixed.encode(&x).unwrap())).unwrap();
    let ring: Vec<i64> = y.value().data().iter().map(|&v| signed(v)).collect();
    assert_eq!(ring, oracle(enc, &x));
    assert_eq!(fixed.name(), "fixed-point-debug(precision 3)");
}

#[test]
fn the_report_flags_products_above_the_safe_bound() {
    let enc = FixedEncoder::default();
    let fixed = FixedPointBackend::new(enc);
    let model = mlp(&fixed);

    let small = model.forward(&Var::constant(&fixed, fixed.encode(&inputs(1.0)).unwrap())).unwrap();
    let report = fixed.report();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.truncated_elements, (ROWS * (HIDDEN + OUT)) as u64);
    assert!(report.max_truncation_input <= report.safe_truncation_input);
    assert!(report.expected_truncation_failures < 2f64.powi(-40) * report.truncated_elements as f64);
    drop(small);

    // Inputs up to 100: the first layer's dot products reach |v1·v2| of tens to a hundred,
    // far below where they fit (9.2e12) but above the safe 16.8.
    let x = inputs(100.0);
    model.forward(&Var::constant(&fixed, fixed.encode(&x).unwrap())).unwrap();
    let report = fixed.report();
    assert!(report.count("matmul") > 0, "{report}");
    assert_eq!(report.count_concern(Concern::Overflow), 0);
    assert_eq!(report.count_concern(Concern::Comparison), 0);
    let matmul = report.ops.iter().find(|o| o.op == "matmul").unwrap();
    assert_eq!(matmul.concern, Concern::Truncation);
    assert!(matmul.max_real_abs > enc.safe_product_abs(40), "{report}");
    assert!(matmul.max_real_abs < enc.max_product_abs());
    // The largest flagged value is the largest first-layer dot product, in real units.
    let w1 = weights(HIDDEN * IN, 1.0);
    let enc_v = |v: f64| enc.encode_value(v, 0).unwrap() as i64 as f64;
    let largest = (0..ROWS)
        .flat_map(|r| (0..HIDDEN).map(move |j| (r, j)))
        .map(|(r, j)| (0..IN).map(|k| enc_v(x.data()[r * IN + k]) * enc_v(w1[j * IN + k])).sum::<f64>().abs())
        .fold(0.0, f64::max);
    assert_eq!(matmul.max_ring_abs, largest);
    assert_eq!(matmul.max_real_abs, largest / 1e6);
    let first = &report.examples[0];
    assert_eq!((first.op, first.concern), ("matmul", Concern::Truncation));
    assert!(first.ring_abs > FixedEncoder::safe_truncation_input(40));
    assert!(report.examples.len() <= syft::debug::MAX_EXAMPLES);
    assert!(report.to_string().contains("matmul"), "{report}");

    fixed.reset_report();
    assert!(fixed.report().is_clean());
    assert_eq!(fixed.report().truncated_elements, 0);

    // With a looser failure exponent the same run is clean.
    let loose = FixedPointBackend::with_failure_exponent(enc, 20);
    mlp(&loose).forward(&Var::constant(&loose, loose.encode(&x).unwrap())).unwrap();
    assert!(loose.report().is_clean(), "{}", loose.report());
}

#[test]
fn overflows_comparisons_and_scalar_products_are_flagged() {
    let enc = FixedEncoder::default();
    let fixed = FixedPointBackend::new(enc);
    let c = |v: &[f64]| Var::constant(&fixed, fixed.encode(&Tensor::from_vec(v.to_vec())).unwrap());

    // 10^7 · 10^7 = 10^14 does not fit (2^63/s² = 9.2e12): it wraps, here as on shares.
    let big = c(&[1e7, 1.0]);
    big.mul(&big).unwrap();
    let report = fixed.report();
    assert_eq!(report.count("mul"), 1);
    assert_eq!(report.count_concern(Concern::Overflow), 1);
    assert_eq!(report.examples[0].index, 0);
    assert_eq!(report.examples[0].real_abs, 1e14);

    // A sum that leaves the representable range (|v| < 2^63/s = 9.2e15).
    fixed.reset_report();
    let huge = c(&[9e15, 9e15]);
    huge.add(&huge).unwrap();
    assert_eq!(fixed.report().count("add"), 2);
    assert_eq!(fixed.report().count_concern(Concern::Overflow), 2);

    // ReLU is only correct on shares for |v| < 2^62/s (4.6e15).
    fixed.reset_report();
    let (y, _) = syft::autograd::ops::ActivationOps::relu_with_mask(&fixed, huge.value().as_ref()).unwrap();
    assert_eq!(fixed.decode(&y).data(), &[9e15, 9e15]);
    assert_eq!(fixed.report().count_concern(Concern::Comparison), 2);

    // A product by a public real truncates x·m for a 16-bit m: 1.0 · 0.5 is already
    // above 2^24 before truncation (1000 · 32768 = 3.3e7), so it is flagged.
    fixed.reset_report();
    let half = c(&[1.0, 0.25]).mul_scalar(0.5).unwrap();
    assert_eq!(fixed.decode(&half.value()).data(), &[0.5, 0.125]);
    let report = fixed.report();
    assert_eq!(report.count("mul_scalar"), 1, "{report}");
    assert_eq!(report.examples[0].ring_abs, 1000.0 * 32768.0);
    assert_eq!(report.examples[0].real_abs, 0.5);

    // Padded max pooling is refused, as on shares.
    let x = Tensor::<f64>::zeros(&[1, 1, 4, 4]);
    let pool = syft::autograd::Pool2d { window: (2, 2), params: Conv2dParams::new(2, 1) };
    assert!(syft::autograd::ops::ConvOps::max_pool2d_with_mask(&fixed, &fixed.encode(&x).unwrap(), pool).is_err());
}

#[test]
fn training_steps_run_and_report() {
    let enc = FixedEncoder::default();
    let fixed = FixedPointBackend::new(enc);
    let cpu = Cpu::<f64>::default();
    let x = inputs(1.0);
    let target = Tensor::<f64>::new(&[ROWS, OUT], (0..ROWS * OUT).map(|i| (i % 2) as f64).collect()).unwrap();

    let step = |model: &Sequential<FixedPointBackend>, opt: &mut Sgd<FixedPointBackend>| {
        opt.zero_grad();
        let xv = Var::constant(&fixed, fixed.encode(&x).unwrap());
        let yv = Var::constant(&fixed, fixed.encode(&target).unwrap());
        let loss = mse_loss(&model.forward(&xv).unwrap(), &yv, Reduction::Sum).unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        fixed.decode(&loss.value()).item().unwrap()
    };
    let model = mlp(&fixed);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.05));
    let first = step(&model, &mut opt);
    let second = step(&model, &mut opt);

    let plain = mlp(&cpu);
    let mut plain_opt = Sgd::new(plain.parameters(), SgdConfig::new(0.05));
    let mut plain_losses = Vec::new();
    for _ in 0..2 {
        plain_opt.zero_grad();
        let loss = mse_loss(
            &plain.forward(&Var::constant(&cpu, x.clone())).unwrap(),
            &Var::constant(&cpu, target.clone()),
            Reduction::Sum,
        )
        .unwrap();
        loss.backward().unwrap();
        plain_opt.step().unwrap();
        plain_losses.push(loss.value().item().unwrap());
    }
    assert!((first - plain_losses[0]).abs() < 0.05, "{first} vs {}", plain_losses[0]);
    assert!((second - plain_losses[1]).abs() < 0.05, "{second} vs {}", plain_losses[1]);
    assert!(second < first);
    // The backward pass truncates too (matmuls for the gradients, mul_scalar for the
    // learning rate), and every truncated element is counted.
    let report = fixed.report();
    // SGD multiplies the gradients by the public learning rate (mul_scalar): its 16-bit
    // multiplier puts every gradient above about 0.5 over the 2^-40 bound at scale 10^3.
    assert!(report.count("mul_scalar") > 0, "{report}");
    assert!(report.truncated_elements > 2 * (ROWS * (HIDDEN + OUT)) as u64, "{report}");
}

#[test]
fn shared_backend_agrees_within_one_unit_per_truncation() {
    let hub = Hub::new();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let james = VirtualWorker::new(&hub, "james").unwrap();
    let enc = FixedEncoder::default();

    let plain = mlp(&Cpu::<f32>::default());
    let shared = share_model(&plain, enc, &[&bob, &alice], &james).unwrap();
    let fixed = FixedPointBackend::new(enc);
    let debug = fixed_point_model(&plain, &fixed).unwrap();
    let x = inputs(1.0);

    // One linear layer: a single truncation, so the shares give the debug value or one
    // more (except with probability |x|/2^64 per element: here |x| ≤ 4 · 1000 · 500, so
    // at most 2^-43).
    let layer = share_model(&first_layer(&Cpu::<f32>::default()), enc, &[&bob, &alice], &james).unwrap();
    let layer_debug = fixed_point_model(&first_layer(&Cpu::<f32>::default()), &fixed).unwrap();
    let h_shared = layer.forward(&layer.input(layer.backend().share(&x).unwrap())).unwrap();
    let h_debug = layer_debug.forward(&Var::constant(&fixed, fixed.encode(&x).unwrap())).unwrap();
    let h_shared = h_shared.value().as_ref().clone().get().unwrap().into_raw();
    for (g, w) in h_shared.data().iter().zip(h_debug.value().data()) {
        let d = signed(*g) - signed(*w);
        assert!(d == 0 || d == 1, "shares {}, debug {}", signed(*g), signed(*w));
    }

    let y_shared = shared.forward(&shared.input(shared.backend().share(&x).unwrap())).unwrap();
    let y_debug = debug.forward(&Var::constant(&fixed, fixed.encode(&x).unwrap())).unwrap();
    let got: Vec<i64> =
        y_shared.value().as_ref().clone().get().unwrap().into_raw().data().iter().map(|&v| signed(v)).collect();
    let want: Vec<i64> = y_debug.value().data().iter().map(|&v| signed(v)).collect();
    // The hidden layer may be one unit above floor per element (δ ∈ {0, 1}), which the
    // second layer multiplies by its weights, plus that layer's own 0 or 1: the output is
    // within Σ_j |w2_oj| + 1 units, and never below the debug value minus Σ |w2_oj|.
    let w2 = weights(OUT * HIDDEN, 3.0);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let o = i % OUT;
        let spread: f64 = w2[o * HIDDEN..(o + 1) * HIDDEN].iter().map(|v| v.abs()).sum();
        let d = (g - w) as f64;
        assert!(d.abs() <= spread.ceil() + 1.0, "element {i}: shares {g}, debug {w}");
    }
    assert!(fixed.report().is_clean());
}

#[test]
fn the_softmax_cross_entropy_is_the_f64_one_at_the_resolution() {
    let enc = FixedEncoder::default();
    let backend = FixedPointBackend::new(enc);
    let cpu = Cpu::<f64>::default();
    let z = inputs(3.0).reshape(&[ROWS, IN]).unwrap();
    let y = Tensor::<f64>::one_hot(&[0, 3, 1, 1, 2], IN).unwrap();

    let plain_z = Var::param(&cpu, z.clone());
    let plain = syft::nn::softmax_cross_entropy(&plain_z, &Var::constant(&cpu, y.clone()), Reduction::Sum).unwrap();
    plain.backward().unwrap();

    let fixed_z = Var::param(&backend, backend.encode(&z).unwrap());
    let fixed_y = Var::constant(&backend, backend.encode(&y).unwrap());
    let fixed = syft::nn::softmax_cross_entropy(&fixed_z, &fixed_y, Reduction::Sum).unwrap();
    fixed.backward().unwrap();

    let unit = 1.0 / enc.scale() as f64;
    let loss = backend.decode(&fixed.value()).item().unwrap();
    assert!((loss - plain.value().item().unwrap()).abs() <= unit);
    // The stored gradient times the seed 1: one truncation, a unit at most.
    let grad = backend.decode(&fixed_z.grad().unwrap());
    for (g, p) in grad.data().iter().zip(plain_z.grad().unwrap().data()) {
        assert!((g - p).abs() <= 2.0 * unit, "{g} vs {p}");
    }
    assert!(backend.report().is_clean(), "{}", backend.report());
}
