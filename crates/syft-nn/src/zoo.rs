//! The four MNIST networks of the private-inference literature (SecureML, MiniONN,
//! SecureNN, Falcon, ...), freshly initialised, for `[N, 1, 28, 28]` inputs.
//!
//! | network | layers | parameters |
//! | --- | --- | --- |
//! | [A](network_a) | FC 784→128, ReLU, FC 128→128, ReLU, FC 128→10 | 118,282 |
//! | [B](network_b) (MiniONN) | conv 5×5 16 ch, ReLU, max pool 2; conv 5×5 16 ch, ReLU, max pool 2; FC 256→100, ReLU, FC 100→10 | 33,542 |
//! | [C](network_c) (LeNet) | conv 5×5 20 ch, ReLU, max pool 2; conv 5×5 50 ch, ReLU, max pool 2; FC 800→500, ReLU, FC 500→10 | 431,080 |
//! | [D](network_d) | conv 5×5 5 ch stride 2 padding 2, ReLU; FC 980→100, ReLU, FC 100→10 | 99,240 |
//!
//! Each starts with its input as images and ends with 10 logits; the parameter names
//! are those of the same `nn.Sequential` in PyTorch (`0.weight`, `0.bias`, ...), so weights trained
//! there load with [`load_safetensors`](crate::load_safetensors).

use crate::{Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential};
use syft_autograd::{Backend, Conv2dParams, OpResult};
use syft_ring::Prg;

/// The pixels of one MNIST image.
pub const MNIST_PIXELS: usize = 28 * 28;

/// The number of MNIST classes.
pub const MNIST_CLASSES: usize = 10;

/// Network A (SecureML): three fully connected layers, `784-128-128-10`.
pub fn network_a<B: Backend>(backend: &B, rng: &mut Prg) -> OpResult<B, Sequential<B>> {
    Ok(Sequential::new()
        .with(Flatten::new())
        .with(Linear::new(backend, MNIST_PIXELS, 128, true, rng)?)
        .with(ReLU::new())
        .with(Linear::new(backend, 128, 128, true, rng)?)
        .with(ReLU::new())
        .with(Linear::new(backend, 128, MNIST_CLASSES, true, rng)?))
}

/// Network B (MiniONN): two 5×5 convolutions of 16 channels, each followed by ReLU and
/// a 2×2 max pool, then `256-100-10`.
pub fn network_b<B: Backend>(backend: &B, rng: &mut Prg) -> OpResult<B, Sequential<B>> {
    conv_pool_net(backend, rng, (16, 16), 100)
}

/// Network C (LeNet): 5×5 convolutions of 20 then 50 channels, each followed by ReLU
/// and a 2×2 max pool, then `800-500-10`.
pub fn network_c<B: Backend>(backend: &B, rng: &mut Prg) -> OpResult<B, Sequential<B>> {
    conv_pool_net(backend, rng, (20, 50), 500)
}

/// Network D: one 5×5 convolution of 5 channels with stride 2 and padding 2 (28×28 to
/// 14×14), ReLU, then `980-100-10`.
pub fn network_d<B: Backend>(backend: &B, rng: &mut Prg) -> OpResult<B, Sequential<B>> {
    Ok(Sequential::new()
        .with(Conv2d::new(backend, 1, 5, (5, 5), Conv2dParams::new(2, 2), true, rng)?)
        .with(ReLU::new())
        .with(Flatten::new())
        .with(Linear::new(backend, 5 * 14 * 14, 100, true, rng)?)
        .with(ReLU::new())
        .with(Linear::new(backend, 100, MNIST_CLASSES, true, rng)?))
}

/// conv 5×5 → ReLU → max pool 2, twice (28 → 24 → 12 → 8 → 4), then two FC layers.
fn conv_pool_net<B: Backend>(
    backend: &B,
    rng: &mut Prg,
    (c1, c2): (usize, usize),
    hidden: usize,
) -> OpResult<B, Sequential<B>> {
    let valid = Conv2dParams::default();
    Ok(Sequential::new()
        .with(Conv2d::new(backend, 1, c1, (5, 5), valid, true, rng)?)
        .with(ReLU::new())
        .with(MaxPool2d::new(2))
        .with(Conv2d::new(backend, c1, c2, (5, 5), valid, true, rng)?)
        .with(ReLU::new())
        .with(MaxPool2d::new(2))
        .with(Flatten::new())
        .with(Linear::new(backend, c2 * 4 * 4, hidden, true, rng)?)
        .with(ReLU::new())
        .with(Linear::new(backend, hidden, MNIST_CLASSES, true, rng)?))
}
