//! What the nodes of a Pusher-compatible cluster tell each other on their backplane (Redis
//! or NATS pub/sub), decoded into one typed [`BackplaneMessage`] whatever the server:
//!
//! - **sockudo** (Redis channels `{prefix}:#broadcast`, `:#requests`, `:#responses`,
//!   `:#node:{id}`, `:#reply:{id}`, prefix `sockudo_adapter:` by default, so
//!   `sockudo_adapter::#broadcast`; NATS subjects
//!   `{prefix}.broadcast`, `.requests`, `.responses`): JSON broadcasts
//!   `{node_id, app_id, channel, message, except_socket_id, timestamp_ms, trace_context}`,
//!   requests `{request_id, node_id, app_id, request_type, channel, user_id, …}` and
//!   responses `{request_id, node_id, app_id, complete, expected_responses, …}`;
//! - **soketi** (Redis channels `[prefix#]redis-adapter`, `…#comms#req`, `…#comms#res`):
//!   broadcasts `{uuid, appId, channel, data, exceptingId}`, requests
//!   `{type, requestId, appId, opts}`, responses `{requestId, …}`;
//! - **Reverb** (one Redis channel, `reverb` by default): `{type, application, payload,
//!   socket_id?}`, where `application` is PHP's `serialize()` of the app, **secret
//!   included**: only its id and key are read ([`php`]), the secret is skipped unread.
//!
//! Pure: no I/O, no clock. Every name kept is cut ([`crate::limits::cut_name`]); payloads
//! are kept as a cut preview. Nothing here is terminal-safe yet: each output makes it so.

pub mod php;

use serde_json::Value;

use crate::limits::cut_name;

/// Bytes of a payload kept as its preview.
pub const PREVIEW_BYTES: usize = 200;

/// The server whose backplane is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Sockudo,
    Soketi,
    Reverb,
}

impl Server {
    pub fn as_str(self) -> &'static str {
        match self {
            Server::Sockudo => "sockudo",
            Server::Soketi => "soketi",
            Server::Reverb => "reverb",
        }
    }

    /// The default prefix of its channels.
    pub fn default_prefix(self) -> &'static str {
        match self {
            Server::Sockudo => "sockudo_adapter:",
            Server::Soketi => "",
            Server::Reverb => "reverb",
        }
    }

    /// The Redis channel its nodes count with `PUBSUB NUMSUB` (the node count as the cluster
    /// computes it); `None` for Reverb, which counts by `PUBLISH`'s answer.
    pub fn counted_channel(self, prefix: &str) -> Option<String> {
        match self {
            Server::Sockudo => Some(format!("{prefix}:#requests")),
            Server::Soketi => Some(format!("{}#comms#req", soketi_base(prefix))),
            Server::Reverb => None,
        }
    }

    /// The Redis pattern (`PSUBSCRIBE`) that covers all its channels, glob characters in
    /// the prefix escaped.
    pub fn pattern(self, prefix: &str) -> String {
        match self {
            Server::Sockudo => format!("{}:#*", glob_escape(prefix)),
            Server::Soketi => format!("{}*", glob_escape(&soketi_base(prefix))),
            Server::Reverb => glob_escape(prefix),
        }
    }
}

fn soketi_base(prefix: &str) -> String {
    if prefix.is_empty() {
        "redis-adapter".into()
    } else {
        format!("{prefix}#redis-adapter")
    }
}

/// `*`, `?`, `[`, `]` and `\` matched literally in a Redis glob.
pub fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One message of the backplane.
#[derive(Debug, Clone, PartialEq)]
pub enum BackplaneMessage {
    Broadcast(Broadcast),
    Request(Request),
    Response(Response),
    /// On a known channel, or in a known envelope, but not a shape this reads.
    Unknown {
        reason: String,
    },
}

impl BackplaneMessage {
    /// `broadcast`, `request`, `response` or `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            BackplaneMessage::Broadcast(_) => "broadcast",
            BackplaneMessage::Request(_) => "request",
            BackplaneMessage::Response(_) => "response",
            BackplaneMessage::Unknown { .. } => "unknown",
        }
    }
}

/// An event one node hands the others to deliver to their sockets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Broadcast {
    /// The node it comes from (sockudo's `node_id`, soketi's `uuid`; Reverb says none).
    pub node: Option<String>,
    pub app_id: Option<String>,
    /// Reverb's application key (read from its serialized application).
    pub app_key: Option<String>,
    /// The Pusher channels it goes to (Reverb's payload may name several).
    pub channels: Vec<String>,
    pub event: Option<String>,
    /// Bytes of the Pusher message it carries.
    pub bytes: usize,
    /// The socket it must not reach (the publisher's `socket_id`).
    pub except_socket: Option<String>,
    /// When the origin sent it, ms since the epoch (sockudo's `timestamp_ms`).
    pub sent_at_ms: Option<f64>,
    /// A W3C `traceparent` carried along (sockudo's `trace_context`).
    pub traceparent: Option<String>,
    /// The Pusher message's `data`, cut to [`PREVIEW_BYTES`].
    pub data_preview: String,
}

/// A question one node asks the others (or a notice it gives them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub id: String,
    pub node: Option<String>,
    pub app_id: Option<String>,
    pub app_key: Option<String>,
    /// sockudo's `request_type` (`Heartbeat`, `ChannelSocketsCount`, `PresenceMemberJoined`,
    /// …), soketi's by name (`CHANNEL_SOCKETS_COUNT`, …), Reverb's `metrics`.
    pub request_type: String,
    pub channel: Option<String>,
    pub user_id: Option<String>,
    /// The node a `NodeDead` notice is about.
    pub dead_node: Option<String>,
    /// The node it is meant for (sockudo's `target_node_id`).
    pub target_node: Option<String>,
}

impl Request {
    /// Fire-and-forget notices (heartbeats, presence replication, dead nodes) get no answer.
    pub fn expects_answer(&self) -> bool {
        !matches!(
            self.request_type.as_str(),
            "Heartbeat"
                | "NodeDead"
                | "PresenceMemberJoined"
                | "PresenceMemberLeft"
                | "PresenceMemberUpdated"
                | "PresenceStateSync"
                | "ChannelCountUpdate"
                | "ChannelCountSync"
                | "TERMINATE_USER_CONNECTIONS"
                | "ForceReconnect"
                | "TerminateUserConnections"
        )
    }
}

/// A node's answer to a [`Request`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub id: String,
    pub node: Option<String>,
    pub app_id: Option<String>,
    /// sockudo's `complete`: false when the asker gave up waiting for some nodes.
    pub complete: Option<bool>,
    /// sockudo's `expected_responses` and `responses_received`.
    pub expected: Option<u64>,
    pub received: Option<u64>,
}

/// Decodes a message read on the Redis channel (or NATS subject) `channel`.
pub fn decode(server: Server, channel: &str, payload: &[u8]) -> BackplaneMessage {
    let value: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => {
            return BackplaneMessage::Unknown {
                reason: format!("not JSON: {e}"),
            };
        }
    };
    let Some(obj) = value.as_object() else {
        return BackplaneMessage::Unknown {
            reason: "not a JSON object".into(),
        };
    };
    match server {
        Server::Sockudo => sockudo(channel, obj),
        Server::Soketi => soketi(channel, obj),
        Server::Reverb => reverb(obj),
    }
}

type Obj = serde_json::Map<String, Value>;

/// A string field (or a number, as text), cut.
fn text(obj: &Obj, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(cut_name(s).into_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn preview(text: &str) -> String {
    if text.len() <= PREVIEW_BYTES {
        return text.to_owned();
    }
    let mut end = PREVIEW_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}", &text[..end], crate::limits::CUT_MARK)
}

/// The event name, data preview and size of a Pusher message given as text or as an
/// object: `{event, channel, data}`.
fn pusher_message(message: &Value) -> (Option<String>, String, usize) {
    let (parsed, bytes) = match message {
        Value::String(s) => (serde_json::from_str::<Value>(s).ok(), s.len()),
        other => (Some(other.clone()), other.to_string().len()),
    };
    let Some(Value::Object(m)) = parsed else {
        let raw = message.as_str().map(preview).unwrap_or_default();
        return (None, raw, bytes);
    };
    let event = text(&m, "event").or_else(|| text(&m, "name"));
    let data = match m.get("data") {
        Some(Value::String(s)) => preview(s),
        Some(v) => preview(&v.to_string()),
        None => String::new(),
    };
    (event, data, bytes)
}

fn sockudo(channel: &str, obj: &Obj) -> BackplaneMessage {
    let role = channel.rsplit('#').next().unwrap_or("");
    let is = |name: &str| role == name || channel.ends_with(&format!(".{name}"));
    if obj.contains_key("request_type") || is("requests") {
        let Some(id) = text(obj, "request_id") else {
            return unknown("a request without request_id");
        };
        return BackplaneMessage::Request(Request {
            id,
            node: text(obj, "node_id"),
            app_id: text(obj, "app_id"),
            app_key: None,
            request_type: text(obj, "request_type").unwrap_or_else(|| "?".into()),
            channel: text(obj, "channel"),
            user_id: text(obj, "user_id"),
            dead_node: text(obj, "dead_node_id"),
            target_node: text(obj, "target_node_id"),
        });
    }
    if obj.contains_key("expected_responses")
        || obj.contains_key("complete")
        || is("responses")
        || role.starts_with("reply:")
    {
        let Some(id) = text(obj, "request_id") else {
            return unknown("a response without request_id");
        };
        return BackplaneMessage::Response(Response {
            id,
            node: text(obj, "node_id"),
            app_id: text(obj, "app_id"),
            complete: obj.get("complete").and_then(Value::as_bool),
            expected: obj.get("expected_responses").and_then(Value::as_u64),
            received: obj.get("responses_received").and_then(Value::as_u64),
        });
    }
    if let (Some(message), Some(ch)) = (obj.get("message"), text(obj, "channel")) {
        let (event, data_preview, bytes) = pusher_message(message);
        let traceparent = obj
            .get("trace_context")
            .and_then(Value::as_object)
            .and_then(|t| text(t, "traceparent"));
        return BackplaneMessage::Broadcast(Broadcast {
            node: text(obj, "node_id"),
            app_id: text(obj, "app_id"),
            app_key: None,
            channels: vec![ch],
            event,
            bytes,
            except_socket: text(obj, "except_socket_id"),
            sent_at_ms: obj.get("timestamp_ms").and_then(Value::as_f64),
            traceparent,
            data_preview,
        });
    }
    unknown("neither a broadcast, a request nor a response")
}

/// soketi's request types, by number.
const SOKETI_TYPES: [&str; 10] = [
    "SOCKETS",
    "CHANNELS",
    "CHANNEL_SOCKETS",
    "CHANNEL_MEMBERS",
    "SOCKETS_COUNT",
    "CHANNEL_MEMBERS_COUNT",
    "CHANNEL_SOCKETS_COUNT",
    "SOCKET_EXISTS_IN_CHANNEL",
    "CHANNELS_WITH_SOCKETS_COUNT",
    "TERMINATE_USER_CONNECTIONS",
];

fn soketi(channel: &str, obj: &Obj) -> BackplaneMessage {
    if channel.ends_with("#comms#req")
        || (obj.contains_key("type") && obj.contains_key("requestId"))
    {
        let Some(id) = text(obj, "requestId") else {
            return unknown("a request without requestId");
        };
        let request_type = match obj.get("type") {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|i| SOKETI_TYPES.get(usize::try_from(i).ok()?))
                .map(|s| (*s).to_owned())
                .unwrap_or_else(|| format!("type {n}")),
            _ => text(obj, "type").unwrap_or_else(|| "?".into()),
        };
        let opts = obj.get("opts").and_then(Value::as_object);
        return BackplaneMessage::Request(Request {
            id,
            node: None,
            app_id: text(obj, "appId"),
            app_key: None,
            request_type,
            channel: opts.and_then(|o| text(o, "channel")),
            user_id: opts.and_then(|o| text(o, "userId")),
            dead_node: None,
            target_node: None,
        });
    }
    if channel.ends_with("#comms#res") || obj.contains_key("requestId") {
        let Some(id) = text(obj, "requestId") else {
            return unknown("a response without requestId");
        };
        return BackplaneMessage::Response(Response {
            id,
            node: None,
            app_id: text(obj, "appId"),
            complete: None,
            expected: None,
            received: None,
        });
    }
    if let (Some(data), Some(ch)) = (obj.get("data"), text(obj, "channel")) {
        let (event, data_preview, bytes) = pusher_message(data);
        return BackplaneMessage::Broadcast(Broadcast {
            node: text(obj, "uuid"),
            app_id: text(obj, "appId"),
            app_key: None,
            channels: vec![ch],
            event,
            bytes,
            except_socket: text(obj, "exceptingId"),
            sent_at_ms: None,
            traceparent: None,
            data_preview,
        });
    }
    unknown("neither a broadcast, a request nor a response")
}

fn reverb(obj: &Obj) -> BackplaneMessage {
    // The serialized application: its id and key, never its secret.
    let app = obj
        .get("application")
        .and_then(Value::as_str)
        .map(|s| php::app_identity(s.as_bytes()));
    let (app_id, app_key) = match app {
        Some(Ok(a)) => (
            a.id.map(|s| cut_name(&s).into_owned()),
            a.key.map(|s| cut_name(&s).into_owned()),
        ),
        // Unreadable: the app stays unnamed (the text is not shown: it holds the secret).
        _ => (None, None),
    };
    let kind = text(obj, "type").unwrap_or_else(|| "message".into());
    let payload = obj.get("payload");
    match kind.as_str() {
        "message" => {
            let Some(Value::Object(p)) = payload else {
                return unknown("a message without a payload object");
            };
            let channels = match p.get("channels").or_else(|| p.get("channel")) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .take(100)
                    .map(|s| cut_name(s).into_owned())
                    .collect(),
                Some(Value::String(s)) => vec![cut_name(s).into_owned()],
                _ => Vec::new(),
            };
            let (event, data_preview, bytes) = pusher_message(&Value::Object(p.clone()));
            BackplaneMessage::Broadcast(Broadcast {
                node: None,
                app_id,
                app_key,
                channels,
                event,
                bytes,
                except_socket: text(obj, "socket_id"),
                sent_at_ms: None,
                traceparent: None,
                data_preview,
            })
        }
        "metrics" => BackplaneMessage::Request(Request {
            id: text(obj, "key").unwrap_or_else(|| "?".into()),
            node: None,
            app_id,
            app_key,
            request_type: format!(
                "metrics:{}",
                payload
                    .and_then(Value::as_object)
                    .and_then(|p| text(p, "type"))
                    .unwrap_or_default()
            ),
            ..Request::default()
        }),
        "metrics-retrieved" => BackplaneMessage::Response(Response {
            id: text(obj, "key").unwrap_or_else(|| "?".into()),
            app_id,
            ..Response::default()
        }),
        "terminate" => BackplaneMessage::Request(Request {
            id: "-".into(),
            app_id,
            app_key,
            request_type: "terminate".into(),
            user_id: payload
                .and_then(Value::as_object)
                .and_then(|p| text(p, "user_id")),
            ..Request::default()
        }),
        other => unknown(&format!("a message of type {other}")),
    }
}

fn unknown(reason: &str) -> BackplaneMessage {
    BackplaneMessage::Unknown {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests;
