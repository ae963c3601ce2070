//! The error type of `syft-net`.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong with network workers, their connections and certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A socket operation failed.
    #[error("{op} {addr}: {source}")]
    Io {
        /// What was being done (`"bind"`, `"connect"`, `"accept"`, ...).
        op: &'static str,
        /// The address or peer involved.
        addr: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read or written.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Certificates or keys are invalid, or a certificate could not be generated.
    #[error("certificates: {reason}")]
    Certificate {
        /// What is wrong.
        reason: String,
    },
    /// A TLS handshake or TLS record failed (bad certificate, unknown issuer, alert, ...).
    #[error("TLS with {peer}: {reason}")]
    Tls {
        /// The peer.
        peer: String,
        /// What rustls reported.
        reason: String,
    },
    /// The peer's identity is not the one expected.
    #[error("{peer} is not {expected}: {reason}")]
    Identity {
        /// The peer, as far as it is known.
        peer: String,
        /// The worker id expected.
        expected: String,
        /// Why the identity does not match.
        reason: String,
    },
    /// A frame is longer than the configured maximum.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The length announced or requested.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Receiving more would hold more bytes than a configured limit allows (the limit is
    /// named after its [`NetConfig`](crate::NetConfig) field, e.g.
    /// `"max_buffered_total"`); the connection is closed, others are not affected.
    #[error("{limit} exceeded: {value} bytes would be buffered, the limit is {max}")]
    LimitExceeded {
        /// The setting whose limit was reached (`"max_buffered_per_connection"`,
        /// `"max_buffered_total"`).
        limit: &'static str,
        /// The bytes that would have been held.
        value: u64,
        /// The limit.
        max: u64,
    },
    /// The connection ended in the middle of a frame.
    #[error("connection to {peer} closed in the middle of a frame ({buffered} bytes of it received)")]
    Truncated {
        /// The peer.
        peer: String,
        /// Bytes of the unfinished frame received.
        buffered: usize,
    },
    /// A message does not follow the protocol (unknown kind, undecodable, out of order).
    #[error("malformed message from {peer}: {reason}")]
    BadMessage {
        /// The peer.
        peer: String,
        /// What is wrong.
        reason: String,
    },
    /// The peer refused a connection or reported a protocol error.
    #[error("{peer} refused: {reason}")]
    Refused {
        /// The peer.
        peer: String,
        /// The reason it gave.
        reason: String,
    },
    /// Nothing arrived within the timeout.
    #[error("{op}: nothing from {peer} within {after:?}")]
    Timeout {
        /// What was being waited for.
        op: &'static str,
        /// The peer.
        peer: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection is closed (the peer hung up, or this side was dropped).
    #[error("the connection to {peer} is closed")]
    Disconnected {
        /// The peer.
        peer: String,
    },
    /// An option or argument is invalid.
    #[error("invalid {what}: {reason}")]
    Config {
        /// The option.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A worker process could not be started or did not come up.
    #[error("worker process {worker}: {reason}")]
    Process {
        /// The worker id.
        worker: String,
        /// What happened.
        reason: String,
    },
    /// A thread could not be started.
    #[error("cannot spawn thread {name}: {reason}")]
    Spawn {
        /// The thread's name.
        name: String,
        /// The operating system's error.
        reason: String,
    },
    /// An error from the worker layer (registering a worker in a hub, ...).
    #[error(transparent)]
    Worker(#[from] syft_worker::WorkerError),
}

impl From<NetError> for syft_worker::WorkerError {
    /// A network failure as the worker layer reports it (a transport error), so that `?`
    /// works in code returning `syft_worker::Result`.
    fn from(e: NetError) -> Self {
        match e {
            NetError::Worker(inner) => inner,
            NetError::Process { worker, reason } => Self::Transport { worker, reason },
            other => Self::Transport { worker: "network".into(), reason: other.to_string() },
        }
    }
}

/// `Result` with [`NetError`].
pub type Result<T, E = NetError> = std::result::Result<T, E>;

/// Spawns a named thread, with a typed error.
pub(crate) fn spawn<F>(name: String, f: F) -> Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    std::thread::Builder::new().name(name.clone()).spawn(f).map_err(|e| NetError::Spawn { name, reason: e.to_string() })
}
