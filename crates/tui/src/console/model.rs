//! The console's inputs, and its filter.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use bounded::Weigh;

/// What the console is fed.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Entry(Entry),
    Snapshot(Snapshot),
}

impl Weigh for Input {
    fn weight(&self) -> usize {
        match self {
            Input::Entry(e) => e.weight(),
            Input::Snapshot(s) => s.weight(),
        }
    }
}

/// One line of the server's log: its kind (`CONNECTION`, `SUBSCRIBED`, `API MESSAGE`,
/// `CLIENT EVENT`, `WEBHOOK SENT`, …) and its fields, as text, in the log's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub time: SystemTime,
    pub kind: String,
    pub fields: Vec<(String, String)>,
    /// What the line says after its fields (`NO SUBSCRIBERS: did you mean …`).
    pub note: Option<String>,
}

impl Entry {
    /// A field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn channel(&self) -> Option<&str> {
        self.field("channel")
    }

    pub fn event(&self) -> Option<&str> {
        self.field("event")
    }

    /// A publish that found no subscriber.
    pub fn to_nobody(&self) -> bool {
        self.field("no_subscribers") == Some("true")
    }
}

impl Weigh for Entry {
    fn weight(&self) -> usize {
        size_of::<Entry>()
            + self.kind.len()
            + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2 * size_of::<String>())
                .sum::<usize>()
            + self.note.as_ref().map_or(0, String::len)
    }
}

/// The hub at one instant, bounded by whoever made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub connections: u64,
    /// Opened and closed since the start: rates come from two snapshots.
    pub opened: u64,
    pub closed: u64,
    pub channels: Vec<ChannelRow>,
    /// Occupied channels in all (more than `channels` holds when it was cut).
    pub channels_total: u64,
    /// The members of the channel the console asked about.
    pub members: Option<Members>,
}

impl Weigh for Snapshot {
    fn weight(&self) -> usize {
        size_of::<Snapshot>()
            + self
                .channels
                .iter()
                .map(|c| size_of::<ChannelRow>() + c.app.len() + c.name.len())
                .sum::<usize>()
            + self.members.as_ref().map_or(0, |m| {
                m.channel.len()
                    + m.app.len()
                    + m.user_ids
                        .iter()
                        .map(|u| u.len() + size_of::<String>())
                        .sum::<usize>()
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub app: String,
    pub name: String,
    pub subscribers: u64,
    /// Presence channels: their members.
    pub members: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub app: String,
    pub channel: String,
    pub user_ids: Vec<String>,
    pub total: u64,
}

/// What the console asks of the server it shows: which channel's members to copy next, and
/// a test event to trigger (its answer, or why not).
pub trait Backend: Send + Sync {
    fn focus(&self, channel: Option<(String, String)>);
    fn trigger(
        &self,
        app: String,
        channel: String,
        event: String,
        data: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;
}

/// Which entries the log shows. Pluggable: the text filter below, or any other predicate
/// (a jq expression over the entry's fields, say).
pub trait Predicate: Send + Sync + std::fmt::Debug {
    fn matches(&self, entry: &Entry) -> bool;
    /// What the title says of it.
    fn describe(&self) -> String;
}

/// The filter the console types: words, each of which must match. `type:api` (a kind,
/// case-insensitive prefix: `api`, `client`, `webhook`, `subscribed`, `connection`…),
/// `channel:NAME` and `event:NAME` (substrings), and bare words matched anywhere in the
/// entry (kind, fields and note).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFilter {
    kinds: Vec<String>,
    channels: Vec<String>,
    events: Vec<String>,
    words: Vec<String>,
    source: String,
}

impl TextFilter {
    pub fn parse(text: &str) -> TextFilter {
        let mut f = TextFilter {
            source: text.trim().to_owned(),
            ..TextFilter::default()
        };
        for word in text.split_whitespace() {
            let lower = word.to_lowercase();
            if let Some(v) = lower.strip_prefix("type:") {
                f.kinds.push(v.to_owned());
            } else if let Some(v) = word.strip_prefix("channel:") {
                f.channels.push(v.to_owned());
            } else if let Some(v) = word.strip_prefix("event:") {
                f.events.push(v.to_owned());
            } else {
                f.words.push(lower);
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }
}

impl Predicate for TextFilter {
    fn matches(&self, e: &Entry) -> bool {
        let kind = e.kind.to_lowercase();
        let kind_ok = self.kinds.is_empty() || self.kinds.iter().any(|k| kind.starts_with(k));
        let channel_ok = self
            .channels
            .iter()
            .all(|c| e.channel().is_some_and(|ch| ch.contains(c.as_str())));
        let event_ok = self
            .events
            .iter()
            .all(|v| e.event().is_some_and(|ev| ev.contains(v.as_str())));
        kind_ok
            && channel_ok
            && event_ok
            && self.words.iter().all(|w| {
                kind.contains(w.as_str())
                    || e.fields
                        .iter()
                        .any(|(_, v)| v.to_lowercase().contains(w.as_str()))
                    || e.note
                        .as_ref()
                        .is_some_and(|n| n.to_lowercase().contains(w.as_str()))
            })
    }

    fn describe(&self) -> String {
        self.source.clone()
    }
}

/// A jq expression (as `watch --where` takes) over an entry as one object: `type` is its
/// kind, each field its value (JSON when its text is a number, a boolean, an object or an
/// array, such as an API message's `data`; else the text), and `note` what the line says
/// after its fields. An entry the expression fails on is not shown, and counted.
#[derive(Debug)]
pub struct JqFilter {
    jq: observe::jq::Jq,
    errors: std::sync::atomic::AtomicU64,
}

impl JqFilter {
    pub fn new(jq: observe::jq::Jq) -> JqFilter {
        JqFilter {
            jq,
            errors: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The entry as the expression sees it.
    pub fn value(e: &Entry) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), e.kind.clone().into());
        for (k, v) in &e.fields {
            let value = match serde_json::from_str::<serde_json::Value>(v) {
                Ok(json) if !json.is_string() && !json.is_null() => json,
                _ => v.clone().into(),
            };
            object.insert(k.clone(), value);
        }
        if let Some(note) = &e.note {
            object.insert("note".into(), note.clone().into());
        }
        serde_json::Value::Object(object)
    }
}

impl Predicate for JqFilter {
    fn matches(&self, e: &Entry) -> bool {
        self.jq
            .passes_value(&JqFilter::value(e))
            .unwrap_or_else(|_| {
                self.errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                false
            })
    }

    fn describe(&self) -> String {
        match self.errors.load(std::sync::atomic::Ordering::Relaxed) {
            0 => self.jq.text().to_owned(),
            n => format!("{} ({n} entries failed it)", self.jq.text()),
        }
    }
}

/// The console's filter: none, or a predicate.
#[derive(Debug, Default)]
pub struct Filter(pub Option<Box<dyn Predicate>>);

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        self.0.as_ref().is_none_or(|p| p.matches(e))
    }
}
