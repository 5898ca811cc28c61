//! Where what is received goes, and what is counted when it has no room: lines (or NDJSON)
//! on stdout through the output thread, or the dashboard's queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::budget::{Budget, Room};
use super::heard::{Heard, HeardSink};
use super::screen::ScreenFeed;
use bounded::Weigh;
use client::Item;
use observe::output::writer::{self, Chunk};
use observe::pipeline::Observed;

/// Where what is received goes: lines (or NDJSON) on stdout, or the dashboard.
#[derive(Clone)]
pub(super) enum Sink {
    Lines(Arc<Shown>),
    Screen(ScreenFeed),
    /// What `doctor` and `trace` read: each request checked, as one [`Heard`].
    Heard(Arc<HeardSink>),
}

/// The lines' side: the output thread's sender, `--count`, and what was not shown.
pub(super) struct Shown {
    pub(super) lines: writer::Lines,
    pub(super) count: Option<u64>,
    /// Events handed to the output thread so far.
    pub(super) queued: AtomicU64,
    /// Events (and notices) the output thread's queue had no room for.
    pub(super) dropped: AtomicU64,
    /// `--count` events are queued: the run ends.
    pub(super) counted: tokio::sync::Notify,
}

/// One request's output, made before the answer goes and handed over after it.
pub(super) enum Show {
    /// Webhook events, one text each, for stdout; each counts toward `--count`.
    Lines(Vec<String>),
    Items(Vec<Observed>),
    /// One request, checked, for [`Sink::Heard`].
    Heard(Heard),
    /// A notice for stderr, in the order of the lines (a request refused, say).
    Notice(String),
}

impl Show {
    /// What it weighs in its queue (as the queue weighs it).
    fn weight(&self) -> usize {
        match self {
            Show::Lines(texts) => size_of::<Chunk>() + texts.iter().map(String::len).sum::<usize>(),
            Show::Items(items) => items.iter().map(Weigh::weight).sum(),
            Show::Heard(heard) => heard.weight(),
            Show::Notice(text) => Chunk::message(text).weight(),
        }
    }
}

impl Sink {
    /// Bytes its queue holds now.
    fn queued(&self) -> usize {
        match self {
            Sink::Lines(shown) => shown.lines.bytes(),
            Sink::Screen(feed) => feed.queued(),
            Sink::Heard(sink) => sink.queued(),
        }
    }

    /// Room in `budget` for `show`, or `show` counted as not shown.
    pub(super) fn reserve(&self, budget: &Arc<Budget>, show: Show) -> Option<(Show, Room)> {
        match budget.reserve(|| self.queued(), show.weight()) {
            Some(room) => Some((show, room)),
            None => {
                self.refuse(show);
                None
            }
        }
    }

    /// Queues `show` in the room it was given.
    pub(super) fn send(&self, budget: &Budget, (show, room): (Show, Room)) {
        budget.hand_over(room, || match (self, show) {
            (Sink::Lines(shown), Show::Lines(texts)) => shown.events(texts),
            (Sink::Lines(shown), Show::Notice(text)) => shown.notice(&text),
            (Sink::Screen(feed), Show::Items(items)) => feed.send(items),
            (Sink::Screen(feed), Show::Notice(text)) => {
                feed.send(vec![observed(Item::Error(text))])
            }
            (Sink::Heard(sink), Show::Heard(heard)) => sink.send(heard),
            // A refused request is no webhook: the command sees it as nothing heard.
            (Sink::Heard(_), Show::Notice(_)) => {}
            // Each sink is made only its own kind.
            _ => {}
        });
    }

    /// Counts what had no room as not shown (its events toward `--count` all the same).
    fn refuse(&self, show: Show) {
        match (self, show) {
            (Sink::Lines(shown), Show::Lines(texts)) => {
                let n = shown.take(texts.len() as u64);
                shown.dropped.fetch_add(n, Ordering::Relaxed);
            }
            (Sink::Lines(shown), Show::Notice(_)) => {
                shown.dropped.fetch_add(1, Ordering::Relaxed);
            }
            (Sink::Screen(feed), Show::Items(items)) => feed.refuse(items.len() as u64),
            (Sink::Screen(feed), Show::Notice(_)) => feed.refuse(1),
            (Sink::Heard(sink), Show::Heard(_)) => sink.refuse(),
            _ => {}
        }
    }

    /// Something about a request that was not shown as a webhook (refused, say).
    pub(super) fn notice(&self, budget: &Arc<Budget>, text: String) {
        if let Some(reserved) = self.reserve(budget, Show::Notice(text)) {
            self.send(budget, reserved);
        }
    }
}

/// An item for the dashboard's queue.
pub(super) fn observed(item: Item) -> Observed {
    Observed {
        conn: 0,
        item,
        latency_ms: None,
    }
}

impl Shown {
    /// How many of `n` more events are within `--count` (all, without it); counts them
    /// toward it, and says when it is reached.
    fn take(&self, n: u64) -> u64 {
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        let Some(count) = self.count else {
            return n;
        };
        if before + n >= count {
            self.counted.notify_one();
        }
        n.min(count.saturating_sub(before))
    }

    /// Hands a notice for stderr over; counted when it does not fit.
    pub(super) fn notice(&self, text: &str) {
        if !self.lines.send(Chunk::message(text)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands the texts over, at most up to `--count`; what does not fit is counted.
    fn events(&self, mut texts: Vec<String>) {
        let shown = self.take(texts.len() as u64);
        texts.truncate(usize::try_from(shown).unwrap_or(usize::MAX));
        if texts.is_empty() {
            return;
        }
        if !self.lines.send(Chunk::Out(texts.concat().into_bytes())) {
            self.dropped.fetch_add(shown, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bounded::Overflow;
    use observe::output::writer::Output as Writer;

    /// What had no room is counted as not shown, and toward `--count` as a full queue's is.
    #[test]
    fn lines_with_no_room_are_counted_as_not_shown() {
        let writer = Writer::spawn(bounded::Limits::new(4, 1 << 20), Overflow::DropNewest)
            .expect("the output thread");
        let shown = Arc::new(Shown {
            lines: writer.lines().expect("its sender"),
            count: Some(3),
            queued: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
        });
        let sink = Sink::Lines(shown.clone());
        let budget = Budget::new(size_of::<Chunk>() + 10);
        let texts = vec!["0123456789".to_owned(); 2];
        assert!(sink.reserve(&budget, Show::Lines(texts.clone())).is_none());
        assert_eq!(shown.dropped.load(Ordering::Relaxed), 2);
        assert!(sink.reserve(&budget, Show::Lines(texts)).is_none());
        assert_eq!(
            shown.dropped.load(Ordering::Relaxed),
            3,
            "past --count, nothing more is counted"
        );
        drop(writer);
    }
}
