//! The MNIST networks A–D of the literature: shapes flow from `[1, 1, 28, 28]` to ten
//! logits, parameter counts and names; and the global average pool they may end with.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::gradcheck::check_gradients;
use syft_autograd::{Cpu, Var};
use syft_nn::zoo::{Network, network_a, network_b, network_c, network_d};
use syft_nn::{GlobalAvgPool2d, Layer, Module, Sequential};
use syft_ring::{Prg, Seed, Tensor};

fn rng() -> Prg {
    Prg::new(&Seed::from_u64(7))
}

fn image(cpu: &Cpu<f32>, n: usize) -> Var<Cpu<f32>> {
    let data = (0..n * 784).map(|i| ((i % 17) as f32) / 17.0 - 0.5).collect();
    Var::constant(cpu, Tensor::new(&[n, 1, 28, 28], data).unwrap())
}

fn check(net: &Sequential<Cpu<f32>>, parameters: usize, first: &str) {
    let cpu = Cpu::<f32>::default();
    for n in [1, 3] {
        let y = net.forward(&image(&cpu, n)).unwrap();
        assert_eq!(y.shape(), [n, 10]);
        assert!(y.value().data().iter().all(|v| v.is_finite()));
    }
    assert_eq!(net.num_parameters(), parameters);
    assert_eq!(net.named_parameters()[0].0, first);
}

#[test]
fn network_a_is_784_128_128_10() {
    let net = network_a(&Cpu::<f32>::default(), &mut rng()).unwrap();
    check(&net, 118_282, "1.weight");
    let shapes: Vec<Vec<usize>> = net.parameters().iter().map(Var::shape).collect();
    assert_eq!(shapes, [vec![128, 784], vec![128], vec![128, 128], vec![128], vec![10, 128], vec![10]]);
}

#[test]
fn network_b_is_minionn() {
    let net = network_b(&Cpu::<f32>::default(), &mut rng()).unwrap();
    check(&net, 33_542, "0.weight");
    let shapes: Vec<Vec<usize>> = net.parameters().iter().map(Var::shape).collect();
    assert_eq!(shapes[0], [16, 1, 5, 5]);
    assert_eq!(shapes[2], [16, 16, 5, 5]);
    assert_eq!(shapes[4], [100, 256]);
}

#[test]
fn network_c_is_lenet() {
    let net = network_c(&Cpu::<f32>::default(), &mut rng()).unwrap();
    check(&net, 431_080, "0.weight");
    let shapes: Vec<Vec<usize>> = net.parameters().iter().map(Var::shape).collect();
    assert_eq!(shapes[0], [20, 1, 5, 5]);
    assert_eq!(shapes[2], [50, 20, 5, 5]);
    assert_eq!(shapes[4], [500, 800]);
}

#[test]
fn network_d_is_one_strided_conv() {
    let net = network_d(&Cpu::<f32>::default(), &mut rng()).unwrap();
    check(&net, 99_240, "0.weight");
    let Layer::Conv2d(conv) = &net.layers()[0] else { panic!("the first layer is a convolution") };
    assert_eq!((conv.params().stride, conv.params().padding), ((2, 2), (2, 2)));
    assert_eq!(net.parameters()[2].shape(), [100, 980]);
}

#[test]
fn networks_map_to_another_backend() {
    let net = network_c(&Cpu::<f32>::default(), &mut rng()).unwrap();
    let cpu64 = Cpu::<f64>::default();
    let net64 = net.map_parameters(&cpu64, |_, t| Ok::<_, syft_autograd::Error>(t.map(f64::from))).unwrap();
    assert_eq!(net64.num_parameters(), 431_080);
    let x = Var::constant(&cpu64, Tensor::new(&[1, 1, 28, 28], vec![0.25; 784]).unwrap());
    let y32 = net.forward(&image(&Cpu::default(), 1).detach()).unwrap();
    assert_eq!(net64.forward(&x).unwrap().shape(), y32.shape());
}

#[test]
fn global_avg_pool_is_the_mean_of_each_plane() {
    let cpu = Cpu::<f64>::default();
    let data: Vec<f64> = (0..2 * 3 * 4 * 5).map(f64::from).collect();
    let x = Var::constant(&cpu, Tensor::new(&[2, 3, 4, 5], data.clone()).unwrap());
    let y = GlobalAvgPool2d::new().forward(&x).unwrap();
    assert_eq!(y.shape(), [2, 3, 1, 1]);
    let expected: Vec<f64> = data.chunks(20).map(|c| c.iter().sum::<f64>() / 20.0).collect();
    for (a, b) in y.value().data().iter().zip(&expected) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn global_avg_pool_rejects_non_images_and_has_gradients() {
    let cpu = Cpu::<f64>::default();
    let flat = Var::constant(&cpu, Tensor::new(&[2, 3], vec![0.0; 6]).unwrap());
    assert!(GlobalAvgPool2d::new().forward(&flat).is_err());

    let pool = GlobalAvgPool2d::new();
    let input = Tensor::from_fn(&[2, 2, 3, 3], |i| ((i[0] * 18 + i[1] * 9 + i[2] * 3 + i[3]) as f64 * 0.37).sin());
    let check = check_gradients(|v| pool.forward(&v[0])?.square()?.sum(), &[input], 1e-6).unwrap();
    assert!(check.passes(1e-6), "max error {}", check.max_error);
}

#[test]
fn global_avg_pool_in_a_sequential_has_no_parameters() {
    let cpu = Cpu::<f32>::default();
    let m = Sequential::<Cpu<f32>>::new().with(GlobalAvgPool2d::new());
    assert_eq!(m.num_parameters(), 0);
    assert!(matches!(m.layers()[0], Layer::GlobalAvgPool2d(_)));
    let y = m.forward(&image(&cpu, 2)).unwrap();
    assert_eq!(y.shape(), [2, 1, 1, 1]);
}

#[test]
fn networks_by_letter() {
    let cpu = Cpu::<f32>::default();
    for net in Network::ALL {
        assert_eq!(net.letter().parse::<Network>().unwrap(), net);
        assert_eq!(net.to_string().parse::<Network>().unwrap(), net);
        let built = net.build(&cpu, &mut rng()).unwrap();
        assert_eq!(built.num_parameters(), net.num_parameters(), "{net}");
        assert_eq!(matches!(built.layers()[0], Layer::Conv2d(_)), net.is_convolutional(), "{net}");
        assert!(!net.description().is_empty());
    }
    // The same generator state gives the same weights as the named constructor.
    let a = Network::C.build(&cpu, &mut rng()).unwrap();
    let b = network_c(&cpu, &mut rng()).unwrap();
    assert_eq!(a.parameters()[0].value().data(), b.parameters()[0].value().data());
    for bad in ["e", "", "ab", "lenet"] {
        let err = bad.parse::<Network>().unwrap_err();
        assert!(matches!(err, syft_nn::Error::InvalidArgument { .. }), "{err}");
    }
}
