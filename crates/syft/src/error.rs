//! The facade's error: every layer's error, wrapped.

/// Any error of the syft-rs stack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Tensors.
    #[error(transparent)]
    Ring(#[from] syft_ring::RingError),
    /// Fixed-point encoding.
    #[error(transparent)]
    Fixed(#[from] syft_fixed::FixedError),
    /// Sharing and communication.
    #[error(transparent)]
    Share(#[from] syft_share::ShareError),
    /// SPDZ protocols.
    #[error(transparent)]
    Spdz(#[from] syft_spdz::SpdzError),
    /// Autograd.
    #[error(transparent)]
    Autograd(#[from] syft_autograd::Error),
    /// Modules, data, weights.
    #[error(transparent)]
    Nn(#[from] syft_nn::Error),
    /// Workers, pointers and shared tensors.
    #[error(transparent)]
    Worker(#[from] syft_worker::WorkerError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
