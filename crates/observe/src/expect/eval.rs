//! The evaluator: fed the engine's items and the time, it says when an expectation breaks and
//! when it recovers, as values. No I/O and no clock reading: the caller passes `now`.
//!
//! Events and state changes are handled in [`Evaluator::apply`] (cheap, per item); what only
//! time can break (a silent channel, a connection down past its grace, the latency window) is
//! looked at in [`Evaluator::tick`], which the caller runs about once a second.
//!
//! With several connections (see [`Evaluator::for_connections`]) `connected` is kept per
//! connection ([`super::connected`]); the other rules look at every connection's events
//! together, as one stream.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::connected::{self, Down};
use super::parse::{Expectation, Kind, Level};
use super::value::{holds, text_of};
pub use super::value::{p99, seconds};
use crate::field_path::FieldPath;
use crate::pipeline::{Observed, Tap};
use bounded::{Limits, WeighedMap};
use client::{Conn, ConnectionState, Item, Labels, ReceivedEvent};
use protocol::limits::cut_name;

/// Latency samples kept per window, whatever the rate.
pub const MAX_SAMPLES: usize = 10_000;
/// Ticker keys a value rule tracks as broken at once (the keys come from the wire, and are
/// cut to `MAX_KEPT_NAME_CHARS` characters, as the values shown are).
pub const MAX_SUBJECTS: usize = 1_000;
/// The bytes a value rule's broken keys and their details may take.
pub const SUBJECTS: Limits = Limits::new(MAX_SUBJECTS, 1 << 20);

/// What the evaluator needs beyond the rules.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where events carry their publish time (`--ts-field`), for `latency<…`.
    pub ts_field: Option<FieldPath>,
    /// The p99 of `latency<…` is over this much of the recent past.
    pub latency_window: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            ts_field: None,
            latency_window: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Alert,
    Recovery,
}

/// An expectation that just broke, or just recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub change: Change,
    /// Index of the expectation, in the order given.
    pub rule: usize,
    pub expectation: String,
    pub level: Level,
    /// The ticker key, for a value rule kept per key.
    pub subject: Option<String>,
    /// The connection's label, for `connected` with several connections.
    pub connection: Option<String>,
    /// When the bad spell began (the last event, the connection going down, the bad value).
    pub since: Instant,
    pub detail: String,
}

/// An expectation broken now.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    pub rule: usize,
    pub expectation: String,
    pub level: Level,
    pub subject: Option<String>,
    /// The connection's label, for `connected` with several connections.
    pub connection: Option<String>,
    pub since: Instant,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub exp: Expectation,
    pub track: Track,
    /// Broken at least once since the start.
    pub ever_broken: bool,
}

#[derive(Debug, Clone)]
pub(super) enum Track {
    Cadence {
        last: Instant,
        events: u64,
        longest_gap: Duration,
        broken: Option<(Instant, String)>,
    },
    Latency {
        samples: VecDeque<(Instant, f64)>,
        total: u64,
        worst_p99: Option<f64>,
        broken: Option<(Instant, String)>,
    },
    Value {
        seen: u64,
        violations: u64,
        last_bad: Option<String>,
        /// Broken subjects ("" when the rule has no key): since when, and why.
        broken: WeighedMap<String, (Instant, String)>,
    },
    /// One track per connection (one with a single connection).
    Connected { conns: Vec<Down> },
}

pub struct Evaluator {
    pub(super) rules: Vec<Rule>,
    pub(super) settings: Settings,
    pub(super) started: Instant,
    pub(super) events: u64,
    pub(super) ever_connected: bool,
    /// The server refused the connection for good (`pusher:error 4001`, a close code that
    /// forbids reconnecting): why, as said.
    pub(super) refused: Option<String>,
    /// A `connected` rule broke before the connection ever came up: the server was
    /// unreachable for longer than its grace.
    pub(super) unreachable: bool,
    /// The run's connections (none named with one).
    pub(super) labels: Labels,
}

impl Evaluator {
    pub fn new(expectations: Vec<Expectation>, settings: Settings, now: Instant) -> Evaluator {
        let rules = expectations
            .into_iter()
            .map(|exp| {
                let track = match exp.kind {
                    Kind::Cadence { .. } => Track::Cadence {
                        last: now,
                        events: 0,
                        longest_gap: Duration::ZERO,
                        broken: None,
                    },
                    Kind::Latency { .. } => Track::Latency {
                        samples: VecDeque::new(),
                        total: 0,
                        worst_p99: None,
                        broken: None,
                    },
                    Kind::Value { .. } => Track::Value {
                        seen: 0,
                        violations: 0,
                        last_bad: None,
                        broken: WeighedMap::new(SUBJECTS),
                    },
                    Kind::Connected { .. } => Track::Connected {
                        conns: vec![Down::new(now)],
                    },
                };
                Rule {
                    exp,
                    track,
                    ever_broken: false,
                }
            })
            .collect();
        Evaluator {
            rules,
            settings,
            started: now,
            events: 0,
            ever_connected: false,
            refused: None,
            unreachable: false,
            labels: Labels::default(),
        }
    }

    /// Keeps `connected` per connection of these (the tags of [`Evaluator::apply_from`]),
    /// each named in its transitions. With one connection, nothing changes.
    pub fn for_connections(mut self, labels: Labels) -> Evaluator {
        for rule in &mut self.rules {
            if let Track::Connected { conns } = &mut rule.track {
                *conns = connected::tracks(&labels, self.started);
            }
        }
        self.labels = labels;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many rules it judges.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// A connection came up at least once.
    pub fn ever_connected(&self) -> bool {
        self.ever_connected
    }

    /// Takes one item into account; returns what broke or recovered because of it. (Tests:
    /// a run's items come from the pipeline, as [`Evaluator::apply_observed`].)
    #[cfg(test)]
    pub(crate) fn apply(&mut self, item: &Item, now: Instant) -> Vec<Transition> {
        self.apply_from(0, item, now)
    }

    /// [`Evaluator::apply`] for an item from the connection tagged `conn`.
    #[cfg(test)]
    pub(crate) fn apply_from(&mut self, conn: Conn, item: &Item, now: Instant) -> Vec<Transition> {
        let o = Observed::new(conn, item.clone(), self.settings.ts_field.as_ref());
        self.apply_observed(&o, now)
    }

    /// One item of the pipeline, with the latency it computed.
    pub fn apply_observed(&mut self, o: &Observed, now: Instant) -> Vec<Transition> {
        self.apply_item(o.conn, &o.item, o.latency_ms, now)
    }

    fn apply_item(
        &mut self,
        conn: Conn,
        item: &Item,
        latency: Option<f64>,
        now: Instant,
    ) -> Vec<Transition> {
        let mut out = Vec::new();
        match item {
            Item::Event(ev) if ev.is_application() => {
                self.events += 1;
                for (i, rule) in self.rules.iter_mut().enumerate() {
                    rule.event(i, ev, latency, now, &mut out);
                }
            }
            Item::State(change) => {
                if let Some(why) = change.refusal() {
                    self.refused = Some(why);
                }
                let up = change.current == ConnectionState::Connected;
                return self.link(conn, up, now);
            }
            _ => {}
        }
        out
    }

    /// The connection tagged `conn` went up or down at `at`: from a state item, or from its
    /// link ([`client::Client::link`]), which a flood of items never holds up.
    pub fn link(&mut self, conn: Conn, up: bool, at: Instant) -> Vec<Transition> {
        let mut out = Vec::new();
        self.ever_connected |= up;
        let Some(track) = connected::index(&self.labels, conn) else {
            return out;
        };
        for (i, rule) in self.rules.iter_mut().enumerate() {
            rule.connection(i, track, up, at, &self.labels, &mut out);
        }
        out
    }

    /// What time alone broke or mended: silences, downtime past its grace, the latency window.
    pub fn tick(&mut self, now: Instant) -> Vec<Transition> {
        let mut out = Vec::new();
        let window = self.settings.latency_window;
        for (i, rule) in self.rules.iter_mut().enumerate() {
            rule.tick(i, now, window, &self.labels, &mut out);
        }
        if !self.ever_connected {
            self.unreachable |= out.iter().any(|t| {
                t.change == Change::Alert
                    && self
                        .rules
                        .get(t.rule)
                        .is_some_and(|r| matches!(r.exp.kind, Kind::Connected { .. }))
            });
        }
        out
    }

    /// The verdict can only be CRITICAL now, whatever comes: the server refused the
    /// connection, it was unreachable past a `connected` rule's grace, or, once it was
    /// reached, an `--expect` rule broke (it stays broken for the verdict). `check` ends
    /// there.
    pub fn decided(&self) -> bool {
        self.refused.is_some()
            || self.unreachable
            || (self.ever_connected
                && self
                    .rules
                    .iter()
                    .any(|r| r.ever_broken && r.exp.level == Level::Critical))
    }

    /// The expectations broken now.
    pub fn active(&self) -> Vec<Active> {
        let mut all = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let active = |subject: Option<String>, (since, detail): &(Instant, String)| Active {
                rule: i,
                expectation: rule.exp.text.clone(),
                level: rule.exp.level,
                subject,
                connection: None,
                since: *since,
                detail: detail.clone(),
            };
            match &rule.track {
                Track::Cadence { broken, .. } | Track::Latency { broken, .. } => {
                    all.extend(broken.as_ref().map(|b| active(None, b)));
                }
                Track::Connected { conns } => {
                    all.extend(conns.iter().enumerate().filter_map(|(c, down)| {
                        let b = down.broken.as_ref()?;
                        Some(Active {
                            connection: connected::label(&self.labels, c),
                            ..active(None, b)
                        })
                    }));
                }
                Track::Value { broken, .. } => all.extend(
                    broken
                        .iter()
                        .map(|(k, b)| active((!k.is_empty()).then(|| k.clone()), b)),
                ),
            }
        }
        all
    }
}

/// The evaluator as a silent tap (`check`: the verdict at the end says it all).
impl Tap for Evaluator {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        self.apply_observed(o, Instant::now());
        None
    }

    fn tick(&mut self, now: Instant) {
        Evaluator::tick(self, now);
    }
}

pub(super) fn transition(
    exp: &Expectation,
    i: usize,
    change: Change,
    subject: Option<String>,
    since: Instant,
    detail: String,
) -> Transition {
    Transition {
        change,
        rule: i,
        expectation: exp.text.clone(),
        level: exp.level,
        subject,
        connection: None,
        since,
        detail,
    }
}

impl Rule {
    fn event(
        &mut self,
        i: usize,
        ev: &ReceivedEvent,
        latency_ms: Option<f64>,
        now: Instant,
        out: &mut Vec<Transition>,
    ) {
        let matches = |c: &Option<String>, e: &Option<String>| {
            c.as_deref()
                .is_none_or(|c| ev.channel.as_deref() == Some(c))
                && e.as_deref().is_none_or(|e| ev.event == e)
        };
        match (&self.exp.kind, &mut self.track) {
            (
                Kind::Cadence { channel, event, .. },
                Track::Cadence {
                    last,
                    events,
                    longest_gap,
                    broken,
                },
            ) if matches(channel, event) => {
                let gap = now.saturating_duration_since(*last);
                *longest_gap = (*longest_gap).max(gap);
                *last = now;
                *events += 1;
                if let Some((since, _)) = broken.take() {
                    let detail = format!("an event after {}", seconds(gap));
                    out.push(transition(
                        &self.exp,
                        i,
                        Change::Recovery,
                        None,
                        since,
                        detail,
                    ));
                }
            }
            (Kind::Latency { .. }, Track::Latency { samples, total, .. }) => {
                if let Some(ms) = latency_ms {
                    if samples.len() == MAX_SAMPLES {
                        samples.pop_front();
                    }
                    samples.push_back((now, ms));
                    *total += 1;
                }
            }
            (
                Kind::Value {
                    channel,
                    event,
                    path,
                    op,
                    literal,
                    key,
                },
                Track::Value {
                    seen,
                    violations,
                    last_bad,
                    broken,
                },
            ) if matches(channel, event) => {
                let data = ev.data().as_value();
                let Some(value) = path.get(&data) else {
                    return;
                };
                *seen += 1;
                let subject = key
                    .as_ref()
                    .and_then(|k| k.get(&data))
                    .map_or_else(String::new, |v| cut_name(&text_of(v)).into_owned());
                let holds = holds(value, *op, literal);
                let shown = cut_name(&text_of(value)).into_owned();
                let (subject_opt, since) = ((!subject.is_empty()).then(|| subject.clone()), now);
                if !holds {
                    *violations += 1;
                    *last_bad = Some(if subject.is_empty() {
                        format!("{} {shown}", path.display())
                    } else {
                        format!("{subject} {} {shown}", path.display())
                    });
                    if !broken.contains_key(&subject) && broken.len() < MAX_SUBJECTS {
                        let detail = format!("{} {shown}", path.display());
                        // Past the caps in bytes it is not tracked, as past the count.
                        if broken.insert(subject, (now, detail.clone())).is_err() {
                            return;
                        }
                        self.ever_broken = true;
                        out.push(transition(
                            &self.exp,
                            i,
                            Change::Alert,
                            subject_opt,
                            since,
                            detail,
                        ));
                    }
                } else if let Some((since, _)) = broken.remove(&subject) {
                    let detail = format!("{} {shown}", path.display());
                    out.push(transition(
                        &self.exp,
                        i,
                        Change::Recovery,
                        subject_opt,
                        since,
                        detail,
                    ));
                }
            }
            _ => {}
        }
    }
}
