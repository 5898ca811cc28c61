//! A line of the watch screen's log: an event, which it shares (one `Arc`, no copy of the
//! frame or its data) with its names cut and the start of its data as text for the pane and
//! the search; or a line from tickertape itself. A line carries its connection as a value:
//! the label is put before the channel when the line is drawn.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use bounded::Weigh;
use serde_json::Value;

use super::names::{bounded, json_text, name};
use client::{Conn, ReceivedEvent};
use protocol::Data;

/// Longest data text kept per log line (the inspect view reads the event itself).
pub const MAX_LOG_TEXT: usize = 2048;

/// Longest frame the inspect view shows, and the longest data it pretty-prints (longer data
/// shows as its text).
pub const MAX_RAW: usize = 8 * 1024;

/// What a line is.
#[derive(Debug, Clone)]
pub enum Kind {
    Event {
        event: Arc<ReceivedEvent>,
        /// No binding matched it.
        unbound: bool,
        /// Publish-to-receive latency, when the event carries a timestamp.
        latency_ms: Option<f64>,
    },
    /// A line from tickertape itself: a state change, an error, an export's path.
    Notice,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    /// The connection it came through; none for tickertape's own notes.
    pub conn: Option<Conn>,
    pub time: SystemTime,
    /// The channel, cut (`tickertape` for a notice, `-` for an event on none).
    pub channel: String,
    /// The event's name, cut, or what a notice is about.
    pub event: String,
    /// The data as compact text, at most [`MAX_LOG_TEXT`] bytes; a notice's text.
    pub text: String,
    pub kind: Kind,
}

impl LogLine {
    /// An event's line.
    pub fn event(
        conn: Option<Conn>,
        event: ReceivedEvent,
        unbound: bool,
        latency_ms: Option<f64>,
        ellipsis: &str,
    ) -> LogLine {
        let text = match event.data() {
            Data::Absent => String::new(),
            Data::Json(v) => json_text(v, MAX_LOG_TEXT, ellipsis),
            Data::Text(t) => bounded(t, MAX_LOG_TEXT, ellipsis),
        };
        LogLine {
            conn,
            time: event.received_at,
            channel: name(event.channel.as_deref().unwrap_or("-"), ellipsis),
            event: name(&event.event, ellipsis),
            text,
            kind: Kind::Event {
                event: Arc::new(event),
                unbound,
                latency_ms,
            },
        }
    }

    /// A line of tickertape's own about `what`.
    pub fn notice(
        conn: Option<Conn>,
        time: SystemTime,
        what: &str,
        text: &str,
        ellipsis: &str,
    ) -> LogLine {
        LogLine {
            conn,
            time,
            channel: "tickertape".into(),
            event: what.into(),
            text: bounded(text, MAX_LOG_TEXT, ellipsis),
            kind: Kind::Notice,
        }
    }

    pub fn is_notice(&self) -> bool {
        matches!(self.kind, Kind::Notice)
    }

    pub fn is_unbound(&self) -> bool {
        matches!(self.kind, Kind::Event { unbound: true, .. })
    }

    pub fn latency_ms(&self) -> Option<f64> {
        match self.kind {
            Kind::Event { latency_ms, .. } => latency_ms,
            Kind::Notice => None,
        }
    }

    /// The event, for a line that is one.
    pub fn received(&self) -> Option<&ReceivedEvent> {
        match &self.kind {
            Kind::Event { event, .. } => Some(event),
            Kind::Notice => None,
        }
    }

    /// The data as JSON, when it is JSON.
    pub fn value(&self) -> Option<&Value> {
        match self.received()?.data() {
            Data::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The data inspect pretty-prints value by value (its cursor's): JSON, and small
    /// enough ([`MAX_RAW`]); else inspect shows [`LogLine::pretty`]'s text.
    pub fn inspectable(&self) -> Option<&Value> {
        self.value().filter(|_| self.raw().len() <= MAX_RAW)
    }

    /// The data as the inspect view shows it: pretty JSON when it is JSON and not huge, else
    /// the text.
    pub fn pretty(&self) -> Cow<'_, str> {
        match self.inspectable() {
            Some(v) => Cow::Owned(serde_json::to_string_pretty(v).unwrap_or_default()),
            None => Cow::Borrowed(&self.text),
        }
    }

    /// The frame as received (empty for a notice).
    pub fn raw(&self) -> &str {
        self.received().map_or("", |e| e.raw.as_str())
    }
}

impl Weigh for LogLine {
    fn weight(&self) -> usize {
        let event = self.received().map_or(0, ReceivedEvent::heap_bytes);
        size_of::<LogLine>() + self.channel.len() + self.event.len() + self.text.len() + event
    }
}
