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
    /// The frame exactly as received. It may share the socket's read buffer: a consumer that
    /// keeps it for long should copy what it needs.
    pub raw: Utf8Bytes,
    body: Body,
    /// Boxed: parsed by few consumers, and a parsed tree is far bigger than its pointer.
    parsed: OnceLock<Box<Parsed>>,
    /// What few events carry. Kept out of line, with the parsed data, so that an event is
    /// small enough to move cheaply (see the test `an_item_is_no_bigger_than_an_event`).
    rare: Option<Box<Rare>>,
}

/// An event's data once parsed, with what its tree weighs: walked once, when parsed, since
/// a tree can be many times its text (an array of small numbers, each a 32-byte value).
#[derive(Debug, Clone)]
struct Parsed {
    data: Data,
    weight: usize,
}

impl Parsed {
    fn new(data: Data) -> Box<Parsed> {
        let weight = size_of::<Data>()
            + match &data {
                Data::Absent => 0,
                Data::Text(t) => t.len(),
                Data::Json(v) => crate::presence::value_weight(v),
            };
        Box::new(Parsed { data, weight })
    }
}

/// The parts of an event that most events do not have.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rare {
    user_id: Option<String>,
    decrypt_error: Option<String>,
    /// An opened encrypted payload, to be read with pusher-js's rule.
    plaintext: Option<String>,
}

impl Rare {
    fn heap_bytes(&self) -> usize {
        size_of::<Rare>()
            + [&self.user_id, &self.decrypt_error, &self.plaintext]
                .into_iter()
                .map(|s| s.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }
}

/// Where an event's data is before it is parsed. The frame's offsets are kept in 32 bits:
/// a frame longer than 4 GiB (read only with `--max-message` set above that) has its data
/// decoded when the event is made, and weighed with it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Body {
    /// The frame has no data.
    Absent,
    /// A string literal in the frame, quotes included, not read yet.
    Quoted(u32, u32),
    /// Other JSON text in the frame, not read yet.
    Value(u32, u32),
    /// The opened encrypted payload in [`Rare::plaintext`], to be read with pusher-js's rule.
    Plaintext,
    /// Decoded when the event was made: `parsed` is set.
    Decoded,
}

impl Body {
    /// The frame's data span as the scan located it; `None` when it does not fit in 32
    /// bits.
    fn of(span: &DataSpan) -> Option<Body> {
        let offsets = |r: &std::ops::Range<usize>| {
            Some((u32::try_from(r.start).ok()?, u32::try_from(r.end).ok()?))
        };
        Some(match span {
            DataSpan::Absent => Body::Absent,
            DataSpan::Quoted(r) => offsets(r).map(|(a, b)| Body::Quoted(a, b))?,
            DataSpan::Value(r) => offsets(r).map(|(a, b)| Body::Value(a, b))?,
        })
    }

    /// The span in the frame, for a body still there.
    fn span(self) -> Option<DataSpan> {
        let range = |a: u32, b: u32| a as usize..b as usize;
        match self {
            Body::Absent => Some(DataSpan::Absent),
            Body::Quoted(a, b) => Some(DataSpan::Quoted(range(a, b))),
            Body::Value(a, b) => Some(DataSpan::Value(range(a, b))),
            Body::Plaintext | Body::Decoded => None,
        }
    }
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
        let mut ev = ReceivedEvent {
            received_at,
            channel: channel.map(Name::from),
            event: Name::from(event),
            raw: raw.into(),
            body: Body::Decoded,
            parsed: OnceLock::from(Parsed::new(data)),
            rare: None,
        };
        if user_id.is_some() {
            ev.rare_mut().user_id = user_id;
        }
        ev
    }

    /// An event read from `raw`, its data still in the frame at `span`.
    pub(super) fn in_frame(
        received_at: SystemTime,
        scanned_event: (Option<Name>, Name, Option<String>),
        span: DataSpan,
        raw: Utf8Bytes,
    ) -> ReceivedEvent {
        let (channel, event, user_id) = scanned_event;
        let (body, parsed) = match Body::of(&span) {
            Some(body) => (body, OnceLock::new()),
            None => (
                Body::Decoded,
                OnceLock::from(Parsed::new(span.decode(&raw))),
            ),
        };
        ReceivedEvent {
            received_at,
            channel,
            event,
            raw,
            body,
            parsed,
            rare: user_id.map(|id| {
                Box::new(Rare {
                    user_id: Some(id),
                    ..Rare::default()
                })
            }),
        }
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }

    /// The user who sent a client event, on a presence channel.
    pub fn user_id(&self) -> Option<&str> {
        self.rare.as_ref()?.user_id.as_deref()
    }

    /// Set when an encrypted payload could not be opened; the data then is the ciphertext.
    pub fn decrypt_error(&self) -> Option<&str> {
        self.rare.as_ref()?.decrypt_error.as_deref()
    }

    /// Says why the encrypted payload could not be opened.
    pub fn set_decrypt_error(&mut self, error: Option<String>) {
        if error.is_some() || self.rare.is_some() {
            self.rare_mut().decrypt_error = error;
        }
    }

    /// Replaces the data with an opened encrypted payload, to be read with pusher-js's rule.
    pub(super) fn set_plaintext(&mut self, text: String) {
        self.rare_mut().plaintext = Some(text);
        self.body = Body::Plaintext;
        self.parsed = OnceLock::new();
    }

    fn plaintext(&self) -> &str {
        self.rare
            .as_ref()
            .and_then(|r| r.plaintext.as_deref())
            .unwrap_or_default()
    }

    /// The data, parsed on first use with pusher-js's rule.
    pub fn data(&self) -> &Data {
        &self
            .parsed
            .get_or_init(|| {
                Parsed::new(match self.body {
                    Body::Plaintext => Data::from_text(self.plaintext().to_owned()),
                    // `decoded` sets `parsed`: not reached.
                    Body::Decoded => Data::Absent,
                    body => body.span().map_or(Data::Absent, |s| s.decode(&self.raw)),
                })
            })
            .data
    }

    /// The data's text without parsing it into values: what `--json` passes through.
    pub fn data_text(&self) -> DataText<'_> {
        if let (Some(parsed), Body::Decoded) = (self.parsed.get(), &self.body) {
            return match &parsed.data {
                Data::Absent => DataText::Absent,
                Data::Json(v) => DataText::Json(Cow::Owned(v.to_string())),
                Data::Text(t) => DataText::Text(Cow::Borrowed(t)),
            };
        }
        match self.body {
            Body::Plaintext => DataText::classify(Cow::Borrowed(self.plaintext())),
            Body::Decoded => DataText::Absent,
            body => match body.span() {
                None => DataText::Absent,
                Some(span) => match span.text(&self.raw) {
                    None => DataText::Absent,
                    Some(text) if span.is_value() => DataText::Json(text),
                    Some(text) => DataText::classify(text),
                },
            },
        }
    }

    /// Application and client events, as opposed to `pusher:` protocol events.
    pub fn is_application(&self) -> bool {
        !self.event.starts_with("pusher:") && !self.event.starts_with("pusher_internal:")
    }

    /// The bytes this event holds, for the byte budget of the queues it travels through.
    pub fn heap_bytes(&self) -> usize {
        // A parsed tree is weighed as it is: parsed when received (a frame off the fast
        // path) or later (`--ts-field`, bindings), it is held with the frame.
        let parsed = self.parsed.get().map_or(0, |p| p.weight);
        self.raw.len()
            + self.event.len()
            + self.channel.as_deref().map_or(0, str::len)
            + self.rare.as_ref().map_or(0, |r| r.heap_bytes())
            + parsed
    }
}

impl PartialEq for ReceivedEvent {
    fn eq(&self, other: &ReceivedEvent) -> bool {
        self.received_at == other.received_at
            && self.channel == other.channel
            && self.event == other.event
            && self.user_id() == other.user_id()
            && self.raw == other.raw
            && self.decrypt_error() == other.decrypt_error()
            && self.data() == other.data()
    }
}

/// Everything the engine reports.
///
/// [`Item::cost`] is what an item counts against the byte budget of the queues between the
/// engine and its consumer.
///
/// An event, most of the traffic, is held in the item itself: no allocation per event. The
/// rarer variants box what they carry, so that no item is bigger than an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    State(Box<StateChange>),
    Subscription {
        channel: String,
        status: Box<SubscriptionStatus>,
    },
    /// Not boxed: an event is most of the traffic, and at 104 bytes it costs less to move
    /// through the queues than a box costs to allocate and free, event after event.
    Event(ReceivedEvent),
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
            Item::Event(ev) => ev.heap_bytes(),
            // The boxed parts are weighed with what they hold.
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
        Item::Event(ev)
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

    /// An item moves through the outbox, the feed and the pipeline's batches, an event
    /// inside it (an event's box, allocated and freed per event, cost more). The rare
    /// parts of both are boxed and names are one pointer each, so that an item, and the
    /// pipeline's item with its connection and latency, fit the 128 bytes a move copies
    /// with a few instructions rather than a call to memcpy.
    #[test]
    fn an_item_is_no_bigger_than_an_event() {
        let (item, event) = (size_of::<Item>(), size_of::<ReceivedEvent>());
        assert!(
            item <= 104 && item == event,
            "{item} bytes, an event {event}"
        );
    }

    /// An event read in place and parsed later (`--ts-field`, bindings) is weighed with its
    /// tree from then on, not with a guess from its frame's length.
    #[test]
    fn an_event_parsed_after_it_was_made_is_weighed_with_its_tree() {
        // A doubly encoded array of small numbers: read in place when received, parsed
        // later (as `--ts-field` does before the screen's queue), its tree ~16x its text.
        let n = 10_000;
        let frame = format!(
            r#"{{"event":"e","channel":"c","data":"[{}0]"}}"#,
            "0,".repeat(n)
        );
        let scanned = protocol::frame::scan(&frame).unwrap();
        let protocol::frame::Located::Span(span) = scanned.data else {
            panic!("decoded when scanned")
        };
        let ev = ReceivedEvent::in_frame(
            SystemTime::UNIX_EPOCH,
            (Some(Name::from("c")), Name::from("e"), None),
            span,
            Utf8Bytes::from(frame.clone()),
        );
        let unparsed = Item::from(ev.clone()).cost();
        assert!(
            unparsed < 2 * frame.len(),
            "{unparsed} bytes before parsing"
        );
        assert!(matches!(ev.data(), Data::Json(v) if v.as_array().unwrap().len() == n + 1));
        let held = frame.len() + (n + 1) * size_of::<serde_json::Value>();
        let cost = Item::from(ev).cost();
        assert!(cost >= held, "weighed {cost} bytes, holds at least {held}");
    }

    /// A frame off the one-pass reader (here a field twice) has its data decoded when it
    /// is received, so the event holds the decoded tree as well as the frame: a hostile
    /// server's array of small numbers is a value of 32 bytes or more per 2-byte element,
    /// and all of it must count against the queues' byte budgets.
    #[test]
    fn an_event_decoded_when_received_is_weighed_with_its_tree() {
        let n = 10_000;
        let frame = format!(
            r#"{{"event":"e","event":"e","data":[{}0]}}"#,
            "0,".repeat(n)
        );
        let protocol::frame::Located::Decoded(data) = protocol::frame::scan(&frame).unwrap().data
        else {
            panic!("not decoded when scanned")
        };
        let ev = ReceivedEvent::decoded(
            SystemTime::UNIX_EPOCH,
            None,
            "e".into(),
            *data,
            None,
            frame.clone(),
        );
        let held = frame.len() + (n + 1) * size_of::<serde_json::Value>();
        let cost = Item::from(ev).cost();
        assert!(cost >= held, "weighed {cost} bytes, holds at least {held}");
    }

    /// What a variant holds in its box counts against the queues' byte budgets: a server repeating member changes cannot fill a queue past its
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
