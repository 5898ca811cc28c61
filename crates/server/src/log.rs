//! `serve --log` and `--log-json`: a self-hosted Debug Console. One line per connection,
//! subscription and API call, and a delivery line per publish: channel, event, size,
//! recipients, the excluded socket, and the subscribers skipped as too slow (4100); a
//! publish that reached no subscriber is marked, with "did you mean" from the app's occupied
//! channels.
//!
//! Logging never blocks the server: lines go into a queue bounded in lines and bytes
//! ([`LogLimits`], 10 000 lines / 1 MiB by default), drained by one thread that writes to
//! stderr. When stderr is not read fast enough, lines are dropped, and the writer says how
//! many once it can write again. Everything from the wire is made terminal-safe (text) or
//! escaped (JSON); secrets and event data never appear.

mod format;
mod queue;

use std::cell::Cell;
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use format::{Field, LogFormat, Record};
pub use queue::LogLimits;
use queue::Queue;

use protocol::suggest::{Suggestion, split_prefix, suggest};

/// A zero-subscriber publish compares at most this many occupied channels…
const SUGGEST_SCAN: usize = 10_000;
/// …and copies at most this many of them (those of a near length) out of the hub's lock.
const SUGGEST_KEEP: usize = 1000;
/// The suggester allows at most this many edits: names whose length differs by more are
/// never suggested, and are not copied.
const SUGGEST_MAX_EDITS: usize = 3;

/// The log's handle: cheap to clone; off unless started.
#[derive(Clone, Default)]
pub struct Log {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    format: LogFormat,
    queue: Arc<Queue>,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log")
            .field("format", &self.inner.as_ref().map(|i| i.format))
            .finish()
    }
}

/// What one publish reached, as fan-out counted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The channel's subscribers at the time, the excluded socket included.
    pub subscribers: usize,
    /// Send queues that took the event.
    pub recipients: usize,
    /// Subscribers skipped because their send queue was full, and closed with 4100.
    pub too_slow: usize,
}

/// Where the log finds the occupied channels a publish to no one was probably meant for
/// (the hub): at most `keep` names that pass `filter`, among the first `scan`.
pub trait Occupied {
    fn occupied_names(
        &self,
        app: &str,
        scan: usize,
        keep: usize,
        filter: &dyn Fn(&str) -> bool,
    ) -> Vec<String>;
}

/// One publish, for its delivery line.
#[derive(Debug, Clone, Copy)]
pub struct Publish<'a> {
    pub app: &'a str,
    pub channel: &'a str,
    pub event: &'a str,
    /// The event's data, in bytes.
    pub bytes: usize,
    /// The `socket_id` the publisher excluded.
    pub excluded: Option<&'a str>,
    pub delivery: Delivery,
}

impl Log {
    /// A log that writes nothing.
    pub fn off() -> Log {
        Log::default()
    }

    /// Starts the writer thread on a duplicate of stderr.
    pub fn start(format: LogFormat, limits: LogLimits) -> io::Result<Log> {
        let stderr = std::fs::File::from(io::stderr().as_fd().try_clone_to_owned()?);
        Log::to_writer(format, limits, Box::new(stderr))
    }

    /// Starts the writer thread on `out`.
    pub fn to_writer(
        format: LogFormat,
        limits: LogLimits,
        out: Box<dyn io::Write + Send>,
    ) -> io::Result<Log> {
        let notice = Box::new(move |n: u64| dropped_line(format, SystemTime::now(), n));
        let queue = Queue::start(limits, out, notice)?;
        Ok(Log {
            inner: Some(Arc::new(Inner { format, queue })),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// A line of free text: `KIND text` (JSON: `{"kind":"kind","text":…}`).
    pub fn line(&self, kind: &str, text: fmt::Arguments<'_>) {
        if self.enabled() {
            let text = text.to_string();
            self.event(kind, &[("text", Field::Str(&text))]);
        }
    }

    /// A line of named fields: `KIND key=value …` (JSON: `{"kind":"kind","key":value,…}`).
    pub fn event(&self, kind: &str, fields: &[(&str, Field<'_>)]) {
        self.record(kind, fields, None);
    }

    fn record(&self, kind: &str, fields: &[(&str, Field<'_>)], note: Option<&str>) {
        let Some(inner) = &self.inner else {
            return;
        };
        let record = Record {
            time: SystemTime::now(),
            kind,
            fields,
            note,
        };
        inner.queue.push(record.render(inner.format));
    }

    /// The delivery line of one API publish. A publish that found no subscriber is marked
    /// `NO SUBSCRIBERS`, with names from the app's occupied channels it was probably meant
    /// for; only then is the hub asked for them.
    pub fn api_message(&self, hub: &impl Occupied, p: &Publish<'_>) {
        if !self.enabled() {
            return;
        }
        let d = p.delivery;
        let similar = match d.subscribers {
            0 => similar_channels(hub, p.app, p.channel),
            _ => Similar {
                any_occupied: true,
                found: Vec::new(),
            },
        };
        let names: Vec<String> = similar.found.iter().map(|s| s.name.clone()).collect();
        let note = delivery_note(&d, p.excluded, &similar);
        self.record(
            "API MESSAGE",
            &[
                ("app", p.app.into()),
                ("channel", p.channel.into()),
                ("event", p.event.into()),
                ("bytes", p.bytes.into()),
                ("recipients", d.recipients.into()),
                ("subscribers", d.subscribers.into()),
                ("excluded", p.excluded.into()),
                ("too_slow", Field::Count(d.too_slow as u64)),
                ("no_subscribers", Field::Bool(d.subscribers == 0)),
                ("suggestions", Field::List(&names)),
            ],
            note.as_deref(),
        );
    }

    /// The delivery line of a client event, which goes to the channel's other subscribers.
    pub fn client_event(&self, socket_id: &str, p: &Publish<'_>) {
        let d = p.delivery;
        self.event(
            "CLIENT EVENT",
            &[
                ("app", p.app.into()),
                ("socket_id", socket_id.into()),
                ("channel", p.channel.into()),
                ("event", p.event.into()),
                ("bytes", p.bytes.into()),
                ("recipients", d.recipients.into()),
                ("too_slow", Field::Count(d.too_slow as u64)),
            ],
        );
    }

    /// Takes no more lines, and waits at most `within` for the queued ones (and the count of
    /// dropped ones) to be written. Whether they were.
    pub fn finish(&self, within: Duration) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.queue.finish(within))
    }
}

/// The occupied channels a publish to no one was probably meant for.
struct Similar {
    /// Whether the app has any occupied channel at all.
    any_occupied: bool,
    found: Vec<Suggestion>,
}

/// What the text says after the figures when a publish did not reach everyone it could.
fn delivery_note(d: &Delivery, excluded: Option<&str>, similar: &Similar) -> Option<String> {
    if d.subscribers == 0 {
        let hints: Vec<String> = similar.found.iter().map(Suggestion::hint).collect();
        return Some(if !hints.is_empty() {
            format!("NO SUBSCRIBERS: {}", hints.join("; "))
        } else if similar.any_occupied {
            "NO SUBSCRIBERS: no occupied channel has a similar name".to_owned()
        } else {
            "NO SUBSCRIBERS: no channel of this app is occupied".to_owned()
        });
    }
    if d.recipients > 0 {
        return None;
    }
    Some(if d.too_slow > 0 {
        format!("NO RECIPIENTS: {} too slow (4100)", d.too_slow)
    } else if excluded.is_some() {
        "NO RECIPIENTS: the excluded socket was the only subscriber".to_owned()
    } else {
        "NO RECIPIENTS: every subscriber is leaving".to_owned()
    })
}

/// The occupied channels of `app` that `channel` was probably meant for, best first. The
/// hub copies a bounded set of candidates (those of a near length), and they are compared
/// out of its lock.
fn similar_channels(hub: &impl Occupied, app: &str, channel: &str) -> Similar {
    let chars = split_prefix(channel).1.chars().count();
    let seen = Cell::new(false);
    let names = hub.occupied_names(app, SUGGEST_SCAN, SUGGEST_KEEP, &|name| {
        seen.set(true);
        split_prefix(name).1.chars().count().abs_diff(chars) <= SUGGEST_MAX_EDITS
    });
    Similar {
        any_occupied: seen.get(),
        found: suggest(channel, names.iter().map(String::as_str)),
    }
}

/// `… N log lines dropped`, in the log's format.
fn dropped_line(format: LogFormat, time: SystemTime, n: u64) -> String {
    let note = format!("… {n} log lines dropped: stderr was not read fast enough");
    Record {
        time,
        kind: "LOG DROPPED",
        fields: &[("dropped", Field::Num(n))],
        note: Some(&note),
    }
    .render(format)
}

#[cfg(test)]
mod tests;
