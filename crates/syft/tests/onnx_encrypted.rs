//! ONNX models under encryption: each valid fixture of `syft-onnx` (the models written
//! by its `make_fixtures.py`, and the exporter's `exported_small.onnx`), imported,
//! fixed-point encoded and shared between two in-process workers with a crypto provider,
//! computes on a shared input what ONNX's reference evaluator computed for it in
//! plaintext, within the fixed-point tolerance.
//!
//! The encoding is binary with 16 fractional bits (resolution 2^-16 ≈ 1.5e-5). Rounding
//! the inputs and weights and truncating each product costs a few units of 2^-16 per
//! term, summed over a layer's fan-in (at most 200 here) and carried through up to five
//! layers: the decrypted logits must be within `TOLERANCE` = 2e-3 absolute plus 2e-3
//! relative of the reference (the largest error observed is below 2e-4; probabilities
//! after a plaintext softmax are held to the same bound), and predict the same class.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::PathBuf;
use syft::prelude::*;

/// Absolute (and relative) tolerance on each output.
const TOLERANCE: f32 = 2e-3;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../syft-onnx/fixtures").join(name)
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

fn argmax_rows(t: &Tensor<f32>) -> Vec<usize> {
    t.argmax_axis(1).unwrap().into_vec()
}

/// Imports fixture `name`, runs it under encryption on the reference input, decrypts the
/// output, and returns the largest absolute error against the reference.
fn encrypted_error(name: &str) -> f32 {
    let model = syft_onnx::load(fixture(&format!("{name}.onnx"))).unwrap();
    let (x, y) = reference(name);
    let hub = Hub::new();
    let workers = Workers::in_process(&hub, &["bob", "alice", "crypto_provider"]).unwrap();
    let (bob, alice, crypto_provider) =
        (workers.get("bob").unwrap(), workers.get("alice").unwrap(), workers.get("crypto_provider").unwrap());
    let encoder = FixedEncoder::binary(16).unwrap();
    let error = {
        let shared = model.fix_precision_with(encoder).share(&[bob, alice], crypto_provider).unwrap();
        let sx = x.fix_precision_with(encoder).unwrap().share(&[bob, alice], crypto_provider).unwrap();
        let logits = shared.infer(&sx).unwrap().get().unwrap().float_precision();
        #[allow(clippy::cast_possible_truncation, reason = "outputs are compared as f32")]
        let logits = logits.map(|v| v as f32);
        // What the ONNX graph outputs (a final softmax is computed in plaintext here).
        let out = model.apply_output_activation(&logits).unwrap();
        assert_eq!(out.shape(), y.shape(), "{name}");
        let mut max_error = 0.0f32;
        for (i, (&a, &b)) in out.data().iter().zip(y.data()).enumerate() {
            let err = (a - b).abs();
            assert!(err <= TOLERANCE * b.abs().max(1.0), "{name} element {i}: encrypted {a}, reference {b}");
            max_error = max_error.max(err);
        }
        if y.shape().len() == 2 {
            assert_eq!(argmax_rows(&out), argmax_rows(&y), "{name}: the predicted classes differ");
        }
        max_error
    };
    for w in workers.all() {
        assert_eq!(w.object_count().unwrap(), 0, "{name}: {} leaked objects", w.id());
    }
    error
}

#[test]
fn mlp_fixtures_match_the_reference_under_encryption() {
    for name in ["mlp_gemm", "mlp_matmul_add"] {
        let err = encrypted_error(name);
        eprintln!("{name}: largest error {err:.2e}");
        assert!(err < TOLERANCE, "{name}: {err}");
    }
}

#[test]
fn conv_fixtures_match_the_reference_under_encryption() {
    // Convolutions (padded, strided), max and average pooling, folded batch norms,
    // flattens written as Reshape, a softmax output, and the exporter's own output.
    for name in ["cnn", "cnn_reshape_initializer", "cnn_view_flatten", "exported_small"] {
        let err = encrypted_error(name);
        eprintln!("{name}: largest error {err:.2e}");
        assert!(err < TOLERANCE, "{name}: {err}");
    }
}

#[test]
fn padded_max_pooling_is_a_typed_error_under_encryption() {
    // `cnn_global_pool` imports (and runs in plaintext), but its padded max pool has no
    // shared implementation: the error is typed, not a panic.
    let model = syft_onnx::load(fixture("cnn_global_pool.onnx")).unwrap();
    let (x, _) = reference("cnn_global_pool");
    let hub = Hub::new();
    let workers = Workers::in_process(&hub, &["bob", "alice", "crypto_provider"]).unwrap();
    let (bob, alice, crypto_provider) =
        (workers.get("bob").unwrap(), workers.get("alice").unwrap(), workers.get("crypto_provider").unwrap());
    let encoder = FixedEncoder::binary(16).unwrap();
    let shared = model.fix_precision_with(encoder).share(&[bob, alice], crypto_provider).unwrap();
    let sx = x.fix_precision_with(encoder).unwrap().share(&[bob, alice], crypto_provider).unwrap();
    let err = shared.infer(&sx).unwrap_err();
    assert!(err.to_string().contains("padded max pooling"), "{err}");
}
