#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod error;
mod fixed_backend;
pub mod material;
pub mod protocols;
pub mod source;

pub use error::{Result, SpdzError};
pub use material::{Dealer, DealerStats, Material, PartySeed, Product, Request, SignedFloorDiv, floor_div_signed};
pub use protocols::{OpenedOperand, Party, truncate_local};
pub use source::{DealerLink, Preprocessed, SourceStats, TripleSource, distribute_seeds, preprocess, serve_request};
