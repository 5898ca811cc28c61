//! One target's queue of webhook events: bounded in events and in bytes (each event counts
//! its [`WebhookEvent::weight`]). The hub offers without waiting, under its own lock, so an
//! offer only takes this queue's short lock; a full queue refuses and the event is dropped.
//! The target's sender takes the events out in batches.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use protocol::webhook::WebhookEvent;

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

#[derive(Default)]
struct State {
    events: VecDeque<WebhookEvent>,
    bytes: usize,
    closed: bool,
}

pub(super) struct Queue {
    state: Mutex<State>,
    notify: Notify,
    limits: QueueLimits,
}

/// The queue was full (or closed): the event was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Full;

impl Queue {
    pub(super) fn new(limits: QueueLimits) -> Queue {
        Queue {
            state: Mutex::default(),
            notify: Notify::new(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `event` unless that would pass a limit. Never waits.
    pub(super) fn offer(&self, event: WebhookEvent) -> Result<(), Full> {
        let limits = self.limits;
        let weight = event.weight();
        let mut s = self.lock();
        if s.closed || s.events.len() >= limits.events || s.bytes + weight > limits.bytes {
            return Err(Full);
        }
        s.bytes += weight;
        s.events.push_back(event);
        drop(s);
        self.notify.notify_one();
        Ok(())
    }

    /// No more offers; the sender drains what is queued without waiting for a batch window.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    /// Events waiting.
    pub(super) fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// The next batch: waits for a first event, then up to `window` for more, and returns as
    /// soon as `max` are there. `None` once the queue is closed and empty.
    pub(super) async fn next_batch(
        &self,
        window: Duration,
        max: usize,
    ) -> Option<Vec<WebhookEvent>> {
        let max = max.max(1);
        loop {
            {
                let s = self.lock();
                if !s.events.is_empty() {
                    break;
                }
                if s.closed {
                    return None;
                }
            }
            self.notify.notified().await;
        }
        let until = Instant::now() + window;
        loop {
            {
                let s = self.lock();
                if s.closed || s.events.len() >= max {
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
        let n = s.events.len().min(max);
        let batch: Vec<WebhookEvent> = s.events.drain(..n).collect();
        s.bytes -= batch.iter().map(WebhookEvent::weight).sum::<usize>();
        if !s.events.is_empty() {
            // What is left is the next batch's start: keep the wake-up for it.
            self.notify.notify_one();
        }
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::webhook::Kind;

    fn ev(channel: &str) -> WebhookEvent {
        WebhookEvent::channel(Kind::ChannelOccupied, channel)
    }

    #[test]
    fn the_queue_is_bounded_in_events_and_bytes() {
        let q = Queue::new(QueueLimits {
            events: 2,
            bytes: 1 << 20,
        });
        assert_eq!(q.offer(ev("a")), Ok(()));
        assert_eq!(q.offer(ev("b")), Ok(()));
        assert_eq!(q.offer(ev("c")), Err(Full));
        let small = Queue::new(QueueLimits {
            events: 100,
            bytes: ev("a").weight() + 1,
        });
        assert_eq!(small.offer(ev("a")), Ok(()));
        assert_eq!(small.offer(ev("b")), Err(Full));
        small.close();
        assert_eq!(small.offer(ev("b")), Err(Full));
    }

    #[tokio::test]
    async fn batches_stop_at_their_size_and_a_closed_queue_drains() {
        let q = Queue::new(QueueLimits {
            events: 100,
            bytes: 1 << 20,
        });
        for c in ["a", "b", "c"] {
            q.offer(ev(c)).unwrap();
        }
        // Three are there and the batch size is two: no waiting for the window.
        let batch = q.next_batch(Duration::from_secs(3600), 2).await.unwrap();
        assert_eq!(batch, [ev("a"), ev("b")]);
        q.close();
        let batch = q.next_batch(Duration::from_secs(3600), 2).await.unwrap();
        assert_eq!(batch, [ev("c")]);
        assert_eq!(q.next_batch(Duration::from_secs(3600), 2).await, None);
        assert_eq!(q.lock().bytes, 0);
    }
}
