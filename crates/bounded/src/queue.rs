//! [`queue`]: a [`Bounded`] shared by senders (tasks) and one receiver (a task or a plain
//! thread), with waiting on both ends.
//!
//! The policy decides what a full queue does to a sender: [`Overflow::Block`] makes
//! [`Sender::send`] wait for room; the dropping policies never wait, and count what they
//! drop. A receiver may take items *held* ([`Receiver::recv_held`],
//! [`Receiver::blocking_recv_batch`]): they still weigh against the caps until the
//! [`Held`] guard is dropped, so a writer that holds a batch while it writes it cannot let
//! the memory double.

use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::ring::Rejected;
use crate::{Bounded, Cause, Drops, Limits, Overflow, Oversize, Weigh};

/// A queue of at most `limits.items` items and `limits.bytes` bytes (items being held by
/// the receiver included).
pub fn queue<T: Weigh>(limits: Limits, overflow: Overflow) -> (Sender<T>, Receiver<T>) {
    queue_with(limits, overflow, Oversize::Refuse)
}

/// [`queue`], with `oversize` saying what becomes of an item heavier than the byte cap.
pub fn queue_with<T: Weigh>(
    limits: Limits,
    overflow: Overflow,
    oversize: Oversize,
) -> (Sender<T>, Receiver<T>) {
    queue_waking(limits, overflow, oversize, Arc::new(Notify::new()))
}

/// [`queue_with`], whose receiving task waits on `readable`: a [`crate::FanIn`] gives all
/// its queues one, so that its one receiver wakes for any of them.
pub(crate) fn queue_waking<T: Weigh>(
    limits: Limits,
    overflow: Overflow,
    oversize: Oversize,
    readable: Arc<Notify>,
) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            buf: Bounded::new(limits, overflow).with_oversize(oversize),
            held_items: 0,
            held_bytes: 0,
            senders: 1,
            closed: false,
            thread_waiting: false,
        }),
        readable,
        room: Notify::new(),
        thread: Condvar::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            spare: Vec::new(),
        },
    )
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// The receiving task waits here for an item or for the last sender to go (shared by
    /// the queues of one [`crate::FanIn`]).
    readable: Arc<Notify>,
    /// Blocked senders wait here for room or for the receiver to go.
    room: Notify,
    /// A receiving thread waits here.
    thread: Condvar,
}

struct State<T> {
    buf: Bounded<T>,
    /// Taken by the receiver and not yet released.
    held_items: usize,
    held_bytes: usize,
    senders: usize,
    /// The receiver is gone or closed the queue.
    closed: bool,
    thread_waiting: bool,
}

impl<T: Weigh> State<T> {
    fn lacks_room(&self, weight: usize) -> Option<Cause> {
        let limits = self.buf.limits();
        let items = self.buf.len() + self.held_items;
        if self.buf.never_fits(weight) {
            Some(Cause::Oversize)
        } else if items >= limits.items {
            Some(Cause::Items)
        } else if self.buf.bytes() + self.held_bytes + weight > limits.bytes
            && !(self.buf.oversize() == Oversize::Alone && items == 0)
        {
            Some(Cause::Bytes)
        } else {
            None
        }
    }

    /// Whether `n` more items fit now, in items (bytes aside).
    fn has_room_for(&self, n: usize) -> bool {
        self.buf.len() + self.held_items + n <= self.buf.limits().items
    }

    /// Pushes as the policy says, counting what it drops. Held items cannot be evicted, so
    /// a ring that is full of held items refuses.
    fn push(&mut self, item: T, weight: usize) -> Result<(), Rejected<T>> {
        if self.buf.overflow() == Overflow::DropOldest {
            while !self.buf.is_empty() && self.lacks_room(weight).is_some() {
                let cause = self.lacks_room(weight).unwrap_or(Cause::Items);
                if cause == Cause::Oversize {
                    break;
                }
                self.buf.pop_weighed();
                self.buf.count_drop(cause);
            }
        }
        match self.lacks_room(weight) {
            None => self.buf.push_weighed(item, weight),
            Some(cause) => {
                if cause == Cause::Oversize || self.buf.overflow() != Overflow::Block {
                    self.buf.count_drop(cause);
                }
                Err(Rejected { item, cause })
            }
        }
    }

    fn is_half_empty(&self) -> bool {
        let limits = self.buf.limits();
        self.buf.len() + self.held_items <= limits.items / 2
            && self.buf.bytes() + self.held_bytes <= limits.bytes / 2
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why [`Sender::try_send`] gave an item back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No room, for `cause` (counted as a drop unless the policy is [`Overflow::Block`]).
    Full(T, Cause),
    /// The receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(t, _) | TrySendError::Closed(t) => t,
        }
    }
}

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    Empty,
    /// Empty, and every sender is gone.
    Disconnected,
}

/// The sending side. Clones share the queue.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.shared.state);
        s.senders -= 1;
        if s.senders == 0 {
            let thread = s.thread_waiting;
            drop(s);
            self.shared.readable.notify_one();
            if thread {
                self.shared.thread.notify_all();
            }
        }
    }
}

impl<T: Weigh> Sender<T> {
    /// Queues at once, as the policy says, or gives the item back.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let weight = item.weight();
        let mut s = lock(&self.shared.state);
        if s.closed {
            return Err(TrySendError::Closed(item));
        }
        match s.push(item, weight) {
            Ok(()) => {
                let thread = s.thread_waiting;
                drop(s);
                self.wake_receiver(thread);
                Ok(())
            }
            Err(Rejected { item, cause }) => Err(TrySendError::Full(item, cause)),
        }
    }

    /// Moves the items of `batch`, oldest first, into the queue as [`Sender::try_send`]
    /// would one by one (each capped as it comes, what a dropping policy drops counted),
    /// under one lock and with one wake-up of the receiver: a producer that reads many small
    /// items at once hands them over as one. Stops at the first item refused and gives it
    /// back with why; the items after it stay in `batch`, in order.
    pub fn try_send_from(&self, batch: &mut Bounded<T>) -> Result<(), TrySendError<T>> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut s = lock(&self.shared.state);
        // The usual case, a burst with room for all of it: moved as one.
        let held = (s.held_items, s.held_bytes);
        if !s.closed && s.buf.append_if_room(batch, held) {
            let thread = s.thread_waiting;
            drop(s);
            self.wake_receiver(thread);
            return Ok(());
        }
        let Some((first, weight)) = batch.pop_weighed() else {
            return Ok(());
        };
        if s.closed {
            return Err(TrySendError::Closed(first));
        }
        let mut next = Some((first, weight));
        let mut sent = false;
        let mut refused = None;
        while let Some((item, weight)) = next {
            if let Err(Rejected { item, cause }) = s.push(item, weight) {
                refused = Some(TrySendError::Full(item, cause));
                break;
            }
            sent = true;
            next = batch.pop_weighed();
        }
        let thread = s.thread_waiting;
        drop(s);
        if sent {
            self.wake_receiver(thread);
        }
        refused.map_or(Ok(()), Err)
    }

    /// Queues `item`; with [`Overflow::Block`], waits for room first. Gives it back when
    /// the receiver is gone, when it alone is heavier than the cap, or (dropping policies)
    /// when it was refused.
    pub async fn send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut item = item;
        loop {
            let mut room = pin!(self.shared.room.notified());
            room.as_mut().enable();
            match self.try_send(item) {
                Err(TrySendError::Full(back, cause))
                    if cause != Cause::Oversize && self.overflow() == Overflow::Block =>
                {
                    item = back;
                }
                done => return done,
            }
            room.await;
        }
    }

    /// Waits until the queue is at most half full (in items and bytes, held ones included),
    /// so that a full queue wakes its sender once per half of it. False once the receiver
    /// is gone.
    pub async fn half_empty(&self) -> bool {
        self.wait_until(State::is_half_empty).await
    }

    /// Waits until an item of `weight` bytes would fit (held items included), so that a
    /// sender that holds an item back can wait for room without handing it over: unlike
    /// [`Sender::send`], cancelling this loses nothing. True at once for an item heavier
    /// than the cap (it never fits: [`Sender::try_send`] refuses and counts it); false once
    /// the receiver is gone.
    pub async fn room_for(&self, weight: usize) -> bool {
        self.wait_until(|s| matches!(s.lacks_room(weight), None | Some(Cause::Oversize)))
            .await
    }

    /// Resolves once the receiver is gone (dropped or closed): a producer that waits on
    /// nothing else learns its consumer has ended.
    pub async fn closed(&self) {
        self.wait_until(|_| false).await;
    }

    /// Waits until `ready` holds (true) or the receiver is gone (false), woken by every
    /// change of room.
    async fn wait_until(&self, ready: impl Fn(&State<T>) -> bool) -> bool {
        loop {
            let mut room = pin!(self.shared.room.notified());
            room.as_mut().enable();
            {
                let s = lock(&self.shared.state);
                if s.closed {
                    return false;
                }
                if ready(&s) {
                    return true;
                }
            }
            room.await;
        }
    }

    fn wake_receiver(&self, thread: bool) {
        self.shared.readable.notify_one();
        if thread {
            self.shared.thread.notify_one();
        }
    }

    /// Takes no more, from any sender: they get their items back from now on, while the
    /// receiver takes what is queued, then sees the end. (A writer that must finish while
    /// other senders may linger.)
    pub fn close(&self) {
        let thread = {
            let mut s = lock(&self.shared.state);
            s.closed = true;
            s.thread_waiting
        };
        self.shared.room.notify_waiters();
        self.wake_receiver(thread);
    }

    /// No room now for one more item.
    pub fn is_full(&self) -> bool {
        lock(&self.shared.state).lacks_room(0).is_some()
    }

    /// At most half full, in items and bytes.
    pub fn is_half_empty(&self) -> bool {
        lock(&self.shared.state).is_half_empty()
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    /// The room left now, in items and in bytes (held items count as taken): a producer that
    /// stages a batch stops where the queue would be full.
    pub fn free(&self) -> Limits {
        let s = lock(&self.shared.state);
        let limits = s.buf.limits();
        Limits::new(
            limits.items.saturating_sub(s.buf.len() + s.held_items),
            limits.bytes.saturating_sub(s.buf.bytes() + s.held_bytes),
        )
    }

    /// Whether `n` more items fit now, counted in items (a caller that keeps room for the
    /// answers to one request of its own).
    pub fn has_room_for(&self, n: usize) -> bool {
        lock(&self.shared.state).has_room_for(n)
    }

    /// Waits until `n` more items fit (in items), or the receiver is gone (false).
    pub async fn room_for_items(&self, n: usize) -> bool {
        self.wait_until(|s| s.has_room_for(n)).await
    }

    pub fn overflow(&self) -> Overflow {
        lock(&self.shared.state).buf.overflow()
    }

    /// Items queued (not held).
    pub fn len(&self) -> usize {
        lock(&self.shared.state).buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes queued and held.
    pub fn bytes(&self) -> usize {
        let s = lock(&self.shared.state);
        s.buf.bytes() + s.held_bytes
    }

    pub fn drops(&self) -> Drops {
        lock(&self.shared.state).buf.drops()
    }

    pub fn limits(&self) -> Limits {
        lock(&self.shared.state).buf.limits()
    }
}

/// The receiving side.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// A batch's vector given back ([`Receiver::recycle`]), for the next batch: a batch
    /// then costs no allocation. At most one batch's room.
    spare: Vec<T>,
}

impl<T> Drop for Receiver<T> {
    /// Senders waiting for room learn there will be none.
    fn drop(&mut self) {
        lock(&self.shared.state).closed = true;
        self.shared.room.notify_waiters();
    }
}

/// Items taken by the receiver that still weigh against the caps until this is dropped.
pub struct Held<T> {
    value: Option<T>,
    items: usize,
    bytes: usize,
    shared: Arc<dyn Release>,
}

trait Release: Send + Sync {
    fn release(&self, items: usize, bytes: usize);
}

impl<T: Send> Release for Shared<T> {
    fn release(&self, items: usize, bytes: usize) {
        let mut s = lock(&self.state);
        s.held_items -= items;
        s.held_bytes -= bytes;
        drop(s);
        self.room.notify_waiters();
    }
}

impl<T> Held<T> {
    /// The value, released from the caps now.
    pub fn into_inner(mut self) -> T {
        self.value
            .take()
            .unwrap_or_else(|| unreachable!("taken only here"))
    }
}

impl<T> std::ops::Deref for Held<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<T> std::ops::DerefMut for Held<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

/// `value`, weighing `items` and `bytes` against `shared`'s caps until it is dropped.
fn held<T: Send + 'static, V>(
    shared: &Arc<Shared<T>>,
    value: V,
    items: usize,
    bytes: usize,
) -> Held<V> {
    Held {
        value: Some(value),
        items,
        bytes,
        shared: shared.clone(),
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        self.shared.release(self.items, self.bytes);
    }
}

impl<T: Weigh + Send + 'static> Receiver<T> {
    fn taken(&self) {
        self.shared.room.notify_waiters();
    }

    /// The next item; `None` once it is empty and every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            let mut readable = pin!(self.shared.readable.notified());
            readable.as_mut().enable();
            match self.take() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            readable.await;
        }
    }

    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.take()
    }

    fn take(&self) -> Result<T, TryRecvError> {
        let mut s = lock(&self.shared.state);
        match s.buf.pop() {
            Some(item) => {
                drop(s);
                self.taken();
                Ok(item)
            }
            None if s.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for at least one item, then moves up to `max` into `out`. Returns how many;
    /// 0 once it is empty and every sender is gone.
    pub async fn recv_many(&mut self, out: &mut Vec<T>, max: usize) -> usize {
        loop {
            let mut readable = pin!(self.shared.readable.notified());
            readable.as_mut().enable();
            {
                let mut s = lock(&self.shared.state);
                let mut n = 0;
                while n < max.max(1) {
                    let Some(item) = s.buf.pop() else { break };
                    out.push(item);
                    n += 1;
                }
                if n > 0 {
                    drop(s);
                    self.taken();
                    return n;
                }
                if s.senders == 0 {
                    return 0;
                }
            }
            readable.await;
        }
    }

    /// The next item, still weighing against the caps until the guard is dropped.
    pub async fn recv_held(&mut self) -> Option<Held<T>> {
        loop {
            let mut readable = pin!(self.shared.readable.notified());
            readable.as_mut().enable();
            {
                let mut s = lock(&self.shared.state);
                if let Some((item, weight)) = s.buf.pop_weighed() {
                    s.held_items += 1;
                    s.held_bytes += weight;
                    return Some(held(&self.shared, item, 1, weight));
                }
                if s.senders == 0 {
                    return None;
                }
            }
            readable.await;
        }
    }

    /// The next item if one is queued, held as [`Receiver::recv_held`] holds it.
    pub fn take_held(&mut self) -> Option<Held<T>> {
        let mut s = lock(&self.shared.state);
        let (item, weight) = s.buf.pop_weighed()?;
        s.held_items += 1;
        s.held_bytes += weight;
        drop(s);
        Some(held(&self.shared, item, 1, weight))
    }

    /// Keeps an emptied batch's vector for the next batch, if it has more room than the
    /// one kept: taking a batch then allocates nothing (an allocation of a few kilobytes
    /// per batch also made glibc merge its small free blocks each time).
    pub fn recycle(&mut self, mut batch: Vec<T>) {
        batch.clear();
        if batch.capacity() > self.spare.capacity() {
            self.spare = batch;
        }
    }

    /// Up to `max` items (at least one) if any are queued, held until the guard is dropped;
    /// in the spare vector when there is one.
    fn take_batch(
        shared: &Arc<Shared<T>>,
        s: &mut State<T>,
        max: usize,
        spare: &mut Vec<T>,
    ) -> Option<Held<Vec<T>>> {
        if s.buf.is_empty() {
            return None;
        }
        let mut batch = std::mem::take(spare);
        batch.reserve(max.clamp(1, s.buf.len()));
        let mut bytes = 0;
        while batch.len() < max.max(1) {
            let Some((item, weight)) = s.buf.pop_weighed() else {
                break;
            };
            bytes += weight;
            batch.push(item);
        }
        s.held_items += batch.len();
        s.held_bytes += bytes;
        let items = batch.len();
        Some(held(shared, batch, items, bytes))
    }

    /// Up to `max` items if any are queued, held as [`Receiver::blocking_recv_batch`] holds
    /// them: many items taken under one lock, their room given back with one wake-up.
    /// `Disconnected` when it is empty and every sender is gone, as [`Receiver::try_recv`].
    pub fn try_recv_held_batch(&mut self, max: usize) -> Result<Held<Vec<T>>, TryRecvError> {
        let mut s = lock(&self.shared.state);
        match Self::take_batch(&self.shared, &mut s, max, &mut self.spare) {
            Some(batch) => Ok(batch),
            None if s.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// On a plain thread: waits for at least one item, then takes up to `max`, held until
    /// the guard is dropped. `None` once it is empty and every sender is gone, or when the
    /// queue was closed.
    pub fn blocking_recv_batch(&mut self, max: usize) -> Option<Held<Vec<T>>> {
        let mut s = lock(&self.shared.state);
        loop {
            if let Some(batch) = Self::take_batch(&self.shared, &mut s, max, &mut self.spare) {
                return Some(batch);
            }
            if s.senders == 0 || s.closed {
                return None;
            }
            s.thread_waiting = true;
            s = self
                .shared
                .thread
                .wait(s)
                .unwrap_or_else(PoisonError::into_inner);
            s.thread_waiting = false;
        }
    }

    /// [`Receiver::blocking_recv_batch`], waiting at most until `deadline`:
    /// `Err(TryRecvError::Empty)` when it passed with nothing queued, `Disconnected` at the
    /// end (every sender gone, or the queue closed, and nothing left).
    pub fn blocking_recv_batch_until(
        &mut self,
        max: usize,
        deadline: std::time::Instant,
    ) -> Result<Held<Vec<T>>, TryRecvError> {
        let mut s = lock(&self.shared.state);
        loop {
            if let Some(batch) = Self::take_batch(&self.shared, &mut s, max, &mut self.spare) {
                return Ok(batch);
            }
            if s.senders == 0 || s.closed {
                return Err(TryRecvError::Disconnected);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(TryRecvError::Empty);
            }
            s.thread_waiting = true;
            s = self
                .shared
                .thread
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            s.thread_waiting = false;
        }
    }

    /// Takes no more: senders get their items back from now on, and a blocked receiving
    /// thread wakes.
    pub fn close(&mut self) {
        lock(&self.shared.state).closed = true;
        self.shared.room.notify_waiters();
        self.shared.thread.notify_all();
    }

    pub fn len(&self) -> usize {
        lock(&self.shared.state).buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes queued and held.
    pub fn bytes(&self) -> usize {
        let s = lock(&self.shared.state);
        s.buf.bytes() + s.held_bytes
    }

    pub fn drops(&self) -> Drops {
        lock(&self.shared.state).buf.drops()
    }

    /// Every sender is gone.
    pub fn is_disconnected(&self) -> bool {
        lock(&self.shared.state).senders == 0
    }

    /// A sender for this queue, when the receiver's owner needs to make one (a relay).
    pub fn sender(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const S: usize = size_of::<String>();

    fn text(n: usize) -> String {
        "x".repeat(n)
    }

    #[tokio::test]
    async fn a_staged_batch_goes_over_as_far_as_it_fits_in_order() {
        let (tx, mut rx) = queue(Limits::new(3, 1 << 20), Overflow::Block);
        let mut staged = Bounded::new(Limits::new(10, 1 << 20), Overflow::Block);
        for n in 1..=5 {
            staged.push(text(n)).unwrap();
        }
        match tx.try_send_from(&mut staged) {
            Err(TrySendError::Full(t, Cause::Items)) => assert_eq!(t.len(), 4),
            _ => panic!("the fourth does not fit"),
        }
        assert_eq!(staged.iter().map(String::len).collect::<Vec<_>>(), [5]);
        assert_eq!((tx.drops().total(), rx.len()), (0, 3));
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 10).await, 3);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), [1, 2, 3]);
        tx.try_send_from(&mut staged).unwrap();
        assert!(staged.is_empty() && tx.try_send_from(&mut staged).is_ok());
        // A dropping queue counts what it drops, one by one, as `try_send` does.
        let (tx, _rx) = queue(Limits::new(1, 1 << 20), Overflow::DropNewest);
        staged.push(text(1)).unwrap();
        staged.push(text(2)).unwrap();
        assert!(tx.try_send_from(&mut staged).is_err());
        assert_eq!(tx.drops().items, 1);
        drop(_rx);
        staged.push(text(3)).unwrap();
        assert!(matches!(
            tx.try_send_from(&mut staged),
            Err(TrySendError::Closed(_))
        ));
    }

    #[tokio::test]
    async fn a_staged_batch_moves_at_once_only_when_all_of_it_fits_beside_what_is_held() {
        let (tx, mut rx) = queue(Limits::new(3, 1 << 20), Overflow::Block);
        let mut staged = Bounded::new(Limits::new(10, 1 << 20), Overflow::Block);
        tx.try_send(text(9)).unwrap();
        let held = rx.try_recv_held_batch(1).unwrap();
        for n in 1..=3 {
            staged.push(text(n)).unwrap();
        }
        // One held and three staged make four: not all fit, so they go one by one.
        match tx.try_send_from(&mut staged) {
            Err(TrySendError::Full(t, Cause::Items)) => assert_eq!(t.len(), 3),
            _ => panic!("the third does not fit beside the held one"),
        }
        assert_eq!(tx.len(), 2);
        drop(held);
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 10).await, 2);
        // Room for all three: moved as one, in order, weighed in full.
        for n in [3, 4, 5] {
            staged.push(text(n)).unwrap();
        }
        let weight = staged.bytes();
        tx.try_send_from(&mut staged).unwrap();
        assert_eq!((staged.len(), staged.bytes()), (0, 0));
        assert_eq!((tx.len(), tx.bytes()), (3, weight));
        got.clear();
        assert_eq!(rx.recv_many(&mut got, 10).await, 3);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), [3, 4, 5]);
    }

    #[tokio::test]
    async fn a_blocked_sender_waits_for_room_and_the_end_is_seen() {
        let (tx, mut rx) = queue(Limits::new(2, 1 << 20), Overflow::Block);
        tx.try_send(text(1)).unwrap();
        tx.try_send(text(2)).unwrap();
        assert!(matches!(
            tx.try_send(text(3)),
            Err(TrySendError::Full(_, Cause::Items))
        ));
        assert_eq!(tx.drops().total(), 0, "a blocking queue drops nothing");
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(text(3)).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(rx.recv().await.unwrap().len(), 1);
        assert!(waiting.await.unwrap());
        drop(tx);
        assert_eq!(rx.recv().await.unwrap().len(), 2);
        assert_eq!(rx.recv().await.unwrap().len(), 3);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_sender_learns_the_receiver_is_gone() {
        let (tx, rx) = queue(Limits::new(1, 1 << 20), Overflow::Block);
        tx.try_send(text(1)).unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(text(1)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(rx);
        assert!(matches!(
            waiting.await.unwrap(),
            Err(TrySendError::Closed(_))
        ));
        assert!(!tx.half_empty().await);
    }

    #[tokio::test]
    async fn dropping_policies_never_wait_and_count() {
        let (tx, mut rx) = queue(Limits::new(2, 1 << 20), Overflow::DropNewest);
        for n in 0..5 {
            let _ = tx.send(text(n)).await;
        }
        assert_eq!(tx.drops().items, 3);
        assert_eq!(rx.recv().await.unwrap(), "");
        let (tx, mut rx) = queue(Limits::new(2, 1 << 20), Overflow::DropOldest);
        for n in 0..5 {
            tx.send(text(n)).await.unwrap();
        }
        assert_eq!((tx.drops().items, rx.recv().await.unwrap().len()), (3, 3));
    }

    #[tokio::test]
    async fn held_items_weigh_until_released() {
        let (tx, mut rx) = queue(Limits::new(10, 2 * (S + 100)), Overflow::DropNewest);
        tx.try_send(text(100)).unwrap();
        tx.try_send(text(100)).unwrap();
        let held = rx.recv_held().await.unwrap();
        assert!(tx.try_send(text(100)).is_err(), "the held one still counts");
        assert_eq!(tx.bytes(), 2 * (S + 100));
        drop(held);
        tx.try_send(text(100)).unwrap();
        let mut out = Vec::new();
        assert_eq!(rx.recv_many(&mut out, 10).await, 2);
    }

    #[test]
    fn a_batch_given_back_holds_the_next_batch() {
        let (tx, mut rx) = queue(Limits::new(10, 1 << 20), Overflow::DropNewest);
        for n in 0..3 {
            tx.try_send(text(n)).unwrap();
        }
        let batch = rx.try_recv_held_batch(2).unwrap();
        assert_eq!(batch.len(), 2);
        let (first, room) = (batch.as_ptr(), batch.capacity());
        rx.recycle(batch.into_inner());
        // Were the vector freed, this would be given its block.
        let other: Vec<String> = Vec::with_capacity(room);
        assert_ne!(other.as_ptr(), first);
        let next = rx.try_recv_held_batch(2).unwrap();
        assert_eq!(
            (next.len(), next.as_ptr()),
            (1, first),
            "the same vector, refilled"
        );
        assert_eq!(tx.len(), 0);
        drop(next);
        assert!(tx.try_send(text(1)).is_ok());
    }

    #[tokio::test]
    async fn room_for_waits_for_items_and_a_sender_may_close() {
        let (tx, mut rx) = queue_with(Limits::new(3, 10), Overflow::DropNewest, Oversize::Alone);
        tx.try_send(text(100)).unwrap();
        assert!(tx.try_send(text(1)).is_err(), "the heavy one travels alone");
        assert!(tx.has_room_for(2) && !tx.has_room_for(3));
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.room_for_items(3).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(rx.recv().await.unwrap().len(), 100);
        assert!(waiting.await.unwrap());
        tx.try_send(text(1)).unwrap();
        tx.close();
        assert!(matches!(tx.try_send(text(1)), Err(TrySendError::Closed(_))));
        assert_eq!(
            rx.recv().await.unwrap().len(),
            1,
            "what was queued still comes"
        );
        assert!(!tx.room_for_items(1).await);
    }

    #[test]
    fn a_thread_may_wait_with_a_deadline() {
        let (tx, mut rx) = queue(Limits::new(10, 1 << 20), Overflow::DropNewest);
        let soon = std::time::Instant::now() + Duration::from_millis(20);
        assert!(matches!(
            rx.blocking_recv_batch_until(4, soon),
            Err(TryRecvError::Empty)
        ));
        tx.try_send(text(1)).unwrap();
        let later = std::time::Instant::now() + Duration::from_secs(10);
        assert_eq!(rx.blocking_recv_batch_until(4, later).unwrap().len(), 1);
        tx.close();
        assert!(matches!(
            rx.blocking_recv_batch_until(4, later),
            Err(TryRecvError::Disconnected)
        ));
    }

    #[test]
    fn a_sender_closes_the_queue_and_the_thread_takes_the_rest() {
        let (tx, mut rx) = queue(Limits::new(10, 1 << 20), Overflow::DropNewest);
        let other = tx.clone();
        tx.try_send(text(1)).unwrap();
        tx.try_send(text(2)).unwrap();
        tx.close();
        assert!(matches!(
            other.try_send(text(3)),
            Err(TrySendError::Closed(_))
        ));
        let writer = std::thread::spawn(move || {
            let mut seen = 0;
            while let Some(batch) = rx.blocking_recv_batch(16) {
                seen += batch.len();
            }
            seen
        });
        assert_eq!(writer.join().unwrap(), 2, "what was queued, then the end");
    }

    #[test]
    fn a_thread_takes_batches_until_the_senders_go() {
        let (tx, mut rx) = queue(Limits::new(100, 1 << 20), Overflow::DropNewest);
        let writer = std::thread::spawn(move || {
            let mut seen = 0;
            while let Some(batch) = rx.blocking_recv_batch(16) {
                seen += batch.len();
            }
            seen
        });
        for n in 0..50 {
            tx.try_send(text(n))
                .unwrap_or_else(|_| std::thread::yield_now());
            if n % 10 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let dropped = tx.drops().total() as usize;
        drop(tx);
        assert_eq!(writer.join().unwrap() + dropped, 50);
    }
}
