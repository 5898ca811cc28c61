//! Pusher webhooks (the server tells an app's URL what happened): the body, its events, and
//! the `X-Pusher-Signature` over it. Pure: the sender and the receiver both build on this.
//!
//! A request is a POST with a JSON body `{"time_ms": …, "events": [ … ]}`, the app's key in
//! `X-Pusher-Key`, and in `X-Pusher-Signature` the lowercase hex HMAC-SHA256 of the body's
//! exact bytes under the app's secret.

pub mod check;

use serde::{Deserialize, Serialize};

use super::signature::{hmac_sha256_hex, verify_hex};

/// Header naming the app's key.
pub const KEY_HEADER: &str = "X-Pusher-Key";
/// Header carrying the hex HMAC-SHA256 of the body.
pub const SIGNATURE_HEADER: &str = "X-Pusher-Signature";

/// The kinds of event a webhook reports, in Pusher's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ChannelOccupied,
    ChannelVacated,
    MemberAdded,
    MemberRemoved,
    ClientEvent,
    CacheMiss,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::ChannelOccupied,
        Kind::ChannelVacated,
        Kind::MemberAdded,
        Kind::MemberRemoved,
        Kind::ClientEvent,
        Kind::CacheMiss,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ChannelOccupied => "channel_occupied",
            Kind::ChannelVacated => "channel_vacated",
            Kind::MemberAdded => "member_added",
            Kind::MemberRemoved => "member_removed",
            Kind::ClientEvent => "client_event",
            Kind::CacheMiss => "cache_miss",
        }
    }

    /// The kind named `name`, as written in Pusher's docs and in a config file.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a webhook. Fields a kind does not carry are absent from the JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub name: Kind,
    pub channel: String,
    /// `member_added`, `member_removed`; `client_event` on a presence channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `client_event`: the event's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `client_event`: the event's data, as the client sent it (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// `client_event`: the sender's socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_id: Option<String>,
}

impl WebhookEvent {
    /// An event that carries only a channel (occupied, vacated, cache miss).
    pub fn channel(name: Kind, channel: impl Into<String>) -> WebhookEvent {
        WebhookEvent {
            name,
            channel: channel.into(),
            user_id: None,
            event: None,
            data: None,
            socket_id: None,
        }
    }

    /// `member_added` or `member_removed`.
    pub fn member(name: Kind, channel: impl Into<String>, user_id: impl Into<String>) -> Self {
        WebhookEvent {
            user_id: Some(user_id.into()),
            ..WebhookEvent::channel(name, channel)
        }
    }

    /// Bytes this event adds to a body, roughly: what a byte-bounded queue counts.
    pub fn weight(&self) -> usize {
        64 + self.channel.len()
            + self.user_id.as_ref().map_or(0, String::len)
            + self.event.as_ref().map_or(0, String::len)
            + self.data.as_ref().map_or(0, String::len)
            + self.socket_id.as_ref().map_or(0, String::len)
    }
}

/// A webhook's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookBody {
    pub time_ms: u64,
    pub events: Vec<WebhookEvent>,
}

impl WebhookBody {
    /// The body as sent: compact JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain structs of strings and integers always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// `X-Pusher-Signature` for `body` under the app's `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    hmac_sha256_hex(secret.as_bytes(), body)
}

/// Whether `signature` is the right one for `body` under `secret` (constant time).
pub fn verify(secret: &str, body: &[u8], signature: &str) -> bool {
    verify_hex(secret.as_bytes(), body, signature.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_pushers_shape_and_signs_its_exact_bytes() {
        let body = WebhookBody {
            time_ms: 1327078148132,
            events: vec![
                WebhookEvent::channel(Kind::ChannelOccupied, "stock_ticker"),
                WebhookEvent::member(Kind::MemberAdded, "presence-room", "u1"),
            ],
        };
        let bytes = body.to_bytes();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"stock_ticker"},{"name":"member_added","channel":"presence-room","user_id":"u1"}]}"#
        );
        let sig = sign("secret", &bytes);
        assert!(verify("secret", &bytes, &sig));
        assert!(!verify("other", &bytes, &sig));
        let mut changed = bytes.clone();
        changed.push(b' ');
        assert!(!verify("secret", &changed, &sig));
        assert!(!verify("secret", &bytes, "not hex"));
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("channel_exists"), None);
    }
}
