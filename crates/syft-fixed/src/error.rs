//! The error type of `syft-fixed`.

use crate::encoder::FixedEncoder;
use syft_ring::RingError;

/// Everything that can go wrong with fixed-point encoding and arithmetic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FixedError {
    /// A ring tensor operation failed (shapes, axes).
    #[error(transparent)]
    Ring(#[from] RingError),
    /// The encoder parameters are unusable.
    #[error("invalid fixed-point encoder (base {base}, {precision} fractional digits): {reason}")]
    InvalidEncoder {
        /// The base given.
        base: u64,
        /// The fractional precision given.
        precision: u32,
        /// What is wrong.
        reason: String,
    },
    /// A value is too large in magnitude to encode: `|v · s| ≥ 2^63`.
    #[error("value {value} at index {index} is out of range for scale {scale} (|v| must be < {max})")]
    OutOfRange {
        /// The value.
        value: f64,
        /// Its row-major index in the tensor.
        index: usize,
        /// The encoder's scale.
        scale: u64,
        /// The largest encodable magnitude (exclusive): `2^63 / scale`.
        max: f64,
    },
    /// A value is NaN or infinite.
    #[error("value {value} at index {index} is not finite")]
    NotFinite {
        /// The value.
        value: f64,
        /// Its row-major index in the tensor.
        index: usize,
    },
    /// Two operands were encoded with different encoders.
    #[error("{op}: operands use different fixed-point encodings ({lhs} and {rhs})")]
    PrecisionMismatch {
        /// The operation.
        op: &'static str,
        /// Left operand's encoder.
        lhs: FixedEncoder,
        /// Right operand's encoder.
        rhs: FixedEncoder,
    },
    /// An argument is invalid (e.g. division by zero).
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`FixedError`].
pub type Result<T, E = FixedError> = std::result::Result<T, E>;
