//! Frames: every v7 event (§3) decoded into typed values and encoded back.
//!
//! Decoding tolerates what real servers send (§2): `data` as a JSON string, as an object or
//! absent; error data as a string or an object; `code: null`; and `data` strings that are not
//! JSON, which are kept as raw text. An event the catalogue does not name is an ordinary
//! [`Event`], never an error.

use serde::Deserialize;
use serde_json::{Map, Value, json};

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

    /// The data as the string a server puts on the wire (double encoding, §2).
    pub fn to_wire_string(&self) -> String {
        match self {
            Data::Absent => "{}".to_owned(),
            Data::Json(Value::String(s)) => s.clone(),
            Data::Json(v) => v.to_string(),
            Data::Text(s) => s.clone(),
        }
    }

    fn object(&self) -> Option<&Map<String, Value>> {
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

fn bad(event: &str, reason: impl Into<String>) -> DecodeError {
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

/// Parses the envelope of any frame, in either direction.
pub fn decode_envelope(text: &str) -> Result<Event, DecodeError> {
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
fn id_string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A `pusher:error` (§3, §4).
#[derive(Debug, Clone, PartialEq)]
pub struct PusherError {
    pub code: Option<u16>,
    pub message: String,
    pub channel: Option<String>,
}

/// `pusher:subscription_error`, as soketi sends it on the wire and pusher-js raises it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionError {
    pub kind: String,
    pub error: String,
    pub status: Option<u16>,
}

/// A presence member: a user id and its `user_info`.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: String,
    pub user_info: Value,
}

/// A watchlist change (`online` or `offline`) for some user ids.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WatchlistEvent {
    pub name: String,
    #[serde(default)]
    pub user_ids: Vec<String>,
}

/// Every frame a server sends (§3).
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    ConnectionEstablished {
        socket_id: String,
        /// Seconds; absent from pre-v7 servers.
        activity_timeout: Option<u64>,
    },
    Error(PusherError),
    Ping,
    Pong,
    SubscriptionSucceeded {
        channel: String,
        /// The member list, on presence channels.
        presence: Option<Vec<Member>>,
    },
    SubscriptionError {
        channel: String,
        error: SubscriptionError,
    },
    SubscriptionCount {
        channel: String,
        count: u64,
    },
    MemberAdded {
        channel: String,
        member: Member,
    },
    MemberRemoved {
        channel: String,
        user_id: String,
    },
    CacheMiss {
        channel: String,
    },
    SigninSuccess {
        user_data: String,
    },
    WatchlistEvents(Vec<WatchlistEvent>),
    /// An application event, a client event, or any event the catalogue does not name.
    Event(Event),
}

impl ServerMessage {
    /// Decodes one text frame from a server.
    pub fn decode(text: &str) -> Result<ServerMessage, DecodeError> {
        Self::from_envelope(decode_envelope(text)?)
    }

    /// Types an envelope that was already parsed.
    pub fn from_envelope(env: Event) -> Result<ServerMessage, DecodeError> {
        let name = env.event.as_str();
        let channel = || {
            env.channel
                .clone()
                .ok_or_else(|| bad(name, "no `channel` field"))
        };
        let msg = match name {
            "pusher:connection_established" => {
                let obj = env
                    .data
                    .object()
                    .ok_or_else(|| bad(name, "data is not an object"))?;
                let socket_id = obj
                    .get("socket_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(name, "no string `socket_id`"))?
                    .to_owned();
                let activity_timeout = obj.get("activity_timeout").and_then(Value::as_u64);
                ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                }
            }
            "pusher:error" => ServerMessage::Error(decode_error(&env.data, env.channel.clone())),
            "pusher:ping" => ServerMessage::Ping,
            "pusher:pong" => ServerMessage::Pong,
            "pusher_internal:subscription_succeeded" => ServerMessage::SubscriptionSucceeded {
                channel: channel()?,
                presence: decode_presence(&env.data).map_err(|r| bad(name, r))?,
            },
            "pusher:subscription_error" => {
                let obj = env.data.object();
                let text = |k: &str| obj.and_then(|o| o.get(k)).and_then(Value::as_str);
                let error = match (&env.data, text("error")) {
                    (_, Some(e)) => e.to_owned(),
                    (Data::Text(t), None) => t.clone(),
                    _ => String::new(),
                };
                ServerMessage::SubscriptionError {
                    channel: channel()?,
                    error: SubscriptionError {
                        kind: text("type").unwrap_or("").to_owned(),
                        error,
                        status: obj
                            .and_then(|o| o.get("status"))
                            .and_then(Value::as_u64)
                            .and_then(|s| u16::try_from(s).ok()),
                    },
                }
            }
            "pusher_internal:subscription_count" => ServerMessage::SubscriptionCount {
                channel: channel()?,
                count: env
                    .data
                    .object()
                    .and_then(|o| o.get("subscription_count"))
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad(name, "no numeric `subscription_count`"))?,
            },
            "pusher_internal:member_added" => {
                let obj = env
                    .data
                    .object()
                    .ok_or_else(|| bad(name, "data is not an object"))?;
                ServerMessage::MemberAdded {
                    channel: channel()?,
                    member: Member {
                        user_id: obj
                            .get("user_id")
                            .cloned()
                            .and_then(id_string)
                            .ok_or_else(|| bad(name, "no `user_id`"))?,
                        user_info: obj.get("user_info").cloned().unwrap_or(Value::Null),
                    },
                }
            }
            "pusher_internal:member_removed" => ServerMessage::MemberRemoved {
                channel: channel()?,
                user_id: env
                    .data
                    .object()
                    .and_then(|o| o.get("user_id"))
                    .cloned()
                    .and_then(id_string)
                    .ok_or_else(|| bad(name, "no `user_id`"))?,
            },
            "pusher:cache_miss" => ServerMessage::CacheMiss {
                channel: channel()?,
            },
            "pusher:signin_success" => ServerMessage::SigninSuccess {
                user_data: match env.data.object().and_then(|o| o.get("user_data")) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => return Err(bad(name, "no `user_data`")),
                },
            },
            "pusher_internal:watchlist_events" => {
                let events = env
                    .data
                    .object()
                    .and_then(|o| o.get("events"))
                    .ok_or_else(|| bad(name, "no `events` list"))?;
                ServerMessage::WatchlistEvents(
                    Vec::<WatchlistEvent>::deserialize(events)
                        .map_err(|e| bad(name, e.to_string()))?,
                )
            }
            _ => ServerMessage::Event(env),
        };
        Ok(msg)
    }

    /// Encodes the frame as a server sends it: `data` double-encoded as a string (§2).
    pub fn encode(&self) -> String {
        let frame = |event: &str, channel: Option<&str>, data: Option<Value>| {
            let mut map = Map::new();
            map.insert("event".into(), Value::String(event.into()));
            if let Some(c) = channel {
                map.insert("channel".into(), Value::String(c.into()));
            }
            if let Some(d) = data {
                map.insert("data".into(), Value::String(d.to_string()));
            }
            Value::Object(map).to_string()
        };
        match self {
            ServerMessage::ConnectionEstablished {
                socket_id,
                activity_timeout,
            } => {
                let mut data = json!({ "socket_id": socket_id });
                if let Some(t) = activity_timeout {
                    data["activity_timeout"] = json!(t);
                }
                frame("pusher:connection_established", None, Some(data))
            }
            ServerMessage::Error(e) => {
                // pusher:error carries its data as an object on Pusher itself (§2).
                let mut map = Map::new();
                map.insert("event".into(), json!("pusher:error"));
                if let Some(c) = &e.channel {
                    map.insert("channel".into(), json!(c));
                }
                map.insert(
                    "data".into(),
                    json!({ "code": e.code, "message": e.message }),
                );
                Value::Object(map).to_string()
            }
            ServerMessage::Ping => frame("pusher:ping", None, Some(json!({}))),
            ServerMessage::Pong => frame("pusher:pong", None, Some(json!({}))),
            ServerMessage::SubscriptionSucceeded { channel, presence } => {
                let data = match presence {
                    None => json!({}),
                    Some(members) => {
                        let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
                        let hash: Map<String, Value> = members
                            .iter()
                            .map(|m| (m.user_id.clone(), m.user_info.clone()))
                            .collect();
                        json!({ "presence": { "ids": ids, "hash": hash, "count": ids.len() } })
                    }
                };
                frame(
                    "pusher_internal:subscription_succeeded",
                    Some(channel),
                    Some(data),
                )
            }
            ServerMessage::SubscriptionError { channel, error } => frame(
                "pusher:subscription_error",
                Some(channel),
                Some(json!({ "type": error.kind, "error": error.error, "status": error.status })),
            ),
            ServerMessage::SubscriptionCount { channel, count } => frame(
                "pusher_internal:subscription_count",
                Some(channel),
                Some(json!({ "subscription_count": count })),
            ),
            ServerMessage::MemberAdded { channel, member } => frame(
                "pusher_internal:member_added",
                Some(channel),
                Some(json!({ "user_id": member.user_id, "user_info": member.user_info })),
            ),
            ServerMessage::MemberRemoved { channel, user_id } => frame(
                "pusher_internal:member_removed",
                Some(channel),
                Some(json!({ "user_id": user_id })),
            ),
            ServerMessage::CacheMiss { channel } => {
                frame("pusher:cache_miss", Some(channel), Some(json!({})))
            }
            ServerMessage::SigninSuccess { user_data } => frame(
                "pusher:signin_success",
                None,
                Some(json!({ "user_data": user_data })),
            ),
            ServerMessage::WatchlistEvents(events) => {
                let events: Vec<Value> = events
                    .iter()
                    .map(|e| json!({ "name": e.name, "user_ids": e.user_ids }))
                    .collect();
                frame(
                    "pusher_internal:watchlist_events",
                    None,
                    Some(json!({ "events": events })),
                )
            }
            ServerMessage::Event(ev) => encode_event(ev, true),
        }
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

fn decode_error(data: &Data, channel: Option<String>) -> PusherError {
    let obj = data.object();
    let message = match (obj.and_then(|o| o.get("message")), data) {
        (Some(Value::String(m)), _) => m.clone(),
        (Some(other), _) => other.to_string(),
        (None, Data::Text(t)) => t.clone(),
        (None, Data::Json(Value::String(s))) => s.clone(),
        (None, _) => String::new(),
    };
    let code = obj
        .and_then(|o| o.get("code"))
        .and_then(|c| match c {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .and_then(|c| u16::try_from(c).ok());
    PusherError {
        code,
        message,
        channel,
    }
}

/// The member list of a presence `subscription_succeeded`, or `None` on other channels.
fn decode_presence(data: &Data) -> Result<Option<Vec<Member>>, String> {
    let Some(presence) = data.object().and_then(|o| o.get("presence")) else {
        return Ok(None);
    };
    let hash = presence.get("hash").and_then(Value::as_object);
    let ids: Vec<String> = match presence.get("ids") {
        Some(Value::Array(ids)) => ids.iter().cloned().filter_map(id_string).collect(),
        // Some servers omit `ids`; the hash's keys say the same.
        _ => hash
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default(),
    };
    if ids.is_empty() && hash.is_none() && presence.get("ids").is_none() {
        return Err("`presence` has neither `ids` nor `hash`".into());
    }
    Ok(Some(
        ids.into_iter()
            .map(|id| Member {
                user_info: hash
                    .and_then(|h| h.get(&id))
                    .cloned()
                    .unwrap_or(Value::Null),
                user_id: id,
            })
            .collect(),
    ))
}

/// Every frame a client sends (§3).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Subscribe {
        channel: String,
        auth: Option<String>,
        channel_data: Option<String>,
    },
    Unsubscribe {
        channel: String,
    },
    Ping,
    Pong,
    Signin {
        auth: String,
        user_data: String,
    },
    /// A `client-*` event, or any other event a client sends.
    Event(Event),
}

impl ClientMessage {
    /// Encodes the frame as pusher-js does: `data` as an object (§2).
    pub fn encode(&self) -> String {
        let frame = |event: &str, data: Value| json!({ "event": event, "data": data }).to_string();
        match self {
            ClientMessage::Subscribe {
                channel,
                auth,
                channel_data,
            } => {
                let mut data = json!({ "channel": channel });
                if let Some(a) = auth {
                    data["auth"] = json!(a);
                }
                if let Some(cd) = channel_data {
                    data["channel_data"] = json!(cd);
                }
                frame("pusher:subscribe", data)
            }
            ClientMessage::Unsubscribe { channel } => {
                frame("pusher:unsubscribe", json!({ "channel": channel }))
            }
            ClientMessage::Ping => frame("pusher:ping", json!({})),
            ClientMessage::Pong => frame("pusher:pong", json!({})),
            ClientMessage::Signin { auth, user_data } => frame(
                "pusher:signin",
                json!({ "auth": auth, "user_data": user_data }),
            ),
            ClientMessage::Event(ev) => encode_event(ev, false),
        }
    }

    /// Decodes one text frame from a client (the server's side).
    pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
        let env = decode_envelope(text)?;
        let name = env.event.as_str();
        let field = |key: &str| -> Option<String> {
            match env.data.object().and_then(|o| o.get(key)) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            }
        };
        let msg = match name {
            "pusher:subscribe" => ClientMessage::Subscribe {
                channel: field("channel").ok_or_else(|| bad(name, "no string `channel`"))?,
                // pusher-js sends `auth: ""` for public channels.
                auth: field("auth").filter(|a| !a.is_empty()),
                channel_data: field("channel_data"),
            },
            "pusher:unsubscribe" => ClientMessage::Unsubscribe {
                channel: field("channel").ok_or_else(|| bad(name, "no string `channel`"))?,
            },
            "pusher:ping" => ClientMessage::Ping,
            "pusher:pong" => ClientMessage::Pong,
            "pusher:signin" => ClientMessage::Signin {
                auth: field("auth").ok_or_else(|| bad(name, "no string `auth`"))?,
                user_data: field("user_data").ok_or_else(|| bad(name, "no string `user_data`"))?,
            },
            _ => ClientMessage::Event(env),
        };
        Ok(msg)
    }
}
