//! The headless front end of `watch` and `replay`: events on stdout as NDJSON or readable
//! lines (through the one output thread), connection states on stderr, and when the run ends
//! (`--count`, `--fail-fast`, a refused connection, a closed stdout).

use std::io::{self, Write};
use std::time::SystemTime;

use crate::cli::plan::{FrontEnd, FrontPlan};
use client::{Item, Labels, SubscriptionStatus};
use observe::binding::Bindings;
use observe::hints::Hints;
use observe::output::writer::Output;
use observe::output::{lines, ndjson};
use observe::pipeline::{End, Front, Observed};
use observe::reach::Reach;

/// Exit status for a refused connection or an invalid setup.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a failed authorization with `--fail-fast`.
pub const EXIT_AUTH: u8 = 3;

pub(super) struct Lines {
    pub out: Output,
    front: FrontPlan,
    labels: Labels,
    /// `--json` with `--bind`: unbound events carry a "did you mean" hint.
    hints: Option<(Bindings, Hints)>,
    seen: u64,
    /// The items come from engines (else from a recording, whose end is a normal end).
    live: bool,
    /// Which connections ever came up.
    reach: Reach,
    /// `--where`'s tally.
    filter: Filtered,
}

/// What `--where` did: the events it skipped on an error, and the first error.
#[derive(Default)]
struct Filtered {
    /// Each event as `--json` writes it, for the expression to read.
    scratch: Vec<u8>,
    failed: u64,
    first: Option<String>,
}

impl Lines {
    pub(super) fn new(out: Output, front: FrontPlan, labels: Labels, live: bool) -> Lines {
        let rules = &front.dashboard.bindings;
        let hints = (front.end == FrontEnd::Json && !rules.is_empty())
            .then(|| (Bindings::new(rules.clone()), Hints::default()));
        Lines {
            out,
            front,
            reach: Reach::new(&labels),
            labels,
            hints,
            seen: 0,
            live,
            filter: Filtered::default(),
        }
    }

    /// `--where`'s errors, for stderr at the end: how many events it skipped on one, and the
    /// first.
    pub(super) fn filter_report(&self) -> Option<String> {
        let f = &self.filter;
        let first = f.first.as_deref()?;
        Some(format!(
            "--where: {} event{} skipped on an error; the first: {first}",
            f.failed,
            if f.failed == 1 { "" } else { "s" }
        ))
    }

    /// Whether `--where` lets the event through; an error skips it and is counted (the
    /// first is said at once, on stderr).
    fn passes(
        front: &FrontPlan,
        f: &mut Filtered,
        ev: &client::ReceivedEvent,
        (latency, label): (Option<f64>, Option<&str>),
    ) -> bool {
        if front.filter.is_none() {
            return true;
        }
        let mut scratch = std::mem::take(&mut f.scratch);
        scratch.clear();
        let pass = ndjson::write_event_from(&mut scratch, ev, latency, label).is_ok()
            && Lines::judge(front, f, &scratch);
        f.scratch = scratch;
        pass
    }

    /// Whether `--where` lets the event written as `line` through (see [`Lines::passes`]).
    fn judge(front: &FrontPlan, f: &mut Filtered, line: &[u8]) -> bool {
        let Some(jq) = &front.filter else {
            return true;
        };
        match jq.passes(line) {
            Ok(pass) => pass,
            Err(e) => {
                f.failed += 1;
                if f.first.is_none() {
                    say!("--where: skipping an event: {e} (further errors are counted)");
                    f.first = Some(e);
                }
                false
            }
        }
    }

    /// A live connection that never came up, said with its last reason: the run did not do
    /// what it was asked, and exits 1 however it ended.
    pub(super) fn unreached(&self) -> Option<String> {
        self.live.then(|| self.reach.never(&self.labels)).flatten()
    }

    /// Writes one item; how the run ends, if it does. When replaying, recorded states are
    /// history, and never end the run.
    fn write(&mut self, o: &Observed) -> io::Result<Option<End>> {
        let label = self.labels.get(o.conn);
        let Item::Event(ev) = &o.item else {
            self.reach.note(o.conn, &o.item);
            report_status(&self.front, &o.item, label);
            return Ok((!self.front.replayed)
                .then(|| ends(&self.front, &o.item, label))
                .flatten());
        };
        if self.front.end == FrontEnd::Json && self.hints.is_none() {
            // The line is written once, where it goes, and `--where` reads it there: taken
            // back if it does not pass.
            let out = self.out.buffer();
            let start = out.len();
            ndjson::write_event_from(out, ev, o.latency_ms, label)?;
            if !Lines::judge(&self.front, &mut self.filter, &out[start..]) {
                out.truncate(start);
                return Ok(None);
            }
            return Ok(self.counted(ev));
        }
        if !Lines::passes(&self.front, &mut self.filter, ev, (o.latency_ms, label)) {
            return Ok(None);
        }
        let out = self.out.buffer();
        match self.front.end {
            // Counted by the summary tap; nothing per event.
            FrontEnd::Summary => {}
            FrontEnd::Json => {
                let hint = self.hints.as_mut().and_then(|(bindings, hints)| {
                    let unbound = ev.is_application()
                        && bindings.lookup(ev.channel.as_deref(), &ev.event).is_none();
                    let channel = ev.channel.as_deref().unwrap_or("-");
                    unbound
                        .then(|| hints.note(bindings, channel, &ev.event))
                        .flatten()
                        .map(|h| h.text.as_str())
                });
                ndjson::write_event_with(out, ev, o.latency_ms, label, hint)?;
            }
            _ => match label {
                Some(l) => writeln!(out, "{} {}", safe(l), lines::event_line(ev))?,
                None => writeln!(out, "{}", lines::event_line(ev))?,
            },
        }
        Ok(self.counted(ev))
    }

    /// Counts an event written; the end of the run at `--count`.
    fn counted(&mut self, ev: &client::ReceivedEvent) -> Option<End> {
        if ev.is_application() {
            self.seen += 1;
            if self.front.count.is_some_and(|n| self.seen >= n) {
                return Some(End::Done);
            }
        }
        None
    }
}

impl Front for Lines {
    fn take(&mut self, o: Observed) -> Option<End> {
        let end = self.write(&o).unwrap_or_else(|e| Some(write_failed(&e)));
        if self.out.is_full() {
            self.out.hand_over();
        }
        end
    }

    fn ready(&self) -> bool {
        self.out.ready()
    }

    async fn wait(&mut self) -> Option<End> {
        self.out.wait().await.map(|e| write_failed(&e))
    }

    fn idle(&mut self) -> Option<End> {
        self.out.hand_over();
        None
    }

    fn sources_ended(&mut self) -> End {
        if self.live {
            End::Fail(EXIT_FAILURE, "the connection engine stopped".into())
        } else {
            End::Done
        }
    }
}

/// A closed stdout (`| head`) is a normal end; any other write error is not.
pub(super) fn write_failed(e: &io::Error) -> End {
    if e.kind() == io::ErrorKind::BrokenPipe {
        End::Done
    } else {
        End::Fail(EXIT_FAILURE, format!("cannot write output: {e}"))
    }
}

/// The end a status item brings: a refused connection, or a failed authorization with
/// `--fail-fast`.
fn ends(front: &FrontPlan, item: &Item, label: Option<&str>) -> Option<End> {
    match item {
        // The dashboard's exit status follows the same rule.
        Item::State(change) => change.refusal().map(|why| {
            let why = match label {
                Some(l) => why.replacen("connection ", &format!("connection {} ", safe(l)), 1),
                None => why,
            };
            End::Fail(EXIT_FAILURE, why)
        }),
        Item::Subscription { channel, status }
            if front.fail_fast
                && let SubscriptionStatus::Failed(f) = &**status
                && f.auth =>
        {
            Some(End::Fail(
                EXIT_AUTH,
                protocol::safe_text::terminal_safe(&format!(
                    "subscription to {channel} failed: {}",
                    f.message
                ))
                .into_owned(),
            ))
        }
        _ => None,
    }
}

/// A replayed status says so: `"replayed": true` in JSON, "replayed:" before a line.
fn report_status(front: &FrontPlan, item: &Item, label: Option<&str>) {
    if front.json_status {
        if let Some(mut v) = ndjson::status_value(item, SystemTime::now()) {
            if let Some(label) = label {
                v["connection"] = label.into();
            }
            if front.replayed {
                v["replayed"] = true.into();
            }
            crate::say::json(&v);
        }
    } else if let Some(line) = lines::status_line(item)
        && !matches!(item, Item::Pong { .. })
    {
        // A profile's name is the user's, but a recording's label is anyone's: `say`
        // makes the whole line safe.
        let replayed = if front.replayed { "replayed: " } else { "" };
        let label = label.map_or(String::new(), |l| format!("{l}: "));
        say!("{replayed}{label}{line}");
    }
}

/// A label on a terminal: a profile's name is the user's, but a recording's is anyone's.
fn safe(label: &str) -> std::borrow::Cow<'_, str> {
    protocol::safe_text::terminal_safe(label)
}
