//! The operation vocabularies, in one place: what a worker can be asked to compute, as
//! plain data with its names, shape rules and rules on granted data.
//!
//! - [`TensorOp`] is what travels in a [`Request::Op`](crate::Request::Op): an operation on
//!   a worker's stored tensors. [`TensorOp::arity`] says how many operands it takes,
//!   [`TensorOp::result_shapes`] what it allocates, and [`TensorOp::apply_float`] and
//!   [`TensorOp::apply_ring`] are its semantics on a worker (float tensors go through
//!   autograd, so remote `backward` works).
//! - [`MpcOp`] is what travels in an [`MpcRequest::Run`](crate::mpc::MpcRequest::Run): an
//!   operation on shared tensors, run by every member of a session. [`MpcOp::spec`] is its
//!   one description ([`OpSpec`]), which the client, the parties and the crypto provider
//!   all derive their part from.
//!
//! Nothing here sends a message or touches a store: the worker side lives in
//! [`store`](crate::store) and [`mpc`](crate::mpc), the client side in
//! [`pointer`](crate::pointer) and [`shared`](crate::shared).
//!
//! # Adding an operation
//!
//! On tensors ([`TensorOp`]): add a variant, its arm in `name`, `flow` and `arity`, its
//! semantics in `apply_float` (and `apply_ring`, or leave it out of `defined_on_ring`), its
//! result shapes if it allocates more than its operands, and one line to the table of
//! pointer methods in `pointer/methods.rs`.
//!
//! On shared tensors ([`MpcOp`]): add a variant and its entry in [`MpcOp::spec`] (name,
//! flow, [`Protocol`], outputs, [`Allocates`]); the crypto provider's material, the
//! limits and the client's fan-out follow from the entry. Then write its protocol in
//! `mpc/protocols.rs`: an arm of the parties' local step, of the Beaver product step, of
//! the SecureNN party and helper steps, or of the approximations' party step, as its
//! [`Protocol`] says. A protocol run whole at each party that consumes a request list of
//! `syft_spdz` (an approximation: [`Protocol::Served`]) names the list with a [`Plan`]
//! (add one for a new list): the crypto provider serves it as
//! [`Material::Request`]s, so it needs no arm of its own. Last, the method of
//! [`SharedTensor`](crate::SharedTensor) that checks shapes and precisions at the client
//! and runs it (one request per member).

mod mpc_op;
mod shape;
mod tensor_op;

pub use mpc_op::{Allocates, Material, MpcOp, OpSpec, Plan, Protocol, truncation_takes_pair};
pub use shape::{conv_out, sum_axis_shape};
pub use tensor_op::{FloatBackend, FloatVar, TensorOp};
