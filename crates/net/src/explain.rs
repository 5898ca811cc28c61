//! Why a connection failed, in a user's words: what happened, the most likely cause, and the
//! fix. One text per failure, shared by `doctor`, `watch` (and the dashboard's status line),
//! `check`, `probe`, `trigger` and `channels`, so the same failure reads the same everywhere.
//! This module knows the transport (TCP, DNS, TLS); the client's `explain` adds the
//! WebSocket upgrade, `pusher:error` and the REST API's answers.

use std::io::ErrorKind;

/// A failure explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// What happened: "connection refused on 127.0.0.1:6001".
    pub what: String,
    /// The most likely cause.
    pub cause: String,
    /// What to do about it.
    pub fix: String,
}

impl Explanation {
    pub fn new(what: impl Into<String>, cause: impl Into<String>, fix: impl Into<String>) -> Self {
        Explanation {
            what: what.into(),
            cause: cause.into(),
            fix: fix.into(),
        }
    }
}

/// One line: "what: fix" (the cause is left out where the fix says it, as in the messages of
/// `watch` and `trigger`).
impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.fix)
    }
}

/// Nothing listens on the port.
pub fn refused(addr: &str) -> Explanation {
    Explanation::new(
        format!("connection refused on {addr}"),
        "nothing listens on that port",
        "is a server running? (`tickertape serve` starts one)",
    )
}

/// No answer to the TCP handshake.
pub fn timed_out(addr: &str, secs: f32) -> Explanation {
    Explanation::new(
        format!("no answer from {addr} within {secs} s"),
        "a firewall drops the packets, or the host or port is wrong",
        "check the host and port, and that the port is open to this machine",
    )
}

/// The host name does not resolve.
pub fn no_such_host(host: &str) -> Explanation {
    Explanation::new(
        format!("{host} does not resolve"),
        "the host name is misspelt, or this machine's DNS does not know it",
        "check the host name (from a .env: REVERB_HOST or PUSHER_HOST)",
    )
}

/// A TLS client met a server that does not speak TLS.
pub fn plain_port(addr: &str) -> Explanation {
    Explanation::new(
        format!("{addr} speaks plain HTTP, not TLS"),
        "the scheme says TLS (wss or https), but the server on that port does not use it",
        "use --scheme ws (in a .env: REVERB_SCHEME=http), or the port where TLS is served (443 behind a proxy)",
    )
}

/// The server's certificate is refused.
pub fn certificate(addr: &str, why: &str) -> Explanation {
    Explanation::new(
        format!("the TLS certificate of {addr} is not accepted ({why})"),
        match why {
            w if w.contains("NotValidForName") => {
                "the certificate is for another host name than the one connected to"
            }
            w if w.contains("Expired") => "the certificate has expired",
            w if w.contains("UnknownIssuer") => {
                "the certificate is signed by a CA this machine does not trust (a private CA, or a self-signed certificate)"
            }
            _ => "the certificate cannot be verified",
        },
        "renew or fix the certificate; for a private CA, pass its certificate with --ca-file FILE (PEM)",
    )
}

/// The explanation of an error from connecting to `addr` (host:port), when it is one of the
/// transport's failures named here: refused, timed out, a host that does not resolve, a port
/// without TLS, a refused certificate. `host` is the name that was resolved.
pub fn transport_error(
    e: &(dyn std::error::Error + 'static),
    host: &str,
    addr: &str,
) -> Option<Explanation> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(r) = rustls_error(err) {
            return match r {
                rustls::Error::InvalidCertificate(why) => {
                    Some(certificate(addr, &format!("{why:?}")))
                }
                rustls::Error::InvalidMessage(_) => Some(plain_port(addr)),
                _ => None,
            };
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return Some(refused(addr)),
                ErrorKind::TimedOut => {
                    let mut x = timed_out(addr, 0.0);
                    x.what = format!("no answer from {addr}");
                    return Some(x);
                }
                _ => {}
            }
            if is_lookup_failure(&io.to_string()) {
                return Some(no_such_host(host));
            }
        }
        if is_lookup_failure(&err.to_string()) && err.source().is_none() {
            return Some(no_such_host(host));
        }
        current = err.source();
    }
    None
}

/// The resolver's message (glibc's, through std) for a name it cannot resolve.
fn is_lookup_failure(text: &str) -> bool {
    text.contains("failed to lookup address")
        || text.contains("Name or service not known")
        || text.contains("nodename nor servname")
        || text.contains("No address associated")
}

/// The rustls error in `err`, directly or inside an `io::Error`.
pub(crate) fn rustls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    err.downcast_ref::<rustls::Error>().or_else(|| {
        err.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_failures_are_named() {
        let io = std::io::Error::new(
            ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let e = transport_error(&io, "127.0.0.1", "127.0.0.1:6001").unwrap();
        assert_eq!(
            e.to_string(),
            "connection refused on 127.0.0.1:6001: is a server running? (`tickertape serve` starts one)"
        );
        let plain = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        let e = transport_error(&plain, "h", "h:443").unwrap();
        assert!(e.what.contains("plain HTTP, not TLS"), "{e}");
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        let e = transport_error(&cert, "h", "h:443").unwrap();
        assert!(e.cause.contains("another host name"), "{e:?}");
        let dns = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert_eq!(
            transport_error(&dns, "nowhere.invalid", "nowhere.invalid:1")
                .unwrap()
                .what,
            "nowhere.invalid does not resolve"
        );
        let other = std::io::Error::other("something else");
        assert!(transport_error(&other, "h", "h:1").is_none());
    }
}
