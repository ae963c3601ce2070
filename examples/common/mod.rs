//! Workers for the examples: in-process [`VirtualWorker`]s by default, or worker
//! processes on loopback over TLS (`--transport tcp`).

use syft::prelude::*;

/// How the examples reach their workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportKind {
    /// Workers on threads of this process.
    InProcess,
    /// Worker processes on loopback, over mutually authenticated TLS.
    Tcp,
}

/// The examples' workers, by name.
pub(crate) enum Workers {
    /// In-process workers.
    InProcess(Vec<VirtualWorker>),
    /// Worker processes (stopped when this is dropped).
    Tcp(LocalCluster),
}

impl Workers {
    /// Starts workers named `names`.
    pub(crate) fn start(hub: &std::sync::Arc<Hub>, names: &[&str], kind: TransportKind) -> syft::Result<Self> {
        Ok(match kind {
            TransportKind::InProcess => {
                Self::InProcess(names.iter().map(|n| VirtualWorker::new(hub, n)).collect::<Result<_, _>>()?)
            }
            TransportKind::Tcp => Self::Tcp(
                LocalCluster::start(names, hub)
                    .map_err(|e| WorkerError::Transport { worker: names.join(","), reason: e.to_string() })?,
            ),
        })
    }

    /// Worker `i` (in the order of the names given).
    pub(crate) fn get(&self, i: usize) -> &dyn Worker {
        match self {
            Self::InProcess(w) => &w[i],
            Self::Tcp(c) => &c.workers()[i],
        }
    }
}
