//! The metrics endpoint: `GET /metrics` on an address of its own, served by the project's
//! one accept loop ([`crate::listen`]) with its discipline: at most [`MAX_CONNECTIONS`]
//! connections at once and [`MAX_PER_IP`] from one address (more are closed at once),
//! headers within [`HEADER_TIMEOUT`], an idle connection closed after [`IDLE_TIMEOUT`]. Any
//! method but GET gets 405, any other path 404.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::listen::{ListenLimits, handler};

/// Connections served at once; a scraper needs one. They come out of the descriptors every
/// process keeps for itself ([`crate::fd::RESERVE`]), never out of the caps sized for
/// strangers' sockets, so the endpoint is served whatever the other listeners hold.
pub const MAX_CONNECTIONS: usize = 16;
const _: () = assert!(MAX_CONNECTIONS as u64 <= crate::fd::RESERVE / 2);
/// Connections from one address: one client can never take them all.
pub const MAX_PER_IP: usize = 4;
/// A request's headers must arrive within this.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection with no request and no bytes moving is closed after this.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Produces the page on each scrape.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// The endpoint, serving until dropped.
pub struct Endpoint {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` (a failure is the caller's clear error at start) and serves in the background.
pub async fn start(addr: SocketAddr, render: Render) -> io::Result<Endpoint> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, render));
    Ok(Endpoint { addr, task })
}

async fn serve(listener: TcpListener, render: Render) {
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let resp = respond(req.method(), req.uri().path(), &render);
        async move { Ok::<_, Infallible>(resp) }
    });
    let limits = ListenLimits {
        header_timeout: HEADER_TIMEOUT,
        idle_timeout: IDLE_TIMEOUT,
        max_connections: MAX_CONNECTIONS,
        max_per_ip: MAX_PER_IP,
        // GET only: no body is read.
        body_budget: None,
        max_body: 0,
    };
    // Never stopped: the endpoint serves until its task is aborted.
    let (_keep, stop) = tokio::sync::watch::channel(false);
    crate::listen::serve(listener, handler(service), limits, stop).await;
}

/// The answer to one request.
pub fn respond(method: &Method, path: &str, render: &Render) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = status;
        resp
    };
    if path != "/metrics" {
        let mut resp = reply(
            StatusCode::NOT_FOUND,
            "only /metrics is served here\n".into(),
        );
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain"),
        );
        return resp;
    }
    if method != Method::GET {
        let mut resp = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served here\n".into(),
        );
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
        return resp;
    }
    let mut resp = reply(StatusCode::OK, render());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_on_metrics_is_served() {
        let render: Render = Arc::new(|| "x 1\n".to_owned());
        assert_eq!(respond(&Method::GET, "/metrics", &render).status(), 200);
        assert_eq!(respond(&Method::POST, "/metrics", &render).status(), 405);
        assert_eq!(respond(&Method::HEAD, "/metrics", &render).status(), 405);
        assert_eq!(respond(&Method::GET, "/", &render).status(), 404);
    }
}
