//! The log pane's logic: lines with stable sequence numbers (the ring drops its oldest, so
//! indices shift), search and filter queries, and which lines are visible.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde_json::Value;

/// Longest data text kept per log line (the full frame is for the inspect view).
pub const MAX_LOG_TEXT: usize = 2048;

/// Longest raw frame kept per log line.
pub const MAX_RAW: usize = 8 * 1024;

#[derive(Debug, Clone)]
pub struct LogLine {
    /// Increases by one per line, so a selection survives the ring dropping old lines.
    pub seq: u64,
    pub time: SystemTime,
    pub channel: String,
    pub event: String,
    /// Compact data, at most [`MAX_LOG_TEXT`] bytes.
    pub text: String,
    /// The data as JSON, for `field=value` filters and the inspect view.
    pub data: Option<Value>,
    /// The frame as received, at most [`MAX_RAW`] bytes.
    pub raw: String,
    pub unbound: bool,
    /// Publish-to-receive latency, when the event carries a timestamp.
    pub latency_ms: Option<f64>,
    /// A line from tickertape itself, not an event.
    pub notice: bool,
}

/// The log's lines, oldest first, bounded in count and in bytes. Each line gets the next
/// `seq`.
#[derive(Debug, Clone)]
pub struct Ring {
    lines: VecDeque<LogLine>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    /// Lines dropped because the byte budget was full (not counting the line cap).
    pub evicted: u64,
    next_seq: u64,
}

/// About how many bytes a line holds: its strings, the parsed data (about the size of the
/// frame it came in) and the struct itself.
pub fn weight(l: &LogLine) -> usize {
    let data = if l.data.is_some() {
        l.raw.len().max(l.text.len())
    } else {
        0
    };
    std::mem::size_of::<LogLine>()
        + l.channel.len()
        + l.event.len()
        + l.text.len()
        + l.raw.len()
        + data
}

impl Ring {
    pub fn new(capacity: usize, max_bytes: usize) -> Ring {
        Ring {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            max_bytes,
            bytes: 0,
            evicted: 0,
            next_seq: 0,
        }
    }

    /// Adds a line; the oldest go while the count or the bytes are over. The newest line
    /// always stays (each is bounded by `MAX_RAW` and `MAX_LOG_TEXT`).
    pub fn push(&mut self, mut line: LogLine) {
        line.seq = self.next_seq;
        self.next_seq += 1;
        if self.lines.len() >= self.capacity
            && let Some(old) = self.lines.pop_front()
        {
            self.bytes -= weight(&old);
        }
        self.bytes += weight(&line);
        self.lines.push_back(line);
        while self.bytes > self.max_bytes && self.lines.len() > 1 {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= weight(&old);
                self.evicted += 1;
            }
        }
    }

    /// The bytes the lines hold, as [`weight`] counts them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn back(&self) -> Option<&LogLine> {
        self.lines.back()
    }

    pub fn iter(&self) -> impl Iterator<Item = &LogLine> + Clone {
        self.lines.iter()
    }

    /// The line with this `seq`, if it is still kept.
    pub fn by_seq(&self, seq: u64) -> Option<&LogLine> {
        let at = self.lines.partition_point(|l| l.seq < seq);
        self.lines.get(at).filter(|l| l.seq == seq)
    }

    /// Position of the first line whose `seq` is at least `seq`.
    pub fn position(&self, seq: u64) -> usize {
        self.lines.partition_point(|l| l.seq < seq)
    }
}

impl std::ops::Index<usize> for Ring {
    type Output = LogLine;
    fn index(&self, i: usize) -> &LogLine {
        &self.lines[i]
    }
}

/// A filter: every term must match. `channel:NAME`, `event:NAME`, `field=value` on the JSON
/// data (dotted path), or free text anywhere in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub text: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Channel(String),
    Event(String),
    Field(String, String),
    Text(String),
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|t| {
                if let Some(c) = t.strip_prefix("channel:") {
                    Term::Channel(c.to_owned())
                } else if let Some(e) = t.strip_prefix("event:") {
                    Term::Event(e.to_owned())
                } else if let Some((path, value)) = t.split_once('=').filter(|(p, _)| !p.is_empty())
                {
                    Term::Field(path.to_owned(), value.to_owned())
                } else {
                    Term::Text(t.to_lowercase())
                }
            })
            .collect();
        Filter {
            text: text.trim().to_owned(),
            terms,
        }
    }

    pub fn matches(&self, line: &LogLine) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Channel(c) => line.channel == *c,
            Term::Event(e) => line.event == *e,
            Term::Field(path, value) => line
                .data
                .as_ref()
                .is_some_and(|d| field_equals(d, path, value)),
            Term::Text(t) => contains_ci(line, t),
        })
    }
}

fn field_equals(data: &Value, path: &str, want: &str) -> bool {
    let pointer: String = path.split('.').map(|p| format!("/{p}")).collect();
    match data.pointer(&pointer) {
        Some(Value::String(s)) => s == want,
        Some(Value::Number(n)) => want.parse::<f64>().is_ok_and(|w| n.as_f64() == Some(w)),
        Some(Value::Bool(b)) => want.parse::<bool>() == Ok(*b),
        Some(Value::Null) => want == "null",
        _ => false,
    }
}

/// Case-insensitive search in the channel, event and data text. `needle` is lowercase.
pub fn contains_ci(line: &LogLine, needle: &str) -> bool {
    !needle.is_empty()
        && [&line.channel, &line.event, &line.text]
            .iter()
            .any(|s| s.to_lowercase().contains(needle))
}

/// Positions (into the ring) of the lines a filter lets through, oldest first.
pub fn visible<'a>(
    lines: impl Iterator<Item = &'a LogLine>,
    filter: Option<&Filter>,
) -> Vec<usize> {
    lines
        .enumerate()
        .filter(|(_, l)| filter.is_none_or(|f| f.matches(l)))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(channel: &str, event: &str, data: Value) -> LogLine {
        LogLine {
            seq: 0,
            time: std::time::SystemTime::UNIX_EPOCH,
            channel: channel.into(),
            event: event.into(),
            text: data.to_string(),
            data: Some(data),
            raw: String::new(),
            unbound: false,
            latency_ms: None,
            notice: false,
        }
    }

    #[test]
    fn filter_terms() {
        let l = line(
            "orders",
            "created",
            json!({"user": {"id": 7}, "total": "9.99"}),
        );
        assert!(Filter::parse("channel:orders").matches(&l));
        assert!(!Filter::parse("channel:order").matches(&l));
        assert!(Filter::parse("event:created user.id=7").matches(&l));
        assert!(Filter::parse("total=9.99").matches(&l));
        assert!(!Filter::parse("user.id=8").matches(&l));
        assert!(
            Filter::parse("user.id=7.0").matches(&l),
            "numbers compare as numbers"
        );
        assert!(
            Filter::parse("ORDERS 9.99").matches(&l),
            "free text is case-insensitive"
        );
        assert!(!Filter::parse("refund").matches(&l));
        assert!(Filter::parse("").matches(&l));
    }
}
