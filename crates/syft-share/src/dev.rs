//! Test kit for other crates (feature `dev`): the [`Comm`](crate::Comm) conformance suite
//! every transport runs, and the chi-square statistics used by the privacy tests.

pub mod chi_square;
pub mod conformance;

pub use chi_square::{
    ChiSquare, byte_histogram, chi_square_homogeneity, chi_square_uniform, positional_byte_histogram,
    views_indistinguishable,
};
pub use conformance::{ConformanceFailure, comm_conformance, run_comm_conformance};
