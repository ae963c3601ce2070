//! Helpers shared by the integration tests: worker processes of the `syft-worker` binary
//! on 127.0.0.1, with test timeouts.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::sync::Arc;
use std::time::Duration;
use syft_net::{LocalCluster, NetConfig};
use syft_worker::Hub;

/// Timeouts short enough that a failing test fails fast.
pub(crate) fn test_config() -> NetConfig {
    let mut c = NetConfig::default();
    c.connect_timeout = Duration::from_secs(5);
    c.recv_timeout = Some(Duration::from_secs(10));
    c.request_timeout = Some(Duration::from_secs(20));
    c
}

/// Worker processes (the real `syft-worker` binary) with TLS.
pub(crate) fn cluster(names: &[&str], hub: &Arc<Hub>) -> LocalCluster {
    LocalCluster::builder(names)
        .program(env!("CARGO_BIN_EXE_syft-worker"))
        .config(test_config())
        .start(hub)
        .expect("worker processes start")
}
