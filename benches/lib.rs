//! Criterion benchmarks of syft-rs live in this package's bench targets
//! (`cargo bench -p syft-benches`); this library is empty.
