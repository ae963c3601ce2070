//! [`Cpu`]: the plaintext backend over `syft_ring::Tensor<f32>` / `Tensor<f64>`.
//!
//! Every op delegates to `syft-ring` (broadcasting elementwise ops, GEMM with
//! transposed operands, im2col convolution, pooling windows); the masks are
//! `Tensor<bool>`. It is the reference the encrypted backends are checked against and
//! the backend plaintext models train on.

use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::ops::{ActivationOps, AdamHyper, ConvOps, FloatOps, LossOps, MatmulOps, Pool2d, ReduceOps, TensorOps};
use std::marker::PhantomData;
use std::ops::Div;
use syft_ring::{Conv2dParams, Float, Parallelism, Tensor, Transpose};

/// Runs an elementwise loop compiled for the widest SIMD level this CPU has (AVX-512,
/// AVX2 + FMA, or the baseline), detected at run time: `pulp` compiles `f` once per level
/// and the loops inside vectorise at that width.
#[inline(always)]
fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// The element types of the [`Cpu`] backend: a [`Float`] with native division
/// (`f32` and `f64`).
pub trait CpuFloat: Float + Div<Output = Self> {}

impl<T: Float + Div<Output = T>> CpuFloat for T {}

/// The plaintext CPU backend for `f32` or `f64` tensors.
///
/// It carries the [`Parallelism`] its matrix products use: [`Cpu::new`] lets them use
/// rayon's global pool, [`Cpu::single_threaded`] keeps everything on the calling thread.
pub struct Cpu<T> {
    par: Parallelism,
    _element: PhantomData<fn() -> T>,
}

impl<T> Clone for Cpu<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Cpu<T> {}

impl<T> std::fmt::Debug for Cpu<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cpu<{}>({:?})", std::any::type_name::<T>(), self.par)
    }
}

impl<T> Default for Cpu<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Cpu<T> {
    /// A backend whose large products may use rayon's global thread pool.
    #[must_use]
    pub fn new() -> Self {
        Self::with_parallelism(Parallelism::Auto)
    }

    /// A backend that runs every product on the calling thread.
    #[must_use]
    pub fn single_threaded() -> Self {
        Self::with_parallelism(Parallelism::Single)
    }

    /// A backend with the given parallelism for its products.
    #[must_use]
    pub fn with_parallelism(par: Parallelism) -> Self {
        Self { par, _element: PhantomData }
    }

    /// The parallelism its products use.
    #[must_use]
    pub fn parallelism(&self) -> Parallelism {
        self.par
    }
}

impl<T: CpuFloat> Backend for Cpu<T> {
    type Tensor = Tensor<T>;
    type Mask = Tensor<bool>;
    type Error = Error;

    fn name(&self) -> String {
        format!("cpu-{}", <T as syft_ring::Element>::NAME)
    }
}

impl<T: CpuFloat> TensorOps<Self> for Cpu<T> {
    fn shape(&self, x: &Tensor<T>) -> Vec<usize> {
        x.shape().to_vec()
    }

    fn constant(&self, shape: &[usize], values: &[f64]) -> OpResult<Self, Tensor<T>> {
        Ok(Tensor::new(shape, values.iter().map(|&v| T::from_f64(v)).collect())?)
    }

    fn full(&self, shape: &[usize], value: f64) -> OpResult<Self, Tensor<T>> {
        Ok(Tensor::full(shape, T::from_f64(value)))
    }

    fn add(&self, a: &Tensor<T>, b: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.add(b)?)
    }

    fn sub(&self, a: &Tensor<T>, b: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.sub(b)?)
    }

    fn neg(&self, a: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.neg())
    }

    fn mul(&self, a: &Tensor<T>, b: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.mul(b)?)
    }

    fn mul_scalar(&self, a: &Tensor<T>, c: f64) -> OpResult<Self, Tensor<T>> {
        Ok(a.scale(T::from_f64(c)))
    }

    fn add_assign(&self, a: &mut Tensor<T>, b: &Tensor<T>) -> OpResult<Self, ()> {
        Ok(a.add_assign(b)?)
    }

    fn reshape(&self, a: &Tensor<T>, shape: &[usize]) -> OpResult<Self, Tensor<T>> {
        Ok(a.reshape(shape)?)
    }

    fn transpose(&self, a: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.transpose()?)
    }

    fn broadcast_to(&self, a: &Tensor<T>, shape: &[usize]) -> OpResult<Self, Tensor<T>> {
        Ok(a.broadcast_to(shape)?)
    }
}

impl<T: CpuFloat> ReduceOps<Self> for Cpu<T> {
    fn sum_all(&self, x: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(Tensor::scalar(x.sum_all()))
    }

    fn sum_axis(&self, x: &Tensor<T>, axis: usize, keepdim: bool) -> OpResult<Self, Tensor<T>> {
        Ok(x.sum_axis(axis, keepdim)?)
    }

    fn sum_to_shape(&self, x: &Tensor<T>, shape: &[usize]) -> OpResult<Self, Tensor<T>> {
        Ok(x.sum_to_shape(shape)?)
    }
}

impl<T: CpuFloat> MatmulOps<Self> for Cpu<T> {
    fn matmul(&self, a: &Tensor<T>, ta: Transpose, b: &Tensor<T>, tb: Transpose) -> OpResult<Self, Tensor<T>> {
        Ok(a.matmul_ex(ta, b, tb, self.par)?)
    }

    fn linear(&self, x: &Tensor<T>, w: &Tensor<T>, bias: Option<&Tensor<T>>) -> OpResult<Self, Tensor<T>> {
        let Some(bias) = bias else {
            return Ok(x.matmul_ex(Transpose::No, w, Transpose::Yes, self.par)?);
        };
        // Start from the broadcast bias and accumulate the product into it (no temporary).
        // `add_matmul` may use rayon's pool, so a single-threaded backend adds the bias after.
        match (x.shape(), w.shape(), bias.shape()) {
            (&[n, _], &[out, _], &[b]) if b == out && self.par != Parallelism::Single => {
                let mut rows = Vec::with_capacity(n * out);
                for _ in 0..n {
                    rows.extend_from_slice(bias.data());
                }
                let mut y = Tensor::new(&[n, out], rows)?;
                y.add_matmul(x, Transpose::No, w, Transpose::Yes)?;
                Ok(y)
            }
            (&[_, _], &[out, _], &[b]) if b == out => {
                let mut y = x.matmul_ex(Transpose::No, w, Transpose::Yes, self.par)?;
                for row in y.data_mut().chunks_exact_mut(out.max(1)) {
                    for (v, &c) in row.iter_mut().zip(bias.data()) {
                        *v = v.add(c);
                    }
                }
                Ok(y)
            }
            _ => Ok(x.matmul_ex(Transpose::No, w, Transpose::Yes, self.par)?.add(bias)?),
        }
    }
}

impl<T: CpuFloat> ActivationOps<Self> for Cpu<T> {
    fn relu_with_mask(&self, x: &Tensor<T>) -> OpResult<Self, (Tensor<T>, Tensor<bool>)> {
        // Two simple loops over equal-length slices, which the compiler vectorises.
        let zero = T::zero();
        let mut mask = vec![false; x.len()];
        let mut y = vec![zero; x.len()];
        vectorized(|| {
            for (m, &v) in mask.iter_mut().zip(x.data()) {
                *m = v > zero;
            }
            for (o, &v) in y.iter_mut().zip(x.data()) {
                *o = if v > zero { v } else { zero };
            }
        });
        Ok((Tensor::new(x.shape(), y)?, Tensor::new(x.shape(), mask)?))
    }

    fn mul_mask(&self, x: &Tensor<T>, mask: &Tensor<bool>) -> OpResult<Self, Tensor<T>> {
        if x.shape() != mask.shape() {
            let zero = T::zero();
            return Ok(x.zip_map(mask, |v, m| if m { v } else { zero })?);
        }
        // A select over equal-length slices, which the compiler vectorises.
        let zero = T::zero();
        let mut out = vec![zero; x.len()];
        vectorized(|| {
            for ((o, &v), &m) in out.iter_mut().zip(x.data()).zip(mask.data()) {
                *o = if m { v } else { zero };
            }
        });
        Ok(Tensor::new(x.shape(), out)?)
    }
}

impl<T: CpuFloat> ConvOps<Self> for Cpu<T> {
    fn conv2d(&self, x: &Tensor<T>, w: &Tensor<T>, p: Conv2dParams) -> OpResult<Self, Tensor<T>> {
        Ok(x.conv2d(w, p)?)
    }

    fn conv2d_input_grad(
        &self,
        grad_out: &Tensor<T>,
        w: &Tensor<T>,
        input_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, Tensor<T>> {
        Ok(Tensor::conv2d_input_grad(grad_out, w, input_shape, p)?)
    }

    fn conv2d_kernel_grad(
        &self,
        x: &Tensor<T>,
        grad_out: &Tensor<T>,
        kernel_shape: &[usize],
        p: Conv2dParams,
    ) -> OpResult<Self, Tensor<T>> {
        Ok(Tensor::conv2d_kernel_grad(x, grad_out, kernel_shape, p)?)
    }

    fn max_pool2d_with_mask(&self, x: &Tensor<T>, pool: Pool2d) -> OpResult<Self, (Tensor<T>, Tensor<bool>)> {
        let lowest = T::from_f64(f64::NEG_INFINITY);
        let windows = x.pool_windows(pool.window, pool.params, lowest)?;
        Ok(windows.max_last_axis_with_mask(|a, b| a > b)?)
    }

    fn max_pool2d_backward(
        &self,
        grad_out: &Tensor<T>,
        mask: &Tensor<bool>,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, Tensor<T>> {
        let taps = pool.taps();
        if mask.len() != grad_out.len() * taps {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "max_pool2d_backward",
                lhs: grad_out.shape().to_vec(),
                rhs: mask.shape().to_vec(),
            }
            .into());
        }
        let zero = T::zero();
        let mut routed = Vec::with_capacity(mask.len());
        for (&g, m) in grad_out.data().iter().zip(mask.data().chunks_exact(taps)) {
            routed.extend(m.iter().map(|&hit| if hit { g } else { zero }));
        }
        let routed = Tensor::new(mask.shape(), routed)?;
        Ok(routed.pool_windows_adjoint(input_shape, pool.window, pool.params)?)
    }

    fn sum_pool2d(&self, x: &Tensor<T>, pool: Pool2d) -> OpResult<Self, Tensor<T>> {
        let windows = x.pool_windows(pool.window, pool.params, T::zero())?;
        Ok(windows.sum_axis(4, false)?)
    }

    fn sum_pool2d_backward(
        &self,
        grad_out: &Tensor<T>,
        input_shape: &[usize],
        pool: Pool2d,
    ) -> OpResult<Self, Tensor<T>> {
        let taps = pool.taps();
        let mut spread = grad_out.shape().to_vec();
        spread.push(taps);
        let routed = grad_out.reshape(&[grad_out.shape(), &[1]].concat())?.broadcast_to(&spread)?;
        Ok(routed.pool_windows_adjoint(input_shape, pool.window, pool.params)?)
    }
}

impl<T: CpuFloat> LossOps<Self> for Cpu<T> {
    /// Through [`log_softmax`](FloatOps::log_softmax) along the class axis: the loss is
    /// `−Σ y·log_softmax(z)`, the gradient `exp(log_softmax(z)) − y`.
    fn softmax_cross_entropy(&self, logits: &Tensor<T>, one_hot: &Tensor<T>) -> OpResult<Self, (Tensor<T>, Tensor<T>)> {
        if logits.rank() != 2 || logits.shape() != one_hot.shape() {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "softmax_cross_entropy",
                lhs: logits.shape().to_vec(),
                rhs: one_hot.shape().to_vec(),
            }
            .into());
        }
        let log_p = self.log_softmax(logits, 1)?;
        let loss = -log_p.data().iter().zip(one_hot.data()).map(|(l, y)| l.to_f64() * y.to_f64()).sum::<f64>();
        let grad = log_p.zip_map(one_hot, |l, y| l.exp().sub(y))?;
        Ok((Tensor::scalar(T::from_f64(loss)), grad))
    }
}

impl<T: CpuFloat> FloatOps<Self> for Cpu<T> {
    fn exp(&self, x: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(x.map(T::exp))
    }

    fn log(&self, x: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(x.map(T::ln))
    }

    fn sqrt(&self, x: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(x.map(T::sqrt))
    }

    fn div(&self, a: &Tensor<T>, b: &Tensor<T>) -> OpResult<Self, Tensor<T>> {
        Ok(a.zip_map(b, |x, y| x / y)?)
    }

    fn log_softmax(&self, x: &Tensor<T>, axis: usize) -> OpResult<Self, Tensor<T>> {
        let rank = x.rank();
        if axis >= rank {
            return Err(syft_ring::RingError::AxisOutOfRange { op: "log_softmax", axis, rank }.into());
        }
        let shape = x.shape();
        let size = shape[axis];
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let src = x.data();
        let mut out = vec![T::zero(); src.len()];
        for o in 0..outer {
            for i in 0..inner {
                let at = |s: usize| (o * size + s) * inner + i;
                let mut max = f64::NEG_INFINITY;
                for s in 0..size {
                    max = max.max(src[at(s)].to_f64());
                }
                let mut sum = 0.0;
                for s in 0..size {
                    sum += (src[at(s)].to_f64() - max).exp();
                }
                let lse = max + sum.ln();
                for s in 0..size {
                    out[at(s)] = T::from_f64(src[at(s)].to_f64() - lse);
                }
            }
        }
        Ok(Tensor::new(shape, out)?)
    }

    fn adam_update(
        &self,
        param: &mut Tensor<T>,
        grad: &Tensor<T>,
        m: &mut Tensor<T>,
        v: &mut Tensor<T>,
        h: AdamHyper,
    ) -> OpResult<Self, ()> {
        if param.shape() != grad.shape() || param.shape() != m.shape() || param.shape() != v.shape() {
            return Err(syft_ring::RingError::ShapeMismatch {
                op: "adam_update",
                lhs: param.shape().to_vec(),
                rhs: grad.shape().to_vec(),
            }
            .into());
        }
        // One fused pass in T's own precision, as PyTorch computes it.
        let (b1, b2) = (T::from_f64(h.beta1), T::from_f64(h.beta2));
        let (c1, c2) = (T::from_f64(1.0 - h.beta1), T::from_f64(1.0 - h.beta2));
        let step = T::from_f64(h.lr / h.bias_correction1);
        let inv_bc2_sqrt = T::from_f64(1.0 / h.bias_correction2.sqrt());
        let eps = T::from_f64(h.eps);
        let lanes = param.data_mut().iter_mut().zip(grad.data()).zip(m.data_mut().iter_mut().zip(v.data_mut()));
        vectorized(|| {
            for ((p, &g), (mi, vi)) in lanes {
                *mi = b1.mul(*mi).add(c1.mul(g));
                *vi = b2.mul(*vi).add(c2.mul(g).mul(g));
                let denom = vi.sqrt().mul(inv_bc2_sqrt).add(eps);
                *p = p.sub(step.mul(*mi) / denom);
            }
        });
        Ok(())
    }
}
