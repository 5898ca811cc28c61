//! `watch --summary`: no line per event, one JSON object at the end. Counts per channel and
//! event name answer "did my event arrive, and how often?" without a flood on the terminal.

use std::time::Instant;

use bounded::{Limits, PairCounts};
use protocol::limits::cut_name;

use serde_json::{Value, json};

use client::{Item, MAX_CONNECTIONS, ReceivedEvent};

use crate::pipeline::{Observed, Tap};

/// Most distinct (channel, event) pairs counted by name, and their bytes; the names come from
/// the wire, and are cut to `MAX_KEPT_NAME_CHARS` characters before they are kept.
const MAX_PAIRS: usize = 10_000;
pub const PAIRS: Limits = Limits::new(MAX_PAIRS, 4 << 20);

#[derive(Debug)]
pub struct Summary {
    started: Instant,
    events: u64,
    pairs: PairCounts<u64, String>,
    /// Events whose pair came after the cap.
    uncounted_pairs: u64,
    /// Each connection's count of dropped events since it started.
    dropped: [u64; MAX_CONNECTIONS],
}

impl Summary {
    pub fn new(now: Instant) -> Summary {
        Summary {
            started: now,
            events: 0,
            pairs: PairCounts::new(PAIRS, cut_name),
            uncounted_pairs: 0,
            dropped: [0; MAX_CONNECTIONS],
        }
    }

    pub fn event(&mut self, ev: &ReceivedEvent) {
        self.events += 1;
        let channel = ev.channel.as_ref().map(|c| c.shared());
        if !self.pairs.count(channel, ev.event.shared(), &1) {
            self.uncounted_pairs += 1;
        }
    }

    /// Connection `conn` has dropped `total` events since it started.
    pub fn dropped(&mut self, conn: usize, total: u64) {
        if let Some(slot) = self.dropped.get_mut(conn) {
            *slot = total;
        }
    }

    /// Every connection's drops together.
    fn dropped_total(&self) -> u64 {
        self.dropped
            .iter()
            .fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// The summary object; write it with `ndjson::write_line`, which escapes the names.
    pub fn report(&self, now: Instant) -> Value {
        let seconds = now.saturating_duration_since(self.started).as_secs_f64();
        let mut v = json!({
            "events": self.events,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "per_second": (self.events as f64 / seconds.max(1e-9)).round(),
            "dropped": self.dropped_total(),
            "channels": {},
        });
        for ((channel, event), n) in self.pairs.iter() {
            v["channels"][channel.as_str()][event.as_str()] = json!(n);
        }
        if self.uncounted_pairs > 0 {
            v["other_events"] = json!(self.uncounted_pairs);
        }
        v
    }
}

impl Tap for Summary {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        match &o.item {
            Item::Event(ev) if ev.is_application() => self.event(ev),
            Item::Dropped { total, .. } => self.dropped(usize::from(o.conn), *total),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::frame::Data;

    fn ev(channel: &str, event: &str) -> ReceivedEvent {
        ReceivedEvent::decoded(
            std::time::SystemTime::UNIX_EPOCH,
            Some(channel.into()),
            event.into(),
            Data::from_text("{}".into()),
            None,
            String::new(),
        )
    }

    #[test]
    fn counts_per_channel_and_event_and_caps_the_names() {
        let mut s = Summary::new(Instant::now());
        s.event(&ev("a", "x"));
        s.event(&ev("a", "x"));
        s.event(&ev("b", "y"));
        for i in 0..MAX_PAIRS + 5 {
            s.event(&ev("many", &i.to_string()));
        }
        s.dropped(0, 3);
        let r = s.report(Instant::now());
        assert_eq!(r["channels"]["a"]["x"], 2);
        assert_eq!(r["channels"]["b"]["y"], 1);
        assert_eq!(r["events"], MAX_PAIRS as u64 + 8);
        assert_eq!(r["other_events"], 7);
        assert_eq!(r["dropped"], 3);
    }

    #[test]
    fn megabyte_names_are_cut_before_they_are_counted() {
        let mut s = Summary::new(Instant::now());
        let long = "x".repeat(1 << 20);
        for i in 0..500 {
            s.event(&ev(&format!("{i}{long}"), &format!("{i}{long}")));
        }
        assert!(s.pairs.bytes() <= PAIRS.bytes && s.pairs.bytes() < 500 * 1000);
        let r = s.report(Instant::now());
        let names = r["channels"].as_object().unwrap();
        assert!(
            names.keys().all(|k| k.chars().count() <= 201),
            "names are cut"
        );
        assert_eq!(r["events"], 500);
    }

    #[test]
    fn the_summary_counts_every_connections_drops() {
        let mut s = Summary::new(Instant::now());
        let drop = |conn, total| Observed::new(conn, Item::Dropped { count: 1, total }, None);
        s.observe(&drop(0, 5));
        s.observe(&drop(1, 2));
        s.observe(&drop(0, 6));
        // A tag out of the table does not count, nor panic.
        s.observe(&drop(u8::MAX, 100));
        assert_eq!(s.report(Instant::now())["dropped"], 8);
    }
}
