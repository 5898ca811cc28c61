//! One rustls configuration, with ring as the only crypto provider and the Mozilla roots.

use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

/// Installs ring as the process-wide default provider. Idempotent; call early in `main`.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS client configuration (no ALPN), built once.
pub fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| Arc::new(build())).clone()
}

/// A fresh configuration, for callers that set their own ALPN.
pub fn build() -> ClientConfig {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}
