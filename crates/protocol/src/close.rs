//! Close codes (§4): one type for every code either side sends, what a client does after it,
//! and how to describe it. The server closes with these; the client's reconnect policy reads
//! them back. The ranges come from the protocol; 1000–1015 follow pusher-js, which retries
//! after its one-second back-off for every WebSocket-level code.

use std::fmt;

/// A WebSocket close code, named where the protocol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: the exchange is over.
    Normal,
    /// 1001: an endpoint is going away.
    GoingAway,
    /// 1002: the peer broke the WebSocket protocol.
    ProtocolError,
    /// 1007: a text frame that is not UTF-8.
    InvalidPayload,
    /// 1009: a message over the receiver's size limit.
    MessageTooBig,
    /// 4000: the app only accepts TLS.
    TlsOnly,
    /// 4001: no app has this key.
    AppNotFound,
    /// 4003: the app is disabled.
    AppDisabled,
    /// 4004: the app or server is over its connection quota.
    OverConnectionQuota,
    /// 4007: a protocol version the server does not speak.
    UnsupportedProtocol,
    /// 4008: the URL named no protocol version.
    NoProtocolVersion,
    /// 4009: the connection is not authorized (failed sign-in, terminated user).
    Unauthorized,
    /// 4100: over capacity; for a connection, its send queue is full (too slow a reader).
    OverCapacity,
    /// 4200: reconnect now (the server is shutting down).
    Reconnect,
    /// 4201: a ping went unanswered.
    PongTimeout,
    /// 4202: closed after inactivity.
    Inactivity,
    /// 4301: a client event was rejected.
    ClientEventRejected,
    /// Any other code.
    Other(u16),
}

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

impl CloseCode {
    /// Every named code, for tests and tables.
    pub const NAMED: [CloseCode; 17] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::InvalidPayload,
        CloseCode::MessageTooBig,
        CloseCode::TlsOnly,
        CloseCode::AppNotFound,
        CloseCode::AppDisabled,
        CloseCode::OverConnectionQuota,
        CloseCode::UnsupportedProtocol,
        CloseCode::NoProtocolVersion,
        CloseCode::Unauthorized,
        CloseCode::OverCapacity,
        CloseCode::Reconnect,
        CloseCode::PongTimeout,
        CloseCode::Inactivity,
        CloseCode::ClientEventRejected,
    ];

    pub fn as_u16(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::InvalidPayload => 1007,
            CloseCode::MessageTooBig => 1009,
            CloseCode::TlsOnly => 4000,
            CloseCode::AppNotFound => 4001,
            CloseCode::AppDisabled => 4003,
            CloseCode::OverConnectionQuota => 4004,
            CloseCode::UnsupportedProtocol => 4007,
            CloseCode::NoProtocolVersion => 4008,
            CloseCode::Unauthorized => 4009,
            CloseCode::OverCapacity => 4100,
            CloseCode::Reconnect => 4200,
            CloseCode::PongTimeout => 4201,
            CloseCode::Inactivity => 4202,
            CloseCode::ClientEventRejected => 4301,
            CloseCode::Other(code) => code,
        }
    }

    /// What a client does after this close (or this `pusher:error` code).
    pub fn action(self) -> CloseAction {
        match self.as_u16() {
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

    /// Whether the code counts as an error at all (pusher-js reports none for 1000/1001).
    pub fn is_error(self) -> bool {
        !matches!(self, CloseCode::Normal | CloseCode::GoingAway)
    }

    /// A short, human description.
    pub fn describe(self) -> &'static str {
        match self.as_u16() {
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
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> CloseCode {
        CloseCode::NAMED
            .into_iter()
            .find(|c| c.as_u16() == code)
            .unwrap_or(CloseCode::Other(code))
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.as_u16()
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u16())
    }
}

/// Why a side closes: the code and the reason sent with it. The server builds every close
/// from one of these, so the code and its wording never drift apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: CloseCode,
    pub reason: &'static str,
}

impl Close {
    pub const fn new(code: CloseCode, reason: &'static str) -> Close {
        Close { code, reason }
    }

    pub const SHUTDOWN: Close = Close::new(
        CloseCode::Reconnect,
        "Server is shutting down. Please reconnect shortly.",
    );
    pub const TOO_SLOW: Close =
        Close::new(CloseCode::OverCapacity, "Client too slow: send queue full");
    pub const PONG_TIMEOUT: Close =
        Close::new(CloseCode::PongTimeout, "Pong reply not received in time");
    pub const TOO_BIG: Close = Close::new(CloseCode::MessageTooBig, "Message too big");
    pub const NOT_UTF8: Close = Close::new(CloseCode::InvalidPayload, "Text frame is not UTF-8");
    pub const PROTOCOL: Close = Close::new(CloseCode::ProtocolError, "Protocol error");
    pub const UNAUTHORIZED: Close =
        Close::new(CloseCode::Unauthorized, "Connection not authorized");
    pub const TERMINATED: Close = Close::new(
        CloseCode::Unauthorized,
        "Connection terminated by the server",
    );
    pub const NORMAL: Close = Close::new(CloseCode::Normal, "");
    /// A server full of connections closes one of the address that holds the most, to let
    /// another address in; the client may come back after its back-off.
    pub const MADE_ROOM: Close = Close::new(
        CloseCode::OverCapacity,
        "Over capacity: your address holds the most connections, one is closed for another",
    );
}

/// The action for a `pusher:error` received during the handshake, before
/// `connection_established`. An error without a code still ends the attempt.
pub fn handshake_error_action(code: Option<u16>) -> CloseAction {
    code.map_or(CloseAction::Backoff, |c| CloseCode::from(c).action())
}
