//! Helpers shared by the integration tests: worker processes of the `syft-worker` binary
//! on 127.0.0.1, with test timeouts.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::sync::Arc;
use std::time::Duration;
use syft_net::{LocalCluster, NetConfig};
use syft_worker::Hub;

/// A TLS identity issued by `ca`: a client certificate for "me", a worker certificate for
/// every other name.
pub(crate) fn tls(ca: &syft_net::DevCa, name: &str) -> syft_net::Security {
    let c = if name == "me" { ca.issue_client(name) } else { ca.issue(name) }.expect("certificate");
    let identity =
        syft_net::TlsIdentity::from_pem(ca.cert_pem().as_bytes(), c.cert_pem.as_bytes(), c.key_pem.as_bytes());
    syft_net::Security::Tls(identity.expect("identity"))
}

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

/// A deployment as an operator sets one up: `gen-certs` for workers and clients, and one
/// `syft-worker` process per worker, each told its clients, its peers and the crypto
/// providers it accepts.
pub(crate) struct Deployment {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) workers: Vec<(String, String, std::process::Child)>,
}

impl Deployment {
    /// Starts `workers` (the last is the crypto provider) serving `clients`, with `extra`
    /// flags for every worker.
    pub(crate) fn start(workers: &[&str], clients: &[&str], extra: &[&str]) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("temp dir");
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        syft_net::gen_certs(dir.path(), &owned(workers), &owned(clients)).expect("certificates");
        let dealer = workers.last().copied().unwrap_or_default();
        let mut procs = Vec::new();
        for &w in workers {
            let peers: Vec<&str> = workers.iter().copied().filter(|p| *p != w).collect();
            let p = |f: &str| dir.path().join(w).join(f);
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_syft-worker"));
            cmd.args(["--id", w, "--listen", "127.0.0.1:0", "--peer-listen", "127.0.0.1:0", "--exit-on-stdin-eof"])
                .args(["--clients", &clients.join(",")])
                .args(["--connect-timeout", "5", "--recv-timeout", "5"])
                .arg("--ca")
                .arg(p("ca.pem"))
                .arg("--cert")
                .arg(p("cert.pem"))
                .arg("--key")
                .arg(p("key.pem"))
                .args(extra);
            if !peers.is_empty() {
                cmd.args(["--peers", &peers.join(",")]);
                if w != dealer {
                    cmd.args(["--dealers", dealer]);
                }
            }
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("worker process");
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
            let listen = line
                .split_whitespace()
                .find_map(|x| x.strip_prefix("listen="))
                .unwrap_or_else(|| panic!("{w} did not start: {line:?}"))
                .to_string();
            procs.push((w.to_string(), listen, child));
        }
        Self { dir, workers: procs }
    }

    /// The TLS identity of `name` (its own directory, as copied to its host).
    pub(crate) fn identity(&self, name: &str) -> syft_net::TlsIdentity {
        let p = |f: &str| self.dir.path().join(name).join(f);
        syft_net::TlsIdentity::from_files(&p("ca.pem"), &p("cert.pem"), &p("key.pem")).expect("identity")
    }

    /// Connects to every worker but itself as `name` (a client, or a worker's certificate
    /// used as a client), in a hub of its own.
    pub(crate) fn connect_as(&self, name: &str) -> (Arc<Hub>, Vec<syft_net::NetworkWorker>) {
        let client = syft_net::NetClient::new(name, syft_net::Security::Tls(self.identity(name)), test_config());
        let hub = Hub::new();
        let workers = self
            .workers
            .iter()
            .filter(|(w, _, _)| w != name)
            .map(|(w, addr, _)| client.connect(&hub, w, addr).unwrap_or_else(|e| panic!("{name} -> {w}: {e}")))
            .collect();
        (hub, workers)
    }

    /// The process id of worker `name`.
    pub(crate) fn pid(&self, name: &str) -> u32 {
        self.workers.iter().find(|(w, _, _)| w == name).map(|(_, _, c)| c.id()).expect("a worker of this name")
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, _, child) in &mut self.workers {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
