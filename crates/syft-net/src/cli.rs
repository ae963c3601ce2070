//! The `syft-worker` command line: serve a worker, or generate development certificates.
//!
//! ```text
//! syft-worker gen-certs --out certs --workers bob,alice,crypto_provider --clients model_owner,data_owner
//! syft-worker --id bob --listen 0.0.0.0:7001 --peer-listen 0.0.0.0:7002 --peer-advertise 10.0.0.2:7002 \
//!             --ca certs/bob/ca.pem --cert certs/bob/cert.pem --key certs/bob/key.pem \
//!             --clients model_owner,data_owner --peers alice,crypto_provider --dealers crypto_provider
//! syft-worker --id bob --listen 127.0.0.1:7001 --insecure     # plain TCP, trusted networks only
//! ```
//!
//! Under TLS a worker serves exactly the clients and peers it is told about (`--clients`,
//! `--peers`, `--dealers`: see `syft_worker::access`); with `--insecure` nobody is
//! authenticated and it serves everyone.
//!
//! Once listening, the server prints one line on standard output,
//! `ready id=bob listen=127.0.0.1:7001 peer=bob@127.0.0.1:7002`, and logs nothing else
//! unless asked: `-v` (info), `-vv` (debug), or `RUST_LOG` (e.g. `RUST_LOG=syft_net=debug`).

use crate::certs::gen_certs;
use crate::config::{
    DEFAULT_MAX_BUFFERED_PER_CONNECTION, DEFAULT_MAX_BUFFERED_TOTAL, DEFAULT_MAX_HANDSHAKING,
    DEFAULT_MAX_PENDING_REQUESTS, NetConfig,
};
use crate::frame::DEFAULT_MAX_FRAME;
use crate::server::{DEFAULT_MAX_CONNECTIONS, Server, ServerConfig};
use crate::tls::{Security, TlsIdentity};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// A timeout in seconds on the command line; `0` or `none` for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Option<Duration>);

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(Self(None));
        }
        let secs: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
        if secs == 0.0 {
            return Ok(Self(None));
        }
        Duration::try_from_secs_f64(secs).map(|d| Self(Some(d))).map_err(|e| format!("{s:?}: {e}"))
    }
}

/// `syft-worker`: a syft-rs worker reached over TCP + TLS.
#[derive(Parser, Debug)]
#[command(
    name = "syft-worker",
    version,
    about = "A syft-rs worker reached over the network (TLS 1.3 with mutual authentication)",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// A subcommand instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Serving options.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// More logging: -v info, -vv debug, -vvv trace (RUST_LOG takes precedence).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a development CA (`OUT/ca/`) and a directory per identity (`OUT/NAME/`
    /// with `cert.pem`, `key.pem`, `ca.pem`).
    GenCerts {
        /// Output directory (an existing CA in `OUT/ca/` is reused).
        #[arg(long)]
        out: PathBuf,
        /// Worker ids, comma-separated (certificates valid for serving and dialling).
        #[arg(long, value_delimiter = ',')]
        workers: Vec<String>,
        /// Client names, comma-separated (certificates valid only for dialling workers).
        #[arg(long, value_delimiter = ',')]
        clients: Vec<String>,
    },
}

/// Options of the server.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The worker id (the name in its certificate).
    #[arg(long, required = true)]
    pub id: Option<String>,
    /// Where clients connect (`host:port`).
    #[arg(long, required = true)]
    pub listen: Option<String>,
    /// Where session members connect (`host:port`; default: the listen host, a free port).
    #[arg(long)]
    pub peer_listen: Option<String>,
    /// The `host:port` other workers should dial for sessions, if not the bound one.
    #[arg(long)]
    pub peer_advertise: Option<String>,
    /// The CA certificate (PEM) that signs every trusted worker and client.
    #[arg(long, required_unless_present = "insecure", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// This worker's certificate (PEM).
    #[arg(long, required_unless_present = "insecure", conflicts_with = "insecure")]
    pub cert: Option<PathBuf>,
    /// This worker's private key (PEM).
    #[arg(long, required_unless_present = "insecure", conflicts_with = "insecure")]
    pub key: Option<PathBuf>,
    /// Plain TCP: no encryption, no authentication (trusted networks only).
    #[arg(long)]
    pub insecure: bool,
    /// The clients this worker serves (names in their client certificates), comma-separated.
    #[arg(long, value_delimiter = ',', required_unless_present = "insecure")]
    pub clients: Vec<String>,
    /// The workers this worker accepts as peers (session members, pointer chains, moves).
    #[arg(long, value_delimiter = ',')]
    pub peers: Vec<String>,
    /// The peers it accepts as the crypto provider of a session (default: none).
    #[arg(long, value_delimiter = ',')]
    pub dealers: Vec<String>,
    /// Elements of any one tensor a request may name or produce.
    #[arg(long)]
    pub max_tensor_elements: Option<usize>,
    /// Elements of all tensors of one request together.
    #[arg(long)]
    pub max_request_elements: Option<usize>,
    /// Bytes of tensor data one owner may keep stored on this worker.
    #[arg(long)]
    pub max_stored_bytes: Option<u64>,
    /// The largest frame sent or accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME)]
    pub max_frame: u32,
    /// Seconds to connect and handshake, and to open a session's channels.
    #[arg(long, default_value = "10")]
    pub connect_timeout: Seconds,
    /// Seconds a party waits for a peer's message during a protocol (0: forever).
    #[arg(long, default_value = "20")]
    pub recv_timeout: Seconds,
    /// Seconds this worker waits for another worker's answer when forwarding (0: forever).
    #[arg(long, default_value = "600")]
    pub request_timeout: Seconds,
    /// Client connections served at once, at most (counted once past their hello).
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Bytes one connection may hold: frames being received, not yet consumed, requests
    /// not yet answered.
    #[arg(long, default_value_t = DEFAULT_MAX_BUFFERED_PER_CONNECTION)]
    pub max_buffered_per_connection: usize,
    /// Bytes all connections of this worker may hold together.
    #[arg(long, default_value_t = DEFAULT_MAX_BUFFERED_TOTAL)]
    pub max_buffered_total: usize,
    /// Seconds an accepted connection has for its TLS handshake and hello.
    #[arg(long, default_value = "5")]
    pub handshake_timeout: Seconds,
    /// Accepted connections in their handshake at once (one more cuts off the oldest).
    #[arg(long, default_value_t = DEFAULT_MAX_HANDSHAKING)]
    pub max_handshaking: usize,
    /// Seconds a client connection with nothing pending may stay silent (0: forever).
    #[arg(long, default_value = "300")]
    pub idle_timeout: Seconds,
    /// Requests of one connection pending at once; then the connection is not read.
    #[arg(long, default_value_t = DEFAULT_MAX_PENDING_REQUESTS)]
    pub max_pending_requests: usize,
    /// Exit when standard input closes (for a parent that starts workers).
    #[arg(long, hide = true)]
    pub exit_on_stdin_eof: bool,
}

fn init_logging(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => tracing_subscriber::EnvFilter::new(spec),
        _ => tracing_subscriber::EnvFilter::new(match verbose {
            0 => "error",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Parses `args` (the program name first) and runs the command; returns the process exit
/// status.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    init_logging(cli.verbose);
    let outcome = match cli.command {
        Some(Command::GenCerts { out, workers, clients }) => gen_certs(&out, &workers, &clients).map(|files| {
            println!("CA (keep it off the workers): {}", files.ca_dir.display());
            for id in files.identities {
                let kind = match id.kind {
                    crate::certs::IdentityKind::Worker => "worker",
                    crate::certs::IdentityKind::Client => "client",
                };
                println!("{kind} {}: {}", id.name, id.dir.display());
            }
        }),
        None => serve(cli.serve),
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("syft-worker: {e}");
            1
        }
    }
}

fn positive(what: &'static str, n: usize) -> crate::Result<usize> {
    if n == 0 {
        return Err(crate::NetError::Config { what, reason: "must be positive".into() });
    }
    Ok(n)
}

fn serve(args: ServeArgs) -> crate::Result<()> {
    let missing = |what| crate::NetError::Config { what, reason: "missing".into() };
    let id = args.id.ok_or_else(|| missing("--id"))?;
    let listen = args.listen.ok_or_else(|| missing("--listen"))?;
    let security = if args.insecure {
        eprintln!("syft-worker: warning: --insecure: plain TCP, no encryption, no authentication");
        Security::Insecure
    } else {
        let ca = args.ca.ok_or_else(|| missing("--ca"))?;
        let cert = args.cert.ok_or_else(|| missing("--cert"))?;
        let key = args.key.ok_or_else(|| missing("--key"))?;
        Security::Tls(TlsIdentity::from_files(&ca, &cert, &key)?)
    };
    let mut config = ServerConfig::new(&id, &listen, security);
    if !args.insecure {
        config.policy = syft_worker::AccessPolicy::new(&args.clients, &args.peers, &args.dealers);
    }
    let mut limits = syft_worker::Limits::default();
    if let Some(n) = args.max_tensor_elements {
        limits.max_tensor_elements = n;
    }
    if let Some(n) = args.max_request_elements {
        limits.max_request_elements = n;
    }
    if let Some(n) = args.max_stored_bytes {
        limits.max_stored_bytes_per_owner = n;
    }
    config.limits = limits;
    if let Some(p) = args.peer_listen {
        config.peer_listen = p;
    }
    config.peer_advertise = args.peer_advertise;
    config.max_connections = args.max_connections;
    config.net = NetConfig {
        max_frame: args.max_frame,
        connect_timeout: args
            .connect_timeout
            .0
            .ok_or(crate::NetError::Config { what: "--connect-timeout", reason: "must be positive".into() })?,
        recv_timeout: args.recv_timeout.0,
        request_timeout: args.request_timeout.0,
        max_buffered_per_connection: args.max_buffered_per_connection,
        max_buffered_total: args.max_buffered_total,
        handshake_timeout: args
            .handshake_timeout
            .0
            .ok_or(crate::NetError::Config { what: "--handshake-timeout", reason: "must be positive".into() })?,
        max_handshaking: positive("--max-handshaking", args.max_handshaking)?,
        idle_timeout: args.idle_timeout.0,
        max_pending_requests: positive("--max-pending-requests", args.max_pending_requests)?,
        ..NetConfig::default()
    };
    let server = Server::start(config)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready id={} listen={} peer={}", server.id(), server.local_addr(), server.peer_address());
    let _ = out.flush();
    drop(out);
    if args.exit_on_stdin_eof {
        crate::error::spawn("stdin-watch".into(), || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        })?;
    }
    server.wait();
    Ok(())
}
