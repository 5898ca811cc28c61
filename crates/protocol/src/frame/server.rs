//! Frames a server sends (§3), decoded with every tolerance of §2 and encoded the way
//! Pusher does (`data` double-encoded as a string).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Data, DecodeError, Event, bad, decode_envelope, encode_event, id_string};

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
