//! [`NetConfig`]: frame size and buffering limits and timeouts, shared by servers, clients
//! and channels.

use crate::frame::DEFAULT_MAX_FRAME;
use std::time::Duration;

/// Limits and timeouts of network connections.
///
/// ```
/// use std::time::Duration;
/// let mut config = syft_net::NetConfig::default();
/// config.recv_timeout = Some(Duration::from_secs(5));
/// assert_eq!(config.max_frame, 1 << 30);
/// assert_eq!(config.handshake_timeout, Duration::from_secs(5));
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
    /// Bytes one connection may hold at once (default 2 GiB, two maximal frames): the
    /// frame being received (its buffer is charged before it grows, plus 64 bytes per
    /// frame), frames received and not yet consumed and, on a worker server, requests
    /// not yet answered on the wire. When the connection's own unconsumed frames fill
    /// it, the connection stops reading its socket until they are consumed (TCP
    /// back-pressure); a frame that cannot fit even alone closes the connection with
    /// [`NetError::LimitExceeded`](crate::NetError::LimitExceeded). A frame longer than
    /// this minus 64 can therefore never be received.
    pub max_buffered_per_connection: usize,
    /// Bytes all the connections of one server (client and party-to-party connections
    /// together), one client or one peer listener may hold at once, counted as in
    /// `max_buffered_per_connection` (default 4 GiB, or the address space on 32-bit
    /// targets). A connection whose frame does not fit closes with
    /// [`NetError::LimitExceeded`](crate::NetError::LimitExceeded); the others are not
    /// affected.
    pub max_buffered_total: usize,
    /// Time an accepted connection has for its TCP accept, TLS handshake and first
    /// message (hello) together (default 5 s), enforced even on a peer that sends
    /// nothing.
    pub handshake_timeout: Duration,
    /// Accepted connections still within `handshake_timeout` at once, at most (default
    /// 64). Accepting one more cuts off the oldest, so idle unauthenticated connections
    /// cannot keep a legitimate client out: it is served within its own handshake.
    pub max_handshaking: usize,
    /// A worker closes a client connection that has no request in flight and has
    /// delivered no complete frame for this long (default 5 min; `None`: never). The
    /// client reconnects on its next request.
    pub idle_timeout: Option<Duration>,
    /// Requests of one client connection a worker holds at once, received and not yet
    /// answered on the wire (default 64). When that many are pending, the worker stops
    /// reading the connection (its frames then queue up to `max_buffered_per_connection`,
    /// then the socket is not read: TCP back-pressure).
    pub max_pending_requests: usize,
}

/// The default of [`NetConfig::max_buffered_per_connection`]: 2 GiB (or the address
/// space on 32-bit targets).
pub const DEFAULT_MAX_BUFFERED_PER_CONNECTION: usize = bytes(2 << 30);
/// The default of [`NetConfig::max_buffered_total`]: 4 GiB (or the address space on
/// 32-bit targets).
pub const DEFAULT_MAX_BUFFERED_TOTAL: usize = bytes(4 << 30);
/// The default of [`NetConfig::handshake_timeout`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default of [`NetConfig::max_handshaking`].
pub const DEFAULT_MAX_HANDSHAKING: usize = 64;
/// The default of [`NetConfig::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The default of [`NetConfig::max_pending_requests`].
pub const DEFAULT_MAX_PENDING_REQUESTS: usize = 64;

/// `n` bytes as a `usize`, saturating.
const fn bytes(n: u64) -> usize {
    #[allow(clippy::cast_possible_truncation, reason = "checked against usize::MAX first")]
    if n > usize::MAX as u64 { usize::MAX } else { n as usize }
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            connect_timeout: Duration::from_secs(10),
            recv_timeout: Some(crate::comm::DEFAULT_RECV_TIMEOUT),
            request_timeout: Some(Duration::from_secs(600)),
            write_timeout: Duration::from_secs(60),
            max_buffered_per_connection: DEFAULT_MAX_BUFFERED_PER_CONNECTION,
            max_buffered_total: DEFAULT_MAX_BUFFERED_TOTAL,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_handshaking: DEFAULT_MAX_HANDSHAKING,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_pending_requests: DEFAULT_MAX_PENDING_REQUESTS,
        }
    }
}
