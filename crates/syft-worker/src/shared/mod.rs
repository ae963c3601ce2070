//! Shared tensors whose shares live on workers: the orchestrator's side.
//!
//! An [`MpcSession`] groups computing workers and a crypto provider. A [`SharedTensor`]
//! holds one pointer per computing party to that party's share, the logical shape, and the
//! fixed-point encoder (or none for raw ring values such as comparison bits). Every
//! operation checks shapes and precisions first, then sends one [`MpcRequest::Run`](crate::mpc::MpcRequest::Run) to
//! each party (and to the crypto provider when the protocol consumes material), all at
//! once; the parties run the protocol among themselves. Only [`SharedTensor::get`]
//! brings shares back, and reconstructs at the caller.
//!
//! - `session.rs`: [`MpcSession`], the session's lifecycle and the fan-out of each step;
//! - `opening.rs`: the reuse of opened operands (model weights opened once);
//! - `tensor.rs`: [`SharedTensor`] and its operations;
//! - `approx.rs`: the numerical approximations (exp, reciprocal, ln, softmax, the
//!   softmax cross-entropy and its gradient), one operation each.

mod approx;
mod opening;
mod session;
mod tensor;

pub use session::{MemberTraffic, MpcSession, SessionStats};
pub use tensor::{SharedHandle, SharedTensor};
