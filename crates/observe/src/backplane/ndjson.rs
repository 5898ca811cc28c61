//! `tap --json`: one object per backplane message, and one per notice, each a line. Every
//! string from the wire is escaped as the rest of the NDJSON output is (controls, bidi and
//! format characters as `\uXXXX`); Reverb's serialized application is never written, only
//! the app id and key read out of it.

use std::time::{Duration, SystemTime};

use protocol::backplane::BackplaneMessage;
use protocol::time_text::rfc3339_millis;
use serde_json::{Value, json};

use super::model::{Notice, latency_ms};

/// The line (without its newline) for `message`, read on `channel` at `wall`, `bytes` long;
/// `round_trip` is a response's time since its request, when the tap saw both.
pub fn message_line(
    message: &BackplaneMessage,
    channel: &str,
    bytes: usize,
    wall: SystemTime,
    round_trip: Option<Duration>,
) -> String {
    let mut v = json!({
        "time": rfc3339_millis(wall),
        "type": message.kind(),
        "backplane_channel": channel,
        "bytes": bytes,
    });
    let o = v.as_object_mut().expect("an object");
    let mut put = |k: &str, value: Value| {
        if !value.is_null() {
            o.insert(k.to_owned(), value);
        }
    };
    match message {
        BackplaneMessage::Broadcast(b) => {
            put("node", json!(b.node));
            put("app_id", json!(b.app_id));
            put("app_key", json!(b.app_key));
            put("channel", json!(b.channels.first()));
            if b.channels.len() > 1 {
                put("channels", json!(b.channels));
            }
            put("event", json!(b.event));
            put("size", json!(b.bytes));
            put("except_socket_id", json!(b.except_socket));
            put(
                "latency_ms",
                json!(latency_ms(b.sent_at_ms, wall).map(round3)),
            );
            put("traceparent", json!(b.traceparent));
            put("data", json!(b.data_preview));
        }
        BackplaneMessage::Request(r) => {
            put("request_type", json!(r.request_type));
            put("request_id", json!(r.id));
            put("node", json!(r.node));
            put("app_id", json!(r.app_id));
            put("app_key", json!(r.app_key));
            put("channel", json!(r.channel));
            put("user_id", json!(r.user_id));
            put("dead_node", json!(r.dead_node));
            put("target_node", json!(r.target_node));
        }
        BackplaneMessage::Response(r) => {
            put("request_id", json!(r.id));
            put("node", json!(r.node));
            put("app_id", json!(r.app_id));
            put("complete", json!(r.complete));
            put("expected_responses", json!(r.expected));
            put("responses_received", json!(r.received));
            put(
                "round_trip_ms",
                json!(round_trip.map(|d| round3(d.as_secs_f64() * 1000.0))),
            );
        }
        BackplaneMessage::Unknown { reason } => put("reason", json!(reason)),
    }
    super::super::output::json_text::compact_safe(&v.to_string()).into_owned()
}

/// `{"type":"notice",…}`.
pub fn notice_line(notice: &Notice, wall: SystemTime) -> String {
    let kind = match notice {
        Notice::NodeSeen(_) => "node_seen",
        Notice::NodeDead { .. } => "node_dead",
        Notice::CountsDiffer { .. } => "counts_differ",
        Notice::CountsAgree(_) => "counts_agree",
        Notice::Incomplete(_) => "request_incomplete",
    };
    let mut v = json!({
        "time": rfc3339_millis(wall),
        "type": "notice",
        "notice": kind,
        "text": notice.text(),
    });
    match notice {
        Notice::CountsDiffer { numsub, heartbeats } => {
            v["numsub"] = json!(numsub);
            v["heartbeat_nodes"] = json!(heartbeats);
        }
        Notice::CountsAgree(n) => v["numsub"] = json!(n),
        _ => {}
    }
    super::super::output::json_text::compact_safe(&v.to_string()).into_owned()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::backplane::{Server, decode};

    #[test]
    fn a_broadcast_line_is_terminal_safe() {
        let payload = "{\"node_id\":\"n\\u202e1\",\"app_id\":\"a\",\"channel\":\"c\\u001b[2J\",\"message\":\"{\\\"event\\\":\\\"e\\\",\\\"data\\\":\\\"\\\\u0007\\\"}\",\"except_socket_id\":null}";
        let m = decode(Server::Sockudo, "x#broadcast", payload.as_bytes());
        let line = message_line(
            &m,
            "x#broadcast",
            payload.len(),
            SystemTime::UNIX_EPOCH,
            None,
        );
        assert!(!line.chars().any(protocol::safe_text::is_unsafe), "{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "broadcast");
        assert_eq!(v["channel"], "c\u{1b}[2J");
        assert_eq!(v["node"], "n\u{202e}1");
    }
}
