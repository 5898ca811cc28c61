//! The receiver's output: texts handed over a queue bounded in count and in bytes to a
//! thread that writes them, so that answering a webhook never waits on stdout. What does
//! not fit is counted, not waited for.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use tokio::sync::oneshot;

/// Texts waiting, at most, whatever their size.
const QUEUE_ITEMS: usize = 4096;
/// What an item costs beyond its text.
const ITEM_BYTES: usize = 64;

/// What the thread writes.
pub enum Out {
    /// Webhook events, one text each, for stdout; each counts toward `--count`.
    Events(Vec<String>),
    /// A line for stderr (a refused request).
    Notice(String),
}

impl Out {
    fn bytes(&self) -> usize {
        match self {
            Out::Events(texts) => texts.iter().map(|t| t.len() + ITEM_BYTES).sum(),
            Out::Notice(text) => text.len() + ITEM_BYTES,
        }
    }

    fn events(&self) -> u64 {
        match self {
            Out::Events(texts) => texts.len() as u64,
            Out::Notice(_) => 0,
        }
    }
}

/// Why the thread stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// `--count` events were written.
    Count,
    /// The reader of stdout went away.
    Closed,
    /// Asked to, with everything queued written.
    Drained,
    /// Writing failed.
    Failed(String),
}

/// The senders' side, shared by every request.
#[derive(Clone)]
pub struct Queue {
    tx: SyncSender<Out>,
    shared: Arc<Shared>,
}

struct Shared {
    bytes: AtomicUsize,
    max_bytes: usize,
    dropped: AtomicU64,
    closing: AtomicBool,
}

/// The thread, for the end.
pub struct Writer {
    shared: Arc<Shared>,
    ended: Option<oneshot::Receiver<Ended>>,
}

/// Starts the thread on a duplicate of stdout. It stops after `count` events, if given.
pub fn spawn(max_bytes: usize, count: Option<u64>) -> io::Result<(Queue, Writer)> {
    let stdout = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let (tx, rx) = mpsc::sync_channel(QUEUE_ITEMS);
    let shared = Arc::new(Shared {
        bytes: AtomicUsize::new(0),
        max_bytes,
        dropped: AtomicU64::new(0),
        closing: AtomicBool::new(false),
    });
    let (done, ended) = oneshot::channel();
    let thread_shared = shared.clone();
    std::thread::Builder::new()
        .name("webhooks-out".into())
        .spawn(move || {
            let _ = done.send(write_all(stdout, &rx, &thread_shared, count));
        })?;
    Ok((
        Queue {
            tx,
            shared: shared.clone(),
        },
        Writer {
            shared,
            ended: Some(ended),
        },
    ))
}

fn write_all(
    stdout: std::fs::File,
    rx: &mpsc::Receiver<Out>,
    shared: &Shared,
    count: Option<u64>,
) -> Ended {
    let mut out = io::BufWriter::new(stdout);
    let mut written = 0u64;
    loop {
        let item = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) if shared.closing.load(Ordering::Acquire) => {
                return ended(out.flush());
            }
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return ended(out.flush()),
        };
        shared.bytes.fetch_sub(item.bytes(), Ordering::AcqRel);
        match item {
            Out::Notice(text) => {
                let _ = io::stderr().write_all(text.as_bytes());
            }
            Out::Events(texts) => {
                for text in texts {
                    if let Err(e) = out.write_all(text.as_bytes()) {
                        return ended(Err(e));
                    }
                    written += 1;
                    if count.is_some_and(|n| written >= n) {
                        return match out.flush() {
                            Ok(()) => Ended::Count,
                            Err(e) => ended(Err(e)),
                        };
                    }
                }
            }
        }
        // Flushed whenever nothing else waits: lines show at once, bursts in one write.
        if rx_is_empty(shared)
            && let Err(e) = out.flush()
        {
            return ended(Err(e));
        }
    }
}

fn rx_is_empty(shared: &Shared) -> bool {
    shared.bytes.load(Ordering::Acquire) == 0
}

fn ended(result: io::Result<()>) -> Ended {
    match result {
        Ok(()) => Ended::Drained,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ended::Closed,
        Err(e) => Ended::Failed(e.to_string()),
    }
}

impl Queue {
    /// Hands `out` over without waiting; false (and its events counted) when it does not fit.
    pub fn send(&self, out: Out) -> bool {
        let (bytes, events) = (out.bytes(), out.events());
        let s = &self.shared;
        let fits = !s.closing.load(Ordering::Acquire)
            && s.bytes
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                    (used + bytes <= s.max_bytes).then_some(used + bytes)
                })
                .is_ok();
        let sent = fits
            && match self.tx.try_send(out) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    s.bytes.fetch_sub(bytes, Ordering::AcqRel);
                    false
                }
            };
        if !sent {
            s.dropped.fetch_add(events.max(1), Ordering::AcqRel);
        }
        sent
    }
}

impl Writer {
    /// Events (and notices) not shown because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Acquire)
    }

    /// Resolves when the thread stops by itself (`--count`, stdout closed); once.
    pub async fn stopped(&mut self) -> Ended {
        match self.ended.as_mut() {
            Some(rx) => {
                let ended = rx
                    .await
                    .unwrap_or_else(|_| Ended::Failed("the output thread is gone".into()));
                self.ended = None;
                ended
            }
            None => std::future::pending().await,
        }
    }

    /// Stops taking more and lets the thread write what is queued, for at most `within`.
    pub async fn finish(mut self, within: Duration) -> Option<Ended> {
        self.shared.closing.store(true, Ordering::Release);
        let rx = self.ended.take()?;
        tokio::time::timeout(within, rx).await.ok()?.ok()
    }
}
