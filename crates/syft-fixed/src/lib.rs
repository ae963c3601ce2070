#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod backend;
pub mod encoder;
pub mod error;
pub mod fixed;
pub mod plain;

pub use backend::{IntBackend, RingBackend};
pub use encoder::{FixedEncoder, MAX_SCALE, SAFE_FAILURE_EXPONENT};
pub use error::{FixedError, Result};
pub use fixed::Fixed;
pub use plain::{PlainRing, Rounding, divide};
