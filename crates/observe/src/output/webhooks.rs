//! A received webhook as text: one readable line per event (with why and the expected
//! signature under an invalid one), or one NDJSON object per event. Everything from the
//! request is made terminal-safe; no secret reaches this module.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};

use super::json_text::compact_safe;
use protocol::safe_text::terminal_safe;
use protocol::time_text::{clock, rfc3339_millis};
use protocol::webhook::check::Check;

/// Longest data shown on a readable line; `--json` shows it whole.
const MAX_DATA_CHARS: usize = 500;

/// What one request brought: its headers' values, its body, and the check's result.
pub struct Received<'a> {
    pub at: SystemTime,
    pub key: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
    pub check: &'a Check,
}

/// A body read leniently: any event name, data of any JSON type, so that what a server
/// sends is shown rather than refused.
#[derive(Deserialize)]
pub(super) struct Body {
    pub time_ms: u64,
    pub events: Vec<Event>,
}

#[derive(Deserialize)]
pub(super) struct Event {
    pub name: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub user_id: Option<Value>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub socket_id: Option<String>,
}

/// The body parsed, or why it is not a webhook's.
pub(super) fn parse(body: &[u8]) -> Result<Body, String> {
    serde_json::from_slice::<Body>(body).map_err(|e| {
        let what = if serde_json::from_slice::<Value>(body).is_ok() {
            "JSON, but not a webhook's {\"time_ms\", \"events\": […]}"
        } else {
            "not JSON"
        };
        format!("the body is {what}: {e}")
    })
}

/// One text per webhook event (a body that is not a webhook's counts as one), each ending
/// with a newline. Whether the body is a webhook's comes second.
pub fn render(r: &Received<'_>, json: bool) -> (Vec<String>, bool) {
    let parsed = parse(r.body);
    let is_webhook = parsed.is_ok();
    let mut texts = match (&parsed, json) {
        (Ok(body), true) => body
            .events
            .iter()
            .map(|e| json_line(r, Some(body), Some(e), None))
            .collect(),
        (Err(error), true) => vec![json_line(r, None, None, Some(error))],
        (Ok(body), false) => body
            .events
            .iter()
            .map(|e| human_line(r, &event_text(e)))
            .collect(),
        (Err(error), false) => vec![human_line(r, &terminal_safe(error))],
    };
    if texts.is_empty() {
        // `"events": []`: still a request worth showing.
        texts.push(if json {
            json_line(
                r,
                parsed.as_ref().ok(),
                None,
                Some(&"the webhook has no events".into()),
            )
        } else {
            human_line(r, "(no events)")
        });
    }
    if !json
        && !r.check.is_valid()
        && let Some(last) = texts.last_mut()
    {
        last.push_str(&why(r));
    }
    (texts, is_webhook)
}

pub(super) fn app_text(r: &Received<'_>) -> String {
    match (&r.check.app, r.key) {
        (Some(id), _) => format!("app {}", terminal_safe(id)),
        (None, Some(key)) => format!("key {}", terminal_safe(key)),
        (None, None) => "no key".to_owned(),
    }
}

fn human_line(r: &Received<'_>, what: &str) -> String {
    let mark = if r.check.is_valid() {
        "valid  "
    } else {
        "INVALID"
    };
    format!("{} {mark} {} {what}\n", clock(r.at), app_text(r))
}

fn event_text(e: &Event) -> String {
    let mut text = format!(
        "{} {}",
        terminal_safe(&e.name),
        terminal_safe(e.channel.as_deref().unwrap_or("(no channel)"))
    );
    if let Some(user) = &e.user_id {
        text.push_str(&format!(" user {}", terminal_safe(&value_text(user))));
    }
    if let Some(event) = &e.event {
        text.push_str(&format!(" event {}", terminal_safe(event)));
    }
    if let Some(socket) = &e.socket_id {
        text.push_str(&format!(" socket {}", terminal_safe(socket)));
    }
    if let Some(data) = &e.data {
        let data = value_text(data);
        let shown: String = data.chars().take(MAX_DATA_CHARS).collect();
        let more = if shown.len() < data.len() { "…" } else { "" };
        text.push_str(&format!(" data {}{more}", terminal_safe(&shown)));
    }
    text
}

/// A string as itself, anything else as compact JSON.
pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Why an invalid webhook is invalid, the signature expected and the one received, each
/// terminal-safe.
pub(super) struct Why {
    pub reason: String,
    pub expected: String,
    pub received: String,
}

pub(super) fn why_parts(r: &Received<'_>) -> Why {
    let reason = r.check.verdict.reason(r.check.app.as_deref());
    Why {
        reason: terminal_safe(&reason).into_owned(),
        expected: r
            .check
            .expected
            .clone()
            .unwrap_or_else(|| "unknown (no app for this key)".into()),
        received: r
            .signature
            .map_or_else(|| "none".into(), |s| terminal_safe(s).into_owned()),
    }
}

/// The lines under an invalid webhook: why, and the signatures.
fn why(r: &Received<'_>) -> String {
    let Why {
        reason,
        expected,
        received,
    } = why_parts(r);
    format!("  why: {reason}\n  expected signature {expected}\n  received signature {received}\n")
}

fn json_line(
    r: &Received<'_>,
    body: Option<&Body>,
    e: Option<&Event>,
    error: Option<&String>,
) -> String {
    let valid = r.check.is_valid();
    let mut object = json!({
        "time_ms": body.map(|b| b.time_ms),
        "received_at": rfc3339_millis(r.at),
        "app": r.check.app,
        "key": r.key,
        "name": e.map(|e| &e.name),
        "channel": e.and_then(|e| e.channel.as_ref()),
        "user_id": e.and_then(|e| e.user_id.as_ref()),
        "event": e.and_then(|e| e.event.as_ref()),
        "data": e.and_then(|e| e.data.as_ref()),
        "socket_id": e.and_then(|e| e.socket_id.as_ref()),
        "valid": valid,
        "reason": (!valid).then(|| r.check.verdict.reason(r.check.app.as_deref())),
        "expected_signature": if valid { None } else { r.check.expected.as_deref() },
        "signature": r.signature,
    });
    if let (Some(error), Some(map)) = (error, object.as_object_mut()) {
        map.insert("error".into(), Value::String(error.clone()));
    }
    format!("{}\n", compact_safe(&object.to_string()))
}

/// How long, for messages: `10s`, `250ms`.
pub fn duration_text(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A request of app 1 (key `app-key`, secret `app-secret`) at the epoch, checked, for the
/// tests of what is made of it.
#[cfg(test)]
pub(super) fn with_received<T>(
    body: &[u8],
    sig: Option<&str>,
    f: impl FnOnce(&Received<'_>) -> T,
) -> T {
    use protocol::webhook::check::{AppSecret, check};
    let apps = [AppSecret {
        id: "1",
        key: "app-key",
        secret: "app-secret",
    }];
    let c = check(&apps, Some("app-key"), sig, body);
    f(&Received {
        at: SystemTime::UNIX_EPOCH,
        key: Some("app-key"),
        signature: sig,
        body,
        check: &c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::webhook::sign;

    fn show(body: &[u8], sig: Option<&str>, json: bool) -> (Vec<String>, bool) {
        with_received(body, sig, |r| render(r, json))
    }

    #[test]
    fn events_become_lines_and_objects() {
        let body = br#"{"time_ms":5,"events":[{"name":"client_event","channel":"private-c","event":"client-x","data":"{\"a\":1}","socket_id":"1.2","user_id":"u"},{"name":"subscription_count","channel":"c","subscription_count":3}]}"#;
        let sig = sign("app-secret", body);
        let (lines, ok) = show(body, Some(&sig), false);
        assert!(ok);
        assert_eq!(
            lines[0],
            "00:00:00.000 valid   app 1 client_event private-c user u event client-x socket 1.2 data {\"a\":1}\n"
        );
        assert_eq!(
            lines[1],
            "00:00:00.000 valid   app 1 subscription_count c\n"
        );
        let (objects, _) = show(body, Some(&sig), true);
        let v: Value = serde_json::from_str(&objects[0]).unwrap();
        assert_eq!(v["name"], "client_event");
        assert_eq!(v["time_ms"], 5);
        assert_eq!(v["valid"], true);
        assert_eq!(v["reason"], Value::Null);
    }

    #[test]
    fn an_invalid_one_says_why_and_what_was_expected_and_hostile_text_is_escaped() {
        let body = b"{\"time_ms\":1,\"events\":[{\"name\":\"channel_occupied\",\"channel\":\"\\u001b[31mred\"}]}";
        let (lines, _) = show(body, Some("00"), false);
        let text = lines.concat();
        assert!(
            text.contains("INVALID app 1 channel_occupied \\e[31mred"),
            "{text}"
        );
        assert!(
            text.contains("why: X-Pusher-Signature has 2 hex digits"),
            "{text}"
        );
        assert!(text.contains(&format!("expected signature {}", sign("app-secret", body))));
        assert!(!text.contains('\u{1b}') && !text.contains("app-secret"));
        let (objects, _) = show(body, None, true);
        assert!(!objects[0].contains('\u{1b}'));
        let v: Value = serde_json::from_str(&objects[0]).unwrap();
        assert_eq!(v["channel"], "\u{1b}[31mred");
        assert_eq!(v["valid"], false);
        assert_eq!(v["expected_signature"], sign("app-secret", body));
    }

    #[test]
    fn a_body_that_is_not_a_webhook_is_one_report() {
        for body in [&b"nonsense"[..], b"{\"events\":3}", b"\xff\xfe"] {
            let (lines, ok) = show(body, None, false);
            assert!(!ok && lines.len() == 1, "{lines:?}");
            let (objects, _) = show(body, None, true);
            let v: Value = serde_json::from_str(&objects[0]).unwrap();
            assert_eq!(v["name"], Value::Null);
            assert!(v["error"].as_str().unwrap().starts_with("the body is"));
        }
    }
}
