//! `serve --log` and `--log-json`: a self-hosted Debug Console. One line per connection,
//! subscription and API call, and a delivery line per publish: channel, event, size,
//! recipients, the excluded socket, and the subscribers skipped as too slow (4100); a
//! publish that reached no subscriber is marked, with "did you mean" from the app's occupied
//! channels.
//!
//! Logging never blocks the server: lines go into a queue bounded in lines and bytes
//! ([`LogLimits`], 10 000 lines / 1 MiB by default), drained by one thread that writes to
//! stderr. When stderr is not read fast enough, lines are dropped, and the writer says how
//! many once it can write again. Lines of one kind past `per_kind` a second (100) are
//! counted instead, and said in one line once the second is over, so that no stranger can
//! make the log write more than that. Everything from the wire is made terminal-safe (text)
//! or escaped (JSON); secrets and event data never appear.
//!
//! "Did you mean" for a publish to no one compares names, which strangers choose: it is
//! worked out on the writer's thread, never on the runtime's, within a time budget per
//! second, and remembered for a second per channel name.

mod format;
mod queue;

use std::cell::Cell;
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use format::LogFormat;
pub(crate) use format::{Field, Record};
pub use queue::LogLimits;
use queue::{Coalescer, Entry, Later, Queue};

use protocol::suggest::{Suggestion, split_prefix, suggest};

/// A zero-subscriber publish looks at most at this many occupied channels…
const SUGGEST_SCAN: usize = 10_000;
/// …and copies at most this many of them (those of a near length) out of the hub's lock.
const SUGGEST_KEEP: usize = 1000;
/// The writer spends at most this long a second on "did you mean"; past it, lines say the
/// suggestions were skipped.
const SUGGEST_BUDGET: Duration = Duration::from_millis(200);
/// Suggestions are remembered this long per channel name.
const SUGGEST_CACHE_FOR: Duration = Duration::from_secs(1);
/// Channel names remembered.
const SUGGEST_CACHE: usize = 64;
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
    /// The writer's budget and memory for "did you mean".
    suggester: Arc<Mutex<Suggester>>,
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
pub(crate) trait Occupied {
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
pub(crate) struct Publish<'a> {
    pub(crate) app: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) event: &'a str,
    /// The event's data, in bytes.
    pub(crate) bytes: usize,
    /// The `socket_id` the publisher excluded.
    pub(crate) excluded: Option<&'a str>,
    pub(crate) delivery: Delivery,
}

impl Log {
    /// A log that writes nothing.
    pub fn off() -> Log {
        Log::default()
    }

    /// Starts the writer thread on a duplicate of stderr.
    pub fn start(format: LogFormat, limits: LogLimits) -> io::Result<Log> {
        // The log's own handle on stderr: every line is a `Record`'s, terminal-safe.
        #[allow(clippy::disallowed_methods)]
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
        let summary =
            Box::new(move |kind: &str, n: u64| coalesced_line(format, SystemTime::now(), kind, n));
        let queue = Queue::start(
            limits,
            out,
            notice,
            Coalescer::new(limits.per_kind, summary),
        )?;
        Ok(Log {
            inner: Some(Arc::new(Inner {
                format,
                queue,
                suggester: Arc::new(Mutex::new(Suggester::default())),
            })),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// A line of free text: `KIND text` (JSON: `{"kind":"kind","text":…}`).
    pub(crate) fn line(&self, kind: &str, text: fmt::Arguments<'_>) {
        if self.enabled() {
            let text = text.to_string();
            self.event(kind, &[("text", Field::Str(&text))]);
        }
    }

    /// A line of named fields: `KIND key=value …` (JSON: `{"kind":"kind","key":value,…}`).
    pub(crate) fn event(&self, kind: &str, fields: &[(&str, Field<'_>)]) {
        self.record(kind, fields, None);
    }

    fn record(&self, kind: &str, fields: &[(&str, Field<'_>)], note: Option<&str>) {
        let Some(inner) = &self.inner else {
            return;
        };
        if !inner.queue.admit(kind) {
            return;
        }
        let record = Record {
            time: SystemTime::now(),
            kind,
            fields,
            note,
        };
        inner.queue.push(Entry::Line(record.render(inner.format)));
    }

    /// The delivery line of one API publish. A publish that found no subscriber is marked
    /// `NO SUBSCRIBERS`, with names from the app's occupied channels it was probably meant
    /// for; that line is made by the writer thread, which asks the hub for them then.
    pub(crate) fn api_message<H: Occupied + Send + Sync + 'static>(
        &self,
        hub: &Arc<H>,
        p: &Publish<'_>,
    ) {
        let Some(inner) = &self.inner else {
            return;
        };
        if p.delivery.subscribers > 0 {
            let similar = Similar {
                any_occupied: true,
                found: Vec::new(),
                skipped: false,
            };
            return self.delivery_record(p, &similar, SystemTime::now());
        }
        if !inner.queue.admit("API MESSAGE") {
            return;
        }
        inner.queue.push(Entry::Later(Box::new(NoSubscribers {
            format: inner.format,
            hub: hub.clone(),
            suggester: inner.suggester.clone(),
            time: SystemTime::now(),
            app: p.app.to_owned(),
            channel: p.channel.to_owned(),
            event: p.event.to_owned(),
            bytes: p.bytes,
            excluded: p.excluded.map(str::to_owned),
            delivery: p.delivery,
        })));
    }

    /// The API MESSAGE line itself, queued at once.
    fn delivery_record(&self, p: &Publish<'_>, similar: &Similar, time: SystemTime) {
        let Some(inner) = &self.inner else {
            return;
        };
        let line = delivery_line(inner.format, p, similar, time);
        inner.queue.push(Entry::Line(line));
    }

    /// The delivery line of a client event, which goes to the channel's other subscribers.
    pub(crate) fn client_event(&self, socket_id: &str, p: &Publish<'_>) {
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
#[derive(Clone)]
struct Similar {
    /// Whether the app has any occupied channel at all.
    any_occupied: bool,
    found: Vec<Suggestion>,
    /// The writer had spent its time budget for suggestions: none were looked for.
    skipped: bool,
}

/// The API MESSAGE line of `p`.
fn delivery_line(
    format: LogFormat,
    p: &Publish<'_>,
    similar: &Similar,
    time: SystemTime,
) -> String {
    let d = p.delivery;
    let names: Vec<String> = similar.found.iter().map(|s| s.name.clone()).collect();
    let note = delivery_note(&d, p.excluded, similar);
    let mut fields = vec![
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
    ];
    if similar.skipped {
        fields.push(("suggestions_skipped", Field::Bool(true)));
    }
    Record {
        time,
        kind: "API MESSAGE",
        fields: &fields,
        note: note.as_deref(),
    }
    .render(format)
}

/// A publish that reached no one: its line is made on the writer's thread.
struct NoSubscribers {
    format: LogFormat,
    hub: Arc<dyn Occupied + Send + Sync>,
    suggester: Arc<Mutex<Suggester>>,
    time: SystemTime,
    app: String,
    channel: String,
    event: String,
    bytes: usize,
    excluded: Option<String>,
    delivery: Delivery,
}

impl Later for NoSubscribers {
    fn weight(&self) -> usize {
        size_of::<Self>()
            + self.app.len()
            + self.channel.len()
            + self.event.len()
            + self.excluded.as_ref().map_or(0, String::len)
    }

    fn render(self: Box<Self>) -> String {
        let similar = self
            .suggester
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .similar(&*self.hub, &self.app, &self.channel);
        let format = self.format;
        let p = Publish {
            app: &self.app,
            channel: &self.channel,
            event: &self.event,
            bytes: self.bytes,
            excluded: self.excluded.as_deref(),
            delivery: self.delivery,
        };
        delivery_line(format, &p, &similar, self.time)
    }
}

/// The writer's time budget for "did you mean" in the current second, and its answers of
/// the last second by channel name.
struct Suggester {
    second: Instant,
    spent: Duration,
    /// (app, channel, when, answer), newest last.
    cache: bounded::Bounded<Cached>,
}

struct Cached {
    app: String,
    channel: String,
    at: Instant,
    similar: Similar,
}

impl bounded::Weigh for Cached {
    fn weight(&self) -> usize {
        size_of::<Self>()
            + self.app.len()
            + self.channel.len()
            + self
                .similar
                .found
                .iter()
                .map(|s| s.name.len() + 32)
                .sum::<usize>()
    }
}

impl Default for Suggester {
    fn default() -> Suggester {
        Suggester {
            second: Instant::now(),
            spent: Duration::ZERO,
            cache: bounded::Bounded::new(
                bounded::Limits::new(SUGGEST_CACHE, SUGGEST_CACHE * 2048),
                bounded::Overflow::DropOldest,
            ),
        }
    }
}

impl Suggester {
    fn similar(&mut self, hub: &dyn Occupied, app: &str, channel: &str) -> Similar {
        let now = Instant::now();
        if let Some(hit) = self.cache.iter().rev().find(|c| {
            c.app == app && c.channel == channel && now.duration_since(c.at) < SUGGEST_CACHE_FOR
        }) {
            return hit.similar.clone();
        }
        if now.duration_since(self.second) >= Duration::from_secs(1) {
            self.second = now;
            self.spent = Duration::ZERO;
        }
        if self.spent >= SUGGEST_BUDGET {
            return Similar {
                any_occupied: true,
                found: Vec::new(),
                skipped: true,
            };
        }
        let similar = similar_channels(hub, app, channel);
        self.spent += now.elapsed();
        let _ = self.cache.push(Cached {
            app: app.to_owned(),
            channel: channel.to_owned(),
            at: now,
            similar: similar.clone(),
        });
        similar
    }
}

/// What the text says after the figures when a publish did not reach everyone it could.
fn delivery_note(d: &Delivery, excluded: Option<&str>, similar: &Similar) -> Option<String> {
    if d.subscribers == 0 {
        let hints: Vec<String> = similar.found.iter().map(Suggestion::hint).collect();
        return Some(if !hints.is_empty() {
            format!("NO SUBSCRIBERS: {}", hints.join("; "))
        } else if similar.skipped {
            "NO SUBSCRIBERS: (no \"did you mean\": the log spent its second's budget for them)"
                .to_owned()
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
fn similar_channels(hub: &dyn Occupied, app: &str, channel: &str) -> Similar {
    // Channel names are ASCII (they are validated), so bytes are characters: the filter,
    // which runs under the hub's lock, costs O(1) per name.
    let len = split_prefix(channel).1.len();
    let seen = Cell::new(false);
    let names = hub.occupied_names(app, SUGGEST_SCAN, SUGGEST_KEEP, &|name| {
        seen.set(true);
        split_prefix(name).1.len().abs_diff(len) <= SUGGEST_MAX_EDITS
    });
    Similar {
        any_occupied: seen.get(),
        found: suggest(channel, names.iter().map(String::as_str)),
        skipped: false,
    }
}

/// `KIND … and 4 812 more like this in the last second`, in the log's format.
fn coalesced_line(format: LogFormat, time: SystemTime, kind: &str, n: u64) -> String {
    let note = format!("… and {} more like this in the last second", grouped(n));
    Record {
        time,
        kind,
        fields: &[("coalesced", Field::Num(n))],
        note: Some(&note),
    }
    .render(format)
}

/// `4812` as `4 812`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
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
