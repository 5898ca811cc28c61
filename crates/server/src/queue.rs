//! A connection's send queue: a [`bounded::queue`] of frames, capped in frames and in bytes.
//! Frames are shared bytes (one encoding per event, queued for every subscriber), so a frame
//! costs its connection one slot and its length; a queue over either cap refuses the frame
//! (never waiting), and the connection is closed with 4100 as too slow. One frame larger
//! than the byte cap still goes into an empty queue, alone ([`bounded::Oversize::Alone`]).
//! The writer takes what has queued up in one batch and gives the bytes back as it does.

use axum::extract::ws::Utf8Bytes;
use bounded::{Limits, Overflow, Oversize, TryRecvError, TrySendError, Weigh};

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Over the frame or byte cap: the client is too slow.
    Full,
    /// The connection is gone.
    Closed,
}

/// The queue's two caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub frames: usize,
    pub bytes: usize,
}

/// A queued frame: it weighs its length, as the bytes are shared with the other queues.
struct Frame(Utf8Bytes);

impl Weigh for Frame {
    fn weight(&self) -> usize {
        self.0.len()
    }
}

pub fn send_queue(limits: QueueLimits) -> (QueueTx, QueueRx) {
    let (tx, rx) = bounded::queue_with(
        Limits::new(limits.frames, limits.bytes),
        Overflow::DropNewest,
        Oversize::Alone,
    );
    (
        QueueTx { tx },
        QueueRx {
            rx,
            spare: Vec::new(),
        },
    )
}

#[derive(Clone)]
pub struct QueueTx {
    tx: bounded::Sender<Frame>,
}

impl QueueTx {
    /// Queues a frame, or refuses it without waiting.
    pub fn offer(&self, frame: Utf8Bytes) -> Result<(), Refused> {
        self.tx.try_send(Frame(frame)).map_err(|e| match e {
            TrySendError::Full(..) => Refused::Full,
            TrySendError::Closed(_) => Refused::Closed,
        })
    }

    /// Whether `frames` more frames fit now.
    pub fn has_room(&self, frames: usize) -> bool {
        self.tx.has_room_for(frames)
    }

    /// Bytes queued and not yet sent.
    #[cfg(test)]
    fn queued_bytes(&self) -> usize {
        self.tx.bytes()
    }

    /// Waits until `frames` more frames fit (or the connection is gone).
    pub async fn room(&self, frames: usize) {
        self.tx.room_for_items(frames).await;
    }
}

pub struct QueueRx {
    rx: bounded::Receiver<Frame>,
    /// Where a batch lands, kept between batches so that taking one allocates nothing.
    spare: Vec<Frame>,
}

impl QueueRx {
    #[cfg(any(test, feature = "testing"))]
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        self.rx.recv().await.map(|f| f.0)
    }

    /// Waits for a first frame, then moves up to `max` queued frames into `out`, under one
    /// lock. How many; 0 once the queue is empty and every sender is gone.
    pub async fn recv_batch(&mut self, out: &mut Vec<Utf8Bytes>, max: usize) -> usize {
        let n = self.rx.recv_many(&mut self.spare, max).await;
        out.extend(self.spare.drain(..).map(|f| f.0));
        n
    }

    /// The next queued frame, without waiting.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        match self.rx.try_recv() {
            Ok(f) => Some(f.0),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// The frames still queued, without waiting; no more are taken after this.
    pub fn drain(&mut self) -> impl Iterator<Item = Utf8Bytes> + '_ {
        self.rx.close();
        std::iter::from_fn(|| self.try_recv())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Utf8Bytes {
        "x".repeat(n).into()
    }

    #[test]
    fn both_caps_refuse_and_sending_frees_room() {
        let (tx, mut rx) = send_queue(QueueLimits {
            frames: 3,
            bytes: 100,
        });
        tx.offer(frame(60)).unwrap();
        assert_eq!(tx.offer(frame(60)), Err(Refused::Full), "over the byte cap");
        tx.offer(frame(20)).unwrap();
        tx.offer(frame(10)).unwrap();
        assert_eq!(tx.offer(frame(1)), Err(Refused::Full), "over the frame cap");
        assert_eq!(tx.queued_bytes(), 90);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(rx.recv().await.map(|f| f.len()), Some(60));
        });
        assert_eq!(tx.queued_bytes(), 30);
        tx.offer(frame(60)).unwrap();
        assert_eq!(rx.drain().count(), 3);
        assert_eq!(tx.queued_bytes(), 0);
        assert_eq!(tx.offer(frame(1)), Err(Refused::Closed));
    }

    #[test]
    fn one_frame_larger_than_the_byte_cap_still_goes_into_an_empty_queue() {
        let (tx, _rx) = send_queue(QueueLimits {
            frames: 4,
            bytes: 10,
        });
        tx.offer(frame(50)).unwrap();
        assert_eq!(tx.offer(frame(1)), Err(Refused::Full));
    }
}
