//! `--expect` in the watch screen: the evaluator, fed the model's items and the clock's
//! tick, and what it finds broken or recovered, raised and recovered in the shared alert
//! strip. The strip sits between the status bar and the ticker; ticker rows a value rule
//! broke turn red (reverse video under NO_COLOR).

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::widgets::alerts::{AlertId, AlertKind, Alerts};
use client::{Conn, Item, Link};
use observe::expect::{Change, Evaluator, Transition};
use observe::output::alerts::named;
use observe::pipeline::Observed;

/// How long a recovery stays in the strip.
const RECOVERY_SHOWN: Duration = Duration::from_secs(10);

pub struct Expectations {
    eval: Option<Evaluator>,
    /// Each live connection's link, and whether it was up when last looked at: its state
    /// is judged from these on the tick, which a flood of items never holds up.
    links: Vec<(Conn, watch::Receiver<Link>, bool)>,
    pub strip: Alerts,
}

impl Default for Expectations {
    fn default() -> Expectations {
        Expectations {
            eval: None,
            links: Vec::new(),
            strip: Alerts::new(RECOVERY_SHOWN, false, Instant::now(), SystemTime::now()),
        }
    }
}

impl Expectations {
    /// Judged by `eval`; with `bell`, each batch of alerts rings. `now` is `wall`.
    pub fn new(eval: Evaluator, bell: bool, now: Instant, wall: SystemTime) -> Expectations {
        Expectations {
            eval: Some(eval),
            links: Vec::new(),
            strip: Alerts::new(RECOVERY_SHOWN, bell, now, wall),
        }
    }

    /// Judges the connections' states from their links (a live run's), not from their
    /// state items, which may wait behind another connection's flood.
    pub fn with_links(mut self, links: Vec<(Conn, watch::Receiver<Link>)>) -> Expectations {
        self.links = links
            .into_iter()
            .map(|(conn, link)| {
                let up = link.borrow().is_up();
                (conn, link, up)
            })
            .collect();
        self
    }

    /// New rules (a view loaded): they judge from `now` on, each connection as its link
    /// says it is now. What the old rules had raised recovers, saying why, so nothing goes
    /// silently.
    pub fn replace(&mut self, eval: Option<Evaluator>, why: &str, now: Instant) {
        let open: Vec<AlertId> = self
            .strip
            .open()
            .into_iter()
            .filter(|a| matches!(a.id.kind, AlertKind::Expectation { .. }))
            .map(|a| a.id.clone())
            .collect();
        for id in open {
            self.strip.recover(&id, why.to_owned(), now);
        }
        self.eval = eval;
        if let Some(eval) = &mut self.eval {
            let mut t = Vec::new();
            for (conn, link, was_up) in &mut self.links {
                let link = *link.borrow_and_update();
                *was_up = link.is_up();
                if *was_up {
                    t.extend(eval.link(*conn, true, link.since));
                }
            }
            self.note(t, now);
        }
    }

    /// Whether any rule is in force.
    pub fn any(&self) -> bool {
        self.eval.as_ref().is_some_and(|e| !e.is_empty())
    }

    /// Takes in an item, its latency computed once by the pipeline.
    pub fn apply(&mut self, observed: &Observed, now: Instant) {
        if matches!(observed.item, Item::State(_)) && !self.links.is_empty() {
            return;
        }
        if let Some(eval) = &mut self.eval {
            let t = eval.apply_observed(observed, now);
            self.note(t, now);
        }
    }

    /// Gives time its say (the screen's one-second clock).
    pub fn tick(&mut self, now: Instant) {
        if let Some(eval) = &mut self.eval {
            let mut t = Vec::new();
            for (conn, link, was_up) in &mut self.links {
                let link = *link.borrow_and_update();
                if link.is_up() != *was_up {
                    *was_up = link.is_up();
                    t.extend(eval.link(*conn, *was_up, link.since));
                }
            }
            t.extend(eval.tick(now));
            self.note(t, now);
        }
        self.strip.tick(now);
    }

    fn note(&mut self, transitions: Vec<Transition>, now: Instant) {
        for t in transitions {
            let id = AlertId {
                subject: t.subject.clone(),
                connection: t.connection.clone(),
                ..AlertId::new(AlertKind::Expectation { rule: t.rule })
            };
            let detail = named(t.connection.as_deref(), &t.detail);
            match t.change {
                Change::Alert => {
                    let rank = Some(t.rule as u64);
                    self.strip
                        .raise(id, (t.expectation, detail), None, t.since, rank)
                }
                Change::Recovery => self.strip.recover(&id, detail, now),
            }
        }
    }

    /// Whether to ring the bell now (once per batch of alerts, with `--bell`).
    pub fn take_bell(&mut self) -> bool {
        self.strip.take_bell()
    }

    /// Ticker keys a value rule finds broken.
    pub fn red_keys(&self) -> BTreeSet<&str> {
        self.strip
            .open()
            .into_iter()
            .filter_map(|a| a.id.subject.as_deref())
            .collect()
    }
}
