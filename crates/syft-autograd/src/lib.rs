#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod backend;
pub mod cpu;
pub mod error;
mod functions;
pub mod gradcheck;
mod no_grad;
pub mod ops;
pub mod var;

pub use backend::{Backend, FloatBackend, OpResult};
pub use cpu::{Cpu, CpuFloat};
pub use error::{Error, Result};
pub use no_grad::{NoGradGuard, is_grad_enabled, no_grad};
pub use ops::Pool2d;
pub use syft_ring::{Conv2dParams, Transpose};
pub use var::Var;
