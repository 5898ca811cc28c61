//! Frames a client sends (§3), encoded as pusher-js does (`data` as an object).

use serde_json::{Value, json};

use super::{DecodeError, Event, bad, decode_envelope, encode_event};

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
