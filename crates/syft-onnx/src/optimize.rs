//! Rewrites that keep a network's function and make it cheaper under secret sharing.

use syft_autograd::Backend;
use syft_nn::{Layer, Sequential};

/// Moves each max pool in front of the ReLU just before it: `ReLU → MaxPool2d` becomes
/// `MaxPool2d → ReLU` (nested sequences too), and returns the new network with the
/// number of pairs swapped.
///
/// ReLU is non-decreasing, so it commutes with a maximum: `max(relu(x)) = relu(max(x))`
/// over every window, exactly, in floating point and in fixed point alike (padding
/// included, whatever value pads). The function is unchanged; under secret sharing,
/// where each ReLU is a secure comparison, a 2×2 pool after a convolution leaves a
/// quarter of the ReLUs to compute (LeNet, network C: 4,180 ReLUs per image instead of
/// 15,220; the pools' comparisons are the same). Only parameterless layers move, so the
/// parameters keep their names (`0.weight`, ...).
#[must_use]
pub fn max_pool_before_relu<B: Backend>(model: &Sequential<B>) -> (Sequential<B>, usize) {
    let mut swapped = 0;
    let mut layers: Vec<Layer<B>> = Vec::with_capacity(model.len());
    for layer in model.layers() {
        match layer {
            Layer::MaxPool2d(pool) if matches!(layers.last(), Some(Layer::ReLU(_))) => {
                let relu = layers.pop();
                layers.push(Layer::MaxPool2d(*pool));
                layers.extend(relu);
                swapped += 1;
            }
            Layer::Sequential(inner) => {
                let (inner, n) = max_pool_before_relu(inner);
                swapped += n;
                layers.push(Layer::Sequential(inner));
            }
            other => layers.push(other.clone()),
        }
    }
    let mut out: Sequential<B> = layers.into_iter().collect();
    syft_nn::Module::set_training(&mut out, syft_nn::Module::is_training(model));
    (out, swapped)
}
