//! Development certificates with `rcgen`: a CA, and one certificate per identity, so
//! that a first-time user needs no openssl:
//!
//! ```text
//! syft-worker gen-certs --out certs --workers bob,alice,crypto_provider --clients model_owner,data_owner
//! ```
//!
//! A certificate names its identity as its one DNS subject alternative name and says
//! which kind of identity it is: a **worker** certificate is valid for TLS servers and
//! clients (a worker serves, and dials its peers), a **client** certificate only for TLS
//! clients, so a client can never pose as a worker, and a worker knows from the
//! certificate alone whether a connection is a client's or a peer's. Keys are ECDSA P-256.
//!
//! `gen-certs` writes one directory per identity holding only what it needs
//! (`NAME/cert.pem`, `NAME/key.pem`, `NAME/ca.pem`), and the CA apart (`ca/ca.pem`,
//! `ca/ca.key`): copy `NAME/` to the host of `NAME`, keep `ca/` off the workers. Running it
//! again on the same directory reuses the CA, to add identities to a deployment. Every
//! private key is written with mode 0600 (on Unix), also when the file already existed.

use crate::error::{NetError, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// File name of the CA certificate (in the CA's directory and in every identity's).
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the CA private key (in the CA's directory only).
pub const CA_KEY_FILE: &str = "ca.key";
/// The CA's directory inside a `gen-certs` output directory.
pub const CA_DIR: &str = "ca";
/// File name of an identity's certificate in its directory.
pub const CERT_FILE: &str = "cert.pem";
/// File name of an identity's private key in its directory.
pub const KEY_FILE: &str = "key.pem";

/// Which kind of identity a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind {
    /// A worker: TLS server and client.
    Worker,
    /// A client program: TLS client only.
    Client,
}

/// The subject of every development CA (fixed, so that a CA reloaded from its key issues
/// certificates that chain to the original CA certificate).
const CA_NAME: &str = "syft-rs development CA";

fn cert_err(reason: impl std::fmt::Display) -> NetError {
    NetError::Certificate { reason: reason.to_string() }
}

/// The current year (UTC), for validity periods.
fn this_year() -> i32 {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    #[allow(clippy::cast_possible_truncation, reason = "a year fits in i32")]
    let year = 1970 + (days * 400 / 146_097) as i32;
    year
}

fn validity(params: &mut CertificateParams, years: i32) {
    let year = this_year();
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + years, 1, 1);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut params, 10);
    params
}

/// Checks that `name` can be a worker id in a certificate (a DNS name: letters, digits,
/// `-` and `_`, dot-separated labels, not all digits).
pub fn check_worker_id(name: &str) -> Result<()> {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(NetError::Config { what: "worker id", reason: format!("{name:?} is an IP address") });
    }
    crate::tls::server_name(name).map(drop)
}

/// A development certificate authority.
pub struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

/// A certificate and its private key, PEM encoded.
#[derive(Clone)]
pub struct IssuedCert {
    /// The worker id it names.
    pub name: String,
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCert").field("name", &self.name).finish_non_exhaustive()
    }
}

impl DevCa {
    /// A new CA with a fresh key.
    pub fn generate() -> Result<Self> {
        let key = KeyPair::generate().map_err(cert_err)?;
        let params = ca_params();
        let cert_pem = params.self_signed(&key).map_err(cert_err)?.pem();
        Ok(Self { issuer: Issuer::new(params, key), cert_pem })
    }

    /// A CA written earlier by [`DevCa::generate`] (its certificate and key, PEM).
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| cert_err(format!("CA key: {e}")))?;
        Ok(Self { issuer: Issuer::new(ca_params(), key), cert_pem: cert_pem.to_string() })
    }

    /// The CA certificate (what every worker trusts).
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key.
    #[must_use]
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// Issues a worker certificate for `name`, usable as server and client certificate.
    pub fn issue(&self, name: &str) -> Result<IssuedCert> {
        self.issue_kind(name, IdentityKind::Worker)
    }

    /// Issues a client certificate for `name` (TLS client only: it cannot serve as a worker).
    pub fn issue_client(&self, name: &str) -> Result<IssuedCert> {
        self.issue_kind(name, IdentityKind::Client)
    }

    /// Issues a certificate of `kind` for `name`.
    pub fn issue_kind(&self, name: &str, kind: IdentityKind) -> Result<IssuedCert> {
        check_worker_id(name)?;
        let key = KeyPair::generate().map_err(cert_err)?;
        let mut params = CertificateParams::new(vec![name.to_string()]).map_err(cert_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = match kind {
            IdentityKind::Worker => vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth],
            IdentityKind::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        };
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, 5);
        let cert = params.signed_by(&key, &self.issuer).map_err(cert_err)?;
        Ok(IssuedCert { name: name.to_string(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

pub(crate) fn write_file(path: &Path, contents: &str, private: bool) -> Result<()> {
    let err = |e: std::io::Error| NetError::File { path: path.to_path_buf(), reason: e.to_string() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    // The mode above applies only when the file is created: tighten an existing one too,
    // before the key is written into it.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(err)
}

fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| NetError::File { path: path.to_path_buf(), reason: e.to_string() })
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| NetError::File { path: path.to_path_buf(), reason: e.to_string() })
}

/// One identity's files as [`gen_certs`] wrote them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityFiles {
    /// The identity's name.
    pub name: String,
    /// Worker or client.
    pub kind: IdentityKind,
    /// Its directory (what to copy to its host).
    pub dir: PathBuf,
    /// Its certificate (`--cert`).
    pub cert: PathBuf,
    /// Its private key (`--key`).
    pub key: PathBuf,
    /// The CA certificate (`--ca`).
    pub ca: PathBuf,
}

/// The files [`gen_certs`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFiles {
    /// The CA's directory (its certificate and private key: keep it off the workers).
    pub ca_dir: PathBuf,
    /// One entry per identity.
    pub identities: Vec<IdentityFiles>,
}

/// Writes a development CA into `out/ca/` and, per identity, its certificate, key and
/// the CA certificate into `out/NAME/` (workers first, then clients). An existing CA in
/// `out/ca/` is reused, so running it again adds identities to the same deployment.
pub fn gen_certs(out: &Path, workers: &[String], clients: &[String]) -> Result<CertFiles> {
    if workers.is_empty() && clients.is_empty() {
        return Err(NetError::Config { what: "--workers/--clients", reason: "no identity names given".into() });
    }
    let mut seen = std::collections::BTreeSet::new();
    for n in workers.iter().chain(clients) {
        check_worker_id(n)?;
        if n == CA_DIR || !seen.insert(n.as_str()) {
            return Err(NetError::Config {
                what: "--workers/--clients",
                reason: format!("{n:?} is named twice or reserved"),
            });
        }
    }
    let ca_dir = out.join(CA_DIR);
    create_dir(&ca_dir)?;
    let ca_cert = ca_dir.join(CA_CERT_FILE);
    let ca_key = ca_dir.join(CA_KEY_FILE);
    let ca = if ca_cert.exists() && ca_key.exists() {
        DevCa::load(&read_file(&ca_cert)?, &read_file(&ca_key)?)?
    } else {
        let ca = DevCa::generate()?;
        write_file(&ca_key, &ca.key_pem(), true)?;
        write_file(&ca_cert, ca.cert_pem(), false)?;
        ca
    };
    let kinds =
        workers.iter().map(|n| (n, IdentityKind::Worker)).chain(clients.iter().map(|n| (n, IdentityKind::Client)));
    let mut identities = Vec::with_capacity(workers.len() + clients.len());
    for (n, kind) in kinds {
        let issued = ca.issue_kind(n, kind)?;
        let dir = out.join(n);
        create_dir(&dir)?;
        let (cert, key, ca_copy) = (dir.join(CERT_FILE), dir.join(KEY_FILE), dir.join(CA_CERT_FILE));
        write_file(&key, &issued.key_pem, true)?;
        write_file(&cert, &issued.cert_pem, false)?;
        write_file(&ca_copy, ca.cert_pem(), false)?;
        identities.push(IdentityFiles { name: n.clone(), kind, dir, cert, key, ca: ca_copy });
    }
    Ok(CertFiles { ca_dir, identities })
}
