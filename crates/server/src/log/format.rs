//! One log record as a line: human text for `--log`, an NDJSON object for `--log-json`.
//! Pure. Text from the wire is made terminal-safe in text; in JSON it is escaped, and the
//! characters a terminal could act on that JSON allows raw (DEL, C1, bidi marks) are written
//! as `\uXXXX` too, so `jq` and `tail -f` show the same safe text.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::{Map, Value};

use protocol::safe_text::{JsonEscape, is_unsafe, terminal_safe};
use protocol::time_text::{clock, rfc3339_millis};

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `HH:MM:SS.mmm KIND  key=value …`, like Pusher's Debug Console.
    Text,
    /// One JSON object per line: `{"time":…,"kind":"api_message",…}`.
    Json,
}

/// One value of a record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'a> {
    Str(&'a str),
    Num(u64),
    /// A number in JSON; in the text only when it is not 0.
    Count(u64),
    /// Shown in JSON as `null`, left out of the text.
    Null,
    /// JSON only (the text says it in its note).
    Bool(bool),
    /// JSON only (the text says it in its note).
    List(&'a [String]),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Field<'a> {
        Field::Str(s)
    }
}

impl From<usize> for Field<'_> {
    fn from(n: usize) -> Self {
        Field::Num(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

impl<'a> From<Option<&'a str>> for Field<'a> {
    fn from(s: Option<&'a str>) -> Field<'a> {
        s.map_or(Field::Null, Field::Str)
    }
}

/// What one line says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub(crate) time: SystemTime,
    /// As the text shows it: `API MESSAGE`; JSON's `kind` is `api_message`.
    pub(crate) kind: &'a str,
    /// In both forms, in this order.
    pub(crate) fields: &'a [(&'a str, Field<'a>)],
    /// Free text closing the text line (`NO SUBSCRIBERS: did you mean …`); not in JSON,
    /// whose fields say the same.
    pub(crate) note: Option<&'a str>,
}

/// JSON's name for a kind: `API MESSAGE` → `api_message`.
pub(super) fn json_kind(kind: &str) -> String {
    kind.chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl Record<'_> {
    pub(crate) fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Text => self.text(),
            LogFormat::Json => self.json(),
        }
    }

    /// `12:00:00.123 API MESSAGE        app=1 channel=stock_ticker …`, newline included.
    pub(crate) fn text(&self) -> String {
        let mut out = format!("{} {:<18}", clock(self.time), terminal_safe(self.kind));
        for (key, value) in self.fields {
            match value {
                // `line()`'s free text is shown as it is (made safe).
                Field::Str(s) if *key == "text" => {
                    let _ = write!(out, " {}", terminal_safe(s));
                }
                Field::Str(s) => {
                    let _ = write!(out, " {key}={}", text_value(s));
                }
                Field::Num(n) => {
                    let _ = write!(out, " {key}={n}");
                }
                Field::Count(n) if *n > 0 => {
                    let _ = write!(out, " {key}={n}");
                }
                Field::Count(_) | Field::Null | Field::Bool(_) | Field::List(_) => {}
            }
        }
        if let Some(note) = self.note {
            let _ = write!(out, "  {}", terminal_safe(note));
        }
        out.push('\n');
        out
    }

    /// `{"time":"…Z","kind":"api_message",…}`, newline included.
    pub(crate) fn json(&self) -> String {
        let mut map = Map::new();
        map.insert("time".into(), rfc3339_millis(self.time).into());
        map.insert("kind".into(), json_kind(self.kind).into());
        for (key, value) in self.fields {
            let value = match value {
                Field::Str(s) => Value::from(*s),
                Field::Num(n) | Field::Count(n) => Value::from(*n),
                Field::Null => Value::Null,
                Field::Bool(b) => Value::from(*b),
                Field::List(l) => Value::from(l.to_vec()),
            };
            map.insert((*key).to_owned(), value);
        }
        let mut out = json_safe(&Value::Object(map).to_string());
        out.push('\n');
        out
    }
}

/// A value for `key=value`: quoted when it is empty or holds a space, a quote or `=`, so
/// a line still splits into its pairs; always terminal-safe.
fn text_value(s: &str) -> String {
    let plain = !s.is_empty() && !s.contains([' ', '"', '=', '\\']);
    if plain {
        return terminal_safe(s).into_owned();
    }
    let quoted = format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    terminal_safe(&quoted).into_owned()
}

/// serde_json's compact output with every character a terminal may act on written as a
/// `\uXXXX` escape. Outside strings that output is plain ASCII, so every such character is
/// inside a string, where the escape means the same character.
fn json_safe(json: &str) -> String {
    if !json.chars().any(is_unsafe) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            // Outside the Basic Multilingual Plane (a tag), a surrogate pair.
            let _ = write!(out, "{}", JsonEscape(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_123)
    }

    #[test]
    fn text_is_key_value_pairs_after_the_time_and_kind() {
        let suggestions = ["stock_ticker".to_owned()];
        let r = Record {
            time: at(),
            kind: "API MESSAGE",
            fields: &[
                ("app", "1".into()),
                ("channel", "stock-ticker".into()),
                ("event", "price".into()),
                ("bytes", 42.into()),
                ("recipients", 0.into()),
                ("excluded", None.into()),
                ("no_subscribers", Field::Bool(true)),
                ("suggestions", Field::List(&suggestions)),
            ],
            note: Some("NO SUBSCRIBERS: did you mean stock_ticker?"),
        };
        assert_eq!(
            r.text(),
            "11:06:40.123 API MESSAGE        app=1 channel=stock-ticker event=price bytes=42 \
             recipients=0  NO SUBSCRIBERS: did you mean stock_ticker?\n"
        );
        let v: Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "time": "2026-11-18T11:06:40.123Z", "kind": "api_message", "app": "1",
                "channel": "stock-ticker", "event": "price", "bytes": 42, "recipients": 0,
                "excluded": null, "no_subscribers": true, "suggestions": ["stock_ticker"],
            })
        );
        assert!(r.json().ends_with("}\n") && r.json().lines().count() == 1);
    }

    #[test]
    fn wire_text_is_terminal_safe_in_both_forms() {
        let evil = "a\u{1b}]52;c;aGk=\u{7} b\u{202e}\u{9b}\u{7f}\n\"q\"\u{e0041}";
        let r = Record {
            time: at(),
            kind: "SIGNIN",
            fields: &[("user", evil.into()), ("text", evil.into())],
            note: Some(evil),
        };
        let text = r.text();
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(!text.trim_end().chars().any(is_unsafe), "{text:?}");
        assert!(
            text.contains(r#"user="a\e]52;c;aGk=\u{7} b\u{202e}\u{9b}\u{7f}\n\"q\"\u{e0041}""#)
        );
        let json = r.json();
        assert_eq!(json.lines().count(), 1);
        assert!(!json.trim_end().chars().any(is_unsafe), "{json:?}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["user"], evil, "JSON escaping keeps the text exactly");
        assert_eq!(v["text"], evil);
        assert!(v.get("note").is_none());
    }

    #[test]
    fn plain_values_are_bare_and_others_quoted() {
        assert_eq!(text_value("private-chat.1"), "private-chat.1");
        assert_eq!(text_value(""), r#""""#);
        assert_eq!(text_value("two words"), r#""two words""#);
        assert_eq!(text_value("a=b"), r#""a=b""#);
        assert_eq!(json_kind("CLIENT EVENT"), "client_event");
    }
}
