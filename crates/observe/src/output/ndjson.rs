//! NDJSON: one JSON object per line, for `jq` and friends.
//!
//! Lines are written with a formatter that escapes, beyond what JSON requires, DEL, the C1
//! controls and the bidi characters, so that even a raw `cat` of the output cannot drive a
//! terminal. `jq` decodes the escapes back to the original text.

use std::io::{self, Write};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::json_text;
use client::{DataText, Item, MemberChange, ReceivedEvent, SubscriptionStatus};
use protocol::safe_text::{JsonEscape, is_unsafe};

pub use protocol::time_text::rfc3339_millis;

/// Writes one event as a line, with its publish-to-receive latency when known. The schema of
/// `watch --json` and of recordings: `time`, `channel`, `event`, `data`, then `user_id`,
/// `error` and `latency_ms` when set.
///
/// `data` that is JSON is passed through as the publisher wrote it (see [`json_text`]), so
/// nothing is parsed into values here: key order and big numbers survive.
pub fn write_event(
    out: &mut impl Write,
    ev: &ReceivedEvent,
    latency_ms: Option<f64>,
) -> io::Result<()> {
    write_event_with(out, ev, latency_ms, None, None)
}

/// [`write_event`], with the label of the connection it came from after `time` when a run
/// has several (`"connection":"prod-eu"`); with one connection the line is [`write_event`]'s.
pub fn write_event_from(
    out: &mut impl Write,
    ev: &ReceivedEvent,
    latency_ms: Option<f64>,
    connection: Option<&str>,
) -> io::Result<()> {
    write_event_with(out, ev, latency_ms, connection, None)
}

/// [`write_event_from`], with `"hint"` last for an event no binding matched (`watch --json
/// --bind …`): `"hint":"did you mean update_event?"`.
pub fn write_event_with(
    out: &mut impl Write,
    ev: &ReceivedEvent,
    latency_ms: Option<f64>,
    connection: Option<&str>,
    hint: Option<&str>,
) -> io::Result<()> {
    out.write_all(b"{\"time\":\"")?;
    write_time(out, ev.received_at)?;
    out.write_all(b"\"")?;
    if let Some(label) = connection {
        out.write_all(b",\"connection\":")?;
        write_str(out, label)?;
    }
    out.write_all(b",\"channel\":")?;
    match &ev.channel {
        Some(channel) => write_str(out, channel)?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"event\":")?;
    write_str(out, &ev.event)?;
    out.write_all(b",\"data\":")?;
    match ev.data_text() {
        DataText::Absent => out.write_all(b"null")?,
        DataText::Json(text) => json_text::write_compact_safe(out, &text)?,
        DataText::Text(text) => write_str(out, &text)?,
    }
    if let Some(user) = ev.user_id() {
        out.write_all(b",\"user_id\":")?;
        write_str(out, user)?;
    }
    if let Some(error) = ev.decrypt_error() {
        out.write_all(b",\"error\":")?;
        write_value(out, error)?;
    }
    if let Some(l) = latency_ms {
        write!(out, ",\"latency_ms\":")?;
        write_value(out, &((l * 10.0).round() / 10.0))?;
    }
    if let Some(hint) = hint {
        out.write_all(b",\"hint\":")?;
        write_value(out, hint)?;
    }
    out.write_all(b"}\n")
}

/// Writes [`rfc3339_millis`], formatting it once per millisecond: a flood has many events in
/// each one.
fn write_time(out: &mut impl Write, time: SystemTime) -> io::Result<()> {
    thread_local! {
        static LAST: std::cell::RefCell<(u128, String)> = const { std::cell::RefCell::new((u128::MAX, String::new())) };
    }
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(u128::MAX - 1, |d| d.as_millis());
    LAST.with_borrow_mut(|(last, text)| {
        if *last != millis {
            *last = millis;
            *text = rfc3339_millis(time);
        }
        out.write_all(text.as_bytes())
    })
}

/// A string as JSON in the terminal-safe format: copied between its quotes when nothing in
/// it needs an escape (printable ASCII without `"` or `\`, as names mostly are), else
/// through the formatter.
fn write_str(out: &mut impl Write, text: &str) -> io::Result<()> {
    if text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        return out.write_all(b"\"");
    }
    write_value(out, text)
}

/// One value in the terminal-safe format, without a newline.
fn write_value<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeFormatter);
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// A non-event item as a JSON status object (for `--json-status`).
pub fn status_value(item: &Item, now: SystemTime) -> Option<Value> {
    let time = rfc3339_millis(now);
    let v = match item {
        Item::Event(_) => return None,
        Item::State(c) => serde_json::json!({
            "time": time, "type": "state", "previous": c.previous.as_str(), "current": c.current.as_str(),
            "reason": c.reason.as_ref().map(|r| r.to_string()),
            "retry_in_ms": c.retry_in.map(|d| d.as_millis() as u64),
            "socket_id": c.socket_id, "url": c.url,
        }),
        Item::Subscription { channel, status } => {
            let mut v =
                serde_json::json!({ "time": time, "type": "subscription", "channel": channel });
            let (name, failure) = match &**status {
                SubscriptionStatus::Pending => ("pending", None),
                SubscriptionStatus::Subscribed => ("subscribed", None),
                SubscriptionStatus::Unsubscribed => ("unsubscribed", None),
                SubscriptionStatus::Failed(f) => ("failed", Some(f)),
            };
            v["status"] = name.into();
            if let Some(f) = failure {
                v["error"] = f.message.clone().into();
                v["http_status"] = f.status.into();
                v["string_to_sign"] = f.string_to_sign.clone().into();
            }
            v
        }
        Item::Members {
            channel,
            change,
            count,
        } => {
            let (kind, ids): (&str, Vec<&str>) = match &**change {
                MemberChange::Snapshot { members, .. } => (
                    "members",
                    members.iter().map(|m| m.user_id.as_str()).collect(),
                ),
                MemberChange::Added(m) => ("member_added", vec![m.user_id.as_str()]),
                MemberChange::Removed(id) => ("member_removed", vec![id.as_str()]),
            };
            serde_json::json!({ "time": time, "type": kind, "channel": channel, "user_ids": ids, "count": count })
        }
        Item::SubscriptionCount { channel, count } => {
            serde_json::json!({ "time": time, "type": "subscription_count", "channel": channel, "count": count })
        }
        Item::SignedIn { user_data } => {
            serde_json::json!({ "time": time, "type": "signed_in", "user_data": user_data })
        }
        Item::Error(e) => serde_json::json!({ "time": time, "type": "error", "message": e }),
        Item::Notice(text) => {
            serde_json::json!({ "time": time, "type": "notice", "message": text })
        }
        Item::Pong { rtt } => {
            serde_json::json!({ "time": time, "type": "pong", "rtt_ms": rtt.as_secs_f64() * 1e3 })
        }
        Item::Dropped { count, total } => {
            serde_json::json!({ "time": time, "type": "dropped", "count": count, "total": total })
        }
    };
    Some(v)
}

/// Serialises `value` and a newline with the terminal-safe formatter.
pub fn write_line<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    write_value(out, value)?;
    out.write_all(b"\n")
}

/// serde_json's compact output, with unsafe characters written as `\uXXXX`.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Printable ASCII, the common case, needs no look at characters.
        if fragment.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "{}", JsonEscape(c))?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_copied_as_they_are_and_strings_escaped_are_the_same_json() {
        for text in [
            "ACME",
            "a b~!",
            "",
            "q\"uote",
            "back\\slash",
            "caf\u{e9}",
            "\u{1b}[2J",
            "\u{7f}",
        ] {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            write_str(&mut fast, text).unwrap();
            write_value(&mut slow, text).unwrap();
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn unsafe_characters_are_escaped_and_round_trip() {
        let text = "a\u{1b}[31m\u{9b}\u{202e}\u{7f}\u{e0041}z";
        let mut buf = Vec::new();
        write_line(&mut buf, &serde_json::json!({ "t": text })).unwrap();
        let line = String::from_utf8(buf).unwrap();
        assert!(line.chars().all(|c| !is_unsafe(c) || c == '\n'), "{line:?}");
        assert_eq!(
            line,
            "{\"t\":\"a\\u001b[31m\\u009b\\u202e\\u007f\\udb40\\udc41z\"}\n"
        );
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["t"], text);
    }
}
