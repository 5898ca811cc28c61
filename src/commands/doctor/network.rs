//! The network's hops: the host resolves (DNS), something accepts on the port (TCP), and,
//! for wss, TLS: the certificate's names, dates and chain against the bundled, system and
//! `--ca-file` roots, and a port that answers TLS with plain HTTP. Each within its deadline.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

use super::report::Hop;
use crate::cli::connection::{Broadcaster, EnvLayer};
use client::explain::{self, Explanation};

/// Most addresses tried for one host.
const MAX_ADDRESSES: usize = 16;

/// `host:port`, with an IPv6 host in brackets.
pub(crate) fn addr_text(host: &str, port: u16) -> String {
    format!("{}:{port}", crate::cli::plan::connections::host_text(host))
}

pub(crate) async fn dns(host: &str, port: u16, deadline: Duration) -> (Hop, Vec<SocketAddr>) {
    let started = Instant::now();
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return (
            Hop::pass("dns", format!("{host} is an address: nothing to resolve")),
            vec![SocketAddr::new(ip, port)],
        );
    }
    let looked = tokio::time::timeout(deadline, tokio::net::lookup_host((host, port))).await;
    let took = started.elapsed();
    match looked {
        Err(_) => (
            Hop::fail(
                "dns",
                Explanation::new(
                    format!("no answer for {host} within {} s", deadline.as_secs_f32()),
                    "this machine's DNS resolver does not answer",
                    "check the resolver (/etc/resolv.conf), or use the server's IP address",
                ),
            )
            .took(took),
            Vec::new(),
        ),
        Ok(Err(_)) => (
            Hop::fail("dns", explain::no_such_host(host)).took(took),
            Vec::new(),
        ),
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.take(MAX_ADDRESSES).collect();
            if addrs.is_empty() {
                return (
                    Hop::fail("dns", explain::no_such_host(host)).took(took),
                    addrs,
                );
            }
            let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            (
                Hop::pass("dns", format!("{host} is {}", shown.join(", "))).took(took),
                addrs,
            )
        }
    }
}

/// Connects to the first address that accepts; the failure of the last one is explained.
pub(crate) async fn tcp(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    env: &EnvLayer,
    deadline: Duration,
) -> (Hop, Option<TcpStream>) {
    let started = Instant::now();
    let shown = addr_text(host, port);
    let mut last: Option<Explanation> = None;
    let mut tried = Vec::new();
    for addr in addrs {
        let left = deadline.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, net::tcp::connect(addr)).await {
            Ok(Ok(stream)) => {
                let mut hop = Hop::pass("tcp", format!("connected to {addr}"));
                for t in tried {
                    hop = hop.line(t);
                }
                return (hop.took(started.elapsed()), Some(stream));
            }
            Ok(Err(e)) => {
                let x =
                    explain::transport_error(&e, host, &addr.to_string()).unwrap_or_else(|| {
                        Explanation::new(
                            format!("cannot connect to {addr}: {e}"),
                            "the network refuses the connection",
                            "check the host and port",
                        )
                    });
                tried.push(x.what.clone());
                last = Some(x);
            }
            Err(_) => {
                last = Some(explain::timed_out(&shown, deadline.as_secs_f32()));
                break;
            }
        }
    }
    let mut x = last.unwrap_or_else(|| explain::refused(&shown));
    if x.what.starts_with("connection refused") {
        x.what = format!("connection refused on {shown}");
        if env.broadcaster == Broadcaster::Reverb {
            let port = env
                .var("REVERB_SERVER_PORT")
                .map_or_else(|| "8080 (its default)".to_owned(), |v| v.value.clone());
            x.fix = format!(
                "is `php artisan reverb:start` running? Reverb listens on REVERB_SERVER_PORT={port}; behind a proxy, is the proxy running on {port_here}?",
                port_here = port_of(&shown)
            );
        }
    }
    (Hop::fail("tcp", x).took(started.elapsed()), None)
}

fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or(addr)
}

/// The TLS handshake over `tcp`, as the client makes it.
pub(crate) async fn tls(
    host: &str,
    port: u16,
    tcp: TcpStream,
    roots: &net::tls::ExtraRoots,
    deadline: Duration,
) -> (Hop, Option<MaybeTlsStream<TcpStream>>) {
    let started = Instant::now();
    let shown = addr_text(host, port);
    let Some(name) = net::tls::server_name(host) else {
        return (
            Hop::fail(
                "tls",
                Explanation::new(
                    format!("{host} cannot be a TLS server name"),
                    "the host is neither a DNS name nor an IP address",
                    "use the server's host name",
                ),
            ),
            None,
        );
    };
    match tokio::time::timeout(deadline, net::tls::connect(name, tcp, roots)).await {
        Err(_) => (
            Hop::fail(
                "tls",
                Explanation::new(
                    format!("no TLS handshake with {shown} within {} s", deadline.as_secs_f32()),
                    "the server accepted the connection but does not answer TLS (a plain server waiting for a request?)",
                    "use --scheme ws (REVERB_SCHEME=http) if the port is plain, or the TLS port",
                ),
            )
            .took(started.elapsed()),
            None,
        ),
        Ok(Err(e)) => {
            let x = explain::transport_error(&e, host, &shown).unwrap_or_else(|| {
                Explanation::new(
                    format!("the TLS handshake with {shown} failed: {}", net::http::error_chain(&e)),
                    "the server's TLS setup does not match this client's (protocol versions, ciphers), or the connection was cut",
                    "check the server's TLS configuration",
                )
            });
            (Hop::fail("tls", x).took(started.elapsed()), None)
        }
        Ok(Ok(stream)) => {
            let version = stream
                .get_ref()
                .1
                .protocol_version()
                .map_or_else(|| "TLS".to_owned(), |v| format!("{v:?}").replace('_', "."));
            (
                Hop::pass(
                    "tls",
                    format!("{version}: the certificate names {host}, is in date, and chains to a trusted root"),
                )
                .took(started.elapsed()),
                Some(MaybeTlsStream::Rustls(stream)),
            )
        }
    }
}
