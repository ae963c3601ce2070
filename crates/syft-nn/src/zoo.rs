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
//!
//! [`Network`] names the four for command lines and reports: `"c".parse::<Network>()`,
//! [`Network::build`], [`Network::ALL`].

use crate::{Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential};
use std::fmt;
use std::str::FromStr;
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

/// One of the four MNIST networks, by its letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// [`network_a`]: the MLP 784-128-128-10 (SecureML).
    A,
    /// [`network_b`]: two convolutions of 16 channels (MiniONN).
    B,
    /// [`network_c`]: LeNet.
    C,
    /// [`network_d`]: one strided convolution of 5 channels.
    D,
}

impl Network {
    /// The four, in order.
    pub const ALL: [Self; 4] = [Self::A, Self::B, Self::C, Self::D];

    /// A freshly initialised network (the same `rng` state gives the same weights).
    pub fn build<B: Backend>(self, backend: &B, rng: &mut Prg) -> OpResult<B, Sequential<B>> {
        match self {
            Self::A => network_a(backend, rng),
            Self::B => network_b(backend, rng),
            Self::C => network_c(backend, rng),
            Self::D => network_d(backend, rng),
        }
    }

    /// The lower-case letter (`"a"`, ...), as [`FromStr`] reads it.
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            Self::A => "a",
            Self::B => "b",
            Self::C => "c",
            Self::D => "d",
        }
    }

    /// What it is, in a few words: `"LeNet: conv 5×5 20, conv 5×5 50, FC 800-500-10"`.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::A => "SecureML MLP 784-128-128-10",
            Self::B => "MiniONN: conv 5x5 16, max pool, conv 5x5 16, max pool, FC 256-100-10",
            Self::C => "LeNet: conv 5x5 20, max pool, conv 5x5 50, max pool, FC 800-500-10",
            Self::D => "conv 5x5 5 stride 2 padding 2, FC 980-100-10",
        }
    }

    /// The number of parameters.
    #[must_use]
    pub fn num_parameters(self) -> usize {
        match self {
            Self::A => 118_282,
            Self::B => 33_542,
            Self::C => 431_080,
            Self::D => 99_240,
        }
    }

    /// Whether the first layer is a convolution (the input is `[N, 1, 28, 28]`); network
    /// A also reads `[N, 784]`, its first layer being a flatten.
    #[must_use]
    pub fn is_convolutional(self) -> bool {
        !matches!(self, Self::A)
    }
}

impl fmt::Display for Network {
    /// The upper-case letter, as the papers name them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.letter().to_uppercase())
    }
}

impl FromStr for Network {
    type Err = crate::Error;

    /// `a`..`d`, either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|n| n.letter().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            crate::Error::InvalidArgument { op: "zoo network", reason: format!("`{s}`: expected one of a, b, c, d") }
        })
    }
}
