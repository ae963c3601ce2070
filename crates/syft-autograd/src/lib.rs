//! syft-autograd (under construction).
