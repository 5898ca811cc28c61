//! Every TCP socket the project opens or accepts for interactive traffic goes through here,
//! so that each has Nagle's algorithm off (`TCP_NODELAY`). With it on, a small write made
//! while an earlier one is still unacknowledged waits for that ACK, and a peer that delays
//! its ACKs (Linux does, up to 40 ms) holds every small frame back: a fan-out of one event
//! a few milliseconds apart, a REST request written in two parts, an answer to a ping.
//!
//! - [`accepted`]: what the accept loop ([`crate::listen`]) does to each socket it admits;
//! - [`connect`]: a connected socket (the WebSocket client's, the doctor's hops);
//! - [`http_connector`]: hyper's connector for the HTTP client ([`crate::http`]: REST
//!   publishes, auth endpoint posts, webhooks sent by `serve`).

use std::io;

use hyper_util::client::legacy::connect::HttpConnector;
use tokio::net::{TcpStream, ToSocketAddrs};

/// Makes an accepted socket ready for interactive traffic: Nagle off. A socket that refuses
/// the option (already reset by its peer) is left as it is: its first read or write fails.
pub fn accepted(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
}

/// Connects to `addr`, with Nagle off.
pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// hyper's TCP connector for the HTTP client: any scheme (TLS is layered on top by the
/// caller), Nagle off on every connection it opens.
pub fn http_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::net::TcpListener;
    use tower_service::Service;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn connect_and_accepted_turn_nagle_off_on_real_sockets() {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (ours, theirs) = tokio::join!(connect(addr), listener.accept());
            let (ours, (theirs, _)) = (ours.unwrap(), theirs.unwrap());
            assert!(ours.nodelay().unwrap(), "connect() leaves Nagle on");
            assert!(!theirs.nodelay().unwrap(), "the kernel's default changed");
            accepted(&theirs);
            assert!(theirs.nodelay().unwrap(), "accepted() leaves Nagle on");
        });
    }

    #[test]
    fn the_http_connector_opens_sockets_with_nagle_off() {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let uri: http::Uri = format!("http://{addr}/").parse().unwrap();
            let mut connector = http_connector();
            let (io, accepted) = tokio::join!(connector.call(uri), listener.accept());
            let (io, _) = (io.unwrap(), accepted.unwrap());
            assert!(
                io.inner().nodelay().unwrap(),
                "the HTTP client's socket has Nagle on"
            );
        });
    }
}
