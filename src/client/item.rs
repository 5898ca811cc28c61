//! What the engine hands to its consumer: typed items on one bounded channel.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::protocol::Data;
use crate::protocol::frame::Member;

/// pusher-js's connection states (§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    Initialized,
    Connecting,
    Connected,
    /// The last attempt could not reach the server; another is scheduled.
    Unavailable,
    /// Stopped on purpose: by the user, or by a close code that forbids reconnecting.
    Disconnected,
    /// Cannot connect at all with this configuration (bad URL, TLS setup).
    Failed,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Initialized => "initialized",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Unavailable => "unavailable",
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Failed => "failed",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the connection changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The server closed the socket with a code.
    Closed { code: u16, message: String },
    /// The server sent `pusher:error` (during the handshake, or before closing).
    PusherError { code: Option<u16>, message: String },
    /// A network or TLS error.
    Io(String),
    /// The server did not answer our ping in time.
    PongTimeout(Duration),
    /// The first frame was not `pusher:connection_established`.
    Handshake(String),
    /// The configuration cannot work (e.g. a malformed URL).
    Config(String),
    /// The consumer asked to disconnect.
    Requested,
    /// A reason read back from a recording, as it was written.
    Recorded(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Closed { code, message } if message.is_empty() => {
                write!(
                    f,
                    "closed with {code} ({})",
                    crate::protocol::CloseCode::from(*code).describe()
                )
            }
            Reason::Closed { code, message } => write!(
                f,
                "closed with {code} ({}): {message}",
                crate::protocol::CloseCode::from(*code).describe()
            ),
            Reason::PusherError {
                code: Some(c),
                message,
            } => write!(f, "pusher:error {c}: {message}"),
            Reason::PusherError {
                code: None,
                message,
            } => write!(f, "pusher:error: {message}"),
            Reason::Io(e) => write!(f, "{e}"),
            Reason::PongTimeout(d) => write!(f, "no pong within {} s", d.as_secs_f32()),
            Reason::Handshake(e) => write!(f, "invalid handshake: {e}"),
            Reason::Config(e) => write!(f, "{e}"),
            Reason::Requested => f.write_str("disconnect requested"),
            Reason::Recorded(text) => f.write_str(text),
        }
    }
}

/// One state change, with its reason and, while waiting, when the next try is.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub previous: ConnectionState,
    pub current: ConnectionState,
    pub reason: Option<Reason>,
    /// Set while a reconnect is scheduled.
    pub retry_in: Option<Duration>,
    /// Set when connected.
    pub socket_id: Option<String>,
    /// The URL being connected to (never contains a secret).
    pub url: String,
}

/// A subscription's status.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionStatus {
    Pending,
    Subscribed,
    Failed(SubscriptionFailure),
    /// Removed at the consumer's request.
    Unsubscribed,
}

/// Why a subscription failed, with everything that helps fixing it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionFailure {
    pub message: String,
    /// HTTP status of the auth endpoint, or the status a server put in `subscription_error`.
    pub status: Option<u16>,
    /// The string that was (or should have been) signed, where known.
    pub string_to_sign: Option<String>,
    /// True when the failure came from authorizing (locally or at the endpoint).
    pub auth: bool,
}

/// A change to a presence channel's member list.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// The full list, on subscription.
    Snapshot {
        members: Vec<Member>,
        me: Option<String>,
    },
    Added(Member),
    Removed(String),
}

/// An event received on the socket and handed on to the consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    pub received_at: SystemTime,
    pub channel: Option<String>,
    pub event: String,
    pub data: Data,
    pub user_id: Option<String>,
    /// The frame exactly as received.
    pub raw: String,
    /// Set when an encrypted payload could not be opened; `data` then holds the ciphertext.
    pub decrypt_error: Option<String>,
}

impl ReceivedEvent {
    /// Application and client events, as opposed to `pusher:` protocol events.
    pub fn is_application(&self) -> bool {
        !self.event.starts_with("pusher:") && !self.event.starts_with("pusher_internal:")
    }
}

/// Everything the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    State(StateChange),
    Subscription {
        channel: String,
        status: SubscriptionStatus,
    },
    Event(ReceivedEvent),
    Members {
        channel: String,
        change: MemberChange,
        count: usize,
    },
    SubscriptionCount {
        channel: String,
        count: u64,
    },
    /// A user sign-in succeeded, with the user data the server accepted.
    SignedIn {
        user_data: String,
    },
    /// A `pusher:error` that did not end the connection, a malformed frame, or a failed sign-in.
    Error(String),
    /// Something worth saying that is not an error, from tickertape's own tasks (channel
    /// discovery with `watch --all`); the engine itself does not send these.
    Notice(String),
    /// The round trip of our last ping.
    Pong {
        rtt: Duration,
    },
    /// Events were dropped because the consumer fell behind. `total` counts since start.
    Dropped {
        count: u64,
        total: u64,
    },
}
