//! A connection's send queue, bounded in frames and in bytes. Frames are shared bytes (one
//! encoding per event, queued for every subscriber), so a frame costs its connection one slot
//! and its length; a queue over either cap refuses the frame, and the connection is closed
//! with 4100 as too slow. The writer gives the bytes back as it sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};

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

pub fn send_queue(limits: QueueLimits) -> (QueueTx, QueueRx) {
    let (tx, rx) = mpsc::channel(limits.frames.max(1));
    let bytes = Arc::new(AtomicUsize::new(0));
    (
        QueueTx {
            tx,
            bytes: bytes.clone(),
            max_bytes: limits.bytes.max(1),
        },
        QueueRx { rx, bytes },
    )
}

#[derive(Clone)]
pub struct QueueTx {
    tx: mpsc::Sender<Utf8Bytes>,
    bytes: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl QueueTx {
    /// Queues a frame, or refuses it without waiting.
    pub fn offer(&self, frame: Utf8Bytes) -> Result<(), Refused> {
        let len = frame.len();
        let before = self.bytes.fetch_add(len, Ordering::Relaxed);
        if before + len > self.max_bytes && before > 0 {
            self.bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(Refused::Full);
        }
        self.tx.try_send(frame).map_err(|e| {
            self.bytes.fetch_sub(len, Ordering::Relaxed);
            match e {
                TrySendError::Full(_) => Refused::Full,
                TrySendError::Closed(_) => Refused::Closed,
            }
        })
    }

    /// Whether `frames` more frames fit now.
    pub fn has_room(&self, frames: usize) -> bool {
        self.tx.capacity() >= frames
    }

    /// Waits until `frames` more frames fit.
    pub async fn room(&self, frames: usize) {
        let _ = self.tx.reserve_many(frames).await;
    }

    /// Bytes queued and not yet sent.
    pub fn queued_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

pub struct QueueRx {
    rx: mpsc::Receiver<Utf8Bytes>,
    bytes: Arc<AtomicUsize>,
}

impl QueueRx {
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        let frame = self.rx.recv().await?;
        self.bytes.fetch_sub(frame.len(), Ordering::Relaxed);
        Some(frame)
    }

    /// The next queued frame, without waiting.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        let frame = self.rx.try_recv().ok()?;
        self.bytes.fetch_sub(frame.len(), Ordering::Relaxed);
        Some(frame)
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
