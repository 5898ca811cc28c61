//! `probe`'s output side: what each engine item, publish result, canary outcome, alert and
//! summary does to the [`Probe`], and where its line goes: text lines (results and
//! summaries on stdout, the rest on stderr), NDJSON on stdout, or reports for the screen.

use std::io::Write;
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use client::publish::RestClient;
use client::{Client, ConnectionState, Item, Reason, SubscriptionStatus};
use observe::output::ndjson;
use observe::probe::canary::{Fate, Outcome};
use observe::probe::metrics::Metrics;
use observe::probe::report::Kind;
use observe::probe::state::{Alert, AlertKind, Probe};
use observe::probe::{EVENT, lines};
use protocol::frame::Data;
use protocol::safe_text::terminal_safe;

use super::screen_shim::Reports;

/// Longest publish error text kept.
const MAX_ERROR_CHARS: usize = 300;

/// One node: its engine's handle, its REST client, and how far it got.
pub(super) struct Node {
    pub client: Client,
    pub rest: RestClient,
    /// The canary subscription succeeded or failed: nothing more to wait for.
    pub settled: bool,
    /// Refused for good: the engine stopped.
    pub dead: bool,
}

/// Where the lines go.
pub(super) enum Output {
    /// Text: results and summaries on stdout, alerts, states and errors on stderr.
    Lines,
    /// NDJSON on stdout.
    Json,
    /// The screen: every line to its log, alerts to its strip too, and the figures.
    Screen(Reports),
}

/// The probe and where its lines go.
pub(super) struct Shell {
    pub probe: Probe,
    pub metrics: Option<Metrics>,
    pub output: Output,
    pub secret: String,
    pub channel: String,
    pub presence_channel: String,
    pub id: String,
    /// stdout is closed: time to stop.
    pub closed: bool,
}

impl Shell {
    /// The probe's figures for the screen, when they changed.
    pub(super) fn figures(&mut self) {
        if let Output::Screen(r) = &mut self.output {
            r.figures(&self.probe);
        }
    }

    fn stdout(&mut self, line: Result<&Value, &str>) {
        let mut out = std::io::stdout().lock();
        let r = match line {
            Ok(v) => ndjson::write_line(&mut out, v),
            Err(text) => writeln!(out, "{text}").and_then(|()| out.flush()),
        };
        self.closed |= r.is_err();
    }

    /// A line for a person: on stderr, or in the screen's log.
    fn note(&mut self, kind: Kind, text: &str) {
        let text = terminal_safe(text);
        match &mut self.output {
            Output::Screen(r) => r.line(kind, &text),
            _ => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "tickertape: {text}");
            }
        }
    }

    pub(super) fn item(&mut self, node: &mut Node, i: usize, item: &Item) {
        let name = self.probe.name(i);
        match item {
            Item::State(c) => {
                self.probe.state(i, c.current);
                if let Some(m) = &self.metrics {
                    m.state(i, c.current);
                }
                let reason = c.reason.as_ref().map(|r| r.to_string());
                node.dead |= match (&c.current, &c.reason) {
                    (ConnectionState::Disconnected, Some(Reason::Requested)) => false,
                    (ConnectionState::Disconnected | ConnectionState::Failed, _) => true,
                    _ => false,
                };
                if let Output::Json = self.output {
                    let v = json!({"node": name, "state": c.current.as_str(), "reason": reason});
                    self.stdout(Ok(&v));
                } else {
                    let why = reason.map_or(String::new(), |r| format!(" ({r})"));
                    self.note(Kind::Note, &format!("{name}: {}{why}", c.current));
                }
            }
            Item::Subscription { channel, status } if *channel == self.channel => match status {
                SubscriptionStatus::Subscribed => {
                    node.settled = true;
                    if let Some(a) = self.probe.subscription(i, None) {
                        self.alert(&a);
                    }
                }
                SubscriptionStatus::Failed(f) => {
                    node.settled = true;
                    let text = format!("{name}: cannot subscribe to {channel}: {}", f.message);
                    self.note(Kind::Bad, &text);
                    if let Some(a) = self.probe.subscription(i, Some(&f.message)) {
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
            }
            _ => {}
        }
    }

    pub(super) fn published(&mut self, seq: u64, via: usize, result: Result<(), String>) {
        if let Some(m) = &self.metrics {
            m.published(via, result.is_ok());
        }
        match result {
            Ok(()) => {
                let recovered = self.probe.published(seq, via);
                if let Some(a) = recovered {
                    self.alert(&a);
                }
            }
            Err(e) => {
                let text = lines::error_text(&e, &self.secret, MAX_ERROR_CHARS);
                let name = self.probe.name(via);
                let raised = self.probe.publish_failed(seq, via, text.clone());
                if let Output::Json = self.output {
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

    pub(super) fn outcome(&mut self, o: &Outcome) {
        if let Some(m) = &self.metrics {
            m.outcome(o);
        }
        let alert = self.probe.outcome(o);
        match &mut self.output {
            Output::Json => {
                let v = lines::result_json(&self.probe, o, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Output::Lines => {
                let text = lines::result_text(&self.probe, o);
                self.stdout(Err(&text));
            }
            Output::Screen(r) => {
                let kind = match o.fate {
                    Fate::Received(_) => Kind::Received,
                    _ => Kind::Bad,
                };
                r.line(kind, &lines::result_text(&self.probe, o));
            }
        }
        if let Some(a) = alert {
            self.alert(&a);
        }
    }

    pub(super) fn alert(&mut self, a: &Alert) {
        if let Some(m) = &self.metrics
            && a.kind == AlertKind::PresenceMismatch
        {
            m.presence(self.probe.presence_differs);
        }
        match &mut self.output {
            Output::Json => {
                let v = lines::alert_json(&self.probe, a, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Output::Lines => self.note(Kind::Alert, &lines::alert_text(a)),
            Output::Screen(r) => r.alert(a, &lines::alert_text(a)),
        }
    }

    pub(super) fn summary(&mut self) {
        match &mut self.output {
            Output::Json => {
                let v = lines::summary_json(&self.probe, SystemTime::now());
                self.stdout(Ok(&v));
            }
            Output::Lines => {
                let text = lines::summary_text(&self.probe);
                self.stdout(Err(&text));
            }
            Output::Screen(r) => r.line(Kind::Note, &lines::summary_text(&self.probe)),
        }
    }
}
