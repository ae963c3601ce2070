#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod approx;
#[cfg(feature = "dev")]
pub mod dev;
pub mod error;
mod fixed_backend;
pub mod material;
pub mod protocols;
pub mod source;

pub use approx::{exp_requests, ln_requests, reciprocal_requests};
pub use error::{Result, SpdzError};
pub use material::{Dealer, DealerStats, Material, PartySeed, Product, Request, SignedFloorDiv, floor_div_signed};
pub use protocols::{OpenedOperand, Party, truncate_local};
pub use source::{
    DealerLink, PendingCorrection, Preprocessed, SourceStats, TripleSource, distribute_seeds, preprocess, serve_request,
};
