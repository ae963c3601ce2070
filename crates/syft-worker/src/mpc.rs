//! Multi-party computation on shares held by workers (filled in below).

use crate::error::RemoteError;
use crate::message::Response;
use crate::store::WorkerCore;
use serde::{Deserialize, Serialize};

/// The sessions a worker takes part in.
#[derive(Default)]
pub struct Sessions {}

/// A multi-party request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum MpcRequest {}

/// Handles a multi-party request.
pub(crate) fn handle(_core: &mut WorkerCore, req: MpcRequest) -> Result<Response, RemoteError> {
    match req {}
}
