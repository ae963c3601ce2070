//! A tour of `syft-ring`: ring arithmetic, tensors, the u64 GEMM and PRG streams.
//!
//! `cargo run --release --example ring_tour [-- --json]`

fn main() {}
