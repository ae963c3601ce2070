//! Worker processes on this machine, for examples and tests: [`LocalCluster`] starts one
//! `syft-worker` process per name on loopback (TLS with fresh certificates by default),
//! connects to each, and stops them all when dropped.
//!
//! A program need not ship a separate binary: by default the cluster re-executes the
//! current executable with a hidden first argument, and [`serve_if_requested`], called
//! first thing in `main`, turns such a child into a worker.
//!
//! ```no_run
//! use syft_net::local::{LocalCluster, serve_if_requested};
//! use syft_worker::{Hub, Sendable};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     serve_if_requested(); // a worker process never returns from here
//!     let hub = Hub::new();
//!     let cluster = LocalCluster::start(&["bob", "alice"], &hub)?;
//!     let bob = cluster.worker("bob")?;
//!     let x = syft_ring::Tensor::from_vec(vec![1.0f32, 2., 3.]).send(bob)?;
//!     assert_eq!(x.get()?.data(), &[1., 2., 3.]);
//!     Ok(())
//! }
//! ```

use crate::certs::DevCa;
use crate::client::{NetClient, NetworkWorker};
use crate::config::NetConfig;
use crate::error::{NetError, Result, spawn};
use crate::tls::{Security, TlsIdentity};
use std::ffi::{OsStr, OsString};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use syft_worker::{Hub, LOCAL_WORKER};

/// The hidden first argument that makes [`serve_if_requested`] serve a worker.
pub const WORKER_ARG: &str = "__syft_net_worker__";

/// If this process was started as a worker by a [`LocalCluster`] (its first argument is
/// [`WORKER_ARG`]), serves the worker described by the remaining arguments (the
/// `syft-worker` command line) and exits; otherwise returns at once.
pub fn serve_if_requested() {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().as_deref() != Some(OsStr::new(WORKER_ARG)) {
        return;
    }
    let argv: Vec<OsString> = std::iter::once(OsString::from("syft-worker")).chain(args).collect();
    std::process::exit(i32::from(crate::cli::run(argv)));
}

/// How to start a [`LocalCluster`].
#[derive(Clone, Debug)]
pub struct LocalClusterBuilder {
    names: Vec<String>,
    program: Option<PathBuf>,
    tls: bool,
    net: NetConfig,
    startup_timeout: Duration,
}

impl LocalClusterBuilder {
    /// Plain TCP instead of TLS.
    #[must_use]
    pub fn insecure(mut self) -> Self {
        self.tls = false;
        self
    }

    /// Runs this `syft-worker` binary instead of re-executing the current executable.
    #[must_use]
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// Limits and timeouts, for the workers and for this client.
    #[must_use]
    pub fn config(mut self, net: NetConfig) -> Self {
        self.net = net;
        self
    }

    /// How long to wait for each worker to come up (default 20 s).
    #[must_use]
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Starts the workers, connects to them and registers them in `hub`.
    pub fn start(self, hub: &Arc<Hub>) -> Result<LocalCluster> {
        let dir = tempfile::Builder::new()
            .prefix("syft-net-certs-")
            .tempdir()
            .map_err(|e| NetError::File { path: std::env::temp_dir(), reason: e.to_string() })?;
        let security = if self.tls {
            let ca = DevCa::generate()?;
            let ca_path = dir.path().join(crate::certs::CA_CERT_FILE);
            write(&ca_path, ca.cert_pem())?;
            for name in &self.names {
                let issued = ca.issue(name)?;
                write(&dir.path().join(format!("{name}.pem")), &issued.cert_pem)?;
                crate::certs::write_file(&dir.path().join(format!("{name}.key")), &issued.key_pem, true)?;
            }
            // This program is the cluster's one client: a client certificate, which the
            // workers serve as a client and never accept as a peer.
            let me = ca.issue_client(LOCAL_WORKER)?;
            Security::Tls(TlsIdentity::from_pem(
                ca.cert_pem().as_bytes(),
                me.cert_pem.as_bytes(),
                me.key_pem.as_bytes(),
            )?)
        } else {
            Security::Insecure
        };
        let client = NetClient::new(LOCAL_WORKER, security, self.net.clone());
        let mut cluster =
            LocalCluster { hub: hub.clone(), workers: Vec::new(), processes: Vec::new(), client, certs: dir };
        for name in &self.names {
            let (process, listen) = self.spawn(name, cluster.certs.path())?;
            cluster.processes.push(process);
            let worker = cluster.client.connect(hub, name, &listen)?;
            cluster.workers.push(worker);
        }
        Ok(cluster)
    }

    fn spawn(&self, name: &str, certs: &Path) -> Result<(Process, String)> {
        let process_err = |reason: String| NetError::Process { worker: name.to_string(), reason };
        let mut cmd = match &self.program {
            Some(p) => Command::new(p),
            None => {
                let exe = std::env::current_exe().map_err(|e| process_err(format!("current executable: {e}")))?;
                let mut c = Command::new(exe);
                c.arg(WORKER_ARG);
                c
            }
        };
        let secs = |t: Option<Duration>| t.map_or_else(|| "0".to_string(), |d| d.as_secs_f64().to_string());
        cmd.args(["--id", name, "--listen", "127.0.0.1:0", "--peer-listen", "127.0.0.1:0", "--exit-on-stdin-eof"])
            .args(["--max-frame", &self.net.max_frame.to_string()])
            .args(["--connect-timeout", &secs(Some(self.net.connect_timeout))])
            .args(["--recv-timeout", &secs(self.net.recv_timeout)])
            .args(["--request-timeout", &secs(self.net.request_timeout)])
            .args(["--max-buffered-per-connection", &self.net.max_buffered_per_connection.to_string()])
            .args(["--max-buffered-total", &self.net.max_buffered_total.to_string()])
            .args(["--handshake-timeout", &secs(Some(self.net.handshake_timeout))])
            .args(["--max-handshaking", &self.net.max_handshaking.to_string()])
            .args(["--idle-timeout", &secs(self.net.idle_timeout)])
            .args(["--max-pending-requests", &self.net.max_pending_requests.to_string()]);
        if self.tls {
            // This program is the one client; every other worker of the cluster is a peer
            // and may be the crypto provider.
            let peers: Vec<&str> = self.names.iter().map(String::as_str).filter(|n| *n != name).collect();
            let peers = peers.join(",");
            cmd.args(["--clients", LOCAL_WORKER]);
            if !peers.is_empty() {
                cmd.args(["--peers", &peers, "--dealers", &peers]);
            }
            cmd.arg("--ca").arg(certs.join(crate::certs::CA_CERT_FILE));
            cmd.arg("--cert").arg(certs.join(format!("{name}.pem")));
            cmd.arg("--key").arg(certs.join(format!("{name}.key")));
        } else {
            cmd.arg("--insecure");
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().map_err(|e| process_err(format!("cannot start: {e}")))?;
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let mut process = Process { name: name.to_string(), child, stdin };
        let Some(stdout) = stdout else { return Err(process_err("no standard output".into())) };
        let (line_tx, line_rx) = mpsc::channel();
        spawn(format!("worker-stdout {name}"), move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let _ = line_tx.send(lines.next());
            // Keep draining so the worker never blocks on a full pipe.
            for _ in lines {}
        })?;
        let line = match line_rx.recv_timeout(self.startup_timeout) {
            Ok(Some(Ok(line))) => line,
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = process.wait_for_exit(Duration::from_secs(2));
                let hint = if self.program.is_none() {
                    "; does main() call syft_net::local::serve_if_requested() first?"
                } else {
                    ""
                };
                return Err(process_err(format!("exited before it was ready ({status}){hint}")));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(process_err(format!("not ready within {:?}", self.startup_timeout)));
            }
        };
        let listen = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("listen="))
            .ok_or_else(|| process_err(format!("unexpected first line {line:?}")))?
            .to_string();
        tracing::debug!(worker = name, pid = process.child.id(), %listen, "worker process started");
        Ok((process, listen))
    }
}

fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| NetError::File { path: path.to_path_buf(), reason: e.to_string() })
}

struct Process {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Process {
    /// Waits up to `timeout` for the process to exit; describes how it ended.
    fn wait_for_exit(&mut self, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) => return "still running".into(),
                Err(e) => return e.to_string(),
            }
        }
    }

    /// Closes its standard input (it exits), then kills it if it is still running.
    fn stop(&mut self) {
        self.stdin = None;
        if self.wait_for_exit(Duration::from_secs(3)) == "still running" {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Worker processes on loopback, with a [`NetworkWorker`] for each (see the
/// [module docs](self)). Dropping it stops the processes and deletes the certificates.
pub struct LocalCluster {
    hub: Arc<Hub>,
    workers: Vec<NetworkWorker>,
    processes: Vec<Process>,
    client: NetClient,
    certs: tempfile::TempDir,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster").field("workers", &self.workers).finish_non_exhaustive()
    }
}

impl LocalCluster {
    /// Starts one worker process per name (TLS, fresh certificates, the current
    /// executable in worker mode; see [`serve_if_requested`]) and registers the workers
    /// in `hub`.
    pub fn start(names: &[&str], hub: &Arc<Hub>) -> Result<Self> {
        Self::builder(names).start(hub)
    }

    /// A builder for other options (plain TCP, a `syft-worker` binary, timeouts).
    #[must_use]
    pub fn builder(names: &[&str]) -> LocalClusterBuilder {
        LocalClusterBuilder {
            names: names.iter().map(ToString::to_string).collect(),
            program: None,
            tls: true,
            net: NetConfig::default(),
            startup_timeout: Duration::from_secs(20),
        }
    }

    /// The workers, in the order of the names.
    #[must_use]
    pub fn workers(&self) -> &[NetworkWorker] {
        &self.workers
    }

    /// The worker named `id`.
    pub fn worker(&self, id: &str) -> Result<&NetworkWorker> {
        self.workers
            .iter()
            .find(|w| syft_worker::Worker::id(*w) == id)
            .ok_or_else(|| NetError::Config { what: "worker", reason: format!("no worker {id:?} in this cluster") })
    }

    /// The client that connected to the workers (its certificate is `me`'s).
    #[must_use]
    pub fn client(&self) -> &NetClient {
        &self.client
    }

    /// The directory holding the cluster's certificates (`ca.pem`, `NAME.pem`, `NAME.key`).
    #[must_use]
    pub fn cert_dir(&self) -> &Path {
        self.certs.path()
    }

    /// The process id of worker `id`.
    pub fn pid(&self, id: &str) -> Result<u32> {
        self.processes
            .iter()
            .find(|p| p.name == id)
            .map(|p| p.child.id())
            .ok_or_else(|| NetError::Config { what: "worker", reason: format!("no worker {id:?} in this cluster") })
    }

    /// Kills worker `id`'s process at once (to test failures); its handle stays, and
    /// requests to it fail.
    pub fn kill(&mut self, id: &str) -> Result<()> {
        let p = self
            .processes
            .iter_mut()
            .find(|p| p.name == id)
            .ok_or_else(|| NetError::Config { what: "worker", reason: format!("no worker {id:?} in this cluster") })?;
        p.child.kill().map_err(|e| NetError::Process { worker: id.to_string(), reason: e.to_string() })?;
        let _ = p.child.wait();
        Ok(())
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for w in self.workers.drain(..) {
            self.hub.unregister(syft_worker::Worker::id(&w));
        }
        for p in &mut self.processes {
            p.stdin = None;
        }
        for p in &mut self.processes {
            p.stop();
        }
    }
}
