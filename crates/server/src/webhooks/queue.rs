//! One target's queue of webhook events: a [`bounded::Bounded`] FIFO capped in events and
//! in bytes (each event counts its [`WebhookEvent::weight`]), shared fairly between the
//! kinds of event the target wants. The hub offers without waiting, under its own lock, so an
//! offer only takes this queue's short lock; an event that does not fit is refused and
//! dropped (the caller counts it). The target's sender takes the events out in batches, in
//! the order they came.
//!
//! - **Fair per kind.** Each kind the target wants is sure of its share of the caps (the
//!   caps divided by the number of kinds): a kind past its share takes only room that no
//!   other kind's unused share needs. So a flood of `channel_occupied`/`channel_vacated`
//!   from anonymous churn can never crowd out `member_added`.
//! - **Pairs that cancel out.** `channel_vacated` and `member_removed` wait [`delay`]
//!   (Pusher's 3 s) before they may be sent; a `channel_occupied` of the same channel (a
//!   `member_added` of the same member) within that time cancels both, as with Pusher, so
//!   a channel that flaps sends nothing. What waits counts against the caps too.
//!
//! [`delay`]: super::WebhookLimits::delay

use std::sync::Mutex;
use std::time::Duration;

use bounded::{Limits, Overflow, Weigh};
use tokio::sync::Notify;
use tokio::time::Instant;

use protocol::webhook::{Kind, WebhookEvent};

/// How much one target's queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub events: usize,
    pub bytes: usize,
}

impl QueueLimits {
    pub const DEFAULT_EVENTS: usize = 10_000;
    pub const DEFAULT_BYTES: usize = 4 * 1024 * 1024;
}

/// An event as the queue weighs it.
struct Queued(WebhookEvent);

impl Weigh for Queued {
    fn weight(&self) -> usize {
        self.0.weight()
    }
}

const KINDS: usize = Kind::ALL.len();

fn index(kind: Kind) -> usize {
    Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// The kind whose waiting event an event of `kind` cancels.
pub(super) fn cancels(kind: Kind) -> Option<Kind> {
    match kind {
        Kind::ChannelOccupied => Some(Kind::ChannelVacated),
        Kind::MemberAdded => Some(Kind::MemberRemoved),
        _ => None,
    }
}

fn waits(kind: Kind) -> bool {
    matches!(kind, Kind::ChannelVacated | Kind::MemberRemoved)
}

struct State {
    /// Ready to be sent, in the order they came.
    ready: bounded::Bounded<Queued>,
    /// `channel_vacated` and `member_removed` waiting for their time, in that order.
    delayed: Vec<(Instant, Queued)>,
    /// Per kind: events and bytes held (ready and waiting).
    held: [(usize, usize); KINDS],
    /// The kinds the target wants: those that have a share.
    wanted: [bool; KINDS],
    closed: bool,
    /// Events never sent because a pair cancelled out, since the last report.
    coalesced: u64,
}

impl State {
    fn total(&self) -> (usize, usize) {
        self.held
            .iter()
            .fold((0, 0), |(n, b), (kn, kb)| (n + kn, b + kb))
    }

    /// Whether an event of `kind` weighing `weight` may be held, fairly.
    fn admits(&self, limits: QueueLimits, kind: usize, weight: usize) -> bool {
        let shares = self.wanted.iter().filter(|w| **w).count().max(1);
        let (share_n, share_b) = (
            (limits.events / shares).max(1),
            (limits.bytes / shares).max(1),
        );
        let (n, b) = self.total();
        if n + 1 > limits.events || b + weight > limits.bytes {
            return false;
        }
        let (kn, kb) = self.held[kind];
        // A kind holding nothing may always take one event the totals allow.
        if kn == 0 || (kn < share_n && kb + weight <= share_b) {
            return true;
        }
        // Past its share: only room no other kind's unused share needs.
        let (mut keep_n, mut keep_b) = (0, 0);
        for (j, (jn, jb)) in self.held.iter().enumerate() {
            if j != kind && self.wanted[j] {
                keep_n += share_n.saturating_sub(*jn);
                keep_b += share_b.saturating_sub(*jb);
            }
        }
        n + 1 + keep_n <= limits.events && b + weight + keep_b <= limits.bytes
    }

    fn hold(&mut self, kind: usize, weight: usize) {
        self.held[kind].0 += 1;
        self.held[kind].1 += weight;
    }

    fn release(&mut self, kind: usize, weight: usize) {
        self.held[kind].0 = self.held[kind].0.saturating_sub(1);
        self.held[kind].1 = self.held[kind].1.saturating_sub(weight);
    }

    /// Moves the waiting events whose time has come (all of them, once closed) to `ready`.
    fn promote(&mut self, now: Instant) {
        let closed = self.closed;
        let due = self
            .delayed
            .iter()
            .take_while(|(at, _)| closed || *at <= now)
            .count();
        let moving: Vec<(Instant, Queued)> = self.delayed.drain(..due).collect();
        for (_, event) in moving {
            // Room was taken when it was offered; the ready FIFO's caps are the totals.
            if let Err(rejected) = self.ready.push(event) {
                let kind = index(rejected.item.0.name);
                let weight = rejected.item.weight();
                self.release(kind, weight);
            }
        }
    }
}

pub(super) struct Queue {
    state: Mutex<State>,
    notify: Notify,
    limits: QueueLimits,
    delay: Duration,
}

/// The queue was full (or closed): the event was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Full;

impl Queue {
    /// A queue for a target that wants `kinds`, whose vacated and removed events wait
    /// `delay`.
    pub(super) fn new(limits: QueueLimits, kinds: &[Kind], delay: Duration) -> Queue {
        let mut wanted = [false; KINDS];
        for kind in kinds {
            wanted[index(*kind)] = true;
        }
        Queue {
            state: Mutex::new(State {
                ready: bounded::Bounded::new(
                    Limits::new(limits.events, limits.bytes),
                    Overflow::DropNewest,
                ),
                delayed: Vec::new(),
                held: [(0, 0); KINDS],
                wanted,
                closed: false,
                coalesced: 0,
            }),
            notify: Notify::new(),
            limits,
            delay,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cancels the waiting event that `event` undoes (a `channel_vacated` by the same
    /// channel's `channel_occupied`, a `member_removed` by the same member's
    /// `member_added`), without taking `event`: for a target that does not want its kind.
    /// Whether one was cancelled.
    pub(super) fn cancel(&self, event: &WebhookEvent) -> bool {
        let mut s = self.lock();
        let Some(undone) = cancels(event.name) else {
            return false;
        };
        let Some(i) = s.delayed.iter().position(|(_, q)| {
            q.0.name == undone && q.0.channel == event.channel && q.0.user_id == event.user_id
        }) else {
            return false;
        };
        let (_, waiting) = s.delayed.remove(i);
        let weight = waiting.weight();
        s.release(index(undone), weight);
        s.coalesced += 1;
        true
    }

    /// Takes `event` unless that would pass a limit (or its kind's fair share of it). An
    /// event that cancels a waiting one is taken and neither is sent. Never waits.
    pub(super) fn offer(&self, event: WebhookEvent) -> Result<(), Full> {
        let mut s = self.lock();
        if s.closed {
            return Err(Full);
        }
        if let Some(undone) = cancels(event.name)
            && let Some(i) = s.delayed.iter().position(|(_, q)| {
                q.0.name == undone && q.0.channel == event.channel && q.0.user_id == event.user_id
            })
        {
            let (_, waiting) = s.delayed.remove(i);
            let weight = waiting.weight();
            s.release(index(undone), weight);
            s.coalesced += 2;
            return Ok(());
        }
        let kind = index(event.name);
        let queued = Queued(event);
        let weight = queued.weight();
        if !s.admits(self.limits, kind, weight) {
            return Err(Full);
        }
        if waits(queued.0.name) && !self.delay.is_zero() {
            s.hold(kind, weight);
            s.delayed.push((Instant::now() + self.delay, queued));
        } else {
            if s.ready.push(queued).is_err() {
                return Err(Full);
            }
            s.hold(kind, weight);
        }
        drop(s);
        self.notify.notify_one();
        Ok(())
    }

    /// No more offers; the sender drains what is queued (waiting events included) without
    /// waiting for a batch window.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    /// Events held: ready and waiting.
    pub(super) fn len(&self) -> usize {
        let s = self.lock();
        s.ready.len() + s.delayed.len()
    }

    /// Events never sent because a pair cancelled out, since the last call.
    pub(super) fn take_coalesced(&self) -> u64 {
        std::mem::take(&mut self.lock().coalesced)
    }

    /// The next batch: waits for a first event that is ready, then up to `window` for
    /// more, and returns as soon as `max` are there. `None` once the queue is closed and
    /// empty.
    pub(super) async fn next_batch(
        &self,
        window: Duration,
        max: usize,
    ) -> Option<Vec<WebhookEvent>> {
        let max = max.max(1);
        loop {
            let next_due = {
                let mut s = self.lock();
                s.promote(Instant::now());
                if !s.ready.is_empty() {
                    break;
                }
                if s.closed && s.delayed.is_empty() {
                    return None;
                }
                s.delayed.first().map(|(at, _)| *at)
            };
            match next_due {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, self.notify.notified()).await;
                }
                None => self.notify.notified().await,
            }
        }
        let until = Instant::now() + window;
        loop {
            {
                let mut s = self.lock();
                s.promote(Instant::now());
                if s.closed || s.ready.len() >= max {
                    break;
                }
            }
            if tokio::time::timeout_at(until, self.notify.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        let mut s = self.lock();
        s.promote(Instant::now());
        let mut batch = Vec::new();
        while batch.len() < max {
            let Some(Queued(event)) = s.ready.pop() else {
                break;
            };
            let weight = event.weight();
            s.release(index(event.name), weight);
            batch.push(event);
        }
        if !s.ready.is_empty() || !s.delayed.is_empty() {
            // What is left is the next batch's start: keep the wake-up for it.
            self.notify.notify_one();
        }
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(channel: &str) -> WebhookEvent {
        WebhookEvent::channel(Kind::ChannelOccupied, channel)
    }

    fn all() -> Vec<Kind> {
        Kind::ALL.to_vec()
    }

    #[test]
    fn the_queue_is_bounded_in_events_and_bytes() {
        let q = Queue::new(
            QueueLimits {
                events: 2,
                bytes: 1 << 20,
            },
            &[Kind::ChannelOccupied],
            Duration::ZERO,
        );
        assert_eq!(q.offer(ev("a")), Ok(()));
        assert_eq!(q.offer(ev("b")), Ok(()));
        assert_eq!(q.offer(ev("c")), Err(Full));
        let small = Queue::new(
            QueueLimits {
                events: 100,
                bytes: ev("a").weight() + 1,
            },
            &all(),
            Duration::ZERO,
        );
        assert_eq!(small.offer(ev("a")), Ok(()));
        assert_eq!(small.offer(ev("b")), Err(Full));
        small.close();
        assert_eq!(small.offer(ev("b")), Err(Full));
    }

    #[test]
    fn one_kind_cannot_crowd_out_another() {
        let q = Queue::new(
            QueueLimits {
                events: 12,
                bytes: 1 << 20,
            },
            &all(),
            Duration::ZERO,
        );
        let taken = (0..100)
            .filter(|i| q.offer(ev(&format!("c{i}"))).is_ok())
            .count();
        assert_eq!(taken, 12 - 5 * 2, "every other kind keeps its share of 2");
        let added = (0..5)
            .filter(|i| {
                q.offer(WebhookEvent::member(
                    Kind::MemberAdded,
                    "p",
                    format!("u{i}"),
                ))
                .is_ok()
            })
            .count();
        assert_eq!(added, 2);
    }

    #[tokio::test]
    async fn batches_stop_at_their_size_and_a_closed_queue_drains() {
        let q = Queue::new(
            QueueLimits {
                events: 100,
                bytes: 1 << 20,
            },
            &all(),
            Duration::from_secs(3),
        );
        for c in ["a", "b", "c"] {
            q.offer(ev(c)).unwrap();
        }
        // Three are there and the batch size is two: no waiting for the window.
        let batch = q.next_batch(Duration::from_secs(3600), 2).await.unwrap();
        assert_eq!(batch, [ev("a"), ev("b")]);
        q.offer(WebhookEvent::channel(Kind::ChannelVacated, "z"))
            .unwrap();
        q.close();
        let batch = q.next_batch(Duration::from_secs(3600), 5).await.unwrap();
        assert_eq!(
            batch,
            [ev("c"), WebhookEvent::channel(Kind::ChannelVacated, "z")],
            "a closed queue sends what waits at once"
        );
        assert_eq!(q.next_batch(Duration::from_secs(3600), 2).await, None);
        assert_eq!(q.lock().total(), (0, 0));
    }

    #[tokio::test]
    async fn a_vacated_channel_waits_and_is_cancelled_by_its_next_occupant() {
        let q = Queue::new(
            QueueLimits {
                events: 100,
                bytes: 1 << 20,
            },
            &all(),
            Duration::from_millis(200),
        );
        let vacated = |c: &str| WebhookEvent::channel(Kind::ChannelVacated, c);
        q.offer(vacated("flap")).unwrap();
        q.offer(ev("flap")).unwrap();
        assert_eq!((q.len(), q.take_coalesced()), (0, 2), "nothing to send");
        q.offer(vacated("gone")).unwrap();
        let started = Instant::now();
        let batch = q.next_batch(Duration::from_millis(50), 10).await.unwrap();
        assert_eq!(batch, [vacated("gone")]);
        assert!(started.elapsed() >= Duration::from_millis(200));
        let removed = WebhookEvent::member(Kind::MemberRemoved, "p", "ann");
        q.offer(removed).unwrap();
        q.offer(WebhookEvent::member(Kind::MemberAdded, "p", "ann"))
            .unwrap();
        assert_eq!(q.len(), 0);
    }
}
