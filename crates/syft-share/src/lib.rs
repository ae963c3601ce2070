//! syft-share (under construction).
