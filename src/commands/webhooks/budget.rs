//! The output's half of `--max-queue`, shared by the queue and the output made for requests
//! whose answer has not gone out yet.

use std::sync::{Arc, Mutex, PoisonError};

/// The output's half of `--max-queue` (the bodies being read have the other, in the
/// listener): the queue (lines for stdout, or the dashboard's items) and the output made for
/// requests whose answer has not gone out yet, together. A request's output counts from the
/// moment it is made, so a sender that never reads its answers cannot pile output up
/// outside the queue; output that does not fit is counted as not shown, like a full queue's.
pub(super) struct Budget {
    cap: usize,
    /// Bytes of output made and not yet queued.
    pending: Mutex<usize>,
}

/// Output counted against the [`Budget`] until it is queued (or dropped).
pub(super) struct Room {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Room {
    fn drop(&mut self) {
        *self.budget.lock() -= self.bytes;
    }
}

impl Budget {
    pub(super) fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            cap,
            pending: Mutex::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room for `bytes` of output, when what the queue holds (`queued`, read under the
    /// lock), what waits to join it and `bytes` fit the cap together.
    pub(super) fn reserve(
        self: &Arc<Budget>,
        queued: impl Fn() -> usize,
        bytes: usize,
    ) -> Option<Room> {
        let mut pending = self.lock();
        if queued().saturating_add(*pending).saturating_add(bytes) > self.cap {
            return None;
        }
        *pending += bytes;
        Some(Room {
            budget: self.clone(),
            bytes,
        })
    }

    /// Queues `room`'s output with `send`, then gives its room back. The queue grows under
    /// the lock, and the room is given back after it: a reservation never sees the output
    /// in neither place (it may see it in both, which errs on the safe side).
    pub(super) fn hand_over(&self, room: Room, send: impl FnOnce()) {
        {
            let _queueing = self.lock();
            send();
        }
        drop(room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Output waiting for its answer and the queue share one cap: what waits is counted
    /// until it is queued, and given back after.
    #[test]
    fn output_waiting_for_its_answer_and_the_queue_share_the_budget() {
        let budget = Budget::new(1000);
        let queued = Arc::new(AtomicUsize::new(0));
        let q = || queued.load(Ordering::Relaxed);
        let a = budget.reserve(q, 600).expect("room for the first");
        assert!(
            budget.reserve(q, 500).is_none(),
            "600 waiting and 500 more are over 1000"
        );
        let b = budget.reserve(q, 400).expect("room for 400 more");
        budget.hand_over(a, || {
            queued.fetch_add(600, Ordering::Relaxed);
        });
        assert_eq!(
            *budget.lock(),
            400,
            "the queued output is no longer waiting"
        );
        assert!(
            budget.reserve(q, 1).is_none(),
            "600 queued and 400 waiting: full"
        );
        drop(b);
        assert_eq!(*budget.lock(), 0, "a dropped request gives its room back");
        queued.store(0, Ordering::Relaxed);
        assert!(budget.reserve(q, 1000).is_some(), "the queue drained");
    }
}
