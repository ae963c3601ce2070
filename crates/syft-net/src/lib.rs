#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod certs;
pub mod cli;
pub mod client;
pub mod comm;
pub mod config;
pub mod error;
pub mod frame;
mod limits;
mod link;
pub mod local;
pub mod protocol;
pub mod server;
pub mod session;
pub mod tls;

pub use certs::{DevCa, IssuedCert, gen_certs};
pub use client::{NetClient, NetTransport, NetworkWorker};
pub use comm::NetComm;
pub use config::NetConfig;
pub use error::{NetError, Result};
pub use local::{LocalCluster, serve_if_requested};
pub use server::{Server, ServerConfig, serve};
pub use session::PeerNetwork;
pub use tls::{Security, TlsIdentity};
