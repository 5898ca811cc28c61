//! Frames: every v7 event (§3) decoded into typed values and encoded back.
//!
//! Decoding tolerates what real servers send (§2): `data` as a JSON string, as an object or
//! absent; error data as a string or an object; `code: null`; and `data` strings that are not
//! JSON, which are kept as raw text. An event the catalogue does not name is an ordinary
//! [`Event`], never an error.

use serde_json::{Map, Value};

mod client;
mod server;
mod shape;
mod span;

pub use client::ClientMessage;
pub use server::{Member, PusherError, ServerMessage, SubscriptionError, WatchlistEvent};
pub use shape::Scanner;
pub use span::{DataSpan, Located, Scanned, scan};

/// The `data` of a frame after pusher-js's decoding rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// The frame had no `data` field (or `null`).
    Absent,
    /// JSON: an object on the wire, or a string that parsed as JSON.
    Json(Value),
    /// A string that is not JSON, kept as it came.
    Text(String),
}

impl Data {
    /// Applies pusher-js's rule: a string is parsed as JSON when it can be.
    pub fn from_wire(value: Option<Value>) -> Data {
        match value {
            None | Some(Value::Null) => Data::Absent,
            Some(Value::String(s)) => Data::from_text(s),
            Some(other) => Data::Json(other),
        }
    }

    /// Parses `text` as JSON, or keeps it as text.
    pub fn from_text(text: String) -> Data {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => Data::Json(v),
            Err(_) => Data::Text(text),
        }
    }

    /// The data as a JSON value: text becomes a JSON string, absent becomes `null`.
    pub fn to_value(&self) -> Value {
        match self {
            Data::Absent => Value::Null,
            Data::Json(v) => v.clone(),
            Data::Text(s) => Value::String(s.clone()),
        }
    }

    /// The data as a JSON value, borrowed when it already is one (no copy per event).
    pub fn as_value(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Data::Json(v) => std::borrow::Cow::Borrowed(v),
            other => std::borrow::Cow::Owned(other.to_value()),
        }
    }

    /// The data as the string a server puts on the wire (double encoding, §2).
    pub fn to_wire_string(&self) -> String {
        match self {
            Data::Absent => "{}".to_owned(),
            Data::Json(Value::String(s)) => s.clone(),
            Data::Json(v) => v.to_string(),
            Data::Text(s) => s.clone(),
        }
    }

    pub(super) fn object(&self) -> Option<&Map<String, Value>> {
        match self {
            Data::Json(Value::Object(map)) => Some(map),
            _ => None,
        }
    }
}

/// Why a frame could not be decoded. Every variant says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame is not JSON: {0}")]
    NotJson(String),
    #[error("frame is not a JSON object")]
    NotObject,
    #[error("frame has no string `event` field")]
    MissingEvent,
    #[error("`{event}` frame is malformed: {reason}")]
    BadData { event: String, reason: String },
}

pub(super) fn bad(event: &str, reason: impl Into<String>) -> DecodeError {
    DecodeError::BadData {
        event: event.to_owned(),
        reason: reason.into(),
    }
}

/// The common envelope of every frame (§2).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event: String,
    pub channel: Option<String>,
    pub data: Data,
    /// Set by the server on client events of presence channels.
    pub user_id: Option<String>,
}

/// The fields of the envelope, read without building a map of the whole frame.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(default)]
    event: Option<Value>,
    #[serde(default)]
    channel: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    user_id: Option<Value>,
}

/// Parses the envelope of any frame, in either direction.
pub fn decode_envelope(text: &str) -> Result<Event, DecodeError> {
    // A derived struct also reads a JSON array; only an object may take the fast path.
    if !text.trim_start().starts_with('{') {
        return decode_envelope_value(text);
    }
    let envelope = match serde_json::from_str::<Envelope>(text) {
        Ok(e) => e,
        // Not an object, or a field twice: decide on the whole value, as JSON reads it.
        Err(e) if e.is_data() => return decode_envelope_value(text),
        Err(e) => return Err(DecodeError::NotJson(e.to_string())),
    };
    let Some(Value::String(event)) = envelope.event else {
        return Err(DecodeError::MissingEvent);
    };
    let channel = match envelope.channel {
        Some(Value::String(c)) => Some(c),
        _ => None,
    };
    Ok(Event {
        event,
        channel,
        data: Data::from_wire(envelope.data),
        user_id: envelope.user_id.and_then(id_string),
    })
}

/// The slow path of [`decode_envelope`], for frames that are not a plain object.
fn decode_envelope_value(text: &str) -> Result<Event, DecodeError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let Value::Object(mut map) = value else {
        return Err(DecodeError::NotObject);
    };
    let Some(Value::String(event)) = map.remove("event") else {
        return Err(DecodeError::MissingEvent);
    };
    let channel = match map.remove("channel") {
        Some(Value::String(c)) => Some(c),
        _ => None,
    };
    let user_id = map.remove("user_id").and_then(id_string);
    Ok(Event {
        event,
        channel,
        data: Data::from_wire(map.remove("data")),
        user_id,
    })
}

/// User ids arrive as strings or numbers; both become strings.
pub(super) fn id_string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Encodes an application or client event. `string_data` is true for the server side, which
/// sends `data` as a string; clients send it as it is.
pub fn encode_event(ev: &Event, string_data: bool) -> String {
    let mut map = Map::new();
    map.insert("event".into(), Value::String(ev.event.clone()));
    if let Some(c) = &ev.channel {
        map.insert("channel".into(), Value::String(c.clone()));
    }
    match (&ev.data, string_data) {
        (Data::Absent, _) => {}
        (data, true) => {
            map.insert("data".into(), Value::String(data.to_wire_string()));
        }
        (data, false) => {
            map.insert("data".into(), data.to_value());
        }
    }
    if let Some(u) = &ev.user_id {
        map.insert("user_id".into(), Value::String(u.clone()));
    }
    Value::Object(map).to_string()
}
