//! ONNX export: every layer kind survives export → import with the same outputs and the
//! same parameter names, the MNIST networks A–D round-trip, what ONNX cannot express is a
//! typed error, and the checked-in exported fixture computes, through our importer, what
//! ONNX's own reference evaluator computed for it (`fixtures/check_export.py`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected errors")]

use std::path::PathBuf;
use syft_autograd::{Conv2dParams, Cpu, Var};
use syft_nn::zoo::Network;
use syft_nn::{AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, Module, ReLU, Sequential};
use syft_ring::{Prg, Seed, Tensor};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn rng(seed: u64) -> Prg {
    Prg::new(&Seed::from_u64(seed))
}

/// Deterministic inputs in [-1, 1).
fn input(shape: &[usize], seed: u64) -> Tensor<f32> {
    let mut prg = rng(seed);
    let n = shape.iter().product();
    #[allow(clippy::cast_precision_loss, reason = "test data")]
    let data = (0..n).map(|_| (prg.next_u64() % 2000) as f32 / 1000.0 - 1.0).collect();
    Tensor::new(shape, data).unwrap()
}

fn forward(model: &Sequential<Cpu<f32>>, x: &Tensor<f32>) -> Tensor<f32> {
    let cpu = Cpu::<f32>::default();
    model.forward(&Var::constant(&cpu, x.clone())).unwrap().value().as_ref().clone()
}

/// The network of `fixtures/exported_small.onnx`: every operator the exporter writes.
fn small_network() -> Sequential<Cpu<f32>> {
    let cpu = Cpu::<f32>::default();
    let mut r = rng(3);
    Sequential::new()
        .with(Conv2d::new(&cpu, 2, 3, (3, 3), Conv2dParams::new(1, 1), true, &mut r).unwrap())
        .with(ReLU::new())
        .with(MaxPool2d::new(2))
        .with(Conv2d::new(&cpu, 3, 4, (3, 3), Conv2dParams::new(2, 1), false, &mut r).unwrap())
        .with(ReLU::new())
        .with(AvgPool2d::with_params((3, 3), Conv2dParams::new(1, 1)))
        .with(GlobalAvgPool2d::new())
        .with(Flatten::new())
        .with(Linear::new(&cpu, 4, 5, true, &mut r).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 5, 3, false, &mut r).unwrap())
}

const SMALL_INPUT: [usize; 3] = [2, 8, 8];

fn assert_close(ours: &Tensor<f32>, reference: &Tensor<f32>, rel: f32) {
    assert_eq!(ours.shape(), reference.shape());
    for (i, (&a, &b)) in ours.data().iter().zip(reference.data()).enumerate() {
        assert!((a - b).abs() <= rel * b.abs().max(1.0), "element {i}: {a} vs {b}");
    }
}

/// Exports `model`, imports it back, and checks outputs, layer count and parameter names.
fn round_trip(model: &Sequential<Cpu<f32>>, example: &[usize], batch: usize) -> syft_onnx::OnnxModel {
    let bytes = syft_onnx::export(model, example).unwrap();
    let back = syft_onnx::from_bytes(&bytes).unwrap();
    assert_eq!(back.module().len(), model.len());
    let names = |m: &Sequential<Cpu<f32>>| m.named_parameters().into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(names(back.module()), names(model));
    let mut shape = vec![batch];
    shape.extend_from_slice(example);
    let x = input(&shape, 9);
    let ours = forward(model, &x);
    let theirs = back.forward_tensor(&x).unwrap();
    // The same f32 operations in the same order: equal up to rounding.
    assert_close(&theirs, &ours, 1e-6);
    let mut declared = vec![None];
    declared.extend(example.iter().copied().map(Some));
    assert_eq!(back.input_shape(), declared);
    assert_eq!(back.input_name(), syft_onnx::EXPORT_INPUT_NAME);
    assert_eq!(back.output_name(), syft_onnx::EXPORT_OUTPUT_NAME);
    assert_eq!(back.opset(), syft_onnx::EXPORT_OPSET);
    assert_eq!(back.output_activation(), None);
    back
}

#[test]
fn every_exported_operator_round_trips() {
    round_trip(&small_network(), &SMALL_INPUT, 3);
}

#[test]
fn the_mnist_networks_round_trip() {
    let cpu = Cpu::<f32>::default();
    for net in Network::ALL {
        let model = net.build(&cpu, &mut rng(5)).unwrap();
        let back = round_trip(&model, &[1, 28, 28], 2);
        assert_eq!(back.output_shape(), [None, Some(10)], "network {net}");
    }
    // An MLP reads flat images just as well: A's leading Flatten is the identity then.
    let a = Network::A.build(&cpu, &mut rng(5)).unwrap();
    round_trip(&a, &[784], 2);
}

#[test]
fn an_imported_model_exports_to_the_same_network() {
    // Batch norm and bias adds were folded on import: the export is the plain chain.
    let original = syft_onnx::load(fixture("cnn.onnx")).unwrap();
    let back = round_trip(original.module(), &[1, 12, 12], 2);
    let x = input(&[2, 1, 12, 12], 4);
    assert_close(&back.forward_tensor(&x).unwrap(), &original.forward_tensor(&x).unwrap(), 1e-6);
}

#[test]
fn nested_sequences_are_written_in_order() {
    let cpu = Cpu::<f32>::default();
    let mut r = rng(8);
    let inner = Sequential::new().with(Linear::new(&cpu, 6, 4, true, &mut r).unwrap()).with(ReLU::new());
    let model = Sequential::new().with(inner).with(Linear::new(&cpu, 4, 2, true, &mut r).unwrap());
    let back = syft_onnx::from_bytes(&syft_onnx::export(&model, &[6]).unwrap()).unwrap();
    assert_eq!(back.module().len(), 3);
    let x = input(&[4, 6], 1);
    assert_close(&back.forward_tensor(&x).unwrap(), &forward(&model, &x), 1e-6);
}

#[test]
fn what_onnx_cannot_express_is_a_typed_error() {
    let cpu = Cpu::<f32>::default();
    let mut r = rng(1);
    // A fully connected layer on images (Gemm needs [N, features]).
    let linear_on_images = Sequential::new().with(Linear::new(&cpu, 4, 2, true, &mut r).unwrap());
    let err = syft_onnx::export(&linear_on_images, &[1, 4, 4]).unwrap_err();
    assert!(matches!(&err, syft_onnx::Error::Export { layer, .. } if layer == "0"), "{err}");
    // A flatten that keeps three axes.
    let partial = Sequential::new().with(Flatten::from_dim(2));
    let err = syft_onnx::export(&partial, &[2, 3, 3]).unwrap_err();
    assert!(matches!(err, syft_onnx::Error::Export { .. }), "{err}");
    // A pool on flat data.
    let pool = Sequential::new().with(MaxPool2d::new(2));
    assert!(matches!(syft_onnx::export(&pool, &[16]).unwrap_err(), syft_onnx::Error::Export { .. }));
    // Data that does not fit a layer: the layer's own error.
    let conv = Sequential::new().with(Conv2d::new(&cpu, 3, 2, (3, 3), Conv2dParams::default(), true, &mut r).unwrap());
    let err = syft_onnx::export(&conv, &[1, 8, 8]).unwrap_err();
    assert!(!matches!(err, syft_onnx::Error::Export { .. }), "{err}");
    // An empty or zero-sized input shape.
    assert!(matches!(syft_onnx::export(&conv, &[]).unwrap_err(), syft_onnx::Error::Export { .. }));
    assert!(matches!(syft_onnx::export(&conv, &[3, 0, 8]).unwrap_err(), syft_onnx::Error::Export { .. }));
}

#[test]
fn an_empty_sequence_exports_as_the_identity() {
    let bytes = syft_onnx::export(&Sequential::new(), &[5]).unwrap();
    let back = syft_onnx::from_bytes(&bytes).unwrap();
    let x = input(&[2, 5], 2);
    assert_eq!(back.forward_tensor(&x).unwrap().data(), x.data());
}

/// A tensor from the fixtures' JSON: `{"shape": [...], "data": [...]}`.
fn tensor(v: &serde_json::Value) -> Tensor<f32> {
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let data: Vec<f32> = serde_json::from_value(v["data"].clone()).unwrap();
    Tensor::new(&shape, data).unwrap()
}

#[test]
fn the_exported_fixture_matches_onnx_reference_evaluator() {
    let bytes = syft_onnx::export(&small_network(), &SMALL_INPUT).unwrap();
    let path = fixture("exported_small.onnx");
    if std::env::var_os("SYFT_ONNX_WRITE_EXPORT_FIXTURE").is_some() {
        // Regeneration: write the file, then run `fixtures/check_export.py` for its reference.
        std::fs::write(&path, &bytes).unwrap();
    }
    // The exporter is deterministic: the checked-in file is what it writes today.
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "rerun with SYFT_ONNX_WRITE_EXPORT_FIXTURE=1");
    let text = std::fs::read_to_string(fixture("exported_small.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let model = syft_onnx::load(&path).unwrap();
    let (x, y) = (tensor(&v["input"]), tensor(&v["output"]));
    assert_close(&model.forward_tensor(&x).unwrap(), &y, 1e-4);
}
