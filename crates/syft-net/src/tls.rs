//! Who a worker is and whom it trusts: [`Security`], TLS 1.3 with mutual authentication
//! ([`TlsIdentity`]), or plain TCP behind an explicit [`Security::Insecure`].
//!
//! Identities are worker ids. A worker's certificate names its id as a DNS subject
//! alternative name (`bob`), and is signed by the CA of the deployment. A client verifies
//! that the worker it dials holds a certificate for the id it asked for (the TLS server
//! name *is* the worker id, whatever the host address), and a worker accepts a connection
//! only from a certificate its CA signed. On party-to-party channels both sides check the
//! other's id against the session's member list.
//!
//! The crypto provider is `ring` (see the crate README for why), restricted to TLS 1.3;
//! session resumption is off, so every connection proves its certificate afresh.

use crate::error::{NetError, Result};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use std::path::Path;
use std::sync::Arc;

/// How connections are secured.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Security {
    /// TLS 1.3, both sides authenticated by certificates of one CA.
    Tls(TlsIdentity),
    /// Plain TCP: no encryption, no authentication. For experiments on a trusted network
    /// only; every component asks for it explicitly (`--insecure`).
    Insecure,
}

impl Security {
    /// Whether this is TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }
}

/// A TLS identity: this endpoint's certificate chain and key, and the CA it trusts.
#[derive(Clone)]
pub struct TlsIdentity {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    leaf: CertificateDer<'static>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

fn cert_err(reason: impl std::fmt::Display) -> NetError {
    NetError::Certificate { reason: reason.to_string() }
}

/// The crypto provider of every TLS connection of this crate.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsIdentity {
    /// An identity from PEM text: the CA certificate(s) to trust, this endpoint's
    /// certificate chain (leaf first), and its private key (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(ca_pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| cert_err(format!("CA certificate: {e}")))?;
        if cas.is_empty() {
            return Err(cert_err("no CA certificate in the CA file"));
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| cert_err(format!("certificate: {e}")))?;
        let leaf = chain.first().cloned().ok_or_else(|| cert_err("no certificate in the certificate file"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| cert_err(format!("private key: {e}")))?;
        let mut roots = RootCertStore::empty();
        for ca in cas {
            roots.add(ca).map_err(|e| cert_err(format!("CA certificate: {e}")))?;
        }
        let roots = Arc::new(roots);
        let versions = [&rustls::version::TLS13];

        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .build()
            .map_err(|e| cert_err(format!("client verifier: {e}")))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&versions)
            .map_err(cert_err)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| cert_err(format!("certificate and key: {e}")))?;
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;

        let mut client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&versions)
            .map_err(cert_err)?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| cert_err(format!("certificate and key: {e}")))?;
        client.resumption = rustls::client::Resumption::disabled();

        Ok(Self { server: Arc::new(server), client: Arc::new(client), leaf })
    }

    /// An identity from PEM files (`--ca`, `--cert`, `--key`).
    pub fn from_files(ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        let read =
            |p: &Path| std::fs::read(p).map_err(|e| NetError::File { path: p.to_path_buf(), reason: e.to_string() });
        Self::from_pem(&read(ca)?, &read(cert)?, &read(key)?)
    }

    /// Checks that this identity's own certificate names `id` (a worker serving as `bob`
    /// must hold bob's certificate, or no client could verify it).
    pub fn check_names(&self, id: &str) -> Result<()> {
        cert_names(&self.leaf, id, "this worker's certificate")
    }

    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server.clone()
    }

    pub(crate) fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client.clone()
    }
}

/// The TLS server name for worker `id`.
pub(crate) fn server_name(id: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(id.to_string())
        .map_err(|e| NetError::Config { what: "worker id", reason: format!("{id:?} is not a valid DNS name: {e}") })
}

/// Checks that `cert` (already verified against the CA) names worker `id`.
pub(crate) fn cert_names(cert: &CertificateDer<'_>, id: &str, who: &str) -> Result<()> {
    let name = server_name(id)?;
    let ee = webpki::EndEntityCert::try_from(cert).map_err(|e| NetError::Identity {
        peer: who.to_string(),
        expected: id.to_string(),
        reason: format!("unreadable certificate: {e:?}"),
    })?;
    ee.verify_is_valid_for_subject_name(&name).map_err(|e| NetError::Identity {
        peer: who.to_string(),
        expected: id.to_string(),
        reason: format!("its certificate does not name {id}: {e:?}"),
    })
}

/// The identity a verified peer certificate proves: its one DNS name, and its kind. A
/// certificate valid for TLS servers (extended key usage `serverAuth`) is a worker's; one
/// valid only for TLS clients is a client's (`syft-worker gen-certs` issues both kinds).
pub(crate) fn principal(cert: &CertificateDer<'_>, who: &str) -> Result<syft_worker::Caller> {
    use x509_parser::extensions::GeneralName;
    let bad =
        |reason: String| NetError::Identity { peer: who.to_string(), expected: "a syft-rs identity".into(), reason };
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|e| bad(format!("unreadable certificate: {e}")))?;
    let names: Vec<String> = parsed
        .subject_alternative_name()
        .map_err(|e| bad(format!("unreadable subject alternative names: {e}")))?
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some((*d).to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let [name] = names.as_slice() else {
        return Err(bad(format!("a certificate must name exactly one identity, this one names {names:?}")));
    };
    let eku = parsed.extended_key_usage().map_err(|e| bad(format!("unreadable extended key usage: {e}")))?;
    let server = eku.is_some_and(|e| e.value.server_auth || e.value.any);
    Ok(if server { syft_worker::Caller::worker(name.clone()) } else { syft_worker::Caller::client(name.clone()) })
}
