//! 2-d convolution through im2col + GEMM, its adjoints, and pooling windows.
//!
//! Layouts follow PyTorch: inputs `[N, C, H, W]`, kernels `[O, C, KH, KW]`, outputs
//! `[N, O, OH, OW]` with `OH = (H + 2·PH − KH) / SH + 1`.
//!
//! Convolution with zero padding is bilinear in (input, kernel), which is what lets a
//! Beaver triple for conv open the *input* rather than its im2col matrix.

use crate::element::{Element, Scalar};
use crate::error::{Result, RingError};
use crate::gemm::Parallelism;
use crate::linalg::Transpose;
use crate::tensor::{Tensor, checked_numel_for, try_filled};

/// Stride and zero padding of a 2-d window operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Conv2dParams {
    /// Vertical and horizontal stride (each ≥ 1).
    pub stride: (usize, usize),
    /// Vertical and horizontal zero padding.
    pub padding: (usize, usize),
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Self { stride: (1, 1), padding: (0, 0) }
    }
}

impl Conv2dParams {
    /// Stride `s` and padding `p` in both directions.
    #[must_use]
    pub fn new(stride: usize, padding: usize) -> Self {
        Self { stride: (stride, stride), padding: (padding, padding) }
    }

    /// Output spatial size for an input of `(h, w)` and a window of `(kh, kw)`:
    /// `((h + 2·ph − kh) / sh + 1, (w + 2·pw − kw) / sw + 1)`, every step checked.
    ///
    /// Errors: [`RingError::InvalidArgument`] for a zero stride, an empty window or a
    /// window larger than the padded input; [`RingError::WindowOverflow`] when the
    /// arithmetic overflows `usize` (huge padding or input).
    pub fn output_size(
        &self,
        op: &'static str,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
    ) -> Result<(usize, usize)> {
        let (sh, sw) = self.stride;
        let (ph, pw) = self.padding;
        if sh == 0 || sw == 0 {
            return Err(RingError::InvalidArgument { op, reason: "stride must be at least 1".into() });
        }
        if kh == 0 || kw == 0 {
            return Err(RingError::InvalidArgument { op, reason: "window must be at least 1×1".into() });
        }
        let overflow = || RingError::WindowOverflow {
            op,
            input: (h, w),
            window: (kh, kw),
            stride: self.stride,
            padding: self.padding,
        };
        let padded = |x: usize, p: usize| p.checked_mul(2).and_then(|p2| x.checked_add(p2)).ok_or_else(overflow);
        let (hp, wp) = (padded(h, ph)?, padded(w, pw)?);
        match (hp.checked_sub(kh), wp.checked_sub(kw)) {
            // (x - k) / s + 1 cannot overflow: (x - k) / s < x - k + 1 <= usize::MAX.
            (Some(dh), Some(dw)) => Ok((dh / sh + 1, dw / sw + 1)),
            _ => Err(RingError::InvalidArgument {
                op,
                reason: format!("window {kh}×{kw} larger than padded input {hp}×{wp}"),
            }),
        }
    }
}

fn dims4(op: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    match shape {
        &[a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(RingError::RankMismatch { op, expected: "4", shape: shape.to_vec() }),
    }
}

/// Geometry of one window operation over a `[N, C, H, W]` input.
///
/// Construction checks that the input shape and the full tap count
/// `N·C·OH·OW·KH·KW` (the element count of both the im2col matrix and the pooling
/// windows) are valid shapes in the sense of [`checked_numel`], so every index
/// computed from the geometry fits in `usize`.
#[derive(Clone, Copy, Debug)]
struct Windows {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    p: Conv2dParams,
}

impl Windows {
    fn new(op: &'static str, input: &[usize], (kh, kw): (usize, usize), p: Conv2dParams) -> Result<Self> {
        let [n, c, h, w] = dims4(op, input)?;
        checked_numel_for(op, input)?;
        let (oh, ow) = p.output_size(op, (h, w), (kh, kw))?;
        checked_numel_for(op, &[n, c, oh, ow, kh, kw])?;
        Ok(Self { n, c, h, w, kh, kw, oh, ow, p })
    }

    /// Like [`new`](Self::new) for pooling, which also requires (as PyTorch does) the
    /// padding to be at most half the window, so that no window lies entirely in the padding.
    fn pool(op: &'static str, input: &[usize], (kh, kw): (usize, usize), p: Conv2dParams) -> Result<Self> {
        let (ph, pw) = p.padding;
        if ph > kh / 2 || pw > kw / 2 {
            return Err(RingError::InvalidArgument {
                op,
                reason: format!("padding {ph}×{pw} larger than half the window {kh}×{kw}"),
            });
        }
        Self::new(op, input, (kh, kw), p)
    }

    /// Rows `C·KH·KW` and columns `N·OH·OW` of the im2col matrix.
    fn im2col_dims(&self) -> (usize, usize) {
        (self.c * self.kh * self.kw, self.n * self.oh * self.ow)
    }

    /// Visits every (window position, tap) with the input offset it reads, or `None` in padding.
    /// `f(n, c, oy, ox, ky, kx, input_offset)`.
    ///
    /// Runs `N·C·KH·KW·OH·OW` times, the (checked) element count of the windows, and
    /// not at all when that count is zero (an empty input may have huge dimensions).
    fn for_each(&self, mut f: impl FnMut(usize, usize, usize, usize, usize, usize, Option<usize>)) {
        if [self.n, self.c, self.kh, self.kw, self.oh, self.ow].contains(&0) {
            return;
        }
        let (sh, sw) = self.p.stride;
        let (ph, pw) = self.p.padding;
        for n in 0..self.n {
            for c in 0..self.c {
                let base = (n * self.c + c) * self.h * self.w;
                for ky in 0..self.kh {
                    for kx in 0..self.kw {
                        for oy in 0..self.oh {
                            let y = (oy * sh + ky).checked_sub(ph).filter(|&y| y < self.h);
                            for ox in 0..self.ow {
                                let x = (ox * sw + kx).checked_sub(pw).filter(|&x| x < self.w);
                                let off = y.zip(x).map(|(y, x)| base + y * self.w + x);
                                f(n, c, oy, ox, ky, kx, off);
                            }
                        }
                    }
                }
            }
        }
    }
}

impl<T: Scalar> Tensor<T> {
    /// The im2col matrix of a `[N, C, H, W]` input: shape `[C·KH·KW, N·OH·OW]`, padding as zeros.
    pub fn im2col(&self, kernel: (usize, usize), p: Conv2dParams) -> Result<Self> {
        let g = Windows::new("im2col", self.shape(), kernel, p)?;
        let (rows, cols) = g.im2col_dims();
        let mut out = try_filled("im2col", checked_numel_for("im2col", &[rows, cols])?, T::zero())?;
        let src = self.data();
        g.for_each(|n, c, oy, ox, ky, kx, off| {
            if let Some(off) = off {
                let row = (c * g.kh + ky) * g.kw + kx;
                out[row * cols + (n * g.oh + oy) * g.ow + ox] = src[off];
            }
        });
        Tensor::new(&[rows, cols], out)
    }

    /// The adjoint of [`im2col`](Self::im2col): scatter-adds a `[C·KH·KW, N·OH·OW]` matrix
    /// back into an input of shape `input_shape`.
    pub fn col2im(&self, input_shape: &[usize], kernel: (usize, usize), p: Conv2dParams) -> Result<Self> {
        let g = Windows::new("col2im", input_shape, kernel, p)?;
        let (rows, cols) = g.im2col_dims();
        if self.shape() != [rows, cols] {
            return Err(RingError::ShapeMismatch { op: "col2im", lhs: self.shape().to_vec(), rhs: vec![rows, cols] });
        }
        let mut out = Tensor::<T>::try_zeros(input_shape)?;
        let dst = out.data_mut();
        let src = self.data();
        g.for_each(|n, c, oy, ox, ky, kx, off| {
            if let Some(off) = off {
                let row = (c * g.kh + ky) * g.kw + kx;
                dst[off] = dst[off].add(src[row * cols + (n * g.oh + oy) * g.ow + ox]);
            }
        });
        Ok(out)
    }

    /// 2-d convolution (cross-correlation, as PyTorch): `[N, C, H, W] ⋆ [O, C, KH, KW]`.
    pub fn conv2d(&self, kernel: &Self, p: Conv2dParams) -> Result<Self> {
        let [n, c, h, w] = dims4("conv2d", self.shape())?;
        let [o, kc, kh, kw] = dims4("conv2d", kernel.shape())?;
        if kc != c {
            return Err(RingError::ShapeMismatch {
                op: "conv2d",
                lhs: self.shape().to_vec(),
                rhs: kernel.shape().to_vec(),
            });
        }
        let (oh, ow) = p.output_size("conv2d", (h, w), (kh, kw))?;
        let cols = self.im2col((kh, kw), p)?;
        let k2 = kernel.reshape(&[o, c * kh * kw])?;
        let y = k2.matmul_ex(Transpose::No, &cols, Transpose::No, Parallelism::Auto)?; // [O, N·OH·OW]
        y.into_shape(&[o, n, oh, ow])?.permute(&[1, 0, 2, 3])
    }

    /// Gradient of `conv2d` with respect to its input, given the output gradient.
    pub fn conv2d_input_grad(grad_out: &Self, kernel: &Self, input_shape: &[usize], p: Conv2dParams) -> Result<Self> {
        let [n, _, _, _] = dims4("conv2d_input_grad", input_shape)?;
        let [o, c, kh, kw] = dims4("conv2d_input_grad", kernel.shape())?;
        let [gn, go, oh, ow] = dims4("conv2d_input_grad", grad_out.shape())?;
        if gn != n || go != o {
            return Err(RingError::ShapeMismatch {
                op: "conv2d_input_grad",
                lhs: grad_out.shape().to_vec(),
                rhs: kernel.shape().to_vec(),
            });
        }
        let g2 = grad_out.permute(&[1, 0, 2, 3])?.into_shape(&[o, n * oh * ow])?;
        let k2 = kernel.reshape(&[o, c * kh * kw])?;
        let cols = k2.matmul_ex(Transpose::Yes, &g2, Transpose::No, Parallelism::Auto)?;
        cols.col2im(input_shape, (kh, kw), p)
    }

    /// Gradient of `conv2d` with respect to its kernel, given the input and output gradient.
    pub fn conv2d_kernel_grad(input: &Self, grad_out: &Self, kernel_shape: &[usize], p: Conv2dParams) -> Result<Self> {
        let [o, c, kh, kw] = dims4("conv2d_kernel_grad", kernel_shape)?;
        let [n, go, oh, ow] = dims4("conv2d_kernel_grad", grad_out.shape())?;
        if go != o || input.shape().first() != Some(&n) {
            return Err(RingError::ShapeMismatch {
                op: "conv2d_kernel_grad",
                lhs: input.shape().to_vec(),
                rhs: grad_out.shape().to_vec(),
            });
        }
        let cols = input.im2col((kh, kw), p)?;
        let g2 = grad_out.permute(&[1, 0, 2, 3])?.into_shape(&[o, n * oh * ow])?;
        g2.matmul_ex(Transpose::No, &cols, Transpose::Yes, Parallelism::Auto)?.into_shape(&[o, c, kh, kw])
    }
}

impl<T: Element> Tensor<T> {
    /// Pooling windows of a `[N, C, H, W]` input as a `[N, C, OH, OW, KH·KW]` tensor;
    /// positions in the padding hold `pad`.
    ///
    /// The padding must be at most half the window (PyTorch's rule for pooling);
    /// larger padding, a zero stride, or geometry whose arithmetic overflows is an error.
    pub fn pool_windows(&self, window: (usize, usize), p: Conv2dParams, pad: T) -> Result<Self> {
        let g = Windows::pool("pool_windows", self.shape(), window, p)?;
        let taps = g.kh * g.kw;
        let shape = [g.n, g.c, g.oh, g.ow, taps];
        let mut out = try_filled("pool_windows", checked_numel_for("pool_windows", &shape)?, pad)?;
        let src = self.data();
        g.for_each(|n, c, oy, ox, ky, kx, off| {
            if let Some(off) = off {
                out[(((n * g.c + c) * g.oh + oy) * g.ow + ox) * taps + ky * g.kw + kx] = src[off];
            }
        });
        Tensor::new(&shape, out)
    }
}

impl<T: Element> Tensor<T> {
    /// The maximum of each row along the last axis, and a one-hot mask of where it is (the
    /// first maximum on ties), under the order `greater`: max pooling over the output of
    /// [`pool_windows`](Self::pool_windows), for float values and for signed ring values
    /// alike. A rank-0 tensor or an empty last axis is an error.
    pub fn max_last_axis_with_mask(&self, greater: impl Fn(T, T) -> bool) -> Result<(Self, Tensor<bool>)> {
        let (&taps, rows) = self.shape().split_last().ok_or_else(|| RingError::InvalidArgument {
            op: "max_last_axis_with_mask",
            reason: "a rank-0 tensor has no last axis".into(),
        })?;
        if taps == 0 {
            return Err(RingError::InvalidArgument {
                op: "max_last_axis_with_mask",
                reason: format!("the last axis of shape {:?} is empty", self.shape()),
            });
        }
        let mut best_values = Vec::with_capacity(self.len() / taps);
        let mut mask = vec![false; self.len()];
        for (row, m) in self.data().chunks_exact(taps).zip(mask.chunks_exact_mut(taps)) {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate().skip(1) {
                if greater(v, row[best]) {
                    best = i;
                }
            }
            m[best] = true;
            best_values.push(row[best]);
        }
        Ok((Tensor::new(rows, best_values)?, Tensor::new(self.shape(), mask)?))
    }
}

impl<T: Scalar> Tensor<T> {
    /// The adjoint of [`pool_windows`](Self::pool_windows): scatter-adds
    /// `[N, C, OH, OW, KH·KW]` values back to an input of shape `input_shape`.
    pub fn pool_windows_adjoint(&self, input_shape: &[usize], window: (usize, usize), p: Conv2dParams) -> Result<Self> {
        let g = Windows::pool("pool_windows_adjoint", input_shape, window, p)?;
        let taps = g.kh * g.kw;
        if self.shape() != [g.n, g.c, g.oh, g.ow, taps] {
            return Err(RingError::ShapeMismatch {
                op: "pool_windows_adjoint",
                lhs: self.shape().to_vec(),
                rhs: vec![g.n, g.c, g.oh, g.ow, taps],
            });
        }
        let mut out = Tensor::<T>::try_zeros(input_shape)?;
        let dst = out.data_mut();
        let src = self.data();
        g.for_each(|n, c, oy, ox, ky, kx, off| {
            if let Some(off) = off {
                dst[off] = dst[off].add(src[(((n * g.c + c) * g.oh + oy) * g.ow + ox) * taps + ky * g.kw + kx]);
            }
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_identity_kernel() {
        let x = Tensor::<f64>::from_fn(&[1, 1, 3, 3], |i| (i[2] * 3 + i[3]) as f64);
        let k = Tensor::<f64>::ones(&[1, 1, 1, 1]);
        assert_eq!(x.conv2d(&k, Conv2dParams::default()).unwrap(), x);
        let y = x.conv2d(&Tensor::ones(&[2, 1, 2, 2]), Conv2dParams::new(1, 1)).unwrap();
        assert_eq!(y.shape(), &[1, 2, 4, 4]);
        assert_eq!(y.get(&[0, 1, 1, 1]).unwrap(), 0.0 + 1.0 + 3.0 + 4.0);
    }

    #[test]
    fn pool_windows_max() {
        let x = Tensor::<f64>::from_fn(&[1, 1, 4, 4], |i| (i[2] * 4 + i[3]) as f64);
        let w = x.pool_windows((2, 2), Conv2dParams::new(2, 0), f64::NEG_INFINITY).unwrap();
        assert_eq!(w.max_axis(4).unwrap().data(), &[5.0, 7.0, 13.0, 15.0]);
        assert!(x.pool_windows((5, 5), Conv2dParams::default(), 0.0).is_err());
        let (m, mask) = w.max_last_axis_with_mask(|a, b| a > b).unwrap();
        assert_eq!(m.data(), &[5.0, 7.0, 13.0, 15.0]);
        assert_eq!(mask.shape(), w.shape());
        assert_eq!(mask.data()[..4], [false, false, false, true]);
        assert!(Tensor::<f64>::zeros(&[2, 0]).max_last_axis_with_mask(|a, b| a > b).is_err());
    }
}
