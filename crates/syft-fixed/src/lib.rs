//! syft-fixed (under construction).
