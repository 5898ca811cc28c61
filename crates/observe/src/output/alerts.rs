//! Alert and recovery lines for stderr: readable, or one JSON object per line with
//! `--json-status`. Pure: the caller gives the times as wall-clock readings.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::lines::clock;
use super::ndjson::rfc3339_millis;
use crate::expect::{Change, Transition};
use protocol::safe_text::terminal_safe;

/// `{"time":…,"type":"expectation","expectation":…,"state":"alert"|"recovered","level":…,"since":…,"detail":…}`,
/// with `subject` (the ticker key) when the rule is kept per key, and `connection` (its
/// label) for `connected` with several connections.
pub fn alert_value(t: &Transition, at: SystemTime, since: SystemTime) -> Value {
    let mut v = json!({
        "time": rfc3339_millis(at),
        "type": "expectation",
        "expectation": t.expectation,
        "state": state(t),
        "level": t.level.as_str(),
        "since": rfc3339_millis(since),
        "detail": t.detail,
    });
    if let Some(map) = v.as_object_mut() {
        if let Some(subject) = &t.subject {
            map.insert("subject".into(), json!(subject));
        }
        if let Some(connection) = &t.connection {
            map.insert("connection".into(), json!(connection));
        }
    }
    v
}

/// `ALERT stock_ticker/update_event<1s: no event for 1.1s (every 1s), since 10:00:00.000`;
/// with several connections, `ALERT connected<5s: eu: down for 12.0s (grace 5s), since …`.
pub fn alert_line(t: &Transition, since: SystemTime) -> String {
    let subject = t
        .subject
        .as_ref()
        .map_or(String::new(), |s| format!(" [{s}]"));
    let text = format!(
        "{} {}{subject}: {}, {} {}",
        match t.change {
            Change::Alert => "ALERT",
            Change::Recovery => "RECOVERED",
        },
        t.expectation,
        named(t.connection.as_deref(), &t.detail),
        match t.change {
            Change::Alert => "since",
            Change::Recovery => "broken since",
        },
        clock(since)
    );
    terminal_safe(&text).into_owned()
}

fn state(t: &Transition) -> &'static str {
    match t.change {
        Change::Alert => "alert",
        Change::Recovery => "recovered",
    }
}

/// `detail`, after the label of the connection it is about (`eu: down for 12.0s`), if any.
pub fn named(connection: Option<&str>, detail: &str) -> String {
    match connection {
        Some(label) => format!("{label}: {detail}"),
        None => detail.to_owned(),
    }
}
