//! One rustls configuration, with ring as the only crypto provider. It trusts the bundled
//! Mozilla roots, the system's certificate store (for a company CA installed there), and the
//! certificates of `--ca-file` (for a self-hosted server's private CA).

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The largest CA file read: a bundle of a few hundred certificates.
pub const MAX_CA_FILE_BYTES: u64 = 4 << 20;

/// Installs ring as the process-wide default provider. Idempotent; call early in `main`.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Certificates to trust besides the bundled and the system roots.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtraRoots(Arc<Vec<CertificateDer<'static>>>);

impl fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtraRoots({} certificates)", self.0.len())
    }
}

impl ExtraRoots {
    /// The CA certificates of a PEM file. A missing or unreadable file, or one without a
    /// certificate rustls accepts, is an error that names the file.
    pub fn from_pem_file(path: &Path) -> Result<ExtraRoots, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if meta.len() > MAX_CA_FILE_BYTES {
            return Err(format!(
                "{shown} is larger than {MAX_CA_FILE_BYTES} bytes: not a CA file"
            ));
        }
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{shown} is not a PEM file of certificates: {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "{shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
            ));
        }
        let mut store = RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(certs.iter().cloned());
        if added == 0 {
            return Err(format!("{shown} holds no certificate that can be a CA"));
        }
        Ok(ExtraRoots(Arc::new(certs)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The TLS client configuration (no ALPN) that trusts these as well.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        if self.is_empty() {
            return client_config();
        }
        Arc::new(build_with(self))
    }
}

/// The system's certificate store, read once. A store that cannot be read leaves the bundled
/// roots (and `--ca-file`).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in found.errors.iter().take(3) {
            tracing::debug!(error = %e, "system certificate store");
        }
        found.certs
    })
}

/// The TLS client configuration (no ALPN), built once.
pub fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| Arc::new(build())).clone()
}

/// A fresh configuration, for callers that set their own ALPN.
pub fn build() -> ClientConfig {
    build_with(&ExtraRoots::default())
}

/// A fresh configuration that also trusts `extra`.
pub fn build_with(extra: &ExtraRoots) -> ClientConfig {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(system_roots().iter().cloned());
    roots.add_parsable_certificates(extra.0.iter().cloned());
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The name a server's certificate is checked against: a DNS name or an IP address (an
/// IPv6 address with or without its brackets). `None` when `host` is neither.
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(host.trim_matches(['[', ']']).to_owned()).ok()
}

/// The TLS handshake over `tcp`, the certificate checked for `name` against `roots` (the
/// one configuration above): what the WebSocket client and the doctor both make.
pub async fn connect(
    name: ServerName<'static>,
    tcp: TcpStream,
    roots: &ExtraRoots,
) -> std::io::Result<TlsStream<TcpStream>> {
    TlsConnector::from(roots.client_config())
        .connect(name, tcp)
        .await
}

/// When an error (or one of its sources) is the server's certificate being refused: a
/// message that says so and which option fixes it. Retrying cannot help.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(e);
    while let Some(err) = current {
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(why)) = rustls_error {
            return Some(format!(
                "the server's TLS certificate is not accepted ({why:?}); if the server uses a \
                 private CA, pass its certificate with --ca-file FILE (PEM)"
            ));
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_that_are_missing_or_not_certificates_are_refused() {
        let dir = std::env::temp_dir().join(format!("tickertape-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(ExtraRoots::from_pem_file(&dir.join("missing.pem")).is_err());
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let e = ExtraRoots::from_pem_file(&garbage).unwrap_err();
        assert!(e.contains("no certificate"), "{e}");
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(ExtraRoots::from_pem_file(&broken).is_err());
    }

    #[test]
    fn a_refused_certificate_is_recognised_through_io_errors() {
        let inner = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let message = certificate_problem(&io).unwrap();
        assert!(message.contains("--ca-file"), "{message}");
        let other = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(certificate_problem(&other).is_none());
    }
}
