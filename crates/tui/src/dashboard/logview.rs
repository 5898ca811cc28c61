//! The log pane's logic: lines with stable sequence numbers (the ring drops its oldest, so
//! indices shift), search and filter queries, and which lines are visible.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde_json::Value;

/// Lines the log keeps by default (`--log-capacity`).
pub const LOG_CAPACITY: usize = 10_000;
/// Bytes the log keeps by default (`--log-bytes`): 16 MiB.
pub const LOG_BYTES: usize = 16 << 20;

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
    size_of::<LogLine>() + l.channel.len() + l.event.len() + l.text.len() + l.raw.len() + data
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

/// A filter: every term must match. `channel:NAME`, `event:NAME`, a field of the JSON data
/// (dotted path) compared with `=`, `!=`, `>`, `>=`, `<` or `<=` (numbers as numbers), or free
/// text anywhere in the line. Text compares without case.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub text: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Channel(String),
    Event(String),
    Field(String, Op, String),
    Text(String),
}

/// `path OP value`, the longest operator first so `>=` is not read as `>`.
fn comparison(t: &str) -> Option<(String, Op, String)> {
    const OPS: [(&str, Op); 6] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ];
    let (at, len, op) = OPS
        .iter()
        .filter_map(|(s, op)| t.find(s).map(|at| (at, s.len(), *op)))
        .min_by_key(|(at, len, _)| (*at, usize::MAX - len))?;
    (at > 0).then(|| (t[..at].to_owned(), op, t[at + len..].to_owned()))
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|t| {
                if let Some(c) = t.strip_prefix("channel:") {
                    Term::Channel(c.to_lowercase())
                } else if let Some(e) = t.strip_prefix("event:") {
                    Term::Event(e.to_lowercase())
                } else if let Some((path, op, value)) = comparison(t) {
                    Term::Field(path, op, value)
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
            Term::Channel(c) => line.channel.to_lowercase() == *c,
            Term::Event(e) => line.event.to_lowercase() == *e,
            Term::Field(path, op, value) => line
                .data
                .as_ref()
                .is_some_and(|d| compare(d, path, *op, value)),
            Term::Text(t) => contains_ci(line, t),
        })
    }

    /// The free-text terms, lowercase, for highlighting.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Text(w) => Some(w.as_str()),
            _ => None,
        })
    }
}

fn compare(data: &Value, path: &str, op: Op, want: &str) -> bool {
    use std::cmp::Ordering;
    let pointer: String = path.split('.').map(|p| format!("/{p}")).collect();
    let Some(found) = data.pointer(&pointer) else {
        return false;
    };
    let number = match found {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let order = match (number, want.trim().parse::<f64>()) {
        (Some(have), Ok(w)) => have.partial_cmp(&w),
        _ => {
            let have = match found {
                Value::String(s) => s.to_lowercase(),
                Value::Null => "null".into(),
                other => other.to_string().to_lowercase(),
            };
            let want = want.to_lowercase();
            match op {
                Op::Eq | Op::Ne => Some(if have == want {
                    Ordering::Equal
                } else {
                    Ordering::Less
                }),
                // Text has no order worth filtering on.
                _ => None,
            }
        }
    };
    let Some(order) = order else { return false };
    match op {
        Op::Eq => order == Ordering::Equal,
        Op::Ne => order != Ordering::Equal,
        Op::Gt => order == Ordering::Greater,
        Op::Ge => order != Ordering::Less,
        Op::Lt => order == Ordering::Less,
        Op::Le => order != Ordering::Greater,
    }
}

/// Where `needle` (lowercase) occurs in `text`, as byte ranges of `text`, at most `max`.
pub fn find_ci(text: &str, needle: &str, max: usize) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    if needle.is_empty() {
        return found;
    }
    // Lowercasing may change lengths: match character by character instead.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let want: Vec<char> = needle.chars().collect();
    let mut i = 0;
    while i + want.len() <= chars.len() && found.len() < max {
        let hit = want
            .iter()
            .zip(&chars[i..])
            .all(|(w, (_, c))| c.to_lowercase().eq(std::iter::once(*w)));
        if hit {
            let end = chars.get(i + want.len()).map_or(text.len(), |(at, _)| *at);
            found.push(chars[i].0..end);
            i += want.len();
        } else {
            i += 1;
        }
    }
    found
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
            time: SystemTime::UNIX_EPOCH,
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
        assert!(Filter::parse("total>9").matches(&l) && !Filter::parse("total<9").matches(&l));
        assert!(Filter::parse("user.id>=7 user.id<=7 user.id!=8").matches(&l));
        assert!(
            !Filter::parse("user.id>7").matches(&l) && !Filter::parse("user.id!=7").matches(&l)
        );
        assert!(
            Filter::parse("channel:ORDERS event:Created").matches(&l),
            "names ignore case"
        );
        assert_eq!(find_ci("a HOOLI b hooli", "hooli", 9), [2..7, 10..15]);
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
