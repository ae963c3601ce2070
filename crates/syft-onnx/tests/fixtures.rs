//! The checked-in models of `fixtures/` (built by `fixtures/make_fixtures.py`): each
//! imports, has the layers and metadata expected, and computes the output that ONNX's
//! reference evaluator computed for the same input, within 1e-4 relative.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected errors")]

use std::path::PathBuf;
use syft_autograd::{Cpu, Var};
use syft_nn::{Layer, Module};
use syft_onnx::{OnnxModel, OutputActivation};
use syft_ring::Tensor;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A tensor from the fixtures' JSON: `{"shape": [...], "data": [...]}`.
fn tensor(v: &serde_json::Value) -> Tensor<f32> {
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let data: Vec<f32> = serde_json::from_value(v["data"].clone()).unwrap();
    Tensor::new(&shape, data).unwrap()
}

/// The reference input and output of fixture `name`.
fn reference(name: &str) -> (Tensor<f32>, Tensor<f32>) {
    let text = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    (tensor(&v["input"]), tensor(&v["output"]))
}

fn assert_close(ours: &Tensor<f32>, reference: &Tensor<f32>) {
    assert_eq!(ours.shape(), reference.shape());
    for (i, (&a, &b)) in ours.data().iter().zip(reference.data()).enumerate() {
        let tol = 1e-4 * b.abs().max(1.0);
        assert!((a - b).abs() <= tol, "element {i}: ours {a}, reference {b}");
    }
}

/// Imports `name.onnx` and checks the graph's output (module, then the recorded output
/// activation) against the reference, and returns the model.
fn check_against_reference(name: &str) -> OnnxModel {
    let model = syft_onnx::load(fixture(&format!("{name}.onnx"))).unwrap();
    let (x, y) = reference(name);
    let logits = model.forward_tensor(&x).unwrap();
    let out = model.apply_output_activation(&logits).unwrap();
    assert_close(&out, &y);
    // The same through the Module trait, as the facade uses it.
    let cpu = Cpu::<f32>::default();
    let via_module = model.forward(&Var::constant(&cpu, x)).unwrap();
    assert_eq!(via_module.value().data(), logits.data());
    model
}

fn argmax_rows(t: &Tensor<f32>) -> Vec<usize> {
    let cols = t.shape()[1];
    t.data()
        .chunks(cols)
        .map(|row| row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best }))
        .collect()
}

fn kinds(model: &OnnxModel) -> Vec<&'static str> {
    model
        .module()
        .layers()
        .iter()
        .map(|l| match l {
            Layer::Linear(_) => "Linear",
            Layer::Conv2d(_) => "Conv2d",
            Layer::ReLU(_) => "ReLU",
            Layer::MaxPool2d(_) => "MaxPool2d",
            Layer::AvgPool2d(_) => "AvgPool2d",
            Layer::GlobalAvgPool2d(_) => "GlobalAvgPool2d",
            Layer::Flatten(_) => "Flatten",
            _ => "other",
        })
        .collect()
}

#[test]
fn mlp_with_gemm_dropout_and_identity() {
    let model = check_against_reference("mlp_gemm");
    assert_eq!(kinds(&model), ["Linear", "ReLU", "Linear"]);
    assert_eq!(model.opset(), 11);
    assert_eq!(model.input_name(), "input");
    assert_eq!(model.output_name(), "output");
    assert_eq!(model.input_shape(), [None, Some(8)]);
    assert_eq!(model.output_shape(), [None, Some(3)]);
    assert_eq!(model.output_activation(), None);
    assert_eq!(model.producer(), "make_fixtures.py");
    assert_eq!(model.ir_version(), 7);
    let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    // transB = 0 was transposed into PyTorch's [out, in].
    assert_eq!(model.parameters()[2].shape(), [3, 16]);
}

#[test]
fn mlp_with_matmul_add_batch_norm_and_log_softmax() {
    let model = check_against_reference("mlp_matmul_add");
    assert_eq!(kinds(&model), ["Linear", "ReLU", "Linear"]);
    assert_eq!(model.output_activation(), Some(OutputActivation::LogSoftmax));
    assert_eq!(model.opset(), 14);
    assert_eq!(model.num_parameters(), 6 * 10 + 10 + 10 * 4 + 4);
}

#[test]
fn cnn_with_batch_norm_pools_flatten_and_softmax() {
    let model = check_against_reference("cnn");
    assert_eq!(kinds(&model), ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "AvgPool2d", "Flatten", "Linear"]);
    assert_eq!(model.output_activation(), Some(OutputActivation::Softmax));
    assert_eq!(model.input_shape(), [None, Some(1), Some(12), Some(12)]);
    // The second convolution had no bias; its batch norm gave it one.
    let Layer::Conv2d(conv2) = &model.module().layers()[3] else { panic!("a convolution") };
    assert!(conv2.bias().is_some());
    // The softmax is not computed: the logits already give the class.
    let (x, y) = reference("cnn");
    assert_eq!(argmax_rows(&model.forward_tensor(&x).unwrap()), argmax_rows(&y));
}

#[test]
fn cnn_with_strided_padded_conv_padded_max_pool_global_pool_and_reshape() {
    let model = check_against_reference("cnn_global_pool");
    assert_eq!(kinds(&model), ["Conv2d", "MaxPool2d", "ReLU", "GlobalAvgPool2d", "Flatten", "Linear"]);
    assert_eq!(model.input_shape(), [Some(1), Some(3), Some(16), Some(16)]);
    assert_eq!(model.output_shape(), [Some(1), Some(4)]);
    assert_eq!(model.opset(), 17);
    let Layer::Conv2d(conv) = &model.module().layers()[0] else { panic!("a convolution") };
    assert_eq!((conv.params().stride, conv.params().padding), ((2, 2), (2, 2)));
}

#[test]
fn opset_7_model_with_initializers_among_the_inputs() {
    let model = check_against_reference("cnn_reshape_initializer");
    assert_eq!(kinds(&model), ["Conv2d", "ReLU", "Flatten", "Linear"]);
    assert_eq!(model.opset(), 7);
    assert_eq!(model.input_name(), "input");
}

#[test]
fn pytorch_view_of_size_0_by_minus_1() {
    // Shape -> Gather -> Unsqueeze -> Concat computes the Reshape target [N, -1].
    let model = check_against_reference("cnn_view_flatten");
    assert_eq!(kinds(&model), ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]);
    assert_eq!(model.input_shape(), [None, Some(2), Some(6), Some(6)]);
}

#[test]
fn bytes_and_file_import_alike() {
    let bytes = std::fs::read(fixture("cnn.onnx")).unwrap();
    let a = syft_onnx::from_bytes(&bytes).unwrap();
    let b = syft_onnx::load(fixture("cnn.onnx")).unwrap();
    let values =
        |m: &OnnxModel| -> Vec<Vec<f32>> { m.parameters().iter().map(|p| p.value().data().to_vec()).collect() };
    assert_eq!(values(&a), values(&b));
}

#[test]
fn imported_model_maps_to_another_backend() {
    // What the facade's share_model does, with f64 in place of shares.
    let model = syft_onnx::load(fixture("cnn.onnx")).unwrap();
    let (x, _) = reference("cnn");
    let cpu64 = Cpu::<f64>::default();
    let model64 = model.map_parameters(&cpu64, |_, t| Ok::<_, syft_autograd::Error>(t.map(f64::from))).unwrap();
    assert_eq!(model64.num_parameters(), model.num_parameters());
    let y64 = model64.forward(&Var::constant(&cpu64, x.map(f64::from))).unwrap();
    let y32 = model.forward_tensor(&x).unwrap();
    for (&a, &b) in y64.value().data().iter().zip(y32.data()) {
        assert!((a - f64::from(b)).abs() < 1e-4, "{a} vs {b}");
    }
    // Its module is a plain Sequential too.
    let seq = model.clone().into_module();
    assert_eq!(seq.len(), model.module().len());
}

#[test]
fn forward_tensor_checks_the_input_shape() {
    let model = syft_onnx::load(fixture("cnn_global_pool.onnx")).unwrap();
    let wrong = Tensor::new(&[2, 3, 16, 16], vec![0.0; 2 * 3 * 256]).unwrap();
    let err = model.forward_tensor(&wrong).unwrap_err();
    assert!(matches!(err, syft_onnx::Error::InputShape { .. }), "{err}");
    // A symbolic batch takes any size.
    let mlp = syft_onnx::load(fixture("mlp_gemm.onnx")).unwrap();
    let y = mlp.forward_tensor(&Tensor::new(&[5, 8], vec![0.5; 40]).unwrap()).unwrap();
    assert_eq!(y.shape(), [5, 3]);
}

#[test]
fn the_imported_modules_are_in_evaluation_mode() {
    let model = syft_onnx::load(fixture("mlp_gemm.onnx")).unwrap();
    assert!(!model.is_training());
}
