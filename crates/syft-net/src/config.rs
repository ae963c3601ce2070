//! [`NetConfig`]: frame size limit and timeouts, shared by servers, clients and channels.

use crate::frame::DEFAULT_MAX_FRAME;
use std::time::Duration;

/// Limits and timeouts of network connections.
///
/// ```
/// use std::time::Duration;
/// let mut config = syft_net::NetConfig::default();
/// config.recv_timeout = Some(Duration::from_secs(5));
/// assert_eq!(config.max_frame, 1 << 30);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetConfig {
    /// The largest frame sent or accepted, in bytes (default 1 GiB). A peer announcing a
    /// longer one is disconnected before it sends the body.
    pub max_frame: u32,
    /// Time to connect: TCP connect, TLS handshake and protocol hello of one connection,
    /// and the opening of all of a session's party-to-party channels (default 10 s).
    pub connect_timeout: Duration,
    /// How long a party waits for a message from a peer during a protocol (default 60 s;
    /// `None`: forever).
    pub recv_timeout: Option<Duration>,
    /// How long a client waits for a worker's answer to one request (default 10 min;
    /// `None`: forever).
    pub request_timeout: Option<Duration>,
    /// How long writing may block on a peer that does not read before the connection is
    /// dropped (default 60 s).
    pub write_timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            connect_timeout: Duration::from_secs(10),
            recv_timeout: Some(crate::comm::DEFAULT_RECV_TIMEOUT),
            request_timeout: Some(Duration::from_secs(600)),
            write_timeout: Duration::from_secs(60),
        }
    }
}
