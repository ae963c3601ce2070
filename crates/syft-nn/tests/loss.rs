//! `softmax_cross_entropy`: the summed loss and its mean against `cross_entropy`, on the
//! plaintext backend.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::{Cpu, Var};
use syft_nn::{Reduction, cross_entropy, softmax_cross_entropy};
use syft_ring::Tensor;

#[test]
fn the_sum_is_rows_times_the_mean_and_the_mean_is_cross_entropy() {
    let cpu = Cpu::<f64>::default();
    let z = Tensor::new(&[3, 4], (0..12).map(|i| (f64::from(i) * 0.7).sin() * 3.0).collect()).unwrap();
    let y = Var::constant(&cpu, Tensor::<f64>::one_hot(&[1, 3, 0], 4).unwrap());
    let mean_ref = Var::param(&cpu, z.clone());
    let reference = cross_entropy(&mean_ref, &y).unwrap();
    let want = reference.value().item().unwrap();
    reference.backward().unwrap();

    let mean_var = Var::param(&cpu, z.clone());
    let mean = softmax_cross_entropy(&mean_var, &y, Reduction::Mean).unwrap();
    assert!((mean.value().item().unwrap() - want).abs() < 1e-12);
    mean.backward().unwrap();
    for (a, b) in mean_var.grad().unwrap().data().iter().zip(mean_ref.grad().unwrap().data()) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    let sum_var = Var::param(&cpu, z);
    let sum = softmax_cross_entropy(&sum_var, &y, Reduction::Sum).unwrap();
    assert!((sum.value().item().unwrap() - 3.0 * want).abs() < 1e-12);
    sum.backward().unwrap();
    for (a, b) in sum_var.grad().unwrap().data().iter().zip(mean_ref.grad().unwrap().data()) {
        assert!((a - 3.0 * b).abs() < 1e-12, "{a} vs {b}");
    }
}
