//! The reuse of opened operands: a shared tensor used as the right operand of many
//! products (model weights) is opened once, and the parties keep the opening under a key
//! for as long as the tensor lives (docs/PROTOCOLS.md §4.3).

use super::MpcSession;
use crate::message::new_id;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The key under which the parties cache the opening of a tensor reused as the right
/// operand of products; the caches are dropped with the last clone of the tensor.
pub(super) struct Opening {
    /// The session whose parties hold the opening.
    pub(super) session: Arc<MpcSession>,
    /// The cache key.
    pub(super) key: u64,
    /// The parties hold an opening under `key`.
    pub(super) opened: AtomicBool,
    /// Reuse the opening for every product (set for model parameters).
    pub(super) reusable: AtomicBool,
}

impl Drop for Opening {
    fn drop(&mut self) {
        if self.opened.load(Ordering::SeqCst) {
            self.session.forget(self.key);
        }
    }
}

impl Opening {
    /// A fresh key in `session`, nothing opened yet.
    pub(super) fn new(session: Arc<MpcSession>) -> Self {
        Self { session, key: new_id(), opened: AtomicBool::new(false), reusable: AtomicBool::new(false) }
    }
}
