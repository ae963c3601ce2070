//! Every way a model is refused: a typed error naming what is wrong (operator, node,
//! opset, attribute), never a panic: unsupported operators and attributes, graphs that
//! are not chains, missing or malformed tensors, truncated or garbage bytes, limits.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected errors")]
#![allow(clippy::cast_possible_truncation, reason = "random byte positions and values")]

use std::path::PathBuf;
use syft_onnx::{Error, Limits};
use syft_ring::{Prg, Seed};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn load_err(name: &str) -> Error {
    match syft_onnx::load(fixture(&format!("{name}.onnx"))) {
        Ok(_) => panic!("{name} imported"),
        Err(e) => e,
    }
}

/// Checks an `UnsupportedAttribute` error's fields.
fn assert_attribute(name: &str, op: &str, node: &str, attr: &str) {
    match load_err(name) {
        Error::UnsupportedAttribute { op_type, node: n, attribute, opset, reason } => {
            assert_eq!((op_type.as_str(), n.as_str(), attribute.as_str(), opset), (op, node, attr, 13), "{reason}");
        }
        e => panic!("{name}: {e}"),
    }
}

#[test]
fn unsupported_operator_names_operator_node_and_opset() {
    let err = load_err("bad_unsupported_op");
    let text = err.to_string();
    match err {
        Error::UnsupportedOperator { op_type, domain, node, opset } => {
            assert_eq!((op_type.as_str(), domain.as_str(), node.as_str(), opset), ("Tanh", "ai.onnx", "tanh_1", 14));
        }
        e => panic!("{e}"),
    }
    assert!(text.contains("Tanh") && text.contains("tanh_1") && text.contains("opset 14"), "{text}");
}

#[test]
fn gemm_alpha_other_than_one() {
    assert_attribute("bad_gemm_alpha", "Gemm", "fc", "alpha");
}

#[test]
fn gemm_trans_a() {
    assert_attribute("bad_gemm_trans_a", "Gemm", "fc", "transA");
}

#[test]
fn grouped_convolution() {
    assert_attribute("bad_conv_group", "Conv", "conv", "group");
}

#[test]
fn dilated_convolution() {
    assert_attribute("bad_conv_dilation", "Conv", "conv", "dilations");
}

#[test]
fn asymmetric_padding() {
    assert_attribute("bad_conv_asymmetric_pads", "Conv", "conv", "pads");
}

#[test]
fn max_pool_ceil_mode() {
    assert_attribute("bad_maxpool_ceil_mode", "MaxPool", "pool", "ceil_mode");
}

#[test]
fn padded_average_pool_that_excludes_the_padding() {
    assert_attribute("bad_avgpool_exclude_pad", "AveragePool", "pool", "count_include_pad");
}

#[test]
fn flatten_past_the_batch_axis() {
    assert_attribute("bad_flatten_axis", "Flatten", "flatten", "axis");
}

#[test]
fn softmax_before_the_last_layer() {
    match load_err("bad_softmax_not_last") {
        Error::UnsupportedUse { op_type, node, reason, .. } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("Softmax", "softmax"));
            assert!(reason.contains("`fc`"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn batch_norm_without_a_layer_to_fold_into() {
    match load_err("bad_batchnorm_after_relu") {
        Error::UnsupportedUse { op_type, node, .. } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("BatchNormalization", "bn"));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn residual_connection_is_not_a_chain() {
    let err = load_err("bad_not_a_chain");
    assert!(matches!(&err, Error::NotAChain { reason } if reason.contains("residual")), "{err}");
}

#[test]
fn concat_of_data() {
    match load_err("bad_concat_data") {
        Error::UnsupportedUse { op_type, node, reason, .. } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("Concat", "concat"));
            assert!(reason.contains("only on shapes"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn missing_initializer() {
    match load_err("bad_missing_initializer") {
        Error::MissingInitializer { op_type, node, input } => {
            assert_eq!((op_type.as_str(), node.as_str(), input.as_str()), ("Gemm", "fc", "w_missing"));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn dims_that_disagree_with_the_data() {
    match load_err("bad_wrong_dims") {
        Error::BadTensor { name, reason } => {
            assert_eq!(name, "w");
            assert!(reason.contains("8 elements") && reason.contains("28 bytes"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn weight_that_does_not_fit_the_data() {
    match load_err("bad_weight_shape") {
        Error::Shape { op_type, node, reason } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("Gemm", "fc"));
            assert!(reason.contains('5') && reason.contains('4'), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn integer_weights() {
    match load_err("bad_int8_weight") {
        Error::UnsupportedDataType { name, data_type } => {
            assert_eq!((name.as_str(), data_type.as_str()), ("w", "INT8"))
        }
        e => panic!("{e}"),
    }
}

#[test]
fn missing_file() {
    let err = syft_onnx::load(fixture("no_such_model.onnx")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn garbage_and_empty_bytes() {
    for garbage in [&b"hello, this is not a model"[..], &[0xff; 64], &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]] {
        let err = syft_onnx::from_bytes(garbage).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err}");
    }
    // Zero bytes decode as an empty ModelProto: it has no opset and no graph.
    let err = syft_onnx::from_bytes(&[]).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
}

#[test]
fn every_truncation_is_an_error() {
    let full = bytes("cnn.onnx");
    for len in 0..full.len() {
        let result = syft_onnx::from_bytes(&full[..len]);
        assert!(result.is_err(), "a model cut to {len} of {} bytes imported", full.len());
    }
    assert!(syft_onnx::from_bytes(&full).is_ok());
}

#[test]
fn flipped_bytes_never_panic() {
    // Every fixture, with random bytes overwritten: Ok or a typed error, never a panic.
    let mut rng = Prg::new(&Seed::from_u64(11));
    let mut names: Vec<String> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".onnx"))
        .collect();
    names.sort();
    for name in names {
        let original = bytes(&name);
        for _ in 0..200 {
            let mut b = original.clone();
            for _ in 0..1 + rng.next_u64() % 4 {
                let i = (rng.next_u64() % b.len() as u64) as usize;
                b[i] = rng.next_u64() as u8;
            }
            let _ = syft_onnx::from_bytes(&b);
        }
    }
}

#[test]
fn file_size_limit() {
    let mut limits = Limits::default();
    limits.max_model_bytes = 1000;
    let err = syft_onnx::load_with_limits(fixture("cnn.onnx"), &limits).unwrap_err();
    assert!(matches!(err, Error::TooLarge { size: 2745, limit: 1000, .. }), "{err}");
    let err = syft_onnx::from_bytes_with_limits(&bytes("cnn.onnx"), &limits).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(syft_onnx::load_with_limits(fixture("mlp_gemm.onnx"), &limits).is_err());
}

#[test]
fn tensor_element_limit() {
    let mut limits = Limits::default();
    limits.max_tensor_elements = 100;
    // fc1.weight of mlp_gemm is 16 × 8 = 128 elements.
    let err = syft_onnx::load_with_limits(fixture("mlp_gemm.onnx"), &limits).unwrap_err();
    assert!(matches!(&err, Error::TooLarge { size: 128, limit: 100, what } if what.contains("fc1.weight")), "{err}");
}

#[test]
fn node_count_limit() {
    let mut limits = Limits::default();
    limits.max_nodes = 3;
    let err = syft_onnx::load_with_limits(fixture("mlp_gemm.onnx"), &limits).unwrap_err();
    assert!(matches!(err, Error::TooLarge { size: 5, limit: 3, .. }), "{err}");
}

#[test]
fn input_larger_than_the_tensor_limit() {
    let mut limits = Limits::default();
    limits.max_tensor_elements = 100;
    // cnn_global_pool's input is [1, 3, 16, 16]: 768 elements.
    let err = syft_onnx::load_with_limits(fixture("cnn_global_pool.onnx"), &limits).unwrap_err();
    assert!(matches!(&err, Error::TooLarge { size: 768, limit: 100, what } if what.contains("input")), "{err}");
}
