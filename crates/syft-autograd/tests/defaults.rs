//! The op traits' default methods (the ones an encrypted backend inherits: `full`,
//! `add_assign`, `linear`, `adam_update`) against the `Cpu` backend's fused overrides,
//! through a backend that implements only the required methods.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::gradcheck::analytic_gradients;
use syft_autograd::ops::{ActivationOps, AdamHyper, ConvOps, FloatOps, MatmulOps, Pool2d, ReduceOps, TensorOps};
use syft_autograd::{Backend, Conv2dParams, Cpu, Error, OpResult, Transpose, Var};
use syft_ring::Tensor;

/// `Cpu<f64>` with only the required methods: every default is exercised.
#[derive(Clone, Copy, Debug, Default)]
struct Minimal(Cpu<f64>);

type T = Tensor<f64>;
type M = Tensor<bool>;

impl Backend for Minimal {
    type Tensor = T;
    type Mask = M;
    type Error = Error;

    fn name(&self) -> String {
        "minimal".into()
    }
}

impl TensorOps<Self> for Minimal {
    fn shape(&self, x: &T) -> Vec<usize> {
        self.0.shape(x)
    }
    fn constant(&self, shape: &[usize], values: &[f64]) -> OpResult<Self, T> {
        self.0.constant(shape, values)
    }
    fn add(&self, a: &T, b: &T) -> OpResult<Self, T> {
        self.0.add(a, b)
    }
    fn sub(&self, a: &T, b: &T) -> OpResult<Self, T> {
        self.0.sub(a, b)
    }
    fn neg(&self, a: &T) -> OpResult<Self, T> {
        self.0.neg(a)
    }
    fn mul(&self, a: &T, b: &T) -> OpResult<Self, T> {
        TensorOps::mul(&self.0, a, b)
    }
    fn mul_scalar(&self, a: &T, c: f64) -> OpResult<Self, T> {
        self.0.mul_scalar(a, c)
    }
    fn reshape(&self, a: &T, shape: &[usize]) -> OpResult<Self, T> {
        self.0.reshape(a, shape)
    }
    fn transpose(&self, a: &T) -> OpResult<Self, T> {
        self.0.transpose(a)
    }
    fn broadcast_to(&self, a: &T, shape: &[usize]) -> OpResult<Self, T> {
        self.0.broadcast_to(a, shape)
    }
}

impl ReduceOps<Self> for Minimal {
    fn sum_all(&self, x: &T) -> OpResult<Self, T> {
        self.0.sum_all(x)
    }
    fn sum_axis(&self, x: &T, axis: usize, keepdim: bool) -> OpResult<Self, T> {
        self.0.sum_axis(x, axis, keepdim)
    }
    fn sum_to_shape(&self, x: &T, shape: &[usize]) -> OpResult<Self, T> {
        self.0.sum_to_shape(x, shape)
    }
}

impl MatmulOps<Self> for Minimal {
    fn matmul(&self, a: &T, ta: Transpose, b: &T, tb: Transpose) -> OpResult<Self, T> {
        self.0.matmul(a, ta, b, tb)
    }
}

impl ActivationOps<Self> for Minimal {
    fn relu_with_mask(&self, x: &T) -> OpResult<Self, (T, M)> {
        self.0.relu_with_mask(x)
    }
    fn mul_mask(&self, x: &T, mask: &M) -> OpResult<Self, T> {
        self.0.mul_mask(x, mask)
    }
}

impl ConvOps<Self> for Minimal {
    fn conv2d(&self, x: &T, w: &T, p: Conv2dParams) -> OpResult<Self, T> {
        self.0.conv2d(x, w, p)
    }
    fn conv2d_input_grad(&self, g: &T, w: &T, s: &[usize], p: Conv2dParams) -> OpResult<Self, T> {
        self.0.conv2d_input_grad(g, w, s, p)
    }
    fn conv2d_kernel_grad(&self, x: &T, g: &T, s: &[usize], p: Conv2dParams) -> OpResult<Self, T> {
        self.0.conv2d_kernel_grad(x, g, s, p)
    }
    fn max_pool2d_with_mask(&self, x: &T, pool: Pool2d) -> OpResult<Self, (T, M)> {
        self.0.max_pool2d_with_mask(x, pool)
    }
    fn max_pool2d_backward(&self, g: &T, mask: &M, s: &[usize], pool: Pool2d) -> OpResult<Self, T> {
        self.0.max_pool2d_backward(g, mask, s, pool)
    }
    fn sum_pool2d(&self, x: &T, pool: Pool2d) -> OpResult<Self, T> {
        self.0.sum_pool2d(x, pool)
    }
    fn sum_pool2d_backward(&self, g: &T, s: &[usize], pool: Pool2d) -> OpResult<Self, T> {
        self.0.sum_pool2d_backward(g, s, pool)
    }
}

impl FloatOps<Self> for Minimal {
    fn exp(&self, x: &T) -> OpResult<Self, T> {
        self.0.exp(x)
    }
    fn log(&self, x: &T) -> OpResult<Self, T> {
        self.0.log(x)
    }
    fn sqrt(&self, x: &T) -> OpResult<Self, T> {
        self.0.sqrt(x)
    }
    fn div(&self, a: &T, b: &T) -> OpResult<Self, T> {
        self.0.div(a, b)
    }
    fn log_softmax(&self, x: &T, axis: usize) -> OpResult<Self, T> {
        self.0.log_softmax(x, axis)
    }
}

fn tensor(shape: &[usize], seed: f64) -> T {
    Tensor::from_fn(shape, |i| (i.iter().fold(seed, |a, &x| a * 3.1 + x as f64) * 0.77).sin())
}

fn close(a: &T, b: &T) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.data().iter().zip(b.data()) {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
}

#[test]
fn default_full_and_add_assign() {
    let (m, c) = (Minimal::default(), Cpu::<f64>::default());
    close(&m.full(&[2, 3], 1.5).unwrap(), &c.full(&[2, 3], 1.5).unwrap());
    let mut a = tensor(&[2, 3], 1.0);
    let mut b = a.clone();
    m.add_assign(&mut a, &tensor(&[3], 2.0)).unwrap();
    c.add_assign(&mut b, &tensor(&[3], 2.0)).unwrap();
    close(&a, &b);
}

#[test]
fn default_linear_matches_the_fused_one() {
    let (m, c) = (Minimal::default(), Cpu::<f64>::default());
    let (x, w, b) = (tensor(&[5, 4], 1.0), tensor(&[3, 4], 2.0), tensor(&[3], 3.0));
    close(&m.linear(&x, &w, Some(&b)).unwrap(), &c.linear(&x, &w, Some(&b)).unwrap());
    close(&m.linear(&x, &w, None).unwrap(), &c.linear(&x, &w, None).unwrap());
}

#[test]
fn default_adam_update_matches_the_fused_one() {
    let (m, c) = (Minimal::default(), Cpu::<f64>::default());
    let h = AdamHyper {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        bias_correction1: 1.0 - 0.9f64.powi(3),
        bias_correction2: 1.0 - 0.999f64.powi(3),
    };
    let mut state_m = (tensor(&[4, 3], 1.0), tensor(&[4, 3], 2.0), tensor(&[4, 3], 3.0).map(f64::abs));
    let mut state_c = state_m.clone();
    let g = tensor(&[4, 3], 4.0);
    m.adam_update(&mut state_m.0, &g, &mut state_m.1, &mut state_m.2, h).unwrap();
    c.adam_update(&mut state_c.0, &g, &mut state_c.1, &mut state_c.2, h).unwrap();
    close(&state_m.0, &state_c.0);
    close(&state_m.1, &state_c.1);
    close(&state_m.2, &state_c.2);
}

#[test]
fn gradients_through_the_minimal_backend_match_cpu() {
    let inputs = [tensor(&[6, 4], 1.0), tensor(&[5, 4], 2.0), tensor(&[5], 3.0), tensor(&[3, 5], 4.0)];
    let labels = Tensor::<f64>::one_hot(&[0, 2, 1, 1, 0, 2], 3).unwrap();
    let cpu_grads = analytic_gradients(
        |v| {
            let h = v[0].linear(&v[1], Some(&v[2]))?.relu()?;
            h.linear(&v[3], None)?.cross_entropy(&Var::constant(v[0].backend(), labels.clone()))
        },
        &inputs,
    )
    .unwrap();
    let b = Minimal::default();
    let vars: Vec<Var<Minimal>> = inputs.iter().map(|t| Var::param(&b, t.clone())).collect();
    let h = vars[0].linear(&vars[1], Some(&vars[2])).unwrap().relu().unwrap();
    let loss = h.linear(&vars[3], None).unwrap().cross_entropy(&Var::constant(&b, labels)).unwrap();
    loss.backward().unwrap();
    for (v, g) in vars.iter().zip(&cpu_grads) {
        close(&v.grad().unwrap(), g);
    }
}
