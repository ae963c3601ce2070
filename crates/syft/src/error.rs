//! The facade's error: one tree for the whole stack, each cause in one place.
//!
//! Every layer's error type wraps the errors of the layers below it (a `SpdzError` can
//! hold a `RingError`, a `WorkerError` a `SpdzError`, a `NetError` a `WorkerError`). The
//! facade unwraps those layers on conversion, so a cause always arrives in the same
//! variant whatever path it took: a shape mismatch in a ring operation is
//! `Error::Ring(RingError::ShapeMismatch { .. })` whether it came from a plaintext tensor,
//! a SPDZ product, a SecureNN comparison or a worker. What a layer reports of its own
//! (a refused request, a broken connection, a bad certificate) keeps that layer's variant.

/// Any error of the syft-rs stack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Tensors: shapes, axes, ranges, decoding.
    #[error(transparent)]
    Ring(syft_ring::RingError),
    /// Fixed-point encoding.
    #[error(transparent)]
    Fixed(syft_fixed::FixedError),
    /// Sharing and communication between parties.
    #[error(transparent)]
    Share(syft_share::ShareError),
    /// SPDZ protocols and their material.
    #[error(transparent)]
    Spdz(syft_spdz::SpdzError),
    /// SecureNN protocols (comparisons, ReLU, argmax, max pooling, division).
    #[error(transparent)]
    Securenn(syft_securenn::SecurennError),
    /// Autograd.
    #[error(transparent)]
    Autograd(syft_autograd::Error),
    /// Modules, data, weights.
    #[error(transparent)]
    Nn(syft_nn::Error),
    /// Workers, pointers and shared tensors (a worker's refusal, a protocol session).
    #[error(transparent)]
    Worker(syft_worker::WorkerError),
    /// Network workers: sockets, TLS, certificates, worker processes.
    #[error(transparent)]
    Net(syft_net::NetError),
    /// ONNX import and export: unreadable, malformed or unsupported model files.
    #[error(transparent)]
    Onnx(syft_onnx::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<syft_ring::RingError> for Error {
    fn from(e: syft_ring::RingError) -> Self {
        Self::Ring(e)
    }
}

impl From<syft_fixed::FixedError> for Error {
    fn from(e: syft_fixed::FixedError) -> Self {
        match e {
            syft_fixed::FixedError::Ring(e) => e.into(),
            other => Self::Fixed(other),
        }
    }
}

impl From<syft_share::ShareError> for Error {
    fn from(e: syft_share::ShareError) -> Self {
        match e {
            syft_share::ShareError::Ring(e) => e.into(),
            other => Self::Share(other),
        }
    }
}

impl From<syft_spdz::SpdzError> for Error {
    fn from(e: syft_spdz::SpdzError) -> Self {
        match e {
            syft_spdz::SpdzError::Ring(e) => e.into(),
            syft_spdz::SpdzError::Fixed(e) => e.into(),
            syft_spdz::SpdzError::Share(e) => e.into(),
            other => Self::Spdz(other),
        }
    }
}

impl From<syft_securenn::SecurennError> for Error {
    fn from(e: syft_securenn::SecurennError) -> Self {
        match e {
            syft_securenn::SecurennError::Ring(e) => e.into(),
            syft_securenn::SecurennError::Share(e) => e.into(),
            syft_securenn::SecurennError::Spdz(e) => e.into(),
            other => Self::Securenn(other),
        }
    }
}

impl From<syft_autograd::Error> for Error {
    fn from(e: syft_autograd::Error) -> Self {
        match e {
            syft_autograd::Error::Ring(e) => e.into(),
            other => Self::Autograd(other),
        }
    }
}

impl From<syft_nn::Error> for Error {
    fn from(e: syft_nn::Error) -> Self {
        match e {
            syft_nn::Error::Ring(e) => e.into(),
            syft_nn::Error::Autograd(e) => e.into(),
            other => Self::Nn(other),
        }
    }
}

impl From<syft_worker::WorkerError> for Error {
    fn from(e: syft_worker::WorkerError) -> Self {
        use syft_worker::WorkerError as W;
        match e {
            W::Ring(e) => e.into(),
            W::Autograd(e) => e.into(),
            W::Fixed(e) => e.into(),
            W::Share(e) => e.into(),
            W::Spdz(e) => e.into(),
            other => Self::Worker(other),
        }
    }
}

impl From<syft_net::NetError> for Error {
    fn from(e: syft_net::NetError) -> Self {
        match e {
            syft_net::NetError::Worker(e) => e.into(),
            other => Self::Net(other),
        }
    }
}

impl From<syft_onnx::Error> for Error {
    fn from(e: syft_onnx::Error) -> Self {
        match e {
            syft_onnx::Error::Nn(e) => e.into(),
            syft_onnx::Error::Autograd(e) => e.into(),
            syft_onnx::Error::Ring(e) => e.into(),
            other => Self::Onnx(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syft_ring::{RingError, Tensor};

    fn shape_mismatch() -> RingError {
        let a = Tensor::<u64>::zeros(&[2, 3]);
        let b = Tensor::<u64>::zeros(&[4, 5]);
        match a.matmul(&b) {
            Err(e) => e,
            Ok(_) => RingError::InvalidArgument { op: "test", reason: "no error".into() },
        }
    }

    #[test]
    fn a_ring_error_arrives_in_one_shape_whatever_layers_it_crossed() {
        let layered: Vec<Error> = vec![
            shape_mismatch().into(),
            syft_spdz::SpdzError::from(shape_mismatch()).into(),
            syft_securenn::SecurennError::from(syft_spdz::SpdzError::from(shape_mismatch())).into(),
            syft_worker::WorkerError::from(syft_spdz::SpdzError::from(syft_share::ShareError::from(shape_mismatch())))
                .into(),
            syft_net::NetError::from(syft_worker::WorkerError::from(syft_autograd::Error::from(shape_mismatch())))
                .into(),
            syft_nn::Error::from(syft_autograd::Error::from(shape_mismatch())).into(),
        ];
        let want = shape_mismatch().to_string();
        for e in layered {
            assert!(matches!(&e, Error::Ring(_)), "{e:?}");
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn a_layer_own_error_keeps_its_variant() {
        let e: Error = syft_net::NetError::from(syft_worker::WorkerError::UnknownWorker("eve".into())).into();
        assert!(matches!(e, Error::Worker(syft_worker::WorkerError::UnknownWorker(_))), "{e:?}");
    }
}
