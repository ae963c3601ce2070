//! [`Limits`]: the bounds a model file is held to before anything is allocated for it.

/// Bounds a model file is checked against before the importer allocates for it.
///
/// The defaults admit any model that is practical to evaluate under MPC; raise them for
/// larger ones. The struct is `#[non_exhaustive]`: start from [`Limits::default`] and
/// set fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest model file, in bytes (default 512 MiB).
    pub max_model_bytes: u64,
    /// The most elements in one initializer or constant (default 2^27, 512 MiB of `f32`).
    pub max_tensor_elements: usize,
    /// The most nodes in the graph (default 100,000).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_model_bytes: 512 << 20, max_tensor_elements: 1 << 27, max_nodes: 100_000 }
    }
}
