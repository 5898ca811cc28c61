//! Delivery to the consumer over one bounded feed, without ever blocking the engine.
//!
//! When the feed has no room, the engine first gives the consumer a grace period
//! ([`ClientConfig::consumer_grace`](super::ClientConfig), 250 ms by default) in which it stops
//! reading the socket and lets TCP hold the data: a consumer that hiccups loses little. A
//! consumer still behind after that is *congested*: the engine reads the socket again (so it
//! keeps answering pings) until the consumer has drained half the feed, and meanwhile:
//! - drops application events, counting them; the count is reported as [`Item::Dropped`] as
//!   soon as there is room again, then at most once every [`DROP_REPORT_EVERY`] (with the
//!   count since the last report and the running total);
//! - keeps control items (states, subscriptions, members, errors) in a backlog, so the
//!   consumer's view of the connection stays right. The backlog is a ring
//!   ([`bounded::Bounded`], [`BACKLOG_LIMIT`] items, [`BACKLOG_BYTES`] bytes): past it the
//!   oldest control item goes, and is counted.
//!
//! The feed is a [`bounded::queue`]; "no room" means in items or in bytes. An item heavier
//! than the feed's whole budget never fits: it is dropped and counted at once.
//!
//! Events are handed over in batches: the engine stages those of one read burst
//! ([`Outbox::push`]) and hands them over together ([`Outbox::hand_over`]), under one lock of
//! the feed and with one wake-up of the consumer, instead of one of each per event. The
//! stage is a [`bounded::Bounded`] too ([`STAGE_ITEMS`], [`STAGE_BYTES`]); what the feed has
//! no room for stays staged while the engine waits out the grace, and is dropped and counted
//! once the consumer is congested. Memory is bounded by the feed's budget plus the backlog's
//! and the stage's.

use std::time::{Duration, Instant};

use bounded::{Bounded, Cause, Limits, Overflow, TrySendError, Weigh};

use super::feed::{Conn, FeedTx, Tagged};
use super::item::Item;

/// Most control items held back while the consumer is behind.
pub const BACKLOG_LIMIT: usize = 1024;
/// Most bytes of control items held back while the consumer is behind.
pub const BACKLOG_BYTES: usize = 4 << 20;
/// Drops are reported at most this often (the first at once), each report with the count
/// since the last and the running total: a full buffer drops event after event, and one
/// line per drop was a flood of its own.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(1);
/// Most events staged between two hand-overs: more than one read burst takes
/// (`session.rs`), so that a burst is handed over whole.
pub const STAGE_ITEMS: usize = 256;
/// Most bytes of events staged between two hand-overs: a burst of large frames is handed
/// over in several pieces.
pub const STAGE_BYTES: usize = 4 << 20;

pub(crate) struct Outbox {
    tx: FeedTx,
    /// Events read and not yet handed over (all older than the backlog's items).
    staged: Bounded<Tagged>,
    /// The feed's room at the last hand-over: a burst stages no more than fits in it, so
    /// that reading stops where the feed would be full, as it did event by event.
    room: Limits,
    backlog: Bounded<Item>,
    unreported: u64,
    dropped_total: u64,
    /// When the last drop report went out.
    reported_at: Option<Instant>,
    closed: bool,
    congested: bool,
    /// A push found no room while the grace had not run out: the engine should wait.
    refused: bool,
}

impl Outbox {
    pub(crate) fn new(tx: FeedTx) -> Outbox {
        Outbox {
            room: tx.free(),
            tx,
            staged: Bounded::new(Limits::new(STAGE_ITEMS, STAGE_BYTES), Overflow::Block),
            backlog: Bounded::new(
                Limits::new(BACKLOG_LIMIT, BACKLOG_BYTES),
                Overflow::DropOldest,
            ),
            unreported: 0,
            dropped_total: 0,
            reported_at: None,
            closed: false,
            congested: false,
            refused: false,
        }
    }

    /// A sender to wait on for room (see [`Outbox::pending_weight`]).
    pub(crate) fn sender(&self) -> FeedTx {
        self.tx.clone()
    }

    /// The consumer has gone away.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed || self.tx.is_closed()
    }

    pub(crate) fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// The feed has no room and the consumer has not yet used up its grace period: the
    /// engine should wait for room before reading more.
    pub(crate) fn should_wait(&self) -> bool {
        // `refused` first: it is all a burst looks at, and it takes no lock.
        !self.congested && (self.refused || self.tx.is_full()) && !self.tx.is_closed()
    }

    /// Stop reading for now: a hand-over found no room and the grace has not run out, or
    /// what is staged fills the room the feed had (no lock taken: a burst asks per frame).
    pub(crate) fn should_pause(&self) -> bool {
        let filled = !self.staged.is_empty()
            && (self.staged.len() >= self.room.items || self.staged.bytes() >= self.room.bytes);
        !self.congested && (self.refused || filled)
    }

    /// The consumer drained half the feed within its grace.
    pub(crate) fn room_again(&mut self) {
        self.refused = false;
    }

    /// The grace period ran out: drop events until the consumer drains half the feed.
    pub(crate) fn set_congested(&mut self) {
        self.congested = true;
        self.refused = false;
    }

    /// Something waits for room: a held-back control item or a drop report that is due.
    pub(crate) fn has_pending(&self) -> bool {
        !self.staged.is_empty()
            || !self.backlog.is_empty()
            || (self.unreported > 0 && self.report_due().is_none())
    }

    /// Something is still to hand on, a drop report not yet due included (for the end).
    pub(crate) fn has_any_pending(&self) -> bool {
        !self.staged.is_empty() || !self.backlog.is_empty() || self.unreported > 0
    }

    /// When the next drop report may go, while one waits for its second to pass; `None`
    /// when none waits or it may go now.
    pub(crate) fn report_due(&self) -> Option<Instant> {
        let at = self.reported_at? + DROP_REPORT_EVERY;
        (self.unreported > 0 && Instant::now() < at).then_some(at)
    }

    /// What the oldest waiting item weighs in the feed, to wait for room for it
    /// ([`FeedTx::room_for`]).
    pub(crate) fn pending_weight(&self) -> usize {
        if let Some(staged) = self.staged.front() {
            return staged.weight();
        }
        let item = self.backlog.front().map_or(size_of::<Item>(), Item::weight);
        size_of::<Conn>() + item
    }

    /// Hands an item on, or holds it back / drops it as the module docs say.
    pub(crate) fn push(&mut self, item: Item) {
        if self.congested && self.tx.is_half_empty() {
            self.congested = false;
        }
        let item = match item {
            // Staged while nothing else waits, to go with the rest of its burst.
            Item::Event(_)
                if !self.congested && self.backlog.is_empty() && self.unreported == 0 =>
            {
                match self.stage(item) {
                    Ok(()) => return,
                    Err(item) => item,
                }
            }
            item => item,
        };
        let droppable = matches!(item, Item::Event(_) | Item::Pong { .. });
        self.flush();
        if self.has_pending() {
            // Keep order: nothing overtakes what is already waiting.
            self.hold_or_drop(item, droppable);
            return;
        }
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(TrySendError::Full(_, Cause::Oversize)) => self.count_drops(1),
            Err(TrySendError::Full(item, _)) => {
                self.refused |= !self.congested;
                self.hold_or_drop(item, droppable);
            }
            Err(TrySendError::Closed(_)) => self.closed = true,
        }
    }

    /// Stages an event; when the stage is full, hands it over first. Gives the event back
    /// when there is no room either way.
    // Handed back whole, as the feed's `try_send` does.
    #[allow(clippy::result_large_err)]
    fn stage(&mut self, item: Item) -> Result<(), Item> {
        let tagged = match self.staged.push(self.tx.tag(item)) {
            Ok(()) => return Ok(()),
            Err(rejected) => rejected.item,
        };
        self.hand_over();
        self.staged.push(tagged).map_err(|rejected| rejected.item.1)
    }

    /// Hands the staged events over, as far as the feed has room now, without waiting.
    /// What does not fit stays staged (and the engine should wait, [`Outbox::should_wait`]),
    /// or is dropped and counted once the consumer is congested.
    pub(crate) fn hand_over(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        self.send_staged();
        self.room = self.tx.free();
    }

    fn send_staged(&mut self) {
        while !self.staged.is_empty() {
            match self.tx.try_send_from(&mut self.staged) {
                Ok(()) => {}
                Err(TrySendError::Full(_, Cause::Oversize)) => self.count_drops(1),
                Err(TrySendError::Full(item, _)) if !self.congested => {
                    self.refused = true;
                    // Just taken from the front: there is room for it there again.
                    if self.staged.push_front(self.tx.tag(item)).is_err() {
                        self.count_drops(1);
                    }
                    return;
                }
                Err(TrySendError::Full(..)) => {
                    self.count_drops(1 + self.staged.len() as u64);
                    self.staged.clear();
                }
                Err(TrySendError::Closed(_)) => {
                    self.closed = true;
                    self.staged.clear();
                }
            }
        }
    }

    /// Hands on what waits, as far as the feed has room now, without waiting. So a drop
    /// lasts only while the feed is really full.
    pub(crate) fn flush(&mut self) {
        self.flush_reporting(false);
    }

    /// [`Outbox::flush`], with the drop report sent whether due or not (at the end).
    pub(crate) fn flush_all(&mut self) {
        self.flush_reporting(true);
    }

    fn flush_reporting(&mut self, now: bool) {
        self.hand_over();
        if !self.staged.is_empty() {
            return;
        }
        while let Some(item) = self.backlog.pop() {
            match self.tx.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Full(_, Cause::Oversize)) => self.count_drops(1),
                Err(TrySendError::Full(item, _)) => {
                    // Just taken from the front: there is room for it there again.
                    let _ = self.backlog.push_front(item);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.closed = true;
                    return;
                }
            }
        }
        if self.unreported > 0 && (now || self.report_due().is_none()) {
            let report = Item::Dropped {
                count: self.unreported,
                total: self.dropped_total,
            };
            match self.tx.try_send(report) {
                Ok(()) => {
                    self.unreported = 0;
                    self.reported_at = Some(Instant::now());
                }
                Err(TrySendError::Full(..)) => {}
                Err(TrySendError::Closed(_)) => self.closed = true,
            }
        }
    }

    fn hold_or_drop(&mut self, item: Item, droppable: bool) {
        if droppable {
            self.count_drops(1);
            return;
        }
        // The ring evicts its oldest items to make room (or refuses one heavier than all of
        // it), and counts them: they are drops too.
        let before = self.backlog.drops().total();
        let _ = self.backlog.push(item);
        self.count_drops(self.backlog.drops().total() - before);
    }

    fn count_drops(&mut self, n: u64) {
        self.unreported += n;
        self.dropped_total += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::feed;
    use crate::item::{ReceivedEvent, SubscriptionStatus};
    use protocol::Data;

    fn event(n: usize) -> Item {
        Item::from(ReceivedEvent::decoded(
            std::time::SystemTime::UNIX_EPOCH,
            None,
            format!("e{n}"),
            Data::Absent,
            None,
            String::new(),
        ))
    }

    fn control(n: usize) -> Item {
        Item::Subscription {
            channel: format!("c{n}"),
            status: Box::new(SubscriptionStatus::Pending),
        }
    }

    #[tokio::test]
    async fn drops_events_keeps_control_and_reports() {
        let (tx, mut rx) = feed(2, 1 << 20);
        let mut out = Outbox::new(tx.clone());
        out.push(event(0));
        out.push(event(1));
        out.push(event(2));
        out.hand_over(); // the end of a burst: the third finds the feed full, and waits
        assert!(out.should_pause() && out.dropped_total() == 0);
        out.set_congested(); // the grace ran out
        out.push(control(0)); // held back; the waiting event is dropped
        out.push(event(3)); // behind the backlog: dropped
        assert_eq!(out.dropped_total(), 2);
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e0"));
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e1"));
        while out.has_pending() {
            assert!(tx.room_for(out.pending_weight()).await);
            out.flush();
        }
        assert_eq!(rx.recv().await, Some(control(0)));
        assert_eq!(rx.recv().await, Some(Item::Dropped { count: 2, total: 2 }));
    }

    /// An outbox on a feed of `capacity` items, `events` events pushed (staged).
    fn pushed(capacity: usize, events: usize) -> (crate::FeedRx, Outbox) {
        let (tx, rx) = feed(capacity, 1 << 20);
        let mut out = Outbox::new(tx);
        for n in 0..events {
            out.push(event(n));
        }
        (rx, out)
    }

    #[tokio::test]
    async fn drops_stop_as_soon_as_there_is_room() {
        let (mut rx, mut out) = pushed(2, 3);
        out.hand_over();
        out.set_congested();
        out.hand_over();
        assert_eq!(out.dropped_total(), 1);
        rx.recv().await.unwrap();
        rx.recv().await.unwrap();
        // Room again: the next event goes through, right after the report of the drop.
        out.push(event(3));
        assert_eq!(out.dropped_total(), 1);
        assert_eq!(rx.recv().await, Some(Item::Dropped { count: 1, total: 1 }));
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e3"));
    }

    #[tokio::test]
    async fn drops_are_reported_at_most_once_a_second_with_the_running_total() {
        let (tx, mut rx) = feed(2, 1 << 20);
        let mut out = Outbox::new(tx);
        let mut reports = Vec::new();
        for n in 0..2000 {
            out.push(event(n));
            // Each event a burst of its own, and no grace: the engine with a slow consumer.
            out.hand_over();
            if out.should_pause() {
                out.set_congested();
                out.hand_over();
            }
            if n % 5 != 0 {
                continue;
            }
            // A consumer that takes a little now and then: room comes back, drops go on.
            while let Ok(item) = rx.try_recv() {
                if let Item::Dropped { count, total } = item {
                    reports.push((count, total));
                }
            }
        }
        assert_eq!(
            reports.len(),
            1,
            "the first at once, the rest within the second"
        );
        assert!(out.report_due().is_some() && !out.has_pending());
        while rx.try_recv().is_ok() {}
        out.flush_all();
        let mut last = None;
        while let Ok(item) = rx.try_recv() {
            if let Item::Dropped { total, .. } = item {
                last = Some(total);
            }
        }
        assert_eq!(
            last,
            Some(out.dropped_total()),
            "the end reports the running total"
        );
    }

    #[tokio::test]
    async fn a_burst_is_handed_over_whole_and_what_finds_no_room_waits() {
        let (mut rx, mut out) = pushed(4, 6);
        assert!(rx.try_recv().is_err(), "staged until the burst ends");
        out.hand_over();
        assert!(out.should_pause() && out.should_wait());
        for n in 0..4 {
            assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == format!("e{n}")));
        }
        // The consumer caught up within the grace: the rest follows, none lost, in order.
        out.room_again();
        out.push(control(0));
        let mut names = Vec::new();
        while let Ok(item) = rx.try_recv() {
            names.push(match item {
                Item::Event(e) => e.event.to_string(),
                other => format!("{other:?}").chars().take(12).collect::<String>(),
            });
        }
        assert_eq!(names, ["e4", "e5", "Subscription"]);
        assert_eq!(out.dropped_total(), 0);
    }

    #[test]
    fn the_stage_is_bounded_and_hands_over_when_full() {
        let (tx, mut rx) = feed(10_000, 1 << 30);
        let mut out = Outbox::new(tx);
        for n in 0..STAGE_ITEMS + 1 {
            out.push(event(n));
        }
        assert_eq!(
            out.staged.len(),
            1,
            "a full stage went over before the next event"
        );
        let mut taken = 0;
        while rx.try_recv().is_ok() {
            taken += 1;
        }
        assert_eq!(taken, STAGE_ITEMS);
    }

    #[test]
    fn backlog_is_bounded() {
        let (tx, _rx) = feed(1, 1 << 20);
        let mut out = Outbox::new(tx);
        for n in 0..BACKLOG_LIMIT + 11 {
            out.push(control(n));
        }
        // One went into the channel, BACKLOG_LIMIT wait, the 10 oldest held ones were dropped.
        assert_eq!(out.backlog.len(), BACKLOG_LIMIT);
        assert_eq!(out.dropped_total(), 10);
    }
}
