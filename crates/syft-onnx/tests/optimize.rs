//! `max_pool_before_relu`: ReLU → MaxPool pairs become MaxPool → ReLU, the function and
//! the parameter names unchanged.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::{Conv2dParams, Cpu, Var};
use syft_nn::zoo::Network;
use syft_nn::{Layer, Linear, MaxPool2d, Module, ReLU, Sequential};
use syft_ring::{Prg, Seed, Tensor};

fn kinds(seq: &Sequential<Cpu<f32>>) -> Vec<&'static str> {
    seq.layers()
        .iter()
        .map(|l| match l {
            Layer::ReLU(_) => "ReLU",
            Layer::MaxPool2d(_) => "MaxPool2d",
            Layer::Conv2d(_) => "Conv2d",
            Layer::Linear(_) => "Linear",
            Layer::Flatten(_) => "Flatten",
            Layer::Sequential(_) => "Sequential",
            _ => "other",
        })
        .collect()
}

fn images(n: usize) -> Tensor<f32> {
    #[allow(clippy::cast_precision_loss, reason = "test data")]
    let data = (0..n * 784).map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0).collect();
    Tensor::new(&[n, 1, 28, 28], data).unwrap()
}

#[test]
fn lenet_pools_before_its_relus_with_the_same_outputs() {
    let cpu = Cpu::<f32>::default();
    let mut c = Network::C.build(&cpu, &mut Prg::new(&Seed::from_u64(2))).unwrap();
    c.eval();
    let (fast, swapped) = syft_onnx::max_pool_before_relu(&c);
    assert_eq!(swapped, 2);
    assert_eq!(
        kinds(&fast),
        ["Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "ReLU", "Linear"]
    );
    assert!(!fast.is_training());
    let names = |m: &Sequential<Cpu<f32>>| m.named_parameters().into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(names(&fast), names(&c));
    let x = Var::constant(&cpu, images(3));
    // max and ReLU commute exactly: the same bits.
    assert_eq!(fast.forward(&x).unwrap().value().data(), c.forward(&x).unwrap().value().data());
}

#[test]
fn networks_without_the_pair_are_unchanged() {
    let cpu = Cpu::<f32>::default();
    for net in [Network::A, Network::D] {
        let model = net.build(&cpu, &mut Prg::new(&Seed::from_u64(2))).unwrap();
        let (same, swapped) = syft_onnx::max_pool_before_relu(&model);
        assert_eq!(swapped, 0, "{net}");
        assert_eq!(kinds(&same), kinds(&model), "{net}");
    }
}

#[test]
fn nested_and_padded_pairs_swap_too() {
    let cpu = Cpu::<f32>::default();
    let mut rng = Prg::new(&Seed::from_u64(4));
    let inner = Sequential::new().with(ReLU::new()).with(MaxPool2d::with_params((3, 3), Conv2dParams::new(2, 1)));
    let model = Sequential::new()
        .with(inner)
        .with(syft_nn::Flatten::new())
        .with(Linear::new(&cpu, 14 * 14, 3, true, &mut rng).unwrap());
    let (fast, swapped) = syft_onnx::max_pool_before_relu(&model);
    assert_eq!(swapped, 1);
    let Layer::Sequential(inner) = &fast.layers()[0] else { panic!("the nested sequence stays") };
    assert_eq!(kinds(inner), ["MaxPool2d", "ReLU"]);
    let x = Var::constant(&cpu, images(2));
    assert_eq!(fast.forward(&x).unwrap().value().data(), model.forward(&x).unwrap().value().data());
}
