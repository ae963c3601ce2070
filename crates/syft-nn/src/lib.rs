//! syft-nn (under construction).
