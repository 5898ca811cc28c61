//! Close-code policy (§4): what a client does after a close code or a `pusher:error` code.
//!
//! The ranges come from the protocol; the 1000–1006 handling follows pusher-js, which retries
//! after its one-second back-off for every WebSocket-level code.

/// What the client does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Reconnect at once over TLS (4000).
    SwitchToTls,
    /// Do not reconnect: the reason will not go away by retrying (4001–4099, 4300+).
    Stop,
    /// Reconnect after an exponential back-off of at least one second.
    Backoff,
    /// Reconnect immediately (4200–4299).
    ReconnectNow,
}

/// The action for a WebSocket close code.
pub fn close_action(code: u16) -> CloseAction {
    match code {
        4000 => CloseAction::SwitchToTls,
        4001..=4099 => CloseAction::Stop,
        4100..=4199 => CloseAction::Backoff,
        4200..=4299 => CloseAction::ReconnectNow,
        4300..=4999 => CloseAction::Stop,
        // 1000–1015 and anything else below 4000: pusher-js retries after its back-off,
        // whether it maps the code (1002–1004) or falls through to its generic `closed` path.
        _ => CloseAction::Backoff,
    }
}

/// The action for a `pusher:error` received during the handshake, before
/// `connection_established`. An error without a code still ends the attempt.
pub fn handshake_error_action(code: Option<u16>) -> CloseAction {
    code.map_or(CloseAction::Backoff, close_action)
}

/// Whether a close code counts as an error at all (pusher-js reports none for 1000/1001).
pub fn is_error(code: u16) -> bool {
    !matches!(code, 1000 | 1001)
}

/// A short, human description of a close or error code.
pub fn describe(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no status code",
        1006 => "abnormal closure (connection lost)",
        1007 => "invalid frame payload",
        1008 => "policy violation",
        1009 => "message too big",
        1011 => "server error",
        4000 => "application only accepts TLS",
        4001 => "application does not exist",
        4003 => "application disabled",
        4004 => "application over connection quota",
        4005 => "path not found",
        4006 => "invalid version string format",
        4007 => "unsupported protocol version",
        4008 => "no protocol version supplied",
        4009 => "connection is unauthorized",
        4002 | 4010..=4099 => "connection refused",
        4100 => "over capacity",
        4101..=4199 => "server asked to back off",
        4200 => "server asked to reconnect",
        4201 => "pong reply not received",
        4202 => "closed after inactivity",
        4203..=4299 => "server asked to reconnect",
        4301 => "client event rejected: rate limit",
        4302 => "watchlist limit exceeded",
        _ => "connection closed",
    }
}
