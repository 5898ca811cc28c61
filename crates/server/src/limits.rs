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
    /// WebSocket connections from one IP address (an IPv6 /64); past it 4004.
    pub max_connections_per_ip: usize,
    /// REST requests being handled at once; past it 503.
    pub max_rest_in_flight: usize,
}

impl Limits {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    /// The most connections in their HTTP phase, whatever the descriptors.
    pub const DEFAULT_MAX_HTTP_CONNECTIONS: usize = 1024;
    pub const DEFAULT_MAX_HTTP_PER_IP: usize = 128;
    /// The most WebSockets, whatever the descriptors.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;
    pub const DEFAULT_MAX_REST_IN_FLIGHT: usize = 256;

    /// The caps for a process that may hold `descriptors` file descriptors: of those, less
    /// a reserve of [`net::fd::RESERVE`], a quarter (1024 at most) for connections in their
    /// HTTP phase, which REST uses, and the rest (65 536 at most) for WebSockets. One
    /// address may hold half of the HTTP ones (128 at most) and a quarter of the
    /// WebSockets. At 1024 descriptors: 240 HTTP (120 per address), 720 WebSockets (180
    /// per address); at 20 000: 1024 (128), 18 912 (4 728).
    pub fn sized(descriptors: u64) -> Limits {
        let usable = net::fd::usable(descriptors);
        let http = (usable / 4).clamp(4, Limits::DEFAULT_MAX_HTTP_CONNECTIONS);
        let websockets = usable
            .saturating_sub(http)
            .clamp(1, Limits::DEFAULT_MAX_CONNECTIONS);
        Limits {
            header_timeout: Limits::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Limits::DEFAULT_BODY_TIMEOUT,
            idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
            max_http_connections: http,
            max_http_per_ip: (http / 2).clamp(1, Limits::DEFAULT_MAX_HTTP_PER_IP),
            max_connections: websockets,
            max_connections_per_ip: (websockets / 4).max(1),
            max_rest_in_flight: Limits::DEFAULT_MAX_REST_IN_FLIGHT,
        }
    }
}

impl Default for Limits {
    /// The caps for the descriptors this process may hold now.
    fn default() -> Limits {
        Limits::sized(net::fd::limit())
    }
}

pub use net::listen::{PeerSlot, PerPeer, Slot, Slots};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_sized_from_the_descriptors_with_a_reserve() {
        let small = Limits::sized(1024);
        assert_eq!(
            (
                small.max_http_connections,
                small.max_http_per_ip,
                small.max_connections,
                small.max_connections_per_ip
            ),
            (240, 120, 720, 180)
        );
        assert!(small.max_http_connections + small.max_connections + 64 <= 1024);
        let big = Limits::sized(1 << 20);
        assert_eq!(
            (big.max_http_connections, big.max_connections),
            (1024, 65_536)
        );
        let tiny = Limits::sized(0);
        assert!(tiny.max_connections >= 1 && tiny.max_connections_per_ip >= 1);
    }
}
