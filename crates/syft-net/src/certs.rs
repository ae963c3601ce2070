//! Development certificates with `rcgen`: a CA and one certificate per worker, so that a
//! first-time user needs no openssl (`syft-worker gen-certs --out certs --names me,bob,alice`).
//!
//! Each certificate names its worker id as a DNS subject alternative name and may serve
//! both as a server and as a client certificate (a worker is a client of the workers it
//! forwards to). Keys are ECDSA P-256. The CA key is written next to the CA certificate so
//! that certificates for more workers can be issued later by running `gen-certs` again on
//! the same directory; keep it private (files are created with mode 0600 on Unix).

use crate::error::{NetError, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// File name of the CA certificate in a certificate directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the CA private key in a certificate directory.
pub const CA_KEY_FILE: &str = "ca.key";

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

    /// Issues a certificate for worker `name`, usable as server and client certificate.
    pub fn issue(&self, name: &str) -> Result<IssuedCert> {
        check_worker_id(name)?;
        let key = KeyPair::generate().map_err(cert_err)?;
        let mut params = CertificateParams::new(vec![name.to_string()]).map_err(cert_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, 5);
        let cert = params.signed_by(&key, &self.issuer).map_err(cert_err)?;
        Ok(IssuedCert { name: name.to_string(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

fn write_file(path: &Path, contents: &str, private: bool) -> Result<()> {
    let err = |e: std::io::Error| NetError::File { path: path.to_path_buf(), reason: e.to_string() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(err)?;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(err)
}

fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| NetError::File { path: path.to_path_buf(), reason: e.to_string() })
}

/// The files [`gen_certs`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFiles {
    /// The CA certificate (`--ca` of every worker and client).
    pub ca: PathBuf,
    /// Per worker id: its certificate and key (`--cert`, `--key`).
    pub workers: Vec<(String, PathBuf, PathBuf)>,
}

/// Writes a development CA (`ca.pem`, `ca.key`) and a certificate and key per name
/// (`NAME.pem`, `NAME.key`) into `out`, creating the directory. An existing CA in `out` is
/// reused, so running it again adds workers to the same deployment.
pub fn gen_certs(out: &Path, names: &[String]) -> Result<CertFiles> {
    if names.is_empty() {
        return Err(NetError::Config { what: "--names", reason: "no worker names given".into() });
    }
    for n in names {
        check_worker_id(n)?;
    }
    std::fs::create_dir_all(out).map_err(|e| NetError::File { path: out.to_path_buf(), reason: e.to_string() })?;
    let ca_cert = out.join(CA_CERT_FILE);
    let ca_key = out.join(CA_KEY_FILE);
    let ca = if ca_cert.exists() && ca_key.exists() {
        DevCa::load(&read_file(&ca_cert)?, &read_file(&ca_key)?)?
    } else {
        let ca = DevCa::generate()?;
        write_file(&ca_key, &ca.key_pem(), true)?;
        write_file(&ca_cert, ca.cert_pem(), false)?;
        ca
    };
    let mut workers = Vec::with_capacity(names.len());
    for n in names {
        let issued = ca.issue(n)?;
        let (cert, key) = (out.join(format!("{n}.pem")), out.join(format!("{n}.key")));
        write_file(&key, &issued.key_pem, true)?;
        write_file(&cert, &issued.cert_pem, false)?;
        workers.push((n.clone(), cert, key));
    }
    Ok(CertFiles { ca: ca_cert, workers })
}
