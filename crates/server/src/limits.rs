//! The server's limits against slow and greedy clients. The counters that enforce the caps
//! are the listener's ([`net::listen`]): a [`Slots`] hands out RAII [`Slot`]s up to its
//! maximum, a [`PerPeer`] does the same for each IP address.

use std::time::Duration;

/// Every knob, with the defaults of `tickertape serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers (a WebSocket's whole upgrade request) must arrive within this,
    /// counted from the moment the server waits for the request.
    pub header_timeout: Duration,
    /// A REST request's body must arrive within this, counted from the end of its headers;
    /// else 408.
    pub body_timeout: Duration,
    /// A connection with no request being handled and no bytes moving either way for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// Connections still in their HTTP phase (not upgraded to WebSocket), in total.
    pub max_http_connections: usize,
    /// Connections still in their HTTP phase from one IP address.
    pub max_http_per_ip: usize,
    /// WebSocket connections in total; past it a client gets 4004.
    pub max_connections: usize,
    /// REST requests being handled at once; past it 503.
    pub max_rest_in_flight: usize,
}

impl Limits {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_MAX_HTTP_CONNECTIONS: usize = 1024;
    pub const DEFAULT_MAX_HTTP_PER_IP: usize = 128;
    pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;
    pub const DEFAULT_MAX_REST_IN_FLIGHT: usize = 256;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Limits::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Limits::DEFAULT_BODY_TIMEOUT,
            idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
            max_http_connections: Limits::DEFAULT_MAX_HTTP_CONNECTIONS,
            max_http_per_ip: Limits::DEFAULT_MAX_HTTP_PER_IP,
            max_connections: Limits::DEFAULT_MAX_CONNECTIONS,
            max_rest_in_flight: Limits::DEFAULT_MAX_REST_IN_FLIGHT,
        }
    }
}

pub use net::listen::{PeerSlot, PerPeer, Slot, Slots};
