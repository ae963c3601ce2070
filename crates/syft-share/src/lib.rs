#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod comm;
#[cfg(feature = "dev")]
pub mod dev;
pub mod error;
pub mod harness;
pub mod memory;
pub mod shares;

pub use comm::{BYTES_HEADER_LEN, Comm, CommCounters, CommExt, CommStats, PartyId, PeerStats, tensor_header_len};
pub use error::{Result, ShareError};
pub use harness::{run_comms, run_comms_with, run_parties, run_parties_with};
pub use memory::{DEFAULT_SPIN, DEFAULT_TIMEOUT, InMemoryComm, InMemoryNetwork};
pub use shares::{AdditiveShares, local, share_secret};
