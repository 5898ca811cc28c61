//! Recordings: what `watch --record FILE` writes and `tickertape replay FILE` reads.
//!
//! One JSON object per line. Events use the schema of `watch --json` (`time`, `channel`,
//! `event`, `data`, and `user_id`, `error`, `latency_ms` when present). Connection states,
//! subscription changes and presence members are the objects of `--json-status`, with a
//! `type` field; member lines add `members` (each `user_id` with its `user_info`) and `me`,
//! so the list replays whole. Every line is flushed as it is written, so a crash loses at
//! most the last one. Other items (pongs, notices, errors, drops) are this run's, not the
//! connection's, and are not recorded. A recording made with several connections has
//! `"connection"` (the label) on every line, as `--json` and `--json-status` have.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::output::ndjson;
use crate::pipeline::{Observed, Tap};
use client::{
    ConnectionState, Item, Labels, MemberChange, Reason, ReceivedEvent, StateChange,
    SubscriptionFailure, SubscriptionStatus,
};
use protocol::Data;
use protocol::frame::Member;

/// Appends items to a recording, one flushed line each.
pub struct Recorder<W: Write> {
    out: W,
}

impl<W: Write> Recorder<W> {
    pub fn new(out: W) -> Recorder<W> {
        Recorder { out }
    }

    pub fn record(&mut self, item: &Item, latency_ms: Option<f64>) -> io::Result<()> {
        self.record_from(item, latency_ms, None)
    }

    /// [`Recorder::record`], with the label of the item's connection when a run has several:
    /// every line then carries `"connection"`, as `--json` and `--json-status` lines do.
    pub fn record_from(
        &mut self,
        item: &Item,
        latency_ms: Option<f64>,
        connection: Option<&str>,
    ) -> io::Result<()> {
        let status = |item: &Item| {
            ndjson::status_value(item, SystemTime::now()).map(|mut v| {
                if let Some(label) = connection {
                    v["connection"] = label.into();
                }
                v
            })
        };
        match item {
            Item::Event(ev) => ndjson::write_event_from(&mut self.out, ev, latency_ms, connection)?,
            Item::State(_) | Item::Subscription { .. } => {
                if let Some(v) = status(item) {
                    ndjson::write_line(&mut self.out, &v)?;
                }
            }
            Item::Members { change, .. } => {
                if let Some(mut v) = status(item) {
                    let (members, me) = match &**change {
                        MemberChange::Snapshot { members, me } => (members.as_slice(), me.as_ref()),
                        MemberChange::Added(m) => (std::slice::from_ref(m), None),
                        MemberChange::Removed(_) => (&[][..], None),
                    };
                    if !members.is_empty() {
                        v["members"] = members
                            .iter()
                            .map(|m| serde_json::json!({"user_id": m.user_id, "user_info": m.user_info}))
                            .collect();
                    }
                    if let Some(me) = me {
                        v["me"] = me.clone().into();
                    }
                    ndjson::write_line(&mut self.out, &v)?;
                }
            }
            _ => return Ok(()),
        }
        self.out.flush()
    }
}

/// `watch --record FILE` as a [`Tap`]: every item is written with its connection's label
/// and the latency the pipeline computed. A write that fails stops the recording, and says
/// so once; the run goes on.
pub struct Recording<W: Write> {
    recorder: Option<Recorder<W>>,
    labels: Labels,
}

impl<W: Write> Recording<W> {
    pub fn new(out: W, labels: Labels) -> Recording<W> {
        Recording {
            recorder: Some(Recorder::new(out)),
            labels,
        }
    }
}

impl<W: Write + Send> Tap for Recording<W> {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        let recorder = self.recorder.as_mut()?;
        let e = recorder
            .record_from(&o.item, o.latency_ms, self.labels.get(o.conn))
            .err()?;
        self.recorder = None;
        Some(Item::Error(format!("recording stopped: {e}")))
    }
}

/// Where a recording is damaged, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Damage {
    pub line: usize,
    pub reason: String,
}

/// One line of a recording: its time and the item it holds (`None` for lines kept only
/// for people, such as other status lines).
pub fn parse_line(text: &str) -> Result<Option<(SystemTime, Item)>, String> {
    Ok(parse_tagged_line(text)?.map(|(time, item, _)| (time, item)))
}

/// [`parse_line`], with the label of the line's connection, in a recording made with several.
pub fn parse_tagged_line(text: &str) -> Result<Option<(SystemTime, Item, Option<String>)>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let time = v
        .get("time")
        .and_then(Value::as_str)
        .ok_or("no time")
        .and_then(|t| protocol::time_text::parse_rfc3339(t).ok_or("time is not RFC 3339"))?;
    let text_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    // What a server said (a reason, an error) and the URL, as they are shown live: a URL's
    // credentials and query values never come back from a file either.
    let said = |k: &str| text_of(k).map(|t| net::http_url::redact_in(&t).into_owned());
    let item = match v.get("type").and_then(Value::as_str) {
        None => {
            let event = text_of("event").ok_or("an event line has no event")?;
            let data = match v.get("data") {
                None | Some(Value::Null) => Data::Absent,
                Some(Value::String(s)) => Data::Text(s.clone()),
                Some(other) => Data::Json(other.clone()),
            };
            let mut ev = ReceivedEvent::decoded(
                time,
                text_of("channel"),
                event,
                data,
                text_of("user_id"),
                text.to_owned(),
            );
            ev.set_decrypt_error(said("error"));
            Item::from(ev)
        }
        Some("state") => {
            let state = |k: &str| match v.get(k).and_then(Value::as_str) {
                Some("connecting") => ConnectionState::Connecting,
                Some("connected") => ConnectionState::Connected,
                Some("unavailable") => ConnectionState::Unavailable,
                Some("disconnected") => ConnectionState::Disconnected,
                Some("failed") => ConnectionState::Failed,
                _ => ConnectionState::Initialized,
            };
            Item::State(Box::new(StateChange {
                previous: state("previous"),
                current: state("current"),
                reason: said("reason").map(Reason::Recorded),
                retry_in: v
                    .get("retry_in_ms")
                    .and_then(Value::as_u64)
                    .map(Duration::from_millis),
                socket_id: text_of("socket_id"),
                url: said("url").unwrap_or_default(),
            }))
        }
        Some("subscription") => Item::Subscription {
            channel: text_of("channel").ok_or("a subscription line has no channel")?,
            status: Box::new(match v.get("status").and_then(Value::as_str) {
                Some("pending") => SubscriptionStatus::Pending,
                Some("subscribed") => SubscriptionStatus::Subscribed,
                Some("unsubscribed") => SubscriptionStatus::Unsubscribed,
                _ => SubscriptionStatus::Failed(SubscriptionFailure {
                    message: said("error").unwrap_or_default(),
                    status: v
                        .get("http_status")
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok()),
                    string_to_sign: text_of("string_to_sign"),
                    auth: true,
                }),
            }),
        },
        Some(kind @ ("members" | "member_added" | "member_removed")) => members_item(kind, &v)?,
        Some(_) => return Ok(None),
    };
    Ok(Some((time, item, text_of("connection"))))
}

/// A presence line: the list on subscription, a member added, or one removed.
fn members_item(kind: &str, v: &Value) -> Result<Item, String> {
    let text_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let channel = text_of("channel").ok_or("a members line has no channel")?;
    let count = v
        .get("count")
        .and_then(Value::as_u64)
        .and_then(|c| usize::try_from(c).ok())
        .ok_or("a members line has no count")?;
    let mut members = Vec::new();
    for m in v
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        members.push(Member {
            user_id: m
                .get("user_id")
                .and_then(Value::as_str)
                .ok_or("a member has no user_id")?
                .to_owned(),
            user_info: m.get("user_info").cloned().unwrap_or(Value::Null),
        });
    }
    let change = match kind {
        "members" => MemberChange::Snapshot {
            members,
            me: text_of("me"),
        },
        "member_added" => MemberChange::Added(members.pop().ok_or("member_added names no member")?),
        _ => MemberChange::Removed(
            v.get("user_ids")
                .and_then(|ids| ids.get(0))
                .and_then(Value::as_str)
                .ok_or("member_removed names no member")?
                .to_owned(),
        ),
    };
    Ok(Item::Members {
        channel,
        change: Box::new(change),
        count,
    })
}

/// Every item of a recording, up to the first damage (which is returned too).
pub fn parse(text: &str) -> (Vec<(SystemTime, Item)>, Option<Damage>) {
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(Some(item)) => items.push(item),
            Ok(None) => {}
            Err(reason) => {
                return (
                    items,
                    Some(Damage {
                        line: n + 1,
                        reason,
                    }),
                );
            }
        }
    }
    (items, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_then_parse_round_trips() {
        let ev = Item::from(ReceivedEvent::decoded(
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_123),
            Some("c".into()),
            "e".into(),
            Data::Json(serde_json::json!({"a": 1})),
            Some("u".into()),
            String::new(),
        ));
        let sub = Item::Subscription {
            channel: "c".into(),
            status: Box::new(SubscriptionStatus::Subscribed),
        };
        let mut buf = Vec::new();
        let mut rec = Recorder::new(&mut buf);
        rec.record(&sub, None).unwrap();
        rec.record(&ev, Some(12.0)).unwrap();
        rec.record(
            &Item::Pong {
                rtt: Duration::from_millis(1),
            },
            None,
        )
        .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        let (items, damage) = parse(&text);
        assert_eq!(damage, None);
        assert_eq!(items[0].1, sub);
        match &items[1].1 {
            Item::Event(got) => {
                assert_eq!(
                    got.received_at,
                    SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_123)
                );
                assert_eq!(
                    (got.channel.as_deref(), got.event.as_str(), got.user_id()),
                    (Some("c"), "e", Some("u"))
                );
                assert_eq!(got.data(), &Data::Json(serde_json::json!({"a": 1})));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn presence_members_round_trip() {
        let member = |id: &str, info: Value| Member {
            user_id: id.into(),
            user_info: info,
        };
        let items = [
            Item::Members {
                channel: "presence-a".into(),
                change: Box::new(MemberChange::Snapshot {
                    members: vec![
                        member("ann", serde_json::json!({"name": "Ann"})),
                        member("me", Value::Null),
                    ],
                    me: Some("me".into()),
                }),
                count: 2,
            },
            Item::Members {
                channel: "presence-a".into(),
                change: Box::new(MemberChange::Added(member(
                    "bob",
                    serde_json::json!([1, "x"]),
                ))),
                count: 3,
            },
            Item::Members {
                channel: "presence-a".into(),
                change: Box::new(MemberChange::Removed("ann".into())),
                count: 2,
            },
        ];
        let mut buf = Vec::new();
        let mut rec = Recorder::new(&mut buf);
        for item in &items {
            rec.record(item, None).unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        let (parsed, damage) = parse(&text);
        assert_eq!(damage, None, "{text}");
        let parsed: Vec<Item> = parsed.into_iter().map(|(_, item)| item).collect();
        assert_eq!(parsed, items, "{text}");
        // A members line that lost its count is damage, not a guess.
        let (_, damage) =
            parse(r#"{"time":"2026-11-28T10:00:00.000Z","type":"members","channel":"p"}"#);
        assert_eq!(damage.unwrap().reason, "a members line has no count");
    }

    /// A recording written by hand (or by another tool) never brings a URL's credentials
    /// back to the screen: reasons, errors and URLs are redacted as they are live. Its times
    /// may have any offset.
    #[test]
    fn what_a_file_says_is_redacted_and_any_offset_is_read() {
        let line = r#"{"time":"2026-11-28T12:00:00+02:00","type":"state","previous":"connected","current":"connecting","reason":"closed: see https://u:PW@h.test/?token=TOK","url":"wss://u:PW@h.test/app/k?x=TOK"}"#;
        let (time, item) = parse_line(line).unwrap().unwrap();
        assert_eq!(
            protocol::time_text::rfc3339_millis(time),
            "2026-11-28T10:00:00.000Z"
        );
        let Item::State(s) = item else {
            panic!("{item:?}")
        };
        let shown = format!("{} {}", s.reason.unwrap(), s.url);
        assert!(!shown.contains("PW") && !shown.contains("TOK"), "{shown}");
        assert!(shown.contains("h.test"), "{shown}");
        let line = r#"{"time":"2026-11-28T10:00:00Z","type":"subscription","channel":"x","status":"failed","error":"see https://u:PW@h.test/?token=TOK"}"#;
        let (_, item) = parse_line(line).unwrap().unwrap();
        let Item::Subscription { status, .. } = &item else {
            panic!("{item:?}")
        };
        let SubscriptionStatus::Failed(f) = &**status else {
            panic!("{item:?}")
        };
        assert!(
            !f.message.contains("PW") && !f.message.contains("TOK"),
            "{}",
            f.message
        );
    }

    #[test]
    fn damage_is_located() {
        let good = r#"{"time":"2026-11-28T10:00:00.000Z","channel":"c","event":"e","data":1}"#;
        let text = format!("{good}\n{good}\n{{\"time\":\"2026-11-28T10:00:01.0");
        let (items, damage) = parse(&text);
        assert_eq!(items.len(), 2);
        let damage = damage.unwrap();
        assert_eq!(damage.line, 3);
        assert!(damage.reason.starts_with("not JSON"), "{damage}");
        let (_, damage) = parse(r#"{"time":"yesterday","event":"e"}"#);
        assert_eq!(damage.unwrap().reason, "time is not RFC 3339");
    }
}
