//! What the engine hands to its consumer: typed items on one bounded channel.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use tokio_tungstenite::tungstenite::Utf8Bytes;

use protocol::Data;
use protocol::frame::DataSpan;
use protocol::frame::Member;

use crate::name::Name;

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

/// A connection's state now, and since when (the engine's clock): what a judge of the
/// connection reads from [`crate::Client::link`] without waiting for the items before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub state: ConnectionState,
    pub since: std::time::Instant,
}

impl Link {
    pub fn is_up(&self) -> bool {
        self.state == ConnectionState::Connected
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
                    protocol::CloseCode::from(*code).describe()
                )
            }
            Reason::Closed { code, message } => write!(
                f,
                "closed with {code} ({}): {message}",
                protocol::CloseCode::from(*code).describe()
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

impl StateChange {
    /// Why the connection is over, when this change ends it: the server refused it (a close
    /// code or a `pusher:error` that forbids reconnecting) or it cannot work at all. A
    /// disconnect the user asked for is no refusal. `watch --json` exits 1 with this
    /// message; the dashboard does too when the connection is still down at the end.
    pub fn refusal(&self) -> Option<String> {
        let how = match (&self.current, &self.reason) {
            (ConnectionState::Disconnected, Some(Reason::Requested)) => return None,
            (ConnectionState::Disconnected, _) => "refused",
            (ConnectionState::Failed, _) => "failed",
            _ => return None,
        };
        let why = self.reason.as_ref().map_or_else(
            || "no reason given".into(),
            |r| protocol::safe_text::terminal_safe(&r.to_string()).into_owned(),
        );
        Some(format!("connection {how}: {why}"))
    }
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
///
/// It keeps the frame as the shared bytes the socket gave (no copy), and reads its `data`
/// only when asked: [`ReceivedEvent::data`] parses it once, on first use, and
/// [`ReceivedEvent::data_text`] gives its text without parsing, for pass-through.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    pub received_at: SystemTime,
    /// Shared with the other events under the same names: cloning one copies a pointer.
    pub channel: Option<Name>,
    pub event: Name,
    pub user_id: Option<String>,
    /// The frame exactly as received. It may share the socket's read buffer: a consumer that
    /// keeps it for long should copy what it needs.
    pub raw: Utf8Bytes,
    /// Set when an encrypted payload could not be opened; the data then is the ciphertext.
    pub decrypt_error: Option<String>,
    body: Body,
    parsed: OnceLock<Data>,
}

/// Where an event's data is before it is parsed.
#[derive(Debug, Clone, PartialEq)]
enum Body {
    /// In the frame, not read yet.
    Frame(DataSpan),
    /// A string still to be read with pusher-js's rule (an opened encrypted payload).
    Wire(String),
    /// Decoded when the event was made: `parsed` is set.
    Decoded,
}

/// An event's data as text, before any parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum DataText<'a> {
    Absent,
    /// Valid JSON text, as the publisher wrote it (its key order, its number precision).
    Json(Cow<'a, str>),
    /// A string that is not JSON.
    Text(Cow<'a, str>),
}

impl DataText<'_> {
    fn classify(text: Cow<'_, str>) -> DataText<'_> {
        if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            DataText::Json(text)
        } else {
            DataText::Text(text)
        }
    }
}

impl ReceivedEvent {
    /// An event whose data is already decoded (recordings, tests, tickertape's own items).
    pub fn decoded(
        received_at: SystemTime,
        channel: Option<String>,
        event: String,
        data: Data,
        user_id: Option<String>,
        raw: impl Into<Utf8Bytes>,
    ) -> ReceivedEvent {
        ReceivedEvent {
            received_at,
            channel: channel.map(Name::from),
            event: Name::from(event),
            user_id,
            raw: raw.into(),
            decrypt_error: None,
            body: Body::Decoded,
            parsed: OnceLock::from(data),
        }
    }

    /// An event read from `raw`, its data still in the frame at `span`.
    pub(super) fn in_frame(
        received_at: SystemTime,
        scanned_event: (Option<Name>, Name, Option<String>),
        span: DataSpan,
        raw: Utf8Bytes,
    ) -> ReceivedEvent {
        let (channel, event, user_id) = scanned_event;
        ReceivedEvent {
            received_at,
            channel,
            event,
            user_id,
            raw,
            decrypt_error: None,
            body: Body::Frame(span),
            parsed: OnceLock::new(),
        }
    }

    /// Replaces the data with an opened encrypted payload, to be read with pusher-js's rule.
    pub(super) fn set_plaintext(&mut self, text: String) {
        self.body = Body::Wire(text);
        self.parsed = OnceLock::new();
    }

    /// The data, parsed on first use with pusher-js's rule.
    pub fn data(&self) -> &Data {
        self.parsed.get_or_init(|| match &self.body {
            Body::Frame(span) => span.decode(&self.raw),
            Body::Wire(text) => Data::from_text(text.clone()),
            Body::Decoded => Data::Absent, // not reached: `decoded` sets `parsed`
        })
    }

    /// The data's text without parsing it into values: what `--json` passes through.
    pub fn data_text(&self) -> DataText<'_> {
        if let (Some(data), Body::Decoded) = (self.parsed.get(), &self.body) {
            return match data {
                Data::Absent => DataText::Absent,
                Data::Json(v) => DataText::Json(Cow::Owned(v.to_string())),
                Data::Text(t) => DataText::Text(Cow::Borrowed(t)),
            };
        }
        match &self.body {
            Body::Frame(span) => match span.text(&self.raw) {
                None => DataText::Absent,
                Some(text) if span.is_value() => DataText::Json(text),
                Some(text) => DataText::classify(text),
            },
            Body::Wire(text) => DataText::classify(Cow::Borrowed(text)),
            Body::Decoded => DataText::Absent,
        }
    }

    /// Application and client events, as opposed to `pusher:` protocol events.
    pub fn is_application(&self) -> bool {
        !self.event.starts_with("pusher:") && !self.event.starts_with("pusher_internal:")
    }

    /// The bytes this event holds, for the byte budget of the queues it travels through.
    pub fn heap_bytes(&self) -> usize {
        let parsed = if self.parsed.get().is_some() && self.body != Body::Decoded {
            // A parsed tree costs a few times its text.
            3 * self.raw.len()
        } else {
            0
        };
        let wire = match &self.body {
            Body::Wire(t) => t.len(),
            _ => 0,
        };
        self.raw.len()
            + self.event.len()
            + self.channel.as_deref().map_or(0, str::len)
            + self.user_id.as_ref().map_or(0, String::len)
            + self.decrypt_error.as_ref().map_or(0, String::len)
            + wire
            + parsed
    }
}

impl PartialEq for ReceivedEvent {
    fn eq(&self, other: &ReceivedEvent) -> bool {
        self.received_at == other.received_at
            && self.channel == other.channel
            && self.event == other.event
            && self.user_id == other.user_id
            && self.raw == other.raw
            && self.decrypt_error == other.decrypt_error
            && self.data() == other.data()
    }
}

/// Everything the engine reports.
///
/// [`Item::cost`] is what an item counts against the byte budget of the queues between the
/// engine and its consumer.
///
/// The rarer variants box what they carry, so that every item is a few words and moves
/// through the queues and batches without a call to copy it.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    State(Box<StateChange>),
    Subscription {
        channel: String,
        status: Box<SubscriptionStatus>,
    },
    /// Boxed: an event is most of the traffic, and the item moves through several queues
    /// and batches on its way, so it moves as a pointer rather than as its ~200 bytes.
    Event(Box<ReceivedEvent>),
    Members {
        channel: String,
        change: Box<MemberChange>,
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

impl Item {
    /// Roughly the bytes this item holds, its own size included.
    pub fn cost(&self) -> usize {
        let heap = match self {
            Item::Event(ev) => size_of::<ReceivedEvent>() + ev.heap_bytes(),
            // The boxed parts are weighed as the event's box is.
            Item::State(c) => {
                size_of::<StateChange>()
                    + c.url.len()
                    + c.socket_id.as_ref().map_or(0, String::len)
                    + 64
            }
            Item::Subscription { channel, status } => {
                size_of::<SubscriptionStatus>()
                    + channel.len()
                    + match &**status {
                        SubscriptionStatus::Failed(f) => {
                            f.message.len() + f.string_to_sign.as_ref().map_or(0, String::len)
                        }
                        _ => 0,
                    }
            }
            Item::Members {
                channel, change, ..
            } => {
                size_of::<MemberChange>()
                    + channel.len()
                    + match &**change {
                        MemberChange::Snapshot { members, .. } => members
                            .iter()
                            .map(crate::presence::member_weight)
                            .sum::<usize>(),
                        MemberChange::Added(m) => crate::presence::member_weight(m),
                        MemberChange::Removed(id) => id.len(),
                    }
            }
            Item::SubscriptionCount { channel, .. } => channel.len(),
            Item::SignedIn { user_data } => user_data.len(),
            Item::Error(text) | Item::Notice(text) => text.len(),
            Item::Pong { .. } | Item::Dropped { .. } => 0,
        };
        size_of::<Item>() + heap
    }
}

impl From<ReceivedEvent> for Item {
    fn from(ev: ReceivedEvent) -> Item {
        Item::Event(Box::new(ev))
    }
}

impl bounded::Weigh for Item {
    fn weight(&self) -> usize {
        self.cost()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An item moves through the outbox, the feed and the pipeline's batches: kept at a few
    /// words (the rare variants boxed), it moves in registers rather than by a copy call.
    #[test]
    fn an_item_is_a_few_words() {
        assert!(size_of::<Item>() <= 48, "{} bytes", size_of::<Item>());
    }

    /// What a variant holds in its box counts against the queues' byte budgets, as the
    /// event's box does: a server repeating member changes cannot fill a queue past its
    /// bytes with items weighed at a third of what they hold.
    #[test]
    fn a_boxed_part_is_weighed() {
        let item = size_of::<Item>();
        let members = Item::Members {
            channel: String::new(),
            change: Box::new(MemberChange::Removed(String::new())),
            count: 0,
        };
        assert!(members.cost() >= item + size_of::<MemberChange>());
        let status = Item::Subscription {
            channel: String::new(),
            status: Box::new(SubscriptionStatus::Pending),
        };
        assert!(status.cost() >= item + size_of::<SubscriptionStatus>());
        let state = Item::State(Box::new(StateChange {
            previous: ConnectionState::Initialized,
            current: ConnectionState::Connecting,
            reason: None,
            retry_in: None,
            socket_id: None,
            url: String::new(),
        }));
        assert!(state.cost() >= item + size_of::<StateChange>());
    }
}
