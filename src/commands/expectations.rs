//! Expectations for `watch` and `check`: the rules from the flags and the bindings file, keyed
//! by the ticker bindings, and the tap of `watch --json`'s pipeline that writes alert and
//! recovery lines to stderr.

use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::cli::plan::FrontPlan;
use client::{Conn, Item, Labels, Link};
use observe::expect::{Evaluator, Settings, Transition};
use observe::output::alerts;
use observe::pipeline::{Observed, Tap};

/// The evaluator's settings for `watch`: the latency window is the last 30 s.
pub fn watch_settings(args: &FrontPlan) -> Settings {
    Settings {
        ts_field: args.ts_field.clone(),
        latency_window: Duration::from_secs(30),
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

/// `watch --json --expect …`: the evaluator as a tap of the pipeline, and its lines on
/// stderr. With live connections, `connected` is judged from each one's link, read on every
/// tick: a state change that waits behind a flood of items in its feed is judged on time all
/// the same. A replay has no links: its recorded states are judged as items.
pub struct Alarm {
    eval: Evaluator,
    clock: Clock,
    json: bool,
    bell: bool,
    /// Each connection's link, and whether it was up when last read.
    links: Vec<(Conn, watch::Receiver<Link>, bool)>,
}

impl Alarm {
    /// `None` when there is no expectation. `labels` names the connections the items are
    /// tagged with: `connected` is judged per connection.
    pub fn new(
        front: &FrontPlan,
        labels: Labels,
        links: Vec<(Conn, watch::Receiver<Link>)>,
    ) -> Option<Alarm> {
        let clock = Clock::now();
        let eval = evaluator(front, &labels)?;
        Some(Alarm {
            eval,
            clock,
            json: front.json_status,
            bell: front.expect.bell,
            links: links.into_iter().map(|(c, l)| (c, l, false)).collect(),
        })
    }

    /// The dashboard's evaluator, when there are expectations. (A `Result` as the
    /// dashboard's call expects: the plan has read the rules, so it cannot fail now.)
    pub fn evaluator(front: &FrontPlan, labels: &Labels) -> anyhow::Result<Option<Evaluator>> {
        Ok(evaluator(front, labels))
    }

    fn report(&self, transitions: &[Transition]) {
        if transitions.is_empty() {
            return;
        }
        for t in transitions {
            let since = self.clock.wall(t.since);
            if self.json {
                crate::say::json(&alerts::alert_value(t, SystemTime::now(), since));
            } else {
                crate::say::line(&alerts::alert_line(t, since));
            }
        }
        if self.bell
            && transitions
                .iter()
                .any(|t| t.change == observe::expect::Change::Alert)
        {
            crate::say::bell();
        }
    }
}

/// How the dashboard builds the expectations in force with a view loaded while watching:
/// the command line's rules, the view's (those not the command line's already), and the
/// bindings file's, checked as the plan checks them and keyed by the bindings in force.
pub fn view_builder(front: &FrontPlan, labels: &Labels) -> tui::watch::ExpectBuilder {
    let base = front.dashboard.base_expect.clone();
    let file = front.dashboard.expect_file.clone();
    let ts_field = front.ts_field.clone();
    let settings = watch_settings(front);
    let labels = labels.clone();
    std::sync::Arc::new(move |view: &[String], bindings, now| {
        let mut flags = base.clone();
        for rule in view {
            let e = observe::expect::Expectation::parse(rule)?;
            if !flags.iter().any(|f| f.text == e.text) {
                flags.push(e);
            }
        }
        let rules = crate::cli::expect::rules(flags, file.as_deref(), bindings, ts_field.as_ref())
            .map_err(|e| format!("{e:#}"))?;
        Ok((!rules.is_empty())
            .then(|| Evaluator::new(rules, settings.clone(), now).for_connections(labels.clone())))
    })
}

/// The evaluator of `front`'s expectations (already read by the plan), when there are any.
fn evaluator(front: &FrontPlan, labels: &Labels) -> Option<Evaluator> {
    (!front.expectations.is_empty()).then(|| {
        Evaluator::new(
            front.expectations.clone(),
            watch_settings(front),
            Instant::now(),
        )
        .for_connections(labels.clone())
    })
}

impl Tap for Alarm {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        if matches!(o.item, Item::State(_)) && !self.links.is_empty() {
            return None;
        }
        let t = self.eval.apply_observed(o, Instant::now());
        self.report(&t);
        None
    }

    fn tick(&mut self, now: Instant) {
        let mut t = Vec::new();
        for (conn, link, was_up) in &mut self.links {
            let now_link = *link.borrow_and_update();
            if now_link.is_up() != *was_up {
                *was_up = now_link.is_up();
                t.extend(self.eval.link(*conn, *was_up, now_link.since));
            }
        }
        t.extend(self.eval.tick(now));
        self.report(&t);
    }
}
