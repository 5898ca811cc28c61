//! The queue from the engine to its consumer: a [`bounded::queue`] of items tagged with
//! their connection, bounded in items *and* in bytes (each item weighs its [`Item::cost`]).
//!
//! An engine sends only into its own feed: several connections (`watch` with several
//! `--node`, `probe` across a cluster) each get one, taken in turn by one
//! [`bounded::FanIn`] (see `observe::pipeline`), so a flood on one connection fills its
//! own feed and never another's. Each sender carries its connection's index ([`Conn`]),
//! and every item travels with it; a run with one connection uses tag 0 throughout.
//!
//! An item heavier than the whole byte budget never fits: it is refused and counted (the
//! engine then drops it, as an event it could not hand on).

use bounded::{Bounded, Limits, Overflow, TryRecvError, TrySendError};

use super::item::Item;

/// Which connection an item came from: an index into the run's table of labels.
pub type Conn = u8;

/// An item with the tag of its connection, as it travels through a feed.
pub type Tagged = (Conn, Item);

/// Items in the channel by default.
pub const DEFAULT_ITEMS: usize = 1024;
/// Bytes in the channel by default (`--max-buffer`).
pub const DEFAULT_BYTES: usize = 64 << 20;

/// The sending side. Clones share the queue.
#[derive(Clone)]
pub struct FeedTx {
    tx: bounded::Sender<Tagged>,
    /// The tag of what this sender sends.
    conn: Conn,
}

/// The receiving side.
pub struct FeedRx {
    rx: bounded::Receiver<Tagged>,
}

/// A feed of at most `items` items and `bytes` bytes.
pub fn feed(items: usize, bytes: usize) -> (FeedTx, FeedRx) {
    let (tx, rx) = bounded::queue(Limits::new(items, bytes), Overflow::Block);
    (FeedTx { tx, conn: 0 }, FeedRx { rx })
}

impl FeedTx {
    /// A sender into a queue made elsewhere (one of a [`bounded::FanIn`]'s), tagging what
    /// it sends `conn`. The queue's policy should be [`Overflow::Block`]: the engine
    /// decides what to drop.
    pub fn new(tx: bounded::Sender<Tagged>, conn: Conn) -> FeedTx {
        FeedTx { tx, conn }
    }

    /// A sender into the same feed whose items carry the tag `conn`.
    pub fn tagged(&self, conn: Conn) -> FeedTx {
        FeedTx {
            conn,
            ..self.clone()
        }
    }

    /// This sender's tag.
    pub fn conn(&self) -> Conn {
        self.conn
    }

    /// Sends at once, or gives the item back: `Full` when there is no room now (or never,
    /// for an item heavier than the budget), `Closed` when the consumer is gone.
    // As tokio's channels do, a refused item is handed back whole.
    #[allow(clippy::result_large_err)]
    pub fn try_send(&self, item: Item) -> Result<(), TrySendError<Item>> {
        self.tx.try_send((self.conn, item)).map_err(|e| match e {
            TrySendError::Full((_, item), cause) => TrySendError::Full(item, cause),
            TrySendError::Closed((_, item)) => TrySendError::Closed(item),
        })
    }

    /// Hands over the items staged in `batch`, oldest first, under one lock and with one
    /// wake-up (see [`bounded::Sender::try_send_from`]): the first one refused comes back,
    /// the rest stay staged. Stage with [`FeedTx::tag`].
    #[allow(clippy::result_large_err)]
    pub(crate) fn try_send_from(
        &self,
        batch: &mut Bounded<Tagged>,
    ) -> Result<(), TrySendError<Item>> {
        self.tx.try_send_from(batch).map_err(|e| match e {
            TrySendError::Full((_, item), cause) => TrySendError::Full(item, cause),
            TrySendError::Closed((_, item)) => TrySendError::Closed(item),
        })
    }

    /// `item` as this sender's feed carries it.
    pub(crate) fn tag(&self, item: Item) -> Tagged {
        (self.conn, item)
    }

    /// Waits until the item fits, then sends it. Gives it back when the consumer is gone
    /// (or when it alone is heavier than the budget).
    #[allow(clippy::result_large_err)]
    pub async fn send(&self, item: Item) -> Result<(), Item> {
        self.tx
            .send((self.conn, item))
            .await
            .map_err(|e| e.into_inner().1)
    }

    /// [`FeedTx::send`] from a thread outside the runtime's workers (`spawn_blocking`).
    #[allow(clippy::result_large_err)]
    pub fn blocking_send(&self, item: Item) -> Result<(), Item> {
        tokio::runtime::Handle::current().block_on(self.send(item))
    }

    /// Waits until an item of `weight` bytes would fit; false once the consumer is gone.
    /// Cancel-safe: nothing is handed over.
    pub(crate) async fn room_for(&self, weight: usize) -> bool {
        self.tx.room_for(weight).await
    }

    /// Waits until the feed is at most half full (in items and bytes), so that a full feed
    /// wakes its sender once per half of it, not once per item taken. False when the
    /// consumer is gone.
    pub(crate) async fn half_empty(&self) -> bool {
        self.tx.half_empty().await
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The room left now, in items and bytes.
    pub(crate) fn free(&self) -> Limits {
        self.tx.free()
    }

    /// No room now for one more item.
    pub(crate) fn is_full(&self) -> bool {
        self.tx.is_full()
    }

    /// At most half full, in items and in bytes.
    pub(crate) fn is_half_empty(&self) -> bool {
        self.tx.is_half_empty()
    }
}

impl FeedRx {
    pub async fn recv(&mut self) -> Option<Item> {
        self.recv_tagged().await.map(|(_, item)| item)
    }

    pub fn try_recv(&mut self) -> Result<Item, TryRecvError> {
        self.try_recv_tagged().map(|(_, item)| item)
    }

    /// The next item with the tag of the connection it came from.
    pub async fn recv_tagged(&mut self) -> Option<Tagged> {
        self.rx.recv().await
    }

    pub fn try_recv_tagged(&mut self) -> Result<Tagged, TryRecvError> {
        self.rx.try_recv()
    }

    /// Nothing waits in this feed.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Bytes waiting.
    #[cfg(test)]
    fn queued_bytes(&self) -> usize {
        self.rx.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bounded::Cause;

    fn text(n: usize) -> Item {
        Item::Error("x".repeat(n))
    }

    #[test]
    fn the_budget_in_bytes_refuses_what_does_not_fit() {
        let one = (0u8, text(1000));
        let (tx, mut rx) = feed(100, 3 * bounded::Weigh::weight(&one));
        for _ in 0..3 {
            tx.try_send(text(1000)).unwrap();
        }
        assert!(matches!(
            tx.try_send(text(1000)),
            Err(TrySendError::Full(_, Cause::Bytes))
        ));
        rx.try_recv().unwrap();
        tx.try_send(text(1000)).unwrap();
        while rx.try_recv().is_ok() {}
        assert_eq!(rx.queued_bytes(), 0);
        // Alone, an item bigger than the budget never fits: refused, not waited for.
        assert!(matches!(
            tx.try_send(text(10_000)),
            Err(TrySendError::Full(_, Cause::Oversize))
        ));
    }

    #[tokio::test]
    async fn send_waits_for_room_and_items_keep_their_tag() {
        let (tx, mut rx) = feed(1, 1 << 20);
        let us = tx.tagged(1);
        tx.try_send(text(1)).unwrap();
        let waiting = tokio::spawn({
            let us = us.clone();
            async move { us.send(text(2)).await.is_ok() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(rx.recv_tagged().await.map(|(c, _)| c), Some(0));
        assert!(waiting.await.unwrap());
        assert_eq!(rx.recv_tagged().await.map(|(c, _)| c), Some(1));
    }
}
