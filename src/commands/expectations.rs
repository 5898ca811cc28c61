//! Expectations for `watch` and `check`: the rules from the flags and the bindings file, keyed
//! by the ticker bindings, and the hook that `watch --json` feeds and that writes alert and
//! recovery lines to stderr.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use client::{Conn, Item, Labels};
use observe::binding::{Binding, View};
use observe::expect::{Evaluator, Expectation, Kind, Settings, Transition};
use observe::field_path::FieldPath;
use observe::output::{alerts, ndjson};

/// Every rule, in order: `--expect`, `--warn`, then the bindings file's. A value rule on an
/// event a ticker binding shows is kept per ticker key. `latency<…` needs `ts_field`.
pub fn rules(
    flags: impl IntoIterator<Item = Expectation>,
    file_text: Option<&str>,
    bindings: &[Binding],
    ts_field: Option<&FieldPath>,
) -> anyhow::Result<Vec<Expectation>> {
    let mut rules: Vec<Expectation> = flags.into_iter().collect();
    if let Some(text) = file_text {
        rules.extend(observe::expect::parse::parse_file(text).map_err(anyhow::Error::msg)?);
    }
    if ts_field.is_none()
        && let Some(r) = rules
            .iter()
            .find(|r| matches!(r.kind, Kind::Latency { .. }))
    {
        anyhow::bail!("--expect {:?} needs --ts-field", r.text);
    }
    Ok(rules.into_iter().map(|r| keyed(r, bindings)).collect())
}

/// `watch`'s rules: its flags, its bindings file's [[expect]] tables, keyed by its bindings.
pub fn for_watch(args: &crate::cli::plan::FrontPlan) -> anyhow::Result<Vec<Expectation>> {
    use anyhow::Context;
    let mut bindings = args.dashboard.bindings.clone();
    let text = match &args.dashboard.bindings_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            bindings.extend(observe::binding::parse_file(&text).map_err(anyhow::Error::msg)?);
            Some(text)
        }
        None => None,
    };
    let flags = args.expect.expect.iter().chain(&args.expect.warn).cloned();
    rules(flags, text.as_deref(), &bindings, args.ts_field.as_ref())
}

/// The evaluator's settings for `watch`: the latency window is the last 30 s.
pub fn watch_settings(args: &crate::cli::plan::FrontPlan) -> Settings {
    Settings {
        ts_field: args.ts_field.clone(),
        latency_window: Duration::from_secs(30),
    }
}

/// A value rule takes the key of the first ticker binding that can show its events.
fn keyed(rule: Expectation, bindings: &[Binding]) -> Expectation {
    let Kind::Value { channel, event, .. } = &rule.kind else {
        return rule;
    };
    let fits = |mine: &Option<String>, theirs: &Option<String>| {
        theirs.is_none() || mine.is_none() || mine == theirs
    };
    let key = bindings.iter().find_map(|b| match &b.view {
        View::Ticker { key, .. } if fits(channel, &b.channel) && fits(event, &b.event) => {
            Some(key.clone())
        }
        _ => None,
    });
    match key {
        Some(key) => rule.keyed_by(key),
        None => rule,
    }
}

/// Instants as wall-clock times, from one reading of both clocks.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    wall: SystemTime,
}

impl Clock {
    pub fn now() -> Clock {
        Clock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    pub fn wall(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.instant) {
            Some(d) => self.wall + d,
            None => self.wall - self.instant.saturating_duration_since(at),
        }
    }
}

/// How often time is given its say (a silent channel, a connection down past its grace).
pub const TICK: Duration = Duration::from_secs(1);

/// `watch --json --expect …`: the evaluator, fed per item and on a tick, and its lines.
pub struct Alarm {
    eval: Evaluator,
    clock: Clock,
    json: bool,
    bell: bool,
}

impl Alarm {
    /// `None` when there is no expectation. `labels` names the connections the items are
    /// tagged with: `connected` is judged per connection.
    pub fn new(
        rules: Vec<Expectation>,
        settings: Settings,
        (json, bell): (bool, bool),
        labels: Labels,
    ) -> Option<Alarm> {
        let clock = Clock::now();
        (!rules.is_empty()).then(|| Alarm {
            eval: Evaluator::new(rules, settings, clock.instant).for_connections(labels),
            clock,
            json,
            bell,
        })
    }

    /// The dashboard's evaluator, when there are expectations.
    pub fn evaluator(
        args: &crate::cli::plan::FrontPlan,
        labels: &Labels,
    ) -> anyhow::Result<Option<Evaluator>> {
        let rules = for_watch(args)?;
        Ok((!rules.is_empty()).then(|| {
            Evaluator::new(rules, watch_settings(args), Instant::now())
                .for_connections(labels.clone())
        }))
    }

    /// An item from the connection tagged `conn`.
    pub fn item(&mut self, conn: Conn, item: &Item) {
        let t = self.eval.apply_from(conn, item, Instant::now());
        self.report(&t);
    }

    pub fn tick(&mut self) {
        let t = self.eval.tick(Instant::now());
        self.report(&t);
    }

    fn report(&self, transitions: &[Transition]) {
        if transitions.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        for t in transitions {
            let since = self.clock.wall(t.since);
            if self.json {
                let v = alerts::alert_value(t, SystemTime::now(), since);
                let _ = ndjson::write_line(&mut err, &v);
            } else {
                let _ = writeln!(err, "tickertape: {}", alerts::alert_line(t, since));
            }
        }
        if self.bell
            && transitions
                .iter()
                .any(|t| t.change == observe::expect::Change::Alert)
        {
            let _ = err.write_all(b"\x07");
        }
        let _ = err.flush();
    }
}
