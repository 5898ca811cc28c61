//! The channel from the engine to its consumer, bounded in items *and* in bytes.
//!
//! Each item is counted at its [`Item::cost`] from the moment it is sent until the consumer
//! takes it. Stages between the engine and the consumer (recording, channel discovery) relay
//! through [`FeedRx::relay`], which shares the budget: however many stages there are, the
//! items waiting in all of them together stay under one budget (plus the one item each stage
//! holds in hand). Events share the socket's read buffer, so the memory they pin is bounded
//! by the same budget plus one read buffer.
//!
//! Several engines (`watch` with several connections) share one feed, and so one budget:
//! each sender is tagged with its connection's index ([`Conn`]), and every item travels
//! with the tag of the sender that sent it. A feed with one connection uses tag 0 throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc::{
    self,
    error::{TryRecvError, TrySendError},
};
use tokio::sync::{Notify, futures::Notified};

use super::item::Item;

/// Which connection an item came from: an index into the run's table of labels.
pub type Conn = u8;

/// Items in the channel by default.
pub const DEFAULT_ITEMS: usize = 1024;
/// Bytes in the channel by default (`--max-buffer`).
pub const DEFAULT_BYTES: usize = 64 << 20;

struct Budget {
    used: AtomicUsize,
    limit: usize,
    room: Notify,
}

impl Budget {
    /// An item fits under the limit, or is alone (an item bigger than the whole budget still
    /// passes, one at a time: the socket's frame limit bounds it).
    fn fits(&self, cost: usize) -> bool {
        let used = self.used.load(Ordering::Acquire);
        used == 0 || used.saturating_add(cost) <= self.limit
    }

    fn under(&self) -> bool {
        self.used.load(Ordering::Acquire) < self.limit
    }
}

/// The sending side. Clones share the channel and its budget.
#[derive(Clone)]
pub struct FeedTx {
    tx: mpsc::Sender<(Item, usize, Conn)>,
    budget: Arc<Budget>,
    /// The tag of what this sender sends.
    conn: Conn,
}

/// The receiving side.
pub struct FeedRx {
    rx: mpsc::Receiver<(Item, usize, Conn)>,
    budget: Arc<Budget>,
}

/// A channel of at most `items` items and about `bytes` bytes.
pub fn feed(items: usize, bytes: usize) -> (FeedTx, FeedRx) {
    let budget = Arc::new(Budget {
        used: AtomicUsize::new(0),
        limit: bytes.max(1),
        room: Notify::new(),
    });
    pair(items, budget)
}

fn pair(items: usize, budget: Arc<Budget>) -> (FeedTx, FeedRx) {
    let (tx, rx) = mpsc::channel(items.max(1));
    (
        FeedTx {
            tx,
            budget: budget.clone(),
            conn: 0,
        },
        FeedRx { rx, budget },
    )
}

/// Room for one item, reserved by [`FeedTx::reserve`].
pub struct FeedPermit<'a> {
    permit: mpsc::Permit<'a, (Item, usize, Conn)>,
    budget: &'a Budget,
    conn: Conn,
}

impl FeedPermit<'_> {
    pub fn send(self, item: Item) {
        let cost = item.cost();
        self.budget.used.fetch_add(cost, Ordering::AcqRel);
        self.permit.send((item, cost, self.conn));
    }
}

impl FeedTx {
    /// A sender into the same channel whose items carry the tag `conn`.
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

    /// Sends at once, or gives the item back when the channel is full in items or bytes.
    // As tokio's channels do, a refused item is handed back whole.
    #[allow(clippy::result_large_err)]
    pub fn try_send(&self, item: Item) -> Result<(), TrySendError<Item>> {
        let cost = item.cost();
        if !self.budget.fits(cost) {
            return if self.tx.is_closed() {
                Err(TrySendError::Closed(item))
            } else {
                Err(TrySendError::Full(item))
            };
        }
        // Counted before it can be received, so the count never goes below zero.
        self.budget.used.fetch_add(cost, Ordering::AcqRel);
        self.tx.try_send((item, cost, self.conn)).map_err(|e| {
            self.budget.used.fetch_sub(cost, Ordering::AcqRel);
            match e {
                TrySendError::Full((item, ..)) => TrySendError::Full(item),
                TrySendError::Closed((item, ..)) => TrySendError::Closed(item),
            }
        })
    }

    /// Waits until the item fits, then sends it. Gives it back when the consumer is gone.
    #[allow(clippy::result_large_err)]
    pub async fn send(&self, item: Item) -> Result<(), Item> {
        self.send_tagged(self.conn, item).await
    }

    /// [`FeedTx::send`] with another tag: a stage that relays items keeps their tags.
    #[allow(clippy::result_large_err)]
    pub async fn send_tagged(&self, conn: Conn, item: Item) -> Result<(), Item> {
        let cost = item.cost();
        loop {
            let room = self.room_changed();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.budget.fits(cost) {
                let Ok(permit) = self.tx.reserve().await else {
                    return Err(item);
                };
                self.budget.used.fetch_add(cost, Ordering::AcqRel);
                permit.send((item, cost, conn));
                return Ok(());
            }
            if self.tx.is_closed() {
                return Err(item);
            }
            room.await;
        }
    }

    /// [`FeedTx::send`] from a thread outside the runtime's workers (`spawn_blocking`).
    #[allow(clippy::result_large_err)]
    pub fn blocking_send(&self, item: Item) -> Result<(), Item> {
        tokio::runtime::Handle::current().block_on(self.send(item))
    }

    /// [`FeedTx::send_tagged`] from a thread outside the runtime's workers.
    #[allow(clippy::result_large_err)]
    pub fn blocking_send_tagged(&self, conn: Conn, item: Item) -> Result<(), Item> {
        tokio::runtime::Handle::current().block_on(self.send_tagged(conn, item))
    }

    /// Waits for room: a free slot and bytes under the budget.
    pub async fn reserve(&self) -> Result<FeedPermit<'_>, ()> {
        loop {
            let room = self.room_changed();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.budget.under() {
                let permit = self.tx.reserve().await.map_err(|_| ())?;
                return Ok(FeedPermit {
                    permit,
                    budget: &self.budget,
                    conn: self.conn,
                });
            }
            if self.tx.is_closed() {
                return Err(());
            }
            room.await;
        }
    }

    /// Waits until the channel is at most half full (in items and bytes), so that a full
    /// channel wakes its sender once per half of it, not once per item taken. Returns false
    /// when the consumer is gone.
    pub async fn half_empty(&self) -> bool {
        loop {
            let room = self.room_changed();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.tx.is_closed() {
                return false;
            }
            if self.is_half_empty() {
                return true;
            }
            room.await;
        }
    }

    fn room_changed(&self) -> Notified<'_> {
        self.budget.room.notified()
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// No room now, in items or in bytes.
    pub fn is_full(&self) -> bool {
        self.tx.capacity() == 0 || !self.budget.under()
    }

    /// At most half full, in items and in bytes.
    pub fn is_half_empty(&self) -> bool {
        self.tx.capacity() >= self.tx.max_capacity() / 2
            && self.budget.used.load(Ordering::Acquire) <= self.budget.limit / 2
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
    pub async fn recv_tagged(&mut self) -> Option<(Conn, Item)> {
        let (item, cost, conn) = self.rx.recv().await?;
        self.release(cost);
        Some((conn, item))
    }

    pub fn try_recv_tagged(&mut self) -> Result<(Conn, Item), TryRecvError> {
        let (item, cost, conn) = self.rx.try_recv()?;
        self.release(cost);
        Ok((conn, item))
    }

    /// Nothing waits in this channel.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    fn release(&self, cost: usize) {
        self.budget.used.fetch_sub(cost, Ordering::AcqRel);
        self.budget.room.notify_waiters();
    }

    /// A new channel of the same size under the same byte budget, for a stage that takes
    /// items from this one and hands them on.
    pub fn relay(&self) -> (FeedTx, FeedRx) {
        pair(self.rx.max_capacity(), self.budget.clone())
    }

    /// Bytes waiting, in this channel and every relay of it.
    pub fn queued_bytes(&self) -> usize {
        self.budget.used.load(Ordering::Acquire)
    }
}

impl Drop for FeedRx {
    /// Senders waiting for room learn that there will be none.
    fn drop(&mut self) {
        self.rx.close();
        self.budget.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Item {
        Item::Error("x".repeat(n))
    }

    #[test]
    fn the_budget_in_bytes_refuses_what_does_not_fit() {
        let base = text(0).cost();
        let (tx, mut rx) = feed(100, 3 * (base + 1000));
        for _ in 0..3 {
            tx.try_send(text(1000)).unwrap();
        }
        assert!(matches!(
            tx.try_send(text(1000)),
            Err(TrySendError::Full(_))
        ));
        assert!(tx.is_full());
        rx.try_recv().unwrap();
        tx.try_send(text(1000)).unwrap();
        while rx.try_recv().is_ok() {}
        assert_eq!(rx.queued_bytes(), 0);
        // Alone, an item bigger than the budget still passes.
        tx.try_send(text(10_000)).unwrap();
        assert!(matches!(tx.try_send(text(1)), Err(TrySendError::Full(_))));
    }

    #[tokio::test]
    async fn a_relay_shares_the_budget_and_send_waits_for_room() {
        let base = text(0).cost();
        let (tx, mut rx) = feed(100, 2 * (base + 500));
        let (relay_tx, mut relay_rx) = rx.relay();
        tx.try_send(text(500)).unwrap();
        relay_tx.try_send(text(500)).unwrap();
        assert!(tx.is_full(), "both stages count against one budget");
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(text(500)).await.is_ok() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        relay_rx.recv().await.unwrap();
        assert!(waiting.await.unwrap());
        assert_eq!(rx.queued_bytes(), 2 * (base + 500));
        rx.recv().await.unwrap();
        rx.recv().await.unwrap();
        assert_eq!(rx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn items_keep_the_tag_of_their_sender_through_a_relay() {
        let (tx, mut rx) = feed(10, 1 << 20);
        let us = tx.tagged(1);
        tx.try_send(text(1)).unwrap();
        us.try_send(text(2)).unwrap();
        us.reserve().await.unwrap().send(text(3));
        let (relay_tx, mut relay_rx) = rx.relay();
        while let Ok((conn, item)) = rx.try_recv_tagged() {
            relay_tx.send_tagged(conn, item).await.unwrap();
        }
        let mut tags = Vec::new();
        while let Ok((conn, _)) = relay_rx.try_recv_tagged() {
            tags.push(conn);
        }
        assert_eq!(tags, [0, 1, 1]);
    }
}
