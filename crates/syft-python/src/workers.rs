//! Workers from Python: `VirtualWorker(id="bob")` (a thread of this process),
//! `NetworkWorker(id, address, identity=...)` (a worker process elsewhere, over mutually
//! authenticated TLS, through the facade's `Workers::builder(..).remote(..).identity(..)`),
//! `WorkerServer` (serve a worker from this process, as `syft-worker serve` does), the
//! certificates they need (`DevCa`, `TlsIdentity`, `gen_certs`), the local worker `me`,
//! and `Hub`, the set of workers that know each other by name.

use crate::errors::{err, invalid};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use syft::net::{DevCa as RustDevCa, Security, Server, ServerConfig, TlsIdentity as RustTlsIdentity};
use syft::prelude::{Hub, LOCAL_WORKER, ObjectKind, VirtualWorker as RustVirtualWorker, Worker, Workers};
use syft::worker::WorkerRef;

/// The hub of workers created without `hub=`: every such worker can reach the others by
/// name (pointer chains, `move`).
fn default_hub() -> &'static Arc<Hub> {
    static HUB: OnceLock<Arc<Hub>> = OnceLock::new();
    HUB.get_or_init(Hub::new)
}

/// A set of workers that know each other by name (what `hub=` takes). Workers made
/// without `hub=` share one default hub; a worker name is unique within a hub.
#[pyclass(module = "syft_rs", name = "Hub", frozen)]
pub(crate) struct PyHub {
    pub(crate) hub: Arc<Hub>,
}

#[pymethods]
impl PyHub {
    #[new]
    fn new() -> Self {
        Self { hub: Hub::new() }
    }

    /// The hub of workers created without `hub=`.
    #[staticmethod]
    fn default() -> Self {
        Self { hub: default_hub().clone() }
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.hub)
    }
}

fn hub_of(hub: Option<&Bound<'_, PyHub>>) -> Arc<Hub> {
    hub.map_or_else(|| default_hub().clone(), |h| h.get().hub.clone())
}

/// A worker as the stack sees it: its id, its transport and its hub (a pointer's
/// location, or any worker below the handle that keeps it alive).
#[derive(Clone)]
pub(crate) struct Attached {
    transport: WorkerRef,
    hub: Arc<Hub>,
}

impl Worker for Attached {
    fn id(&self) -> &str {
        self.transport.worker_id()
    }
    fn transport(&self) -> WorkerRef {
        self.transport.clone()
    }
    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl Attached {
    fn of(w: &dyn Worker) -> Self {
        Self { transport: w.transport(), hub: w.hub().clone() }
    }

    /// The worker named `id` in `hub`.
    pub(crate) fn named(hub: &Arc<Hub>, id: &str) -> PyResult<Self> {
        Ok(Self { transport: hub.get(id).map_err(err)?, hub: hub.clone() })
    }
}

/// What keeps a worker alive while Python holds it.
enum Owner {
    Virtual(RustVirtualWorker),
    /// The group of network workers connected together (they share one client, which
    /// tells each worker where the others are).
    Network(#[allow(dead_code, reason = "held to keep the connections open, never read")] Arc<Workers>),
    /// Only a reference (a pointer's location): the worker lives elsewhere.
    None,
}

/// A worker: `bob.id`, `bob._objects` (what it holds), `x.send(bob)`. Created as a
/// `VirtualWorker` or a `NetworkWorker`; a pointer's `location` is a `Worker` too.
#[pyclass(module = "syft_rs", name = "Worker", subclass, frozen)]
pub(crate) struct PyWorker {
    // Declared first, dropped first: the owner below then sees only its own handles.
    attached: Attached,
    owner: Owner,
    kind: &'static str,
}

impl PyWorker {
    /// The worker, for the stack.
    pub(crate) fn worker(&self) -> &Attached {
        &self.attached
    }

    /// A reference to the worker named `id` in `hub`.
    pub(crate) fn reference(hub: &Arc<Hub>, id: &str) -> PyResult<Self> {
        Ok(Self { attached: Attached::named(hub, id)?, owner: Owner::None, kind: "Worker" })
    }

    pub(crate) fn hub(&self) -> &Arc<Hub> {
        &self.attached.hub
    }
}

/// `&dyn Worker`s of attached workers (what the stack's functions take).
pub(crate) fn dyns(workers: &[Attached]) -> Vec<&dyn Worker> {
    workers.iter().map(|w| w as &dyn Worker).collect()
}

/// The workers among `args` (positional arguments that must all be workers).
pub(crate) fn workers_of<'py>(args: &Bound<'py, PyTuple>) -> PyResult<Vec<Bound<'py, PyWorker>>> {
    args.iter()
        .map(|a| {
            a.extract::<Bound<'py, PyWorker>>()
                .map_err(|_| invalid("share", format!("expected workers, got {}", a.get_type())))
        })
        .collect()
}

/// One line describing a stored object, as `bob._objects` shows it.
fn describe(info: &syft::worker::ObjectInfo) -> String {
    match &info.kind {
        ObjectKind::Float => {
            format!("float32 tensor {:?}{}", info.shape, if info.requires_grad { ", requires_grad" } else { "" })
        }
        ObjectKind::Ring => format!("ring tensor {:?}", info.shape),
        ObjectKind::Pointer { location, id } => format!("pointer -> {id}@{location}"),
        _ => format!("{:?}", info.kind),
    }
}

#[pymethods]
impl PyWorker {
    /// The worker's id.
    #[getter]
    fn id(&self) -> &str {
        self.attached.id()
    }

    /// The objects the worker holds: `{id: description}` (PySyft's `bob._objects`).
    #[getter]
    fn objects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let w = self.attached.clone();
        let objects = py.detach(move || w.objects()).map_err(err)?;
        let dict = PyDict::new(py);
        for (id, info) in objects {
            dict.set_item(id, describe(&info))?;
        }
        Ok(dict)
    }

    /// The objects the worker holds (PySyft's spelling).
    #[getter]
    fn _objects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.objects(py)
    }

    /// How many objects the worker holds.
    fn object_count(&self, py: Python<'_>) -> PyResult<usize> {
        let w = self.attached.clone();
        py.detach(move || w.object_count()).map_err(err)
    }

    fn __repr__(&self) -> String {
        format!("<{} id:{}>", self.kind, self.attached.id())
    }

    /// Equal to a worker of the same name in the same hub, or to its name.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        if let Ok(w) = other.extract::<Bound<'_, PyWorker>>() {
            let w = w.get();
            return w.attached.id() == self.attached.id() && Arc::ptr_eq(&w.attached.hub, &self.attached.hub);
        }
        if let Ok(s) = other.extract::<String>() {
            return s == self.attached.id();
        }
        false
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.attached.id().hash(&mut h);
        h.finish()
    }

    /// Stops the worker now, as if it had died (in-process workers only): later requests
    /// through its pointers fail with `WorkerError`.
    fn shutdown(&self) -> PyResult<()> {
        match &self.owner {
            Owner::Virtual(w) => {
                w.shutdown();
                Ok(())
            }
            _ => Err(invalid("shutdown", format!("{} is not an in-process worker", self.attached.id()))),
        }
    }
}

/// An in-process worker on its own thread (PySyft's `sy.VirtualWorker(hook, id="bob")`).
#[pyclass(module = "syft_rs", name = "VirtualWorker", extends = PyWorker, frozen)]
pub(crate) struct PyVirtualWorker;

#[pymethods]
impl PyVirtualWorker {
    /// `VirtualWorker(id="bob", hub=None)`: `hub` defaults to the shared default hub.
    #[new]
    #[pyo3(signature = (id, *, hub = None))]
    fn new(id: &str, hub: Option<&Bound<'_, PyHub>>) -> PyResult<PyClassInitializer<Self>> {
        let hub = hub_of(hub);
        let worker = RustVirtualWorker::new(&hub, id).map_err(err)?;
        let base = PyWorker { attached: Attached::of(&worker), owner: Owner::Virtual(worker), kind: "VirtualWorker" };
        Ok(PyClassInitializer::from(base).add_subclass(Self))
    }
}

/// A TLS identity: a certificate and key, and the CA to trust.
#[pyclass(module = "syft_rs", name = "TlsIdentity", frozen)]
pub(crate) struct PyTlsIdentity {
    identity: RustTlsIdentity,
}

#[pymethods]
impl PyTlsIdentity {
    /// From PEM text: the CA certificate, this endpoint's certificate, its key.
    #[staticmethod]
    fn from_pem(ca_pem: &str, cert_pem: &str, key_pem: &str) -> PyResult<Self> {
        let identity =
            RustTlsIdentity::from_pem(ca_pem.as_bytes(), cert_pem.as_bytes(), key_pem.as_bytes()).map_err(err)?;
        Ok(Self { identity })
    }

    /// From PEM files (`syft-worker gen-certs` writes them).
    #[staticmethod]
    fn from_files(ca: PathBuf, cert: PathBuf, key: PathBuf) -> PyResult<Self> {
        Ok(Self { identity: RustTlsIdentity::from_files(&ca, &cert, &key).map_err(err)? })
    }

    fn __repr__(&self) -> &'static str {
        "<TlsIdentity>"
    }
}

/// A certificate and its key, PEM encoded (what `DevCa.issue` returns).
#[pyclass(module = "syft_rs", name = "IssuedCert", frozen, get_all)]
pub(crate) struct PyIssuedCert {
    /// The name it certifies.
    name: String,
    /// The certificate.
    cert_pem: String,
    /// The private key.
    key_pem: String,
}

#[pymethods]
impl PyIssuedCert {
    fn __repr__(&self) -> String {
        format!("<IssuedCert {}>", self.name)
    }
}

/// A development certificate authority: issues worker and client certificates (for
/// tests and trials; production deployments bring their own, docs/DEPLOY.md).
#[pyclass(module = "syft_rs", name = "DevCa", frozen)]
pub(crate) struct PyDevCa {
    ca: RustDevCa,
}

#[pymethods]
impl PyDevCa {
    /// A new CA with a fresh key.
    #[new]
    fn new() -> PyResult<Self> {
        Ok(Self { ca: RustDevCa::generate().map_err(err)? })
    }

    /// The CA certificate every endpoint trusts.
    #[getter]
    fn cert_pem(&self) -> String {
        self.ca.cert_pem().to_owned()
    }

    /// A worker certificate for `name` (a worker serves with it).
    fn issue(&self, name: &str) -> PyResult<PyIssuedCert> {
        let c = self.ca.issue(name).map_err(err)?;
        Ok(PyIssuedCert { name: c.name, cert_pem: c.cert_pem, key_pem: c.key_pem })
    }

    /// A client certificate for `name` (a program that uses workers connects with it).
    fn issue_client(&self, name: &str) -> PyResult<PyIssuedCert> {
        let c = self.ca.issue_client(name).map_err(err)?;
        Ok(PyIssuedCert { name: c.name, cert_pem: c.cert_pem, key_pem: c.key_pem })
    }

    /// The identity of `name` under this CA: a worker's (`client=False`) or a client's.
    #[pyo3(signature = (name, *, client = false))]
    fn identity(&self, name: &str, client: bool) -> PyResult<PyTlsIdentity> {
        let c = if client { self.ca.issue_client(name) } else { self.ca.issue(name) }.map_err(err)?;
        PyTlsIdentity::from_pem(self.ca.cert_pem(), &c.cert_pem, &c.key_pem)
    }
}

/// Writes a CA and a directory per worker and per client into `out_dir` (what
/// `syft-worker gen-certs` does); returns `{name: (ca, cert, key)}`, the paths
/// `TlsIdentity.from_files` takes.
#[pyfunction]
#[pyo3(signature = (out_dir, workers, clients = Vec::new()))]
pub(crate) fn gen_certs<'py>(
    py: Python<'py>,
    out_dir: PathBuf,
    workers: Vec<String>,
    clients: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let files = syft::net::gen_certs(&out_dir, &workers, &clients).map_err(err)?;
    let dict = PyDict::new(py);
    for f in files.identities {
        dict.set_item(f.name, (f.ca, f.cert, f.key))?;
    }
    Ok(dict)
}

/// A worker on another process or host, reached by address over mutually authenticated
/// TLS: `NetworkWorker(id="bob", address="host:port", identity=TlsIdentity...)`; several
/// at once with `connect`.
#[pyclass(module = "syft_rs", name = "NetworkWorker", extends = PyWorker, frozen)]
pub(crate) struct PyNetworkWorker {
    address: String,
}

/// Connects to `(id, address)` workers through one client (the facade's
/// `Workers::builder(..).remote(id, address).identity(client, tls)`).
fn connect_all(
    py: Python<'_>,
    remotes: &[(String, String)],
    identity: &Bound<'_, PyTlsIdentity>,
    client: &str,
    hub: Option<&Bound<'_, PyHub>>,
) -> PyResult<Vec<PyClassInitializer<PyNetworkWorker>>> {
    let hub = hub_of(hub);
    let mut builder = Workers::builder(&hub);
    for (id, address) in remotes {
        builder = builder.remote(id, address);
    }
    let builder = builder.identity(client, identity.get().identity.clone());
    let workers = Arc::new(py.detach(move || builder.start()).map_err(err)?);
    remotes
        .iter()
        .map(|(id, address)| {
            let attached = Attached::of(workers.get(id).map_err(err)?);
            let base = PyWorker { attached, owner: Owner::Network(workers.clone()), kind: "NetworkWorker" };
            Ok(PyClassInitializer::from(base).add_subclass(PyNetworkWorker { address: address.clone() }))
        })
        .collect()
}

#[pymethods]
impl PyNetworkWorker {
    /// Connects to worker `id` at `address` as client `client`, proving `identity` (a
    /// client certificate of the workers' CA).
    #[new]
    #[pyo3(signature = (id, address, *, identity, client = LOCAL_WORKER.to_owned(), hub = None))]
    fn new(
        py: Python<'_>,
        id: &str,
        address: &str,
        identity: &Bound<'_, PyTlsIdentity>,
        client: String,
        hub: Option<&Bound<'_, PyHub>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let mut all = connect_all(py, &[(id.to_owned(), address.to_owned())], identity, &client, hub)?;
        all.pop().ok_or_else(|| invalid("NetworkWorker", "no worker connected"))
    }

    /// The address connected to.
    #[getter]
    fn address(&self) -> &str {
        &self.address
    }
}

/// Connects to several workers at once, `{id: "host:port"}`, through one client, so
/// that each worker learns where the others are (pointer chains and `move` between them
/// need it); returns the `NetworkWorker`s in the dict's order.
#[pyfunction]
#[pyo3(signature = (workers, *, identity, client = LOCAL_WORKER.to_owned(), hub = None))]
pub(crate) fn connect(
    py: Python<'_>,
    workers: &Bound<'_, PyDict>,
    identity: &Bound<'_, PyTlsIdentity>,
    client: String,
    hub: Option<&Bound<'_, PyHub>>,
) -> PyResult<Vec<Py<PyNetworkWorker>>> {
    let workers: Vec<(String, String)> =
        workers.iter().map(|(k, v)| Ok((k.extract()?, v.extract()?))).collect::<PyResult<_>>()?;
    connect_all(py, &workers, identity, &client, hub)?.into_iter().map(|init| Py::new(py, init)).collect()
}

/// A worker served from this process over TLS (what `syft-worker serve` runs), for
/// clients elsewhere or `NetworkWorker`s here. Stops when shut down or dropped.
#[pyclass(module = "syft_rs", name = "WorkerServer", frozen)]
pub(crate) struct PyWorkerServer {
    server: Server,
}

#[pymethods]
impl PyWorkerServer {
    /// Serves worker `id` on `listen` (`host:port`, port 0 picks one) with `identity` (a
    /// worker certificate naming `id`).
    #[new]
    #[pyo3(signature = (id, identity, listen = "127.0.0.1:0"))]
    fn new(py: Python<'_>, id: &str, identity: &Bound<'_, PyTlsIdentity>, listen: &str) -> PyResult<Self> {
        let config = ServerConfig::new(id, listen, Security::Tls(identity.get().identity.clone()));
        let server = py.detach(move || Server::start(config)).map_err(err)?;
        Ok(Self { server })
    }

    /// The worker id.
    #[getter]
    fn id(&self) -> &str {
        self.server.id()
    }

    /// Where clients connect (`host:port`).
    #[getter]
    fn address(&self) -> String {
        self.server.local_addr().to_string()
    }

    /// Stops serving: the worker's connections and objects are gone.
    fn shutdown(&self, py: Python<'_>) {
        py.detach(|| self.server.shutdown());
    }

    fn __repr__(&self) -> String {
        format!("<WorkerServer id:{} address:{}>", self.server.id(), self.server.local_addr())
    }
}

/// This program, the owner of every pointer it makes (`sy.local_worker`, id `me`).
#[pyclass(module = "syft_rs", name = "LocalWorker", frozen)]
pub(crate) struct PyLocalWorker;

#[pymethods]
impl PyLocalWorker {
    #[new]
    fn new() -> Self {
        Self
    }

    /// `me`.
    #[getter]
    fn id(&self) -> &'static str {
        LOCAL_WORKER
    }

    fn __repr__(&self) -> String {
        format!("<LocalWorker id:{LOCAL_WORKER}>")
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.is_instance_of::<Self>() || other.extract::<String>().is_ok_and(|s| s == LOCAL_WORKER)
    }

    fn __hash__(&self) -> u64 {
        0x6d65
    }
}
