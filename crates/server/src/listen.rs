//! `serve`'s listener: the project's one accept loop ([`net::listen`]) with the server's
//! caps and deadlines. A connection is in its HTTP phase until it upgrades to a WebSocket;
//! only that phase counts against the HTTP caps.

use axum::Router;
use hyper_util::service::TowerToHyperService;
use net::listen::{ListenLimits, handler};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::limits::Limits;

/// The listener's part of the server's limits.
pub fn listen_limits(limits: &Limits) -> ListenLimits {
    ListenLimits {
        header_timeout: limits.header_timeout,
        idle_timeout: limits.idle_timeout,
        max_connections: limits.max_http_connections,
        max_per_ip: limits.max_http_per_ip,
        // REST bodies are read by the REST gate, one at a time per request slot, each
        // capped at 256 KiB.
        body_budget: None,
        max_body: 0,
    }
}

/// Accepts until `stop` turns true; connections still in their HTTP phase then finish the
/// request they are on and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ListenLimits,
    stop: watch::Receiver<bool>,
) {
    let service = handler(TowerToHyperService::new(router));
    net::listen::serve(listener, service, limits, stop).await;
}
