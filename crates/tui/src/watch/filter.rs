//! The log's search and filter queries, and which lines they let through. Names compare
//! without case; with several connections, `channel:eu/orders` names a connection's channel.
//! A filter that starts with `.` or `select(` is a jq expression, as `watch --where` takes:
//! evaluated once per line (the answer is kept by line number, for as long as the log keeps
//! the line), its errors counted.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::connections::Connections;
use super::line::LogLine;
use crate::widgets::log::Log;
use observe::jq::{Engine, Jq, JqError, looks_like_jq};
use observe::output::ndjson;

/// A filter: every term must match. `channel:NAME`, `event:NAME`, a field of the JSON data
/// (dotted path) compared with `=`, `!=`, `>`, `>=`, `<` or `<=` (numbers as numbers), or free
/// text anywhere in the line. Text compares without case. Or a jq expression.
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    terms: Vec<Term>,
    jq: Option<Jq>,
    /// The jq answers by line number, oldest first: never more lines than the log holds
    /// (the oldest go as the log's do).
    memo: RefCell<VecDeque<(u64, bool)>>,
    /// Lines the jq expression failed on, and the first error.
    errors: Cell<u64>,
    first_error: RefCell<Option<String>>,
    /// Lines answered by jq's fast path, and by jaq.
    engines: Cell<(u64, u64)>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.text == other.text
    }
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
    /// A jq expression when it looks like one (and then it must be valid), else the simple
    /// syntax.
    pub fn new(text: &str) -> Result<Filter, JqError> {
        if !looks_like_jq(text) {
            return Ok(Filter::parse(text));
        }
        let jq = Jq::parse(text)?;
        Ok(Filter {
            text: text.trim().to_owned(),
            terms: Vec::new(),
            jq: Some(jq),
            memo: RefCell::default(),
            errors: Cell::new(0),
            first_error: RefCell::default(),
            engines: Cell::new((0, 0)),
        })
    }

    /// The jq expression, if the filter is one.
    pub fn jq(&self) -> Option<&Jq> {
        self.jq.as_ref()
    }

    /// Lines the jq expression failed on, and the first error (from the wire: for the
    /// terminal-safe formatter).
    pub fn errors(&self) -> (u64, Option<String>) {
        (self.errors.get(), self.first_error.borrow().clone())
    }

    /// How many lines the jq expression was answered on by its fast path (the simple forms:
    /// `.path OP literal`, `and`, `or`, `not`), and how many by jaq.
    pub fn engines(&self) -> (u64, u64) {
        self.engines.get()
    }

    /// [`Filter::matches`] for the log line numbered `seq`, a jq answer kept for the line's
    /// life in the log: `oldest` is the log's oldest line number, `most` its capacity.
    pub fn passes(
        &self,
        seq: u64,
        line: &LogLine,
        label: Option<&str>,
        (oldest, most): (u64, usize),
    ) -> bool {
        if self.jq.is_none() {
            return self.matches(line, label);
        }
        let mut memo = self.memo.borrow_mut();
        while memo.front().is_some_and(|(s, _)| *s < oldest) || memo.len() > most {
            memo.pop_front();
        }
        if let Ok(i) = memo.binary_search_by_key(&seq, |(s, _)| *s) {
            return memo[i].1;
        }
        let pass = self.matches(line, label);
        // Lines are asked about in order, so this is almost always a push at the back.
        let at = memo.partition_point(|(s, _)| *s < seq);
        memo.insert(at, (seq, pass));
        pass
    }

    /// The jq expression on one line, as `watch --json` writes it.
    fn jq_matches(&self, jq: &Jq, line: &LogLine, label: Option<&str>) -> bool {
        thread_local! {
            static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let Some(ev) = line.received() else {
            return false;
        };
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            if ndjson::write_event_from(buf, ev, line.latency_ms(), label).is_err() {
                return false;
            }
            let (answer, engine) = jq.answer(buf);
            let (fast, jaq) = self.engines.get();
            self.engines.set(match engine {
                Engine::Fast => (fast + 1, jaq),
                Engine::Jaq => (fast, jaq + 1),
            });
            if buf.capacity() > 1 << 20 {
                *buf = Vec::new();
            }
            match answer {
                Ok(pass) => pass,
                Err(e) => {
                    self.errors.set(self.errors.get() + 1);
                    self.first_error.borrow_mut().get_or_insert(e);
                    false
                }
            }
        })
    }

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
            jq: None,
            memo: RefCell::default(),
            errors: Cell::new(0),
            first_error: RefCell::default(),
            engines: Cell::new((0, 0)),
        }
    }

    /// Whether `line` passes; `label` is its connection's, with several.
    pub fn matches(&self, line: &LogLine, label: Option<&str>) -> bool {
        if let Some(jq) = &self.jq {
            return self.jq_matches(jq, line, label);
        }
        self.terms.iter().all(|t| match t {
            Term::Channel(c) => {
                let (want_label, want) = match c.split_once('/') {
                    Some((l, c)) if label.is_some() => (Some(l), c),
                    _ => (None, c.as_str()),
                };
                line.channel.to_lowercase() == want
                    && want_label.is_none_or(|l| label.is_some_and(|have| have.to_lowercase() == l))
            }
            Term::Event(e) => line.event.to_lowercase() == *e,
            Term::Field(path, op, value) => {
                line.value().is_some_and(|d| compare(d, path, *op, value))
            }
            Term::Text(t) => contains_ci(line, label, t),
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

/// Most lines a jq filter being typed is tried on before one frame, and the most time it
/// may take there: a costly expression on a full log is counted over many frames, and the
/// key typed is drawn first.
pub const COUNT_LINES_PER_FRAME: usize = 200;
pub const COUNT_TIME_PER_FRAME: Duration = Duration::from_millis(8);

/// How many of the log's events a jq filter being typed matches, counted a slice per frame,
/// from the oldest line to the newest (lines that come meanwhile are counted too). Its
/// answers stay in the filter's memo, so the filter once applied does not ask again.
#[derive(Debug, Clone)]
pub struct Count {
    pub filter: Filter,
    /// The number of the next line to try.
    next: u64,
    /// Events tried, and matched.
    seen: u64,
    matched: u64,
    /// Lines not tried yet, as of the last slice.
    left: usize,
}

impl Count {
    /// Nothing counted yet, in a log of `lines` lines.
    pub fn new(filter: Filter, log: &Log<LogLine>) -> Count {
        Count {
            filter,
            next: log.get(0).map_or(0, |l| l.seq),
            seen: 0,
            matched: 0,
            left: log.len(),
        }
    }

    /// Tries the filter on the lines after the last tried, at most `lines` of them and for
    /// about `time` (one line at least); true while lines are left.
    pub fn step(
        &mut self,
        log: &Log<LogLine>,
        connections: &Connections,
        most: usize,
        (lines, time): (usize, Duration),
    ) -> bool {
        let started = Instant::now();
        let oldest = log.get(0).map_or(0, |l| l.seq);
        let mut at = log.position(self.next);
        let mut tried = 0;
        while at < log.len() && tried < lines && (tried == 0 || started.elapsed() < time) {
            let logged = &log[at];
            self.next = logged.seq + 1;
            at += 1;
            if logged.line.is_notice() {
                continue;
            }
            tried += 1;
            self.seen += 1;
            let pass = self.filter.passes(
                logged.seq,
                &logged.line,
                connections.label(logged.line.conn),
                (oldest, most),
            );
            self.matched += u64::from(pass);
        }
        self.left = log.len() - at;
        self.left > 0
    }

    /// Whether every line was tried.
    pub fn done(&self) -> bool {
        self.left == 0
    }

    /// `4 of 17 events match`, or while counting `4 of 17 so far… (983 lines to go)`; and
    /// the errors.
    pub fn said(&self, ascii: bool) -> String {
        let (errors, _) = self.filter.errors();
        let errors = match errors {
            0 => String::new(),
            n => format!(", {n} errors"),
        };
        let (matched, seen) = (self.matched, self.seen);
        if self.done() {
            format!("{matched} of {seen} events match{errors}")
        } else {
            let left = self.left;
            let dots = if ascii { "..." } else { "…" };
            format!("{matched} of {seen} so far{dots} ({left} lines to go){errors}")
        }
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

/// Case-insensitive search in the connection's label, the channel, the event and the data
/// text. `needle` is lowercase.
pub fn contains_ci(line: &LogLine, label: Option<&str>, needle: &str) -> bool {
    !needle.is_empty()
        && label
            .into_iter()
            .chain([line.channel.as_str(), &line.event, &line.text])
            .any(|s| s.to_lowercase().contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(channel: &str, event: &str, data: Value) -> LogLine {
        let ev = client::ReceivedEvent::decoded(
            std::time::SystemTime::UNIX_EPOCH,
            Some(channel.into()),
            event.into(),
            protocol::Data::Json(data),
            None,
            String::new(),
        );
        LogLine::event(Some(0), ev, false, None, "…")
    }

    #[test]
    fn filter_terms() {
        let l = line(
            "orders",
            "created",
            json!({"user": {"id": 7}, "total": "9.99"}),
        );
        assert!(Filter::parse("channel:orders").matches(&l, None));
        assert!(!Filter::parse("channel:order").matches(&l, None));
        assert!(Filter::parse("event:created user.id=7").matches(&l, None));
        assert!(Filter::parse("total=9.99").matches(&l, None));
        assert!(
            Filter::parse("total>9").matches(&l, None)
                && !Filter::parse("total<9").matches(&l, None)
        );
        assert!(Filter::parse("user.id>=7 user.id<=7 user.id!=8").matches(&l, None));
        assert!(
            !Filter::parse("user.id>7").matches(&l, None)
                && !Filter::parse("user.id!=7").matches(&l, None)
        );
        assert!(
            Filter::parse("channel:ORDERS event:Created").matches(&l, None),
            "names ignore case"
        );
        assert_eq!(find_ci("a HOOLI b hooli", "hooli", 9), [2..7, 10..15]);
        assert!(!Filter::parse("user.id=8").matches(&l, None));
        assert!(
            Filter::parse("user.id=7.0").matches(&l, None),
            "numbers compare as numbers"
        );
        assert!(
            Filter::parse("ORDERS 9.99").matches(&l, None),
            "free text is case-insensitive"
        );
        assert!(!Filter::parse("refund").matches(&l, None));
        assert!(Filter::parse("").matches(&l, None));
    }
}
