//! Shape rules shared by both vocabularies: the geometry of convolution and pooling
//! windows and of sums along an axis, with checked arithmetic, so that a worker can judge
//! a request against its limits before it allocates anything.

use crate::error::Result;
use syft_ring::{Conv2dParams, RingError};

/// The four dimensions of an `[N, C, H, W]` shape (a convolution's or pooling's input),
/// or an error naming `op`.
pub(crate) fn four(op: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(shape)
        .map_err(|_| RingError::RankMismatch { op, expected: "4", shape: shape.to_vec() }.into())
}

/// The shape of a sum along `axis` of a tensor of `shape` (an axis out of range leaves the
/// shape as it is: the operation itself reports it).
#[must_use]
pub fn sum_axis_shape(shape: &[usize], axis: usize, keepdim: bool) -> Vec<usize> {
    let mut out = shape.to_vec();
    if axis < out.len() {
        if keepdim {
            out[axis] = 1;
        } else {
            out.remove(axis);
        }
    }
    out
}

/// The output height and width of a convolution or pooling window `kh × kw` over an
/// `h × w` input, with checked arithmetic (zero strides, overflowing paddings and windows
/// larger than the padded input are errors).
pub fn conv_out(h: usize, w: usize, kh: usize, kw: usize, p: Conv2dParams) -> Result<(usize, usize)> {
    Ok(p.output_size("window", (h, w), (kh, kw))?)
}
