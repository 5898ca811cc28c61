//! Canaries in flight and their fate on every node: the sequence tracking of `probe`. Pure:
//! the caller passes the time and gets each result back as a value.
//!
//! A canary is registered when its publish starts. On each node it is then, exactly once,
//! either received (within `loss_after`) or lost (not received within `loss_after`, once
//! the API has accepted it: a publish still unanswered is not a loss yet, and one that fails
//! is a publish error, never a loss). A lost
//! canary that arrives afterwards is *late* (it stays counted as lost, once); any further
//! arrival on the same node is a *duplicate*. A publish that fails withdraws its canary.
//!
//! Memory is bounded: canaries wait at most `loss_after`, and the fates of the last
//! [`HISTORY`] settled canaries are kept to tell late and duplicate arrivals apart; an
//! arrival older than that, or of a canary never sent, is counted as unknown.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Settled canaries whose fates are kept.
pub const HISTORY: usize = 4096;
/// Canaries waiting at once, at most (a publish that never ends cannot grow the map).
pub const MAX_PENDING: usize = 4096;

/// What happened to one canary on one node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fate {
    /// Arrived in time, this long after the publish started.
    Received(Duration),
    /// Not there within `loss_after`.
    Lost,
    /// Arrived after it was counted lost, this long after the publish started.
    Late(Duration),
    /// Arrived again.
    Duplicate,
}

impl Fate {
    pub fn as_str(&self) -> &'static str {
        match self {
            Fate::Received(_) => "received",
            Fate::Lost => "lost",
            Fate::Late(_) => "late",
            Fate::Duplicate => "duplicate",
        }
    }

    pub fn latency(&self) -> Option<Duration> {
        match self {
            Fate::Received(d) | Fate::Late(d) => Some(*d),
            Fate::Lost | Fate::Duplicate => None,
        }
    }
}

/// One result: canary `seq`, published via node `via`, on node `node`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub seq: u64,
    pub via: usize,
    pub node: usize,
    pub fate: Fate,
    /// This arrival is the first sign that the API took the canary (its answer is still on
    /// the way): it counts as sent now, and the answer will not count it again.
    pub accepted: bool,
}

/// Where a canary stands on one node.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seen {
    Waiting,
    Got,
    Lost,
    /// Lost, then arrived late.
    LateGot,
}

#[derive(Debug)]
struct Flight {
    via: usize,
    started: Instant,
    /// The API accepted the publish.
    accepted: bool,
    seen: Vec<Seen>,
}

/// Arrivals that match no canary in flight or in the history.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Unknown {
    pub arrivals: u64,
}

/// Every canary of one probe, across `nodes` nodes.
#[derive(Debug)]
pub struct Tracker {
    nodes: usize,
    loss_after: Duration,
    pending: BTreeMap<u64, Flight>,
    settled: VecDeque<(u64, Flight)>,
    pub unknown: Unknown,
}

impl Tracker {
    pub fn new(nodes: usize, loss_after: Duration) -> Tracker {
        Tracker {
            nodes: nodes.max(1),
            loss_after,
            pending: BTreeMap::new(),
            settled: VecDeque::new(),
            unknown: Unknown::default(),
        }
    }

    /// A publish of canary `seq` through node `via` starts. False when too many are waiting
    /// (the canary is not tracked) or `seq` is known already.
    pub fn publishing(&mut self, seq: u64, via: usize, now: Instant) -> bool {
        if self.pending.len() >= MAX_PENDING
            || self.pending.contains_key(&seq)
            || self.settled.iter().any(|(s, _)| *s == seq)
        {
            return false;
        }
        let flight = Flight {
            via,
            started: now,
            accepted: false,
            seen: vec![Seen::Waiting; self.nodes],
        };
        self.pending.insert(seq, flight);
        true
    }

    /// The API accepted the publish of `seq`: from now on it can be lost. False when that
    /// was known already (it arrived before the API's answer), so it is counted once.
    pub fn accepted(&mut self, seq: u64) -> bool {
        let flight = match self.pending.get_mut(&seq) {
            Some(f) => Some(f),
            None => self
                .settled
                .iter_mut()
                .find(|(s, _)| *s == seq)
                .map(|(_, f)| f),
        };
        match flight {
            Some(f) => !std::mem::replace(&mut f.accepted, true),
            // Not tracked (too many waiting): still a canary the API took.
            None => true,
        }
    }

    /// The publish of `seq` failed: it is withdrawn, neither received nor lost.
    pub fn failed(&mut self, seq: u64) {
        self.pending.remove(&seq);
    }

    /// Canary `seq` arrived on `node`.
    pub fn arrived(&mut self, seq: u64, node: usize, now: Instant) -> Option<Outcome> {
        if node >= self.nodes {
            return None;
        }
        let (flight, in_flight) = match self.pending.get_mut(&seq) {
            Some(f) => (f, true),
            None => match self.settled.iter_mut().find(|(s, _)| *s == seq) {
                Some((_, f)) => (f, false),
                None => {
                    self.unknown.arrivals += 1;
                    return None;
                }
            },
        };
        let after = now.saturating_duration_since(flight.started);
        let fate = match flight.seen[node] {
            Seen::Waiting => {
                flight.seen[node] = Seen::Got;
                Fate::Received(after)
            }
            Seen::Lost => {
                flight.seen[node] = Seen::LateGot;
                Fate::Late(after)
            }
            Seen::Got | Seen::LateGot => Fate::Duplicate,
        };
        let via = flight.via;
        let accepted = !flight.accepted;
        flight.accepted = true;
        if in_flight && flight.seen.iter().all(|s| *s != Seen::Waiting) {
            self.settle(seq);
        }
        Some(Outcome {
            seq,
            via,
            node,
            fate,
            accepted,
        })
    }

    /// Time passes: every node still waiting for a canary older than `loss_after` loses it.
    pub fn tick(&mut self, now: Instant) -> Vec<Outcome> {
        let due: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, f)| {
                f.accepted && now.saturating_duration_since(f.started) >= self.loss_after
            })
            .map(|(s, _)| *s)
            .collect();
        let mut out = Vec::new();
        for seq in due {
            if let Some(f) = self.pending.get_mut(&seq) {
                for (node, seen) in f.seen.iter_mut().enumerate() {
                    if *seen == Seen::Waiting {
                        *seen = Seen::Lost;
                        out.push(Outcome {
                            seq,
                            via: f.via,
                            node,
                            fate: Fate::Lost,
                            accepted: false,
                        });
                    }
                }
            }
            self.settle(seq);
        }
        out
    }

    /// Canaries waiting for at least one node.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    fn settle(&mut self, seq: u64) {
        if let Some(f) = self.pending.remove(&seq) {
            if self.settled.len() >= HISTORY {
                self.settled.pop_front();
            }
            self.settled.push_back((seq, f));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOSS: Duration = Duration::from_secs(5);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_canary_that_arrives_before_the_apis_answer_is_sent_once() {
        let t0 = Instant::now();
        let mut t = Tracker::new(2, LOSS);
        assert!(t.publishing(1, 0, t0));
        let a = t.arrived(1, 0, t0 + ms(1)).unwrap();
        assert!(a.accepted, "the first arrival stands for the answer");
        assert!(!t.arrived(1, 1, t0 + ms(2)).unwrap().accepted);
        assert!(!t.accepted(1), "the answer does not count it again");
        assert!(t.publishing(2, 0, t0));
        assert!(t.accepted(2));
        assert!(!t.arrived(2, 0, t0 + ms(1)).unwrap().accepted);
    }

    #[test]
    fn a_canary_received_everywhere_settles_with_its_latency() {
        let t0 = Instant::now();
        let mut t = Tracker::new(2, LOSS);
        assert!(t.publishing(1, 0, t0));
        t.accepted(1);
        let a = t.arrived(1, 0, t0 + ms(3)).unwrap();
        assert_eq!((a.via, a.node, a.fate), (0, 0, Fate::Received(ms(3))));
        assert_eq!(t.waiting(), 1, "node 1 still waits");
        let b = t.arrived(1, 1, t0 + ms(7)).unwrap();
        assert_eq!(b.fate, Fate::Received(ms(7)));
        assert_eq!(t.waiting(), 0);
        assert!(t.tick(t0 + LOSS * 2).is_empty(), "nothing lost");
    }

    #[test]
    fn a_missing_canary_is_lost_once_on_that_node_only_and_late_after() {
        let t0 = Instant::now();
        let mut t = Tracker::new(2, LOSS);
        t.publishing(1, 0, t0);
        assert!(
            t.tick(t0 + LOSS * 2).is_empty(),
            "not accepted yet: not lost"
        );
        // Its arrival on node 0 shows the API took it, answer or not.
        t.arrived(1, 0, t0 + ms(2));
        let lost = t.tick(t0 + LOSS * 2);
        assert_eq!(
            lost,
            vec![Outcome {
                seq: 1,
                via: 0,
                node: 1,
                fate: Fate::Lost,
                accepted: false,
            }]
        );
        assert!(
            t.tick(t0 + LOSS * 3).is_empty(),
            "lost once, not at every tick"
        );
        let late = t.arrived(1, 1, t0 + ms(6000)).unwrap();
        assert_eq!(late.fate, Fate::Late(ms(6000)));
        assert_eq!(
            t.arrived(1, 1, t0 + ms(6001)).unwrap().fate,
            Fate::Duplicate
        );
        assert_eq!(
            t.arrived(1, 0, t0 + ms(6002)).unwrap().fate,
            Fate::Duplicate
        );
    }

    #[test]
    fn duplicates_while_waiting_and_after_settling() {
        let t0 = Instant::now();
        let mut t = Tracker::new(2, LOSS);
        t.publishing(4, 1, t0);
        t.arrived(4, 0, t0);
        assert_eq!(t.arrived(4, 0, t0).unwrap().fate, Fate::Duplicate);
        t.arrived(4, 1, t0);
        assert_eq!(t.arrived(4, 1, t0).unwrap().fate, Fate::Duplicate);
    }

    #[test]
    fn failed_publishes_are_withdrawn_and_strangers_are_unknown() {
        let t0 = Instant::now();
        let mut t = Tracker::new(1, LOSS);
        t.publishing(1, 0, t0);
        assert!(t.tick(t0 + LOSS).is_empty(), "unanswered: not lost");
        t.failed(1);
        assert!(
            t.tick(t0 + LOSS).is_empty(),
            "a failed publish is not a loss"
        );
        assert_eq!(t.arrived(1, 0, t0), None);
        assert_eq!(t.arrived(99, 0, t0), None);
        assert_eq!(t.arrived(1, 7, t0), None, "no such node");
        assert_eq!(t.unknown.arrivals, 2);
        assert!(
            !t.publishing(2, 0, t0) || !t.publishing(2, 0, t0),
            "a seq once"
        );
    }

    #[test]
    fn the_history_and_the_waiting_set_stay_bounded() {
        let t0 = Instant::now();
        let mut t = Tracker::new(1, LOSS);
        for seq in 0..(HISTORY as u64 + 10) {
            t.publishing(seq, 0, t0);
            t.arrived(seq, 0, t0);
        }
        assert_eq!(t.settled.len(), HISTORY);
        assert_eq!(
            t.arrived(0, 0, t0),
            None,
            "forgotten: unknown, not a duplicate"
        );
        for seq in 0..(MAX_PENDING as u64 + 10) {
            t.publishing(1_000_000 + seq, 0, t0);
        }
        assert_eq!(t.waiting(), MAX_PENDING);
    }
}
