//! The accept loop. Each TCP connection is admitted only while the caps on connections in
//! their HTTP phase allow (in total and per IP address); an excess one gets a one-line 503
//! and is closed at once, without a task. An admitted connection is served by hyper with a
//! header deadline, an idle timeout and upgrades; once it becomes a WebSocket it leaves the
//! HTTP phase and its slots are given back.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

use super::idle::{Activity, Tracked};
use super::limits::{Limits, PeerSlot, PerPeer, Slot, Slots};

/// What an excess connection reads before it is closed, if its socket takes it at once.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 48\r\nretry-after: 1\r\nconnection: close\r\n\r\n\
{\"error\":\"too many connections; retry shortly\"}\n";

/// The first and the longest pause after an accept error such as EMFILE.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A connection's place among those in their HTTP phase; dropped when it closes or upgrades.
struct Admitted {
    _total: Slot,
    _peer: PeerSlot,
}

struct Gate {
    total: Arc<Slots>,
    peers: Arc<PerPeer>,
}

impl Gate {
    fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let total = self.total.try_take()?;
        let peer = self.peers.try_take(ip.to_canonical())?;
        Some(Admitted {
            _total: total,
            _peer: peer,
        })
    }
}

/// Resolves once `stop` says true; never, if its sender is gone without saying so.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Accepts until `stop` turns true; connections still in their HTTP phase then finish the
/// request they are on and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let gate = Gate {
        total: Slots::new(limits.max_http_connections),
        peers: PerPeer::new(limits.max_http_per_ip),
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => {
                backoff = FIRST_BACKOFF;
                accepted
            }
            Err(e) => {
                if !is_connection_error(&e) {
                    // Out of descriptors or memory: retrying at once would spin.
                    tracing::warn!(error = %e, pause = ?backoff, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                continue;
            }
        };
        match gate.admit(peer.ip()) {
            Some(admitted) => {
                tokio::spawn(connection(
                    tcp,
                    peer,
                    router.clone(),
                    limits,
                    admitted,
                    stop.clone(),
                ));
            }
            None => turn_away(&tcp, peer),
        }
    }
}

/// Errors of one connection that died in the backlog, not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn turn_away(tcp: &TcpStream, peer: SocketAddr) {
    tracing::debug!(%peer, "too many connections in their HTTP phase; closed");
    // Best effort and never waits: a full socket buffer just means a plain close.
    let _ = tcp.try_write(TOO_MANY);
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    admitted: Admitted,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let io = TokioIo::new(Tracked::new(tcp, activity.clone()));
    let inner = TowerToHyperService::new(router);
    let handled = activity.clone();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let busy = handled.request();
        let response = hyper::service::Service::call(&inner, req);
        async move {
            let response = response.await;
            drop(busy);
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let mut stopping = false;
    loop {
        let idle_at = activity
            .idle_deadline(limits.idle_timeout)
            .map_or_else(|| Instant::now() + limits.idle_timeout, Instant::from_std);
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended");
                }
                break;
            }
            () = tokio::time::sleep_until(idle_at) => {
                let expired = activity
                    .idle_deadline(limits.idle_timeout)
                    .is_some_and(|at| at <= std::time::Instant::now());
                if expired {
                    // Dropping the connection closes it, also when a response is stuck
                    // behind a client that does not read.
                    tracing::debug!(%peer, "idle HTTP connection closed");
                    break;
                }
            }
            () = stopped(&mut stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(admitted);
}
