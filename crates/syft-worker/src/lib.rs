#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod access;
pub mod error;
pub mod message;
pub mod mpc;
pub mod ops;
pub mod pointer;
pub mod shared;
pub mod shared_backend;
pub mod store;
pub mod transport;
pub mod virtual_worker;

pub use access::{AccessPolicy, Caller, LOCAL_WORKER, Limits, Ownership, PrincipalKind};
pub use error::{RemoteError, RemoteErrorKind, Result, WorkerError};
pub use message::{ObjectId, ObjectInfo, ObjectKind, Request, Response, Value};
pub use ops::{FloatVar, MpcOp, OpSpec, TensorOp};
pub use pointer::{Fetch, Fetched, Pointer, PointerTensor, Sendable};
pub use shared::{MemberTraffic, MpcSession, SessionStats, SharedHandle, SharedTensor};
pub use shared_backend::SharedBackend;
pub use store::WorkerCore;
pub use transport::{Envelope, Hub, Mailbox, Reply, Transport, Worker, WorkerRef};
pub use virtual_worker::VirtualWorker;
