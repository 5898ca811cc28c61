//! [`FanIn`]: several [`queue`](crate::queue)s, each with caps of its own, that one receiving
//! task takes in turn.
//!
//! Each producer (a connection's engine) gets a queue of its own, so it fills only its own
//! budget: a flood on one queue is refused, dropped or made to wait by that queue's policy,
//! and never takes the room of another. The receiver takes one item from each queue with
//! something in it, round robin, so a queue that always has items delays another's by at
//! most one item per turn. All the queues wake the receiver through one [`Notify`].

use std::pin::pin;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::queue::queue_waking;
use crate::{Drops, Held, Limits, Overflow, Oversize, Receiver, Sender, TryRecvError, Weigh};

/// Queues taken in turn by one receiving task. Items come out with the index of their
/// queue, in the order [`FanIn::add`] made them.
pub struct FanIn<T> {
    queues: Vec<Receiver<T>>,
    readable: Arc<Notify>,
    /// The queue the next turn starts at.
    next: usize,
}

impl<T> Default for FanIn<T> {
    fn default() -> FanIn<T> {
        FanIn {
            queues: Vec::new(),
            readable: Arc::new(Notify::new()),
            next: 0,
        }
    }
}

impl<T: Weigh + Send + 'static> FanIn<T> {
    pub fn new() -> FanIn<T> {
        FanIn::default()
    }

    /// A new queue with caps and a policy of its own; its items come out tagged with its
    /// index (the number of queues before it).
    pub fn add(&mut self, limits: Limits, overflow: Overflow) -> Sender<T> {
        let (tx, rx) = queue_waking(limits, overflow, Oversize::Refuse, self.readable.clone());
        self.queues.push(rx);
        tx
    }

    /// Gives an emptied batch's vector back to queue `queue`, for its next batch
    /// ([`Receiver::recycle`]).
    pub fn recycle(&mut self, queue: usize, batch: Vec<T>) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.recycle(batch);
        }
    }

    /// How many queues there are.
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// One item from the next queue in turn that has one. `Disconnected` once every queue
    /// is empty and all their senders are gone (at once, with no queue at all).
    pub fn try_recv(&mut self) -> Result<(usize, T), TryRecvError> {
        self.turn(Receiver::try_recv)
    }

    /// The next items in turn, held until the guard is dropped: up to `max` from a fan-in of
    /// one queue, taken under one lock ([`Receiver::try_recv_held_batch`]), and one item from
    /// the next queue in turn that has one when there are several, so that a queue still
    /// delays another's by at most one item per turn. `Disconnected` as [`FanIn::try_recv`].
    pub fn try_recv_batch(&mut self, max: usize) -> Result<(usize, Held<Vec<T>>), TryRecvError> {
        let max = if self.queues.len() == 1 { max } else { 1 };
        self.turn(|q| q.try_recv_held_batch(max))
    }

    /// What `take` takes from the next queue in turn that has something.
    fn turn<R>(
        &mut self,
        mut take: impl FnMut(&mut Receiver<T>) -> Result<R, TryRecvError>,
    ) -> Result<(usize, R), TryRecvError> {
        let n = self.queues.len();
        let mut open = false;
        for k in 0..n {
            let i = (self.next + k) % n;
            match take(&mut self.queues[i]) {
                Ok(got) => {
                    self.next = (i + 1) % n;
                    return Ok((i, got));
                }
                Err(TryRecvError::Empty) => open = true,
                Err(TryRecvError::Disconnected) => {}
            }
        }
        Err(if open {
            TryRecvError::Empty
        } else {
            TryRecvError::Disconnected
        })
    }

    /// The next item in turn, waiting for one; `None` once every queue is empty and all
    /// their senders are gone. Cancel-safe: an item is taken only when it is returned.
    pub async fn recv(&mut self) -> Option<(usize, T)> {
        self.wait_for(FanIn::try_recv).await
    }

    /// [`FanIn::try_recv_batch`], waiting for at least one item; `None` once every queue
    /// is empty and all their senders are gone. Cancel-safe.
    pub async fn recv_batch(&mut self, max: usize) -> Option<(usize, Held<Vec<T>>)> {
        self.wait_for(|fan| fan.try_recv_batch(max)).await
    }

    /// Waits until `take` takes something; `None` at the end.
    async fn wait_for<R>(
        &mut self,
        mut take: impl FnMut(&mut Self) -> Result<R, TryRecvError>,
    ) -> Option<R> {
        let wake = self.readable.clone();
        loop {
            let mut readable = pin!(wake.notified());
            readable.as_mut().enable();
            match take(self) {
                Ok(got) => return Some(got),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            readable.await;
        }
    }

    /// Nothing waits in any queue.
    pub fn is_idle(&self) -> bool {
        self.queues.iter().all(Receiver::is_empty)
    }

    /// Bytes queued in all the queues together.
    pub fn bytes(&self) -> usize {
        self.queues.iter().map(Receiver::bytes).sum()
    }

    /// What queue `i` dropped so far (nothing for an index out of range).
    pub fn drops(&self, i: usize) -> Drops {
        self.queues.get(i).map(Receiver::drops).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn text(n: usize) -> String {
        "x".repeat(n)
    }

    #[tokio::test]
    async fn a_full_queue_never_delays_another_by_more_than_its_turn() {
        let mut fan = FanIn::new();
        let flood = fan.add(Limits::new(100, 1 << 20), Overflow::DropNewest);
        let quiet = fan.add(Limits::new(4, 1 << 20), Overflow::DropNewest);
        for _ in 0..150 {
            let _ = flood.try_send(text(1000));
        }
        assert_eq!(
            flood.drops().items,
            50,
            "the flood fills its own queue only"
        );
        quiet.try_send("a".to_owned()).unwrap();
        quiet.try_send("b".to_owned()).unwrap();
        let mut order = Vec::new();
        for _ in 0..4 {
            order.push(fan.recv().await.unwrap());
        }
        let quiet_at: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|(_, (q, _))| *q == 1)
            .map(|(at, _)| at)
            .collect();
        assert_eq!(quiet_at, [1, 3], "taken in turn: {order:?}");
        assert_eq!(fan.drops(1).total(), 0);
    }

    #[tokio::test]
    async fn batches_from_one_queue_and_one_item_a_turn_from_several() {
        let mut one = FanIn::new();
        let tx = one.add(Limits::new(10, 1 << 20), Overflow::Block);
        for n in 1..=5 {
            tx.try_send(text(n)).unwrap();
        }
        let (_, batch) = one.recv_batch(3).await.unwrap();
        assert_eq!(batch.iter().map(String::len).collect::<Vec<_>>(), [1, 2, 3]);
        let mut two = FanIn::new();
        let (a, b) = (
            two.add(Limits::new(10, 1 << 20), Overflow::Block),
            two.add(Limits::new(10, 1 << 20), Overflow::Block),
        );
        for n in 1..=3 {
            a.try_send(text(n)).unwrap();
        }
        b.try_send(text(9)).unwrap();
        let mut order = Vec::new();
        while let Ok((q, batch)) = two.try_recv_batch(3) {
            order.extend(batch.iter().map(|t| (q, t.len())));
        }
        assert_eq!(order, [(0, 1), (1, 9), (0, 2), (0, 3)]);
        drop((a, b));
        assert_eq!(two.recv_batch(3).await.map(|_| ()), None);
    }

    #[tokio::test]
    async fn the_receiver_wakes_for_any_queue_and_ends_with_the_last_sender() {
        let mut fan = FanIn::new();
        let a = fan.add(Limits::new(4, 1 << 20), Overflow::Block);
        let b = fan.add(Limits::new(4, 1 << 20), Overflow::Block);
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            b.try_send(text(2)).unwrap();
        });
        assert_eq!(fan.recv().await.map(|(i, t)| (i, t.len())), Some((1, 2)));
        late.await.unwrap();
        assert_eq!(fan.try_recv().unwrap_err(), TryRecvError::Empty);
        drop(a);
        assert_eq!(fan.recv().await, None);
    }

    #[tokio::test]
    async fn senders_learn_the_fan_in_is_gone() {
        let mut fan: FanIn<String> = FanIn::new();
        let a = fan.add(Limits::new(1, 1 << 20), Overflow::Block);
        a.try_send(text(1)).unwrap();
        let waiting = tokio::spawn({
            let a = a.clone();
            async move { a.room_for(10).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "no room until something is taken");
        drop(fan);
        assert!(!waiting.await.unwrap());
        a.closed().await;
    }
}
