//! Modules: parameter counts, shapes and names against PyTorch's; initialisation;
//! forward shapes; conversion to another backend; gradients through whole modules.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use proptest::prelude::*;
use syft_autograd::gradcheck::check_gradients;
use syft_autograd::{Conv2dParams, Cpu, Var};
use syft_nn::{AvgPool2d, Conv2d, Flatten, Layer, Linear, MaxPool2d, Module, ReLU, Sequential};
use syft_ring::{Prg, Seed, Tensor};

fn rng(seed: u64) -> Prg {
    Prg::new(&Seed::from_u64(seed))
}

fn shapes<M: Module<Cpu<f32>>>(m: &M) -> Vec<(String, Vec<usize>)> {
    m.named_parameters().into_iter().map(|(n, v)| (n, v.shape())).collect()
}

#[test]
fn linear_784_500_matches_pytorch() {
    let cpu = Cpu::<f32>::default();
    let l = Linear::new(&cpu, 784, 500, true, &mut rng(0)).unwrap();
    assert_eq!(shapes(&l), [("weight".to_owned(), vec![500, 784]), ("bias".to_owned(), vec![500])]);
    assert_eq!(l.num_parameters(), 392_500);
    assert_eq!((l.in_features(), l.out_features()), (784, 500));
}

#[test]
fn conv2d_1_20_5_matches_pytorch() {
    let cpu = Cpu::<f32>::default();
    let c = Conv2d::new(&cpu, 1, 20, (5, 5), Conv2dParams::default(), true, &mut rng(0)).unwrap();
    assert_eq!(shapes(&c), [("weight".to_owned(), vec![20, 1, 5, 5]), ("bias".to_owned(), vec![20])]);
    assert_eq!(c.num_parameters(), 520);
}

#[test]
fn tutorial_mlp_names_and_count() {
    // Part 11: fc1 = Linear(784, 500), fc2 = Linear(500, 10) as an nn.Sequential.
    let cpu = Cpu::<f32>::default();
    let mut r = rng(0);
    let m = Sequential::new()
        .with(Linear::new(&cpu, 784, 500, true, &mut r).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 500, 10, true, &mut r).unwrap());
    assert_eq!(
        shapes(&m),
        [
            ("0.weight".to_owned(), vec![500, 784]),
            ("0.bias".to_owned(), vec![500]),
            ("2.weight".to_owned(), vec![10, 500]),
            ("2.bias".to_owned(), vec![10]),
        ]
    );
    assert_eq!(m.num_parameters(), 397_510);
}

#[test]
fn lenet_style_network_names_and_forward_shape() {
    let cpu = Cpu::<f32>::default();
    let mut r = rng(3);
    let inner = Sequential::new().with(Linear::new(&cpu, 320, 50, true, &mut r).unwrap()).with(ReLU::new());
    let m = Sequential::new()
        .with(Conv2d::new(&cpu, 1, 10, (5, 5), Conv2dParams::default(), true, &mut r).unwrap())
        .with(MaxPool2d::new(2))
        .with(ReLU::new())
        .with(Conv2d::new(&cpu, 10, 20, (5, 5), Conv2dParams::default(), true, &mut r).unwrap())
        .with(AvgPool2d::new(2))
        .with(Flatten::new())
        .with(inner)
        .with(Linear::new(&cpu, 50, 10, true, &mut r).unwrap());
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias", "6.0.weight", "6.0.bias", "7.weight", "7.bias"]);
    assert_eq!(m.num_parameters(), 260 + 5020 + 16_050 + 510);
    let x = Var::constant(&cpu, Tensor::<f32>::full(&[2, 1, 28, 28], 0.5));
    assert_eq!(m.forward(&x).unwrap().shape(), vec![2, 10]);
    assert!(matches!(m.layers()[6], Layer::Sequential(_)));
}

#[test]
fn default_init_is_uniform_within_one_over_sqrt_fan_in() {
    let cpu = Cpu::<f64>::default();
    let l = Linear::new(&cpu, 400, 300, true, &mut rng(7)).unwrap();
    let bound = 1.0 / 20.0;
    let w = l.weight().value();
    assert!(w.data().iter().all(|v| v.abs() <= bound));
    let n = w.len() as f64;
    let mean = w.data().iter().sum::<f64>() / n;
    let var = w.data().iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    assert!(mean.abs() < 1e-3, "mean {mean}");
    assert!((var - bound * bound / 3.0).abs() < 0.05 * bound * bound / 3.0, "variance {var}");
    let b = l.bias().unwrap().value();
    assert!(b.data().iter().all(|v| v.abs() <= bound));
    // Conv fan-in is in_channels · kh · kw.
    let c = Conv2d::new(&cpu, 4, 8, (3, 3), Conv2dParams::default(), true, &mut rng(7)).unwrap();
    assert!(c.weight().value().data().iter().all(|v| v.abs() <= 1.0 / 6.0));
}

#[test]
fn init_is_reproducible_from_the_seed() {
    let cpu = Cpu::<f32>::default();
    let a = Linear::new(&cpu, 5, 3, true, &mut rng(11)).unwrap();
    let b = Linear::new(&cpu, 5, 3, true, &mut rng(11)).unwrap();
    let c = Linear::new(&cpu, 5, 3, true, &mut rng(12)).unwrap();
    assert_eq!(*a.weight().value(), *b.weight().value());
    assert_ne!(*a.weight().value(), *c.weight().value());
}

#[test]
fn parameters_can_be_set_by_hand() {
    // The Part 12 tutorial's fixed initialisation.
    let cpu = Cpu::<f32>::default();
    let fc1 = Linear::from_parameters(
        Var::param(&cpu, Tensor::new(&[2, 2], vec![0.0738, -0.2109, -0.1579, 0.3174]).unwrap()),
        Some(Var::param(&cpu, Tensor::new(&[2], vec![0.0, 0.1]).unwrap())),
    )
    .unwrap();
    assert_eq!(fc1.weight().value().data(), &[0.0738, -0.2109, -0.1579, 0.3174]);
    let bad = Linear::from_parameters(
        Var::param(&cpu, Tensor::<f32>::zeros(&[2, 2])),
        Some(Var::param(&cpu, Tensor::<f32>::zeros(&[3]))),
    );
    assert!(bad.is_err());
    // Or replace a value in place.
    fc1.weight().set_value(Tensor::zeros(&[2, 2]));
    assert_eq!(fc1.weight().value().data(), &[0.0; 4]);
}

#[test]
fn map_parameters_converts_the_whole_model() {
    let cpu = Cpu::<f32>::default();
    let mut r = rng(5);
    let mut m = Sequential::new()
        .with(Conv2d::new(&cpu, 1, 2, (3, 3), Conv2dParams::new(1, 1), true, &mut r).unwrap())
        .with(ReLU::new())
        .with(MaxPool2d::new(2))
        .with(Flatten::new())
        .with(Linear::new(&cpu, 2 * 3 * 3, 4, true, &mut r).unwrap());
    m.eval();
    let cpu64 = Cpu::<f64>::default();
    let mut seen = Vec::new();
    let m64 = m
        .map_parameters(&cpu64, |name, t| {
            seen.push(name.to_owned());
            Ok::<_, syft_autograd::Error>(t.map(f64::from))
        })
        .unwrap();
    assert_eq!(seen, ["0.weight", "0.bias", "4.weight", "4.bias"]);
    assert!(!m64.is_training());
    assert!(m64.parameters().iter().all(Var::requires_grad));
    let x = Tensor::<f32>::from_fn(&[2, 1, 6, 6], |i| ((i[0] * 36 + i[2] * 6 + i[3]) as f32 * 0.37).sin());
    let y32 = m.forward(&Var::constant(&cpu, x.clone())).unwrap().value();
    let y64 = m64.forward(&Var::constant(&cpu64, x.map(f64::from))).unwrap().value();
    for (a, b) in y32.data().iter().zip(y64.data()) {
        assert!((f64::from(*a) - b).abs() < 1e-5);
    }
    // A failing conversion stops with its error.
    let failed = m.map_parameters(&cpu64, |name, _| {
        Err::<Tensor<f64>, _>(syft_autograd::Error::InvalidArgument { op: "share", reason: name.to_owned() })
    });
    assert!(matches!(failed, Err(syft_autograd::Error::InvalidArgument { reason, .. }) if reason == "0.weight"));
}

#[test]
fn conv_network_gradients_match_finite_differences() {
    // Conv2d → ReLU → MaxPool2d → Flatten → Linear, all parameters and the input.
    let check = check_gradients(
        |v| {
            let conv = Conv2d::from_parameters(v[1].clone(), Some(v[2].clone()), Conv2dParams::new(1, 1))?;
            let fc = Linear::from_parameters(v[3].clone(), Some(v[4].clone()))?;
            let net =
                Sequential::new().with(conv).with(ReLU::new()).with(MaxPool2d::new(2)).with(Flatten::new()).with(fc);
            net.forward(&v[0])?.square()?.sum()
        },
        &[
            Tensor::from_fn(&[2, 1, 4, 4], |i| ((i[0] * 16 + i[2] * 4 + i[3]) as f64 * 0.61).sin()),
            Tensor::from_fn(&[2, 1, 3, 3], |i| ((i[0] * 9 + i[2] * 3 + i[3]) as f64 * 0.83 + 0.2).cos() * 0.5),
            Tensor::from_vec(vec![0.05, -0.1]),
            Tensor::from_fn(&[3, 8], |i| ((i[0] * 8 + i[1]) as f64 * 0.47).sin() * 0.4),
            Tensor::from_vec(vec![0.1, 0.0, -0.2]),
        ],
        1e-6,
    )
    .unwrap();
    assert!(check.passes(1e-5), "max error {}", check.max_error);
}

proptest! {
    #[test]
    fn linear_parameter_count_and_shapes(i in 1usize..40, o in 1usize..40, bias in any::<bool>()) {
        let cpu = Cpu::<f32>::default();
        let l = Linear::new(&cpu, i, o, bias, &mut rng(0)).unwrap();
        prop_assert_eq!(l.num_parameters(), o * i + if bias { o } else { 0 });
        prop_assert_eq!(l.weight().shape(), vec![o, i]);
        prop_assert_eq!(l.bias().map(Var::shape), bias.then(|| vec![o]));
        let x = Var::constant(&cpu, Tensor::<f32>::ones(&[3, i]));
        prop_assert_eq!(l.forward(&x).unwrap().shape(), vec![3, o]);
    }

    #[test]
    fn conv_parameter_count_and_shapes(c in 1usize..5, o in 1usize..9, k in 1usize..6, stride in 1usize..3, pad in 0usize..2) {
        let cpu = Cpu::<f32>::default();
        let conv = Conv2d::new(&cpu, c, o, (k, k), Conv2dParams::new(stride, pad), true, &mut rng(0)).unwrap();
        prop_assert_eq!(conv.num_parameters(), o * c * k * k + o);
        prop_assert_eq!(conv.weight().shape(), vec![o, c, k, k]);
        let h = k + 4;
        let x = Var::constant(&cpu, Tensor::<f32>::ones(&[2, c, h, h]));
        let out = (h + 2 * pad - k) / stride + 1;
        prop_assert_eq!(conv.forward(&x).unwrap().shape(), vec![2, o, out, out]);
    }
}
