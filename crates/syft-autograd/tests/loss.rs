//! The fused softmax cross-entropy ([`LossOps`](syft_autograd::ops::LossOps)) on the
//! plaintext backend: its value is `n` times the mean cross-entropy through log-softmax,
//! its gradient agrees with central differences and with the log-softmax path's, and an
//! upstream gradient scales it.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use proptest::prelude::*;
use syft_autograd::gradcheck::{analytic_gradients, check_gradients};
use syft_autograd::{Cpu, Var};
use syft_ring::Tensor;

fn logits_and_labels() -> impl Strategy<Value = (Tensor<f64>, Vec<usize>)> {
    (1usize..6, 2usize..8).prop_flat_map(|(n, k)| {
        (
            prop::collection::vec(-4.0f64..4.0, n * k).prop_map(move |v| Tensor::new(&[n, k], v).unwrap()),
            prop::collection::vec(0..k, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_fused_loss_is_the_summed_log_softmax_loss((logits, labels) in logits_and_labels()) {
        let k = logits.shape()[1];
        let rows = labels.len() as f64;
        let one_hot = Tensor::<f64>::one_hot(&labels, k).unwrap();
        let cpu = Cpu::<f64>::default();
        let y = || Var::constant(&cpu, one_hot.clone());
        let fused = |v: &[Var<Cpu<f64>>]| v[0].softmax_cross_entropy(&y());
        let reference = |v: &[Var<Cpu<f64>>]| v[0].cross_entropy(&y())?.mul_scalar(rows);

        let value = fused(&[Var::constant(&cpu, logits.clone())]).unwrap().value().item().unwrap();
        let want = reference(&[Var::constant(&cpu, logits.clone())]).unwrap().value().item().unwrap();
        prop_assert!((value - want).abs() <= 1e-9 * want.abs().max(1.0), "{} vs {}", value, want);

        let check = check_gradients(fused, std::slice::from_ref(&logits), 1e-6).unwrap();
        prop_assert!(check.passes(1e-6), "max error {}", check.max_error);
        let a = analytic_gradients(fused, std::slice::from_ref(&logits)).unwrap();
        let b = analytic_gradients(reference, std::slice::from_ref(&logits)).unwrap();
        for (x, w) in a[0].data().iter().zip(b[0].data()) {
            prop_assert!((x - w).abs() <= 1e-9, "{} vs {}", x, w);
        }
    }
}

#[test]
fn an_upstream_gradient_scales_the_stored_one() {
    let cpu = Cpu::<f64>::default();
    let z = Var::param(&cpu, Tensor::new(&[2, 3], vec![1.0, -0.5, 2.0, 0.0, 0.25, -1.0]).unwrap());
    let y = Var::constant(&cpu, Tensor::<f64>::one_hot(&[2, 0], 3).unwrap());
    // The mean: the gradient is (softmax(z) − y) / 2.
    z.softmax_cross_entropy(&y).unwrap().mul_scalar(0.5).unwrap().backward().unwrap();
    let half = (*z.grad().unwrap()).clone();
    z.zero_grad();
    z.softmax_cross_entropy(&y).unwrap().backward().unwrap();
    let full = (*z.grad().unwrap()).clone();
    for (h, f) in half.data().iter().zip(full.data()) {
        assert!((2.0 * h - f).abs() < 1e-12, "{h} vs {f}");
    }
    // Each row of softmax(z) − y sums to zero.
    for row in full.data().chunks(3) {
        assert!(row.iter().sum::<f64>().abs() < 1e-12);
    }
}

#[test]
fn shapes_other_than_matching_rows_of_classes_are_refused() {
    let cpu = Cpu::<f64>::default();
    let z = Var::param(&cpu, Tensor::<f64>::zeros(&[2, 3]));
    assert!(z.softmax_cross_entropy(&Var::constant(&cpu, Tensor::<f64>::zeros(&[3, 2]))).is_err());
    let flat = Var::param(&cpu, Tensor::<f64>::zeros(&[6]));
    assert!(flat.softmax_cross_entropy(&Var::constant(&cpu, Tensor::<f64>::zeros(&[6]))).is_err());
}
