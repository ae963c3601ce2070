#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), deny(unsafe_code))]

pub mod conv;
#[allow(unsafe_code, reason = "the digit loops compiled for AVX2 and AVX-512, chosen at run time")]
pub mod digits;
pub mod element;
pub mod error;
#[allow(unsafe_code, reason = "the SIMD GEMM kernels are the one place that needs unsafe")]
pub mod gemm;
pub mod linalg;
pub mod prg;
pub mod tensor;
mod wire;

pub use conv::Conv2dParams;
pub use element::{Element, Float, OddRing, Ring, Scalar, Z67, Zp, from_signed, signed};
pub use error::{Result, RingError};
pub use gemm::Parallelism;
pub use linalg::Transpose;
pub use prg::{Prg, Seed};
pub use tensor::{Tensor, broadcast_shapes, checked_numel, checked_numel_for, numel};
