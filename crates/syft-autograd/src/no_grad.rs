//! The no-grad scope: operations inside it record no graph (evaluation, optimizer steps).

use std::cell::Cell;

thread_local! {
    static NO_GRAD_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether operations on this thread currently record gradients.
#[must_use]
pub fn is_grad_enabled() -> bool {
    NO_GRAD_DEPTH.with(|d| d.get() == 0)
}

/// Runs `f` with gradient recording disabled on this thread (PyTorch's `torch.no_grad()`).
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Disables gradient recording on this thread until dropped. Guards nest.
#[derive(Debug)]
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    // Not Send: the flag it restores is thread-local.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl NoGradGuard {
    /// Starts a no-grad scope.
    pub fn new() -> Self {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() + 1));
        Self { _not_send: std::marker::PhantomData }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        NO_GRAD_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}
