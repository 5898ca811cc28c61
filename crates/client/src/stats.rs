//! Counters per channel and per event: messages and bytes. Both names come from the wire, so
//! the pairs are a [`WeighedMap`] capped in count ([`MAX_TRACKED_PAIRS`]) and bytes
//! ([`STATS_BYTES`]), each name cut to [`protocol::limits::MAX_KEPT_NAME_CHARS`] characters
//! before it is kept; a pair past the caps is summed under `(other)`.

use std::time::Duration;

use bounded::{Limits, PairCounts, Tally, Weigh};
use protocol::limits::cut_name;

use crate::name::Name;

/// Most distinct (channel, event) pairs tracked; the rest are summed under `(other)`.
pub const MAX_TRACKED_PAIRS: usize = 10_000;
/// Most bytes the tracked pairs take (names and counters, as weighed).
pub const STATS_BYTES: usize = 4 << 20;
const OTHER: &str = "(other)";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub messages: u64,
    pub bytes: u64,
}

impl Counter {
    fn add(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

impl Tally for Counter {
    fn add(&mut self, other: &Counter) {
        self.messages = self.messages.saturating_add(other.messages);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

impl Weigh for Counter {
    fn weight(&self) -> usize {
        size_of::<Counter>()
    }
}

#[derive(Debug, Clone)]
pub struct Stats {
    /// Every frame received.
    pub total: Counter,
    /// (channel, event) → counter, names cut. Channel-less events are under "".
    per_event: PairCounts<Counter, String>,
    /// Events of pairs past the caps.
    other: Counter,
    pub malformed: u64,
    /// Messages refused for their size (`--max-message`).
    pub oversized: u64,
    pub connections: u64,
    pub last_rtt: Option<Duration>,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            total: Counter::default(),
            per_event: PairCounts::new(Limits::new(MAX_TRACKED_PAIRS, STATS_BYTES), cut_name),
            other: Counter::default(),
            malformed: 0,
            oversized: 0,
            connections: 0,
            last_rtt: None,
        }
    }
}

impl Stats {
    pub fn record_frame(&mut self, bytes: usize) {
        self.total.add(bytes);
    }

    /// An event under its shared names (their identity tells a run of one pair).
    pub fn record_event(&mut self, channel: Option<&Name>, event: &Name, bytes: usize) {
        let one = Counter {
            messages: 1,
            bytes: bytes as u64,
        };
        if !self
            .per_event
            .count(channel.map(Name::shared), event.shared(), &one)
        {
            Tally::add(&mut self.other, &one);
        }
    }

    /// A counter for one (channel, event) pair (names as kept; `(other)` for both sums
    /// the pairs past the caps).
    pub fn event(&self, channel: &str, event: &str) -> Counter {
        if (channel, event) == (OTHER, OTHER) {
            return self.other;
        }
        self.per_event.get(channel, event).unwrap_or_default()
    }

    /// Totals for one channel, summed over its events.
    pub fn channel(&self, channel: &str) -> Counter {
        self.per_event
            .iter()
            .filter(|((c, _), _)| c == channel)
            .fold(Counter::default(), |acc, (_, c)| Counter {
                messages: acc.messages + c.messages,
                bytes: acc.bytes + c.bytes,
            })
    }

    /// How many pairs are tracked, and the bytes they take.
    pub fn pairs(&self) -> (usize, usize) {
        (self.per_event.len(), self.per_event.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event under names made for it (no run: every call looks its pair up).
    fn record(s: &mut Stats, channel: &str, event: &str, bytes: usize) {
        s.record_event(Some(&Name::from(channel)), &Name::from(event), bytes);
    }

    #[test]
    fn counts_per_event_and_channel() {
        let mut s = Stats::default();
        record(&mut s, "a", "x", 10);
        record(&mut s, "a", "x", 5);
        record(&mut s, "a", "y", 1);
        record(&mut s, "b", "x", 2);
        assert_eq!(
            s.event("a", "x"),
            Counter {
                messages: 2,
                bytes: 15
            }
        );
        assert_eq!(
            s.channel("a"),
            Counter {
                messages: 3,
                bytes: 16
            }
        );
        assert_eq!(s.channel("none"), Counter::default());
    }

    #[test]
    fn a_run_under_shared_names_counts_as_fresh_names_do() {
        let (c, x, y) = (Name::from("a"), Name::from("x"), Name::from("y"));
        let mut s = Stats::default();
        for _ in 0..3 {
            s.record_event(Some(&c), &x, 10);
        }
        let three = Counter {
            messages: 3,
            bytes: 30,
        };
        assert_eq!((s.event("a", "x"), s.channel("a")), (three, three));
        s.record_event(Some(&c), &y, 1);
        s.record_event(Some(&c), &x, 10);
        s.record_event(None, &x, 2);
        assert_eq!(s.event("a", "x").messages, 4);
        assert_eq!(
            s.channel("a"),
            Counter {
                messages: 5,
                bytes: 41
            }
        );
        assert_eq!(s.event("", "x").bytes, 2);
    }

    #[test]
    fn distinct_pairs_are_capped() {
        let mut s = Stats::default();
        for n in 0..MAX_TRACKED_PAIRS + 500 {
            record(&mut s, "c", &format!("e{n}"), 1);
        }
        assert_eq!(s.pairs().0, MAX_TRACKED_PAIRS);
        assert_eq!(s.event(OTHER, OTHER).messages, 500);
        // A pair seen before the cap keeps counting under its own name.
        record(&mut s, "c", "e0", 1);
        assert_eq!(s.event("c", "e0").messages, 2);
    }

    #[test]
    fn names_of_a_megabyte_are_cut_and_the_bytes_capped() {
        let mut s = Stats::default();
        let long = "x".repeat(1 << 20);
        for n in 0..3000 {
            let name = format!("{n}{long}");
            record(&mut s, &name, &name, 1);
        }
        let (pairs, bytes) = s.pairs();
        assert!(
            bytes <= STATS_BYTES && pairs <= MAX_TRACKED_PAIRS,
            "{pairs} {bytes}"
        );
        assert!(
            bytes < 3000 * 1000,
            "each pair weighs its cut names: {bytes}"
        );
    }
}
