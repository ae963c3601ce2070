#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use syft_autograd as autograd;
pub use syft_fixed as fixed;
pub use syft_net as net;
pub use syft_nn as nn;
pub use syft_onnx as onnx;
pub use syft_ring as ring;
pub use syft_share as share;
pub use syft_spdz as spdz;
pub use syft_worker as worker;

mod api;

/// The repository README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme {}

pub mod debug;
mod error;
pub mod tutorials;
pub mod workers;

pub use api::{
    Decrypt, FixPrecision, FixPrecisionModule, FixedPrecisionModel, FixedPrecisionTensor, Share, SharedModel,
    borrow_model, decrypt_model, share_model,
};
pub use debug::{FixedPointBackend, NumericsReport};
pub use error::{Error, Result};
pub use workers::{Transport, Workers, WorkersBuilder};

/// Everything a tutorial needs, in one import: tensors and randomness, autograd, modules
/// and optimizers, workers and pointers, secret sharing, and the network workers the
/// examples switch to with `--transport tcp`.
pub mod prelude {
    pub use crate::api::{
        Decrypt, FixPrecision, FixPrecisionModule, FixedPrecisionModel, FixedPrecisionTensor, Share, SharedModel,
        borrow_model, decrypt_model, share_model,
    };
    pub use crate::debug::{FixedPointBackend, NumericsReport, fixed_point_model};
    pub use crate::error::{Error, Result};
    pub use crate::workers::{Transport, Workers};
    pub use syft_autograd::{Backend, Cpu, Var, no_grad};
    pub use syft_fixed::FixedEncoder;
    pub use syft_net::{LocalCluster, NetworkWorker, serve_if_requested};
    pub use syft_nn::{Adam, AdamConfig, Linear, Module, Optimizer, ReLU, Sequential, Sgd, SgdConfig};
    pub use syft_ring::{Conv2dParams, Prg, Seed, Tensor};
    pub use syft_worker::{
        Fetched, Hub, LOCAL_WORKER, MpcSession, ObjectKind, PointerTensor, Sendable, SharedBackend, SharedHandle,
        SharedTensor, VirtualWorker, Worker, WorkerError,
    };
}
