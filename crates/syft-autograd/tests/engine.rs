//! The graph engine: accumulation, `zero_grad`, no-grad scopes, `requires_grad`,
//! freed graphs, shared subexpressions and errors.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::{Cpu, Error, NoGradGuard, Var, is_grad_enabled, no_grad};
use syft_ring::Tensor;

fn cpu() -> Cpu<f64> {
    Cpu::default()
}

fn t(shape: &[usize], v: &[f64]) -> Tensor<f64> {
    Tensor::new(shape, v.to_vec()).unwrap()
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let b = cpu();
    let x = Var::param(&b, t(&[2], &[1.0, -2.0]));
    for _ in 0..2 {
        x.square().unwrap().sum().unwrap().backward().unwrap();
    }
    assert_eq!(x.grad().unwrap().data(), &[4.0, -8.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    x.mul_scalar(3.0).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().data(), &[3.0, 3.0]);
}

#[test]
fn shared_subexpression_sums_both_paths() {
    // y = x·x + x reuses x's node on three paths: dy/dx = 2x + 1.
    let b = cpu();
    let x = Var::param(&b, t(&[3], &[1.0, 2.0, -3.0]));
    let y = x.mul(&x).unwrap().add(&x).unwrap().sum().unwrap();
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().data(), &[3.0, 5.0, -5.0]);
}

#[test]
fn constants_get_no_gradient_and_cost_no_backward() {
    let b = cpu();
    let x = Var::constant(&b, t(&[1, 2], &[1.0, 2.0]));
    let w = Var::param(&b, t(&[1, 2], &[3.0, 4.0]));
    let y = x.linear(&w, None).unwrap().sum().unwrap();
    assert!(y.requires_grad());
    y.backward().unwrap();
    assert!(x.grad().is_none());
    assert_eq!(w.grad().unwrap().data(), &[1.0, 2.0]);
    let z = x.square().unwrap().sum().unwrap();
    assert!(!z.requires_grad());
    assert!(matches!(z.backward(), Err(Error::NoGraph { .. })));
}

#[test]
fn no_grad_scope_records_nothing_and_nests() {
    let b = cpu();
    let x = Var::param(&b, t(&[2], &[1.0, 2.0]));
    assert!(is_grad_enabled());
    let y = no_grad(|| {
        let _inner = NoGradGuard::new();
        x.square().unwrap()
    });
    assert!(is_grad_enabled());
    assert!(!y.requires_grad());
    assert!(y.is_leaf() || y.op() == "square");
    {
        let _g = NoGradGuard::new();
        assert!(!is_grad_enabled());
        assert!(!x.mul_scalar(2.0).unwrap().requires_grad());
    }
    assert!(x.mul_scalar(2.0).unwrap().requires_grad());
}

#[test]
fn backward_needs_a_scalar_and_frees_the_graph() {
    let b = cpu();
    let x = Var::param(&b, t(&[2], &[1.0, 2.0]));
    let y = x.square().unwrap();
    assert!(matches!(y.backward(), Err(Error::NotScalar { .. })));
    y.backward_with(t(&[2], &[1.0, 1.0])).unwrap();
    assert_eq!(x.grad().unwrap().data(), &[2.0, 4.0]);
    let loss = y.sum().unwrap();
    assert!(matches!(loss.backward(), Err(Error::GraphFreed { .. })));
}

#[test]
fn detach_and_set_value() {
    let b = cpu();
    let x = Var::param(&b, t(&[1], &[2.0]));
    let d = x.detach();
    assert!(!d.requires_grad());
    x.set_value(t(&[1], &[5.0]));
    assert_eq!(x.value().data(), &[5.0]);
    assert_eq!(d.value().data(), &[2.0]);
    x.update_value(|v| v.data_mut()[0] = 7.0);
    assert_eq!(x.value().data(), &[7.0]);
}

#[test]
fn graph_keeps_values_seen_at_forward_time() {
    let b = cpu();
    let w = Var::param(&b, t(&[1], &[3.0]));
    let x = Var::constant(&b, t(&[1], &[2.0]));
    let y = w.mul(&x).unwrap().mul(&w).unwrap().sum().unwrap(); // x w², dy/dw = 2xw = 12
    w.set_value(t(&[1], &[100.0]));
    y.backward().unwrap();
    assert_eq!(w.grad().unwrap().data(), &[12.0]);
}

#[test]
fn shape_errors_are_typed_not_panics() {
    let b = cpu();
    let x = Var::param(&b, t(&[2, 3], &[0.0; 6]));
    let y = Var::param(&b, t(&[2, 2], &[0.0; 4]));
    assert!(matches!(x.add(&y), Err(Error::Ring(_))));
    assert!(matches!(x.matmul(&x), Err(Error::Ring(_))));
    assert!(matches!(x.pow(0), Err(Error::InvalidArgument { .. })));
    assert!(matches!(x.flatten(2), Err(Error::InvalidArgument { .. })));
    assert!(matches!(Var::param(&b, t(&[3], &[0.0; 3])).linear(&y, None), Err(Error::InvalidArgument { .. })));
}

#[test]
fn deep_chains_drop_without_overflowing_the_stack() {
    let b = cpu();
    let x = Var::param(&b, t(&[1], &[1.0]));
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.mul_scalar(1.0).unwrap();
    }
    drop(y);
}

#[test]
fn f32_backend_matches_f64() {
    let b32 = Cpu::<f32>::default();
    let w = Var::param(&b32, Tensor::new(&[2, 2], vec![1.0f32, -1.0, 0.5, 2.0]).unwrap());
    let x = Var::constant(&b32, Tensor::new(&[1, 2], vec![3.0f32, 4.0]).unwrap());
    x.linear(&w, None).unwrap().relu().unwrap().sum().unwrap().backward().unwrap();
    // x·wᵀ = [-1, 9.5]; relu mask [0, 1]; dW = maskᵀ·x
    assert_eq!(w.grad().unwrap().data(), &[0.0, 0.0, 3.0, 4.0]);
}

#[test]
fn vars_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Var<Cpu<f32>>>();
    check::<Var<Cpu<f64>>>();
}
