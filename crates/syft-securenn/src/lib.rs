#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod arith;
pub mod compare;
pub mod config;
pub mod division;
pub mod error;
pub mod helper;
pub mod labels;
pub mod party;
mod pc;
pub mod softmax;
mod stream;
pub mod tournament;
mod wire;

pub use config::{Accounting, BitProducts, Config, Profile, Width};
pub use division::DivParams;
pub use error::{Result, SecurennError};
pub use helper::{Helper, OfflineHook};
pub use party::{Relu, SnnParty};
pub use softmax::SoftmaxCrossEntropy;
pub use tournament::{Argmax, MaxPool, Pool2d};
