//! Delivery to the consumer over one bounded channel, without ever blocking the engine.
//!
//! When the channel is full, the engine first gives the consumer a grace period
//! ([`ClientConfig::consumer_grace`](super::ClientConfig), 250 ms by default) in which it stops
//! reading the socket and lets TCP hold the data: a consumer that hiccups loses nothing. A
//! consumer still behind after that is *congested*: the engine reads the socket again (so it
//! keeps answering pings) until the consumer has drained half the channel, and meanwhile:
//! - drops application events, counting them; the count is reported as [`Item::Dropped`] as
//!   soon as there is room again;
//! - keeps control items (states, subscriptions, members, errors) in a small backlog, so the
//!   consumer's view of the connection stays right. Past [`BACKLOG_LIMIT`] the oldest control
//!   item goes too, and is counted.
//!
//! The channel is a [`feed`](super::feed), bounded in items and in bytes; "full" means either.
//! Memory is bounded by the channel's budget plus the backlog's ([`BACKLOG_LIMIT`] items,
//! [`BACKLOG_BYTES`] bytes).

use std::collections::VecDeque;

use tokio::sync::mpsc::error::TrySendError;

use super::feed::{FeedPermit, FeedTx};
use super::item::Item;

/// Most control items held back while the consumer is behind.
pub const BACKLOG_LIMIT: usize = 1024;
/// Most bytes of control items held back while the consumer is behind.
pub const BACKLOG_BYTES: usize = 4 << 20;

pub(crate) struct Outbox {
    tx: FeedTx,
    backlog: VecDeque<Item>,
    backlog_bytes: usize,
    unreported: u64,
    dropped_total: u64,
    closed: bool,
    congested: bool,
}

impl Outbox {
    pub(crate) fn new(tx: FeedTx) -> Outbox {
        Outbox {
            tx,
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            unreported: 0,
            dropped_total: 0,
            closed: false,
            congested: false,
        }
    }

    /// A sender to wait on for room (see [`Outbox::send_pending`]).
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

    /// The channel is full and the consumer has not yet used up its grace period: the engine
    /// should wait for room before reading more.
    pub(crate) fn should_wait(&self) -> bool {
        !self.congested && self.tx.is_full() && !self.tx.is_closed()
    }

    /// The grace period ran out: drop events until the consumer drains half the channel.
    pub(crate) fn set_congested(&mut self) {
        self.congested = true;
    }

    /// Something waits for room: a held-back control item or an unreported drop.
    pub(crate) fn has_pending(&self) -> bool {
        !self.backlog.is_empty() || self.unreported > 0
    }

    /// Hands an item on, or holds it back / drops it as the module docs say.
    pub(crate) fn push(&mut self, item: Item) {
        let droppable = matches!(item, Item::Event(_) | Item::Pong { .. });
        if self.congested && self.tx.is_half_empty() {
            self.congested = false;
        }
        self.flush_ready();
        if self.has_pending() {
            // Keep order: nothing overtakes what is already waiting.
            self.hold_or_drop(item, droppable);
            return;
        }
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(TrySendError::Full(item)) => self.hold_or_drop(item, droppable),
            Err(TrySendError::Closed(_)) => self.closed = true,
        }
    }

    /// Hands on what waits, as far as the channel has room now, without waiting. So a drop
    /// lasts only while the channel is really full.
    fn flush_ready(&mut self) {
        while let Some(item) = self.pop_backlog() {
            match self.tx.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Full(item)) => {
                    self.backlog_bytes += item.cost();
                    self.backlog.push_front(item);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.closed = true;
                    return;
                }
            }
        }
        if self.unreported > 0 {
            let report = Item::Dropped {
                count: self.unreported,
                total: self.dropped_total,
            };
            match self.tx.try_send(report) {
                Ok(()) => self.unreported = 0,
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Closed(_)) => self.closed = true,
            }
        }
    }

    fn hold_or_drop(&mut self, item: Item, droppable: bool) {
        if droppable {
            self.count_drop();
            return;
        }
        let cost = item.cost();
        while !self.backlog.is_empty()
            && (self.backlog.len() >= BACKLOG_LIMIT || self.backlog_bytes + cost > BACKLOG_BYTES)
        {
            self.pop_backlog();
            self.count_drop();
        }
        self.backlog_bytes += cost;
        self.backlog.push_back(item);
    }

    fn pop_backlog(&mut self) -> Option<Item> {
        let item = self.backlog.pop_front()?;
        self.backlog_bytes -= item.cost();
        Some(item)
    }

    fn count_drop(&mut self) {
        self.unreported += 1;
        self.dropped_total += 1;
    }

    /// Uses a reserved slot for the oldest waiting item: held-back items first, then the
    /// report of drops.
    pub(crate) fn send_pending(&mut self, permit: FeedPermit<'_>) {
        if let Some(item) = self.pop_backlog() {
            permit.send(item);
        } else if self.unreported > 0 {
            permit.send(Item::Dropped {
                count: self.unreported,
                total: self.dropped_total,
            });
            self.unreported = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::feed;
    use crate::item::{ReceivedEvent, SubscriptionStatus};
    use protocol::Data;

    fn event(n: usize) -> Item {
        Item::Event(ReceivedEvent::decoded(
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
            status: SubscriptionStatus::Pending,
        }
    }

    #[tokio::test]
    async fn drops_events_keeps_control_and_reports() {
        let (tx, mut rx) = feed(2, 1 << 20);
        let mut out = Outbox::new(tx.clone());
        out.push(event(0));
        out.push(event(1));
        out.push(event(2)); // full: dropped
        out.push(control(0)); // held back
        out.push(event(3)); // behind the backlog: dropped
        assert_eq!(out.dropped_total(), 2);
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e0"));
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e1"));
        while out.has_pending() {
            let permit = tx.reserve().await.unwrap();
            out.send_pending(permit);
        }
        assert_eq!(rx.recv().await, Some(control(0)));
        assert_eq!(rx.recv().await, Some(Item::Dropped { count: 2, total: 2 }));
    }

    #[tokio::test]
    async fn drops_stop_as_soon_as_there_is_room() {
        let (tx, mut rx) = feed(2, 1 << 20);
        let mut out = Outbox::new(tx);
        for n in 0..3 {
            out.push(event(n));
        }
        assert_eq!(out.dropped_total(), 1);
        rx.recv().await.unwrap();
        rx.recv().await.unwrap();
        // Room again: the next event goes through, right after the report of the drop.
        out.push(event(3));
        assert_eq!(out.dropped_total(), 1);
        assert_eq!(rx.recv().await, Some(Item::Dropped { count: 1, total: 1 }));
        assert!(matches!(rx.recv().await, Some(Item::Event(e)) if e.event == "e3"));
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
