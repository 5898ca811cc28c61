//! Counters per channel and per event: messages and bytes. The number of distinct
//! (channel, event) pairs is capped, because both names come from the wire.

use std::collections::HashMap;
use std::time::Duration;

/// Most distinct (channel, event) pairs tracked; the rest are summed under `(other)`.
pub(crate) const MAX_TRACKED_PAIRS: usize = 10_000;
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Every frame received.
    pub total: Counter,
    /// Channel → event → counter. Channel-less events are under "".
    pub per_event: HashMap<String, HashMap<String, Counter>>,
    pairs: usize,
    pub malformed: u64,
    /// Messages refused for their size (`--max-message`).
    pub oversized: u64,
    pub connections: u64,
    pub last_rtt: Option<Duration>,
}

impl Stats {
    pub fn record_frame(&mut self, bytes: usize) {
        self.total.add(bytes);
    }

    pub fn record_event(&mut self, channel: Option<&str>, event: &str, bytes: usize) {
        let channel = channel.unwrap_or("");
        // Look up by reference first: no allocation for a pair already seen.
        if let Some(c) = self
            .per_event
            .get_mut(channel)
            .and_then(|m| m.get_mut(event))
        {
            c.add(bytes);
            return;
        }
        let (channel, event) = if self.pairs < MAX_TRACKED_PAIRS {
            self.pairs += 1;
            (channel, event)
        } else {
            (OTHER, OTHER)
        };
        self.per_event
            .entry(channel.to_owned())
            .or_default()
            .entry(event.to_owned())
            .or_default()
            .add(bytes);
    }

    /// A counter for one (channel, event) pair.
    pub fn event(&self, channel: &str, event: &str) -> Counter {
        self.per_event
            .get(channel)
            .and_then(|m| m.get(event))
            .copied()
            .unwrap_or_default()
    }

    /// Totals for one channel, summed over its events.
    pub fn channel(&self, channel: &str) -> Counter {
        self.per_event.get(channel).map_or(Counter::default(), |m| {
            m.values().fold(Counter::default(), |acc, c| Counter {
                messages: acc.messages + c.messages,
                bytes: acc.bytes + c.bytes,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_event_and_channel() {
        let mut s = Stats::default();
        s.record_event(Some("a"), "x", 10);
        s.record_event(Some("a"), "x", 5);
        s.record_event(Some("a"), "y", 1);
        s.record_event(Some("b"), "x", 2);
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
    fn distinct_pairs_are_capped() {
        let mut s = Stats::default();
        for n in 0..MAX_TRACKED_PAIRS + 500 {
            s.record_event(Some("c"), &format!("e{n}"), 1);
        }
        assert_eq!(s.per_event["c"].len(), MAX_TRACKED_PAIRS);
        assert_eq!(s.event(OTHER, OTHER).messages, 500);
        // A pair seen before the cap keeps counting under its own name.
        s.record_event(Some("c"), "e0", 1);
        assert_eq!(s.event("c", "e0").messages, 2);
    }
}
