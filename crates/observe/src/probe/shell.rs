//! The probe as a tap of the pipeline: what each item, publish result, canary outcome, alert
//! and summary does to the [`Probe`] and its metrics, and what it reports to the one front
//! end chosen once ([`Front`]): text lines (results and summaries on stdout, the rest on
//! stderr) or NDJSON on stdout, both through the output thread, which never holds the probe
//! up; or [`Report`]s on a bounded queue for a screen.

use std::io::Write;
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use super::EVENT;
use super::canary::{Fate, Outcome};
use super::lines;
use super::metrics::Metrics;
use super::report::{Figures, Kind, Report};
use super::state::{Alert, AlertKind, Change, Probe};
use crate::output::ndjson;
use crate::output::writer::{Chunk, Lines};
use crate::pipeline::{Observed, Tap};
use bounded::{Bounded, Limits, Overflow};
use client::{ConnectionState, Item, MemberChange, Reason, SubscriptionStatus};
use protocol::frame::Data;
use protocol::safe_text::terminal_safe;

/// Longest publish error text kept.
const MAX_ERROR_CHARS: usize = 300;

/// Where the probe's reports go, chosen once.
pub enum Front {
    /// Text: results and summaries on stdout, alerts, states and errors on stderr, through
    /// the output thread.
    Lines(Lines),
    /// A Nagios plugin (`--for`, piped): nothing while it runs; the verdict's line first
    /// at the end, then the detail (the alerts and notes kept in [`Shell::story`]).
    Nagios(Lines),
    /// NDJSON on stdout, through the output thread.
    Json(Lines),
    /// A screen, which reads the queue ([`bounded::Receiver<Report>`]).
    Screen(bounded::Sender<Report>),
}

impl Front {
    /// Resolves when the front end is gone: stdout closed, or the screen quit. Cancel-safe.
    pub async fn ended(&self) {
        match self {
            Front::Lines(out) | Front::Json(out) | Front::Nagios(out) => out.closed().await,
            Front::Screen(tx) => tx.closed().await,
        }
    }
}

/// The probe, its metrics, and where its reports go.
pub struct Shell {
    pub probe: Probe,
    pub metrics: Option<Metrics>,
    pub front: Front,
    /// The app secret, cut out of any publish error shown.
    pub secret: String,
    pub channel: String,
    pub presence_channel: String,
    /// This probe's id, in every canary: canaries of another probe are not ours.
    pub id: String,
    /// Per node: its canary subscription succeeded or failed (nothing more to wait for).
    pub settled: Vec<bool>,
    /// Per node: refused for good (its engine stopped).
    pub dead: Vec<bool>,
    /// The node named by the open presence alert (its row is red on a screen).
    presence_node: Option<usize>,
    /// The figures changed since the screen last got them.
    dirty: bool,
    /// The latest alerts, states and errors, with their time: the detail of the verdict.
    pub story: Bounded<String>,
}

/// Lines kept for the verdict's detail: the latest win.
pub const STORY: Limits = Limits::new(20, 16 << 10);

impl Shell {
    pub fn new(probe: Probe, front: Front, secret: String, channel: String, id: String) -> Shell {
        let nodes = probe.nodes.len();
        let suffix = channel.trim_start_matches("private-");
        Shell {
            presence_channel: format!("presence-{suffix}"),
            probe,
            metrics: None,
            front,
            secret,
            channel,
            id,
            settled: vec![false; nodes],
            dead: vec![false; nodes],
            presence_node: None,
            dirty: true,
            story: Bounded::new(STORY, Overflow::DropOldest),
        }
    }

    /// Every node is settled or dead: the first canary may go.
    pub fn ready(&self) -> bool {
        self.settled.iter().zip(&self.dead).all(|(s, d)| *s || *d)
    }

    /// Every node is refused for good.
    pub fn all_dead(&self) -> bool {
        self.dead.iter().all(|d| *d)
    }

    /// A line for stdout (a result, a summary, or an NDJSON object). It never waits: a line
    /// the output thread has no room for is counted.
    fn stdout(&mut self, line: Result<&Value, &str>) {
        if let Front::Lines(out) | Front::Json(out) = &self.front {
            let mut buf = Vec::new();
            let _ = match line {
                Ok(v) => ndjson::write_line(&mut buf, v),
                Err(text) => writeln!(buf, "{text}"),
            };
            out.send(Chunk::Out(buf));
        }
    }

    /// Keeps `text` for the verdict's detail (the oldest go first).
    fn tell(&mut self, text: &str) {
        let time = protocol::time_text::rfc3339_millis(SystemTime::now());
        let line: String = format!("{time} {}", terminal_safe(text))
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect();
        let _ = self.story.push(line);
    }

    /// A line for a person: on stderr (through the output thread), or on the screen; kept
    /// for the verdict's detail, but for the summaries.
    fn note(&mut self, kind: Kind, text: &str) {
        let text = terminal_safe(text);
        if kind != Kind::Note || !text.starts_with("probe: ") {
            self.tell(&text);
        }
        match &mut self.front {
            Front::Nagios(_) => {}
            Front::Screen(tx) => {
                let _ = tx.try_send(Report::Line {
                    kind,
                    text: text.into_owned(),
                });
            }
            Front::Lines(out) | Front::Json(out) => {
                out.send(Chunk::message(&text));
            }
        }
    }

    /// The figures, to the screen, when they changed (called on the probe's tick).
    pub fn figures(&mut self) {
        if let (Front::Screen(tx), true) = (&self.front, self.dirty) {
            let figures = Figures::of(&self.probe, self.presence_node);
            self.dirty = tx.try_send(Report::Figures(figures)).is_err();
        }
    }

    /// One engine item of node `i`.
    pub fn item(&mut self, i: usize, item: &Item) {
        let name = self.probe.name(i);
        match item {
            Item::State(c) => {
                self.probe.state(i, c.current);
                self.dirty = true;
                if let Some(m) = &self.metrics {
                    m.state(i, c.current);
                }
                let reason = c.reason.as_ref().map(|r| r.to_string());
                let dead = match (&c.current, &c.reason) {
                    (ConnectionState::Disconnected, Some(Reason::Requested)) => false,
                    (ConnectionState::Disconnected | ConnectionState::Failed, _) => true,
                    _ => false,
                };
                if let Some(d) = self.dead.get_mut(i) {
                    *d |= dead;
                }
                if let Front::Json(_) = self.front {
                    let v = json!({"node": name, "state": c.current.as_str(), "reason": reason});
                    self.stdout(Ok(&v));
                } else {
                    let why = reason.map_or(String::new(), |r| format!(" ({r})"));
                    self.note(Kind::Note, &format!("{name}: {}{why}", c.current));
                }
            }
            Item::Subscription { channel, status } if *channel == self.channel => match &**status {
                SubscriptionStatus::Subscribed => {
                    self.settle(i);
                    if let Some(a) = self.probe.subscription(i, None) {
                        self.alert(&a);
                    }
                }
                SubscriptionStatus::Failed(f) => {
                    self.settle(i);
                    let text = format!("{name}: cannot subscribe to {channel}: {}", f.message);
                    self.note(Kind::Bad, &text);
                    let why = lines::error_text(&f.message, &self.secret, MAX_ERROR_CHARS);
                    if let Some(a) = self.probe.subscription(i, Some(&why)) {
                        self.alert(&a);
                    }
                }
                _ => {}
            },
            Item::Event(ev)
                if ev.event == EVENT && ev.channel.as_deref() == Some(&self.channel) =>
            {
                let Data::Json(data) = ev.data() else { return };
                if data.get("probe").and_then(Value::as_str) != Some(self.id.as_str()) {
                    return;
                }
                let Some(seq) = data.get("seq").and_then(Value::as_u64) else {
                    return;
                };
                if let Some(o) = self.probe.tracker.arrived(seq, i, Instant::now()) {
                    self.outcome(&o);
                }
            }
            Item::Members {
                channel, change, ..
            } if *channel == self.presence_channel => {
                if let Some(p) = &mut self.probe.presence {
                    p.apply(i, change);
                }
                if let (MemberChange::Snapshot { .. }, Some(n)) =
                    (&**change, self.probe.nodes.get_mut(i))
                {
                    n.listed = true;
                }
                self.dirty = true;
            }
            Item::Subscription { channel, status }
                if *channel == self.presence_channel
                    && let SubscriptionStatus::Failed(f) = &**status =>
            {
                let text = format!("{name}: cannot subscribe to {channel}: {}", f.message);
                self.note(Kind::Bad, &text);
                let why = lines::error_text(&f.message, &self.secret, MAX_ERROR_CHARS);
                self.probe.presence_refused(i, &why);
                self.dirty = true;
            }
            _ => {}
        }
    }

    fn settle(&mut self, i: usize) {
        if let Some(s) = self.settled.get_mut(i) {
            *s = true;
        }
    }

    /// A publish through node `via` was answered.
    pub fn published(&mut self, seq: u64, via: usize, result: Result<(), String>) {
        if let Some(m) = &self.metrics {
            m.published(via, result.is_ok());
        }
        self.dirty = true;
        match result {
            Ok(()) => {
                if let Some(a) = self.probe.published(seq, via) {
                    self.alert(&a);
                }
            }
            Err(e) => {
                let text = lines::error_text(&e, &self.secret, MAX_ERROR_CHARS);
                let name = self.probe.name(via);
                let raised = self.probe.publish_failed(seq, via, text.clone());
                if let Front::Json(_) = self.front {
                    let v =
                        json!({"seq": seq, "via": name, "result": "publish_error", "error": text});
                    self.stdout(Ok(&v));
                } else {
                    self.note(
                        Kind::Bad,
                        &format!("canary {seq}: publish via {name} failed: {text}"),
                    );
                }
                if let Some(a) = raised {
                    self.alert(&a);
                }
            }
        }
    }

    /// A canary's fate on one node.
    pub fn outcome(&mut self, o: &Outcome) {
        if let Some(m) = &self.metrics {
            m.outcome(o);
        }
        self.dirty = true;
        let alert = self.probe.outcome(o);
        match &self.front {
            Front::Nagios(_) => {}
            Front::Json(_) => {
                let v = lines::result_json(&self.probe, o, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Front::Lines(_) => {
                let text = lines::result_text(&self.probe, o);
                self.stdout(Err(&text));
            }
            Front::Screen(tx) => {
                let kind = match o.fate {
                    Fate::Received(_) => Kind::Received,
                    _ => Kind::Bad,
                };
                let text = terminal_safe(&lines::result_text(&self.probe, o)).into_owned();
                let _ = tx.try_send(Report::Line { kind, text });
            }
        }
        if let Some(a) = alert {
            self.alert(&a);
        }
    }

    /// An alert raised or recovered.
    pub fn alert(&mut self, a: &Alert) {
        self.tell(&lines::alert_text(a));
        if a.kind == AlertKind::PresenceMismatch {
            if let Some(m) = &self.metrics {
                m.presence(self.probe.presence_differs);
            }
            self.presence_node = match a.change {
                Change::Raised => a.node,
                Change::Recovered => None,
            };
        }
        self.dirty = true;
        match &mut self.front {
            Front::Nagios(_) => {}
            Front::Json(_) => {
                let v = lines::alert_json(&self.probe, a, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Front::Lines(_) => {
                let text = terminal_safe(&lines::alert_text(a)).into_owned();
                if let Front::Lines(out) = &self.front {
                    out.send(Chunk::Err(format!("tickertape: {text}\n").into_bytes()));
                }
            }
            Front::Screen(tx) => {
                let text = terminal_safe(&lines::alert_text(a)).into_owned();
                let _ = tx.try_send(Report::Alert {
                    alert: a.clone(),
                    text,
                });
            }
        }
    }

    /// The summary line (every `--summary-every`, and at the end).
    pub fn summary(&mut self) {
        match &self.front {
            Front::Nagios(_) => {}
            Front::Json(_) => {
                let v = lines::summary_json(&self.probe, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Front::Lines(_) => {
                let text = lines::summary_text(&self.probe);
                self.stdout(Err(&text));
            }
            Front::Screen(_) => self.note(Kind::Note, &lines::summary_text(&self.probe)),
        }
    }
}

/// The probe's model is a tap: each node's items, tagged with its index.
impl Tap for Shell {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        self.item(usize::from(o.conn), &o.item);
        None
    }
}
