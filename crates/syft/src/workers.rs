//! Workers of either transport through one builder.
//!
//! PySyft's tutorials start with `bob = sy.VirtualWorker(hook, id="bob")`. Here the same
//! program can run its workers on threads of this process, as worker processes on
//! loopback over mutually authenticated TLS, or reach workers that run elsewhere, by
//! address and certificates; the rest of the program sees `&dyn Worker` either way.
//!
//! ```
//! use syft::prelude::*;
//!
//! # fn main() -> syft::Result<()> {
//! serve_if_requested(); // first thing in `main`: a worker process never returns from it
//! let hub = Hub::new();
//! let workers = Workers::builder(&hub).names(&["bob", "alice"]).start()?;
//! let bob = workers.get("bob")?;
//! let x = Tensor::from_vec(vec![1.0f32, 2., 3.]).send(bob)?;
//! assert_eq!(x.get()?.data(), &[1., 2., 3.]);
//! # Ok(())
//! # }
//! ```
//!
//! With `.transport(Transport::Tcp)` the same names become worker processes on loopback
//! (TLS with fresh certificates; the program re-executes itself as each worker, which is
//! why `serve_if_requested` comes first), and with `.remote(id, address)` plus
//! `.identity(...)` the builder connects to workers started by someone else
//! (`syft-worker serve ...`, docs/DEPLOY.md).

use crate::error::{Error, Result};
use std::str::FromStr;
use std::sync::Arc;
use syft_net::{LocalCluster, NetClient, NetConfig, NetworkWorker, Security, TlsIdentity};
use syft_worker::{Hub, VirtualWorker, Worker, WorkerError};

/// Where a program's workers run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Threads of this process ([`VirtualWorker`]s): PySyft's virtual workers.
    #[default]
    InProcess,
    /// Worker processes on loopback, over mutually authenticated TLS.
    Tcp,
}

impl Transport {
    /// The names a command line accepts.
    pub const NAMES: [&'static str; 2] = ["in-process", "tcp"];
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InProcess => Self::NAMES[0],
            Self::Tcp => Self::NAMES[1],
        })
    }
}

impl FromStr for Transport {
    type Err = Error;

    /// `in-process` or `tcp` (what `--transport` takes).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "in-process" | "in_process" => Ok(Self::InProcess),
            "tcp" => Ok(Self::Tcp),
            other => Err(WorkerError::InvalidArgument {
                op: "transport",
                reason: format!("{other:?} is not one of {}", Self::NAMES.join(", ")),
            }
            .into()),
        }
    }
}

/// How to reach a program's workers ([`Workers::builder`]).
#[derive(Debug)]
#[must_use]
pub struct WorkersBuilder {
    hub: Arc<Hub>,
    names: Vec<String>,
    transport: Transport,
    remote: Vec<(String, String)>,
    identity: Option<(String, Security)>,
    config: NetConfig,
}

impl WorkersBuilder {
    /// Workers named `names`, started by this program (in the transport of
    /// [`transport`](Self::transport)).
    pub fn names(mut self, names: &[&str]) -> Self {
        self.names = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// Where the workers of [`names`](Self::names) run (in-process by default).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// A worker `id` started elsewhere, listening at `address` (`host:port`). Needs
    /// [`identity`](Self::identity).
    pub fn remote(mut self, id: &str, address: &str) -> Self {
        self.remote.push((id.to_owned(), address.to_owned()));
        self
    }

    /// This program's identity towards remote workers: its client name (for the workers'
    /// logs) and its TLS certificate, key and CA (`syft-worker gen-certs --clients NAME`).
    pub fn identity(mut self, client: &str, tls: TlsIdentity) -> Self {
        self.identity = Some((client.to_owned(), Security::Tls(tls)));
        self
    }

    /// Limits and timeouts of the network connections (defaults otherwise).
    pub fn net_config(mut self, config: NetConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts (or connects to) the workers.
    pub fn start(self) -> Result<Workers> {
        let mut started = Vec::new();
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        if !names.is_empty() {
            started.push(match self.transport {
                Transport::InProcess => {
                    Group::InProcess(names.iter().map(|n| VirtualWorker::new(&self.hub, n)).collect::<Result<_, _>>()?)
                }
                Transport::Tcp => {
                    Group::Tcp(LocalCluster::builder(&names).config(self.config.clone()).start(&self.hub)?)
                }
            });
        }
        if !self.remote.is_empty() {
            let Some((client, security)) = self.identity else {
                return Err(WorkerError::InvalidArgument {
                    op: "Workers::start",
                    reason: "remote workers need this program's identity (`identity(client, tls)`)".into(),
                }
                .into());
            };
            let client = NetClient::new(&client, security, self.config);
            let workers = self
                .remote
                .iter()
                .map(|(id, address)| client.connect(&self.hub, id, address))
                .collect::<syft_net::Result<_>>()?;
            started.push(Group::Remote(workers));
        }
        Ok(Workers { hub: self.hub, groups: started })
    }
}

/// One transport's workers.
enum Group {
    InProcess(Vec<VirtualWorker>),
    /// Worker processes (stopped when dropped).
    Tcp(LocalCluster),
    Remote(Vec<NetworkWorker>),
}

impl Group {
    fn workers(&self) -> Vec<&dyn Worker> {
        match self {
            Self::InProcess(w) => w.iter().map(|w| w as &dyn Worker).collect(),
            Self::Tcp(c) => c.workers().iter().map(|w| w as &dyn Worker).collect(),
            Self::Remote(w) => w.iter().map(|w| w as &dyn Worker).collect(),
        }
    }
}

/// A program's workers, whatever their transport. Dropping it stops the worker processes
/// it started and the in-process workers' threads.
pub struct Workers {
    hub: Arc<Hub>,
    groups: Vec<Group>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("ids", &self.all().iter().map(|w| w.id()).collect::<Vec<_>>()).finish()
    }
}

impl Workers {
    /// A builder for workers registered in `hub`.
    pub fn builder(hub: &Arc<Hub>) -> WorkersBuilder {
        WorkersBuilder {
            hub: hub.clone(),
            names: Vec::new(),
            transport: Transport::InProcess,
            remote: Vec::new(),
            identity: None,
            config: NetConfig::default(),
        }
    }

    /// In-process workers named `names` (PySyft's `VirtualWorker`s).
    pub fn in_process(hub: &Arc<Hub>, names: &[&str]) -> Result<Self> {
        Self::builder(hub).names(names).start()
    }

    /// Every worker, in the order they were named (started ones first, then remote ones).
    #[must_use]
    pub fn all(&self) -> Vec<&dyn Worker> {
        self.groups.iter().flat_map(Group::workers).collect()
    }

    /// The worker named `id`.
    pub fn get(&self, id: &str) -> Result<&dyn Worker> {
        self.all()
            .into_iter()
            .find(|w| w.id() == id)
            .ok_or_else(|| Error::Worker(WorkerError::UnknownWorker(id.to_owned())))
    }

    /// The hub the workers are registered in.
    #[must_use]
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The worker processes this program started on loopback, if any (to stop one in a
    /// test of a failing party, say).
    pub fn local_cluster(&mut self) -> Option<&mut LocalCluster> {
        self.groups.iter_mut().find_map(|g| match g {
            Group::Tcp(c) => Some(c),
            _ => None,
        })
    }
}
