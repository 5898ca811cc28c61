//! The one output thread. Every command that writes a stream to stdout (`watch`, `replay`,
//! `probe`, `webhooks`) formats its lines and hands them over a [`bounded::queue`] of
//! [`Chunk`]s to a thread of its own, which writes them. So a reader that stops reading
//! blocks only that thread: the front end still sees Ctrl-C and SIGTERM, its expectations
//! still judge, and it can leave without the thread.
//!
//! The queue's policy is the front end's choice, made once: [`Overflow::Block`] makes it wait
//! for room ([`Output::ready`], [`Output::wait`]), and so hold up what feeds it (`watch`,
//! whose engines then drop and count events); [`Overflow::DropNewest`] never waits and counts
//! the lines it could not write ([`Output::dropped`]; `probe`, `webhooks`).
//!
//! The thread writes to its own handles on file descriptors 1 and 2, never through
//! `std::io::stdout()`, so nothing at process exit waits on their locks or buffers.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bounded::{Cause, Limits, Overflow, TrySendError, Weigh};
use tokio::sync::oneshot;

/// Output is handed over in pieces of at most this many bytes (and of at most the queue's
/// cap; a longer line is split: its bytes still reach stdout in order).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Bytes waiting for the thread, and being written, by default: 512 KiB.
pub const QUEUE_BYTES: usize = 8 * CHUNK_BYTES;
/// Chunks waiting for the thread by default.
pub const QUEUE_CHUNKS: usize = 64;
/// Most chunks the thread takes at once.
const BATCH: usize = 16;

/// What the thread writes: bytes for stdout, or for stderr (a line that must keep its place
/// among the others, such as the webhook receiver's notices).
#[derive(Debug)]
pub enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
}

impl Chunk {
    /// A message for stderr: `tickertape: {text}` and a newline, the text terminal-safe
    /// whole (a newline in it escaped too, so it stays one line).
    pub fn message(text: &str) -> Chunk {
        let text = protocol::safe_text::terminal_safe(text);
        Chunk::Err(format!("tickertape: {text}\n").into_bytes())
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Out(b) | Chunk::Err(b) => b,
        }
    }

    /// The lines in it (a last line without its newline counts too).
    fn lines(&self) -> u64 {
        let b = self.bytes();
        let n = b.iter().filter(|c| **c == b'\n').count() as u64;
        n + u64::from(b.last().is_some_and(|c| *c != b'\n'))
    }
}

impl Weigh for Chunk {
    fn weight(&self) -> usize {
        size_of::<Chunk>() + self.bytes().len()
    }
}

/// A sender of whole chunks, cheap to clone, for tasks besides the front end (each webhook
/// request). It never waits: a chunk that does not fit is counted.
#[derive(Clone)]
pub struct Lines {
    tx: bounded::Sender<Chunk>,
    dropped: Arc<AtomicU64>,
}

impl Lines {
    /// Resolves once the thread has stopped (stdout closed, or the output finished).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Bytes waiting for the thread or being written (as the queue weighs them).
    pub fn bytes(&self) -> usize {
        self.tx.bytes()
    }

    /// Hands `chunk` over now; false (and its lines counted) when it does not fit.
    pub fn send(&self, chunk: Chunk) -> bool {
        match self.tx.try_send(chunk) {
            Ok(()) => true,
            Err(e) => {
                let lines = e.into_inner().lines();
                self.dropped.fetch_add(lines.max(1), Ordering::Relaxed);
                false
            }
        }
    }
}

/// The front end's handle on the thread: a buffer to format into, and the queue.
pub struct Output {
    buf: Vec<u8>,
    /// Bytes refused for lack of room (with [`Overflow::Block`]): handed over first.
    pending: Vec<u8>,
    /// The most bytes handed over in one chunk.
    piece: usize,
    lines: Option<Lines>,
    /// Tells how the thread ended: its first write error on stdout, if any.
    done: oneshot::Receiver<io::Result<()>>,
    /// That end, once known: `Some(None)` for a clean one.
    outcome: Option<Option<(io::ErrorKind, String)>>,
}

impl Output {
    /// Starts the thread on duplicates of stdout and stderr, with a queue of `limits`
    /// (bytes and chunks waiting, held ones included) and `overflow`'s policy.
    pub fn spawn(limits: Limits, overflow: Overflow) -> io::Result<Output> {
        let mut out = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned()?);
        // The thread's own handle on stderr: its lines are NDJSON in the safe format or
        // [`Chunk::message`]s.
        #[allow(clippy::disallowed_methods)]
        let mut err = std::fs::File::from(io::stderr().as_fd().try_clone_to_owned()?);
        let limits = Limits::new(limits.items, limits.bytes);
        // A piece of the buffer always fits in an empty queue.
        let piece = CHUNK_BYTES.min(limits.bytes.saturating_sub(size_of::<Chunk>()).max(1));
        let (tx, mut rx) = bounded::queue::<Chunk>(limits, overflow);
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("output".into())
            .spawn(move || {
                let mut result = Ok(());
                'write: while let Some(batch) = rx.blocking_recv_batch(BATCH) {
                    for chunk in batch.iter() {
                        match chunk {
                            Chunk::Out(b) => {
                                if let Err(e) = out.write_all(b) {
                                    result = Err(e);
                                    break 'write;
                                }
                            }
                            // stderr is best effort: stdout's reader decides the end.
                            Chunk::Err(b) => {
                                let _ = err.write_all(b);
                            }
                        }
                    }
                }
                // Senders left now learn the end (their chunks come back).
                rx.close();
                let _ = done_tx.send(result);
            })?;
        Ok(Output {
            buf: Vec::with_capacity(CHUNK_BYTES),
            pending: Vec::new(),
            piece,
            lines: Some(Lines {
                tx,
                dropped: Arc::new(AtomicU64::new(0)),
            }),
            done,
            outcome: None,
        })
    }

    /// [`Output::spawn`] with the default caps ([`QUEUE_CHUNKS`], [`QUEUE_BYTES`]).
    pub fn spawn_default(overflow: Overflow) -> io::Result<Output> {
        Output::spawn(Limits::new(QUEUE_CHUNKS, QUEUE_BYTES), overflow)
    }

    /// A sender for other tasks.
    pub fn lines(&self) -> Option<Lines> {
        self.lines.clone()
    }

    /// Where the front end formats its output; [`Output::hand_over`] passes it on.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The buffer holds a whole chunk: time to hand it over.
    pub fn is_full(&self) -> bool {
        self.buf.len() >= CHUNK_BYTES
    }

    /// Nothing waits for room: the front end may format more.
    pub fn ready(&self) -> bool {
        self.pending.is_empty()
    }

    /// Lines the queue could not take (with a dropping policy), and those of other senders.
    pub fn dropped(&self) -> u64 {
        self.lines
            .as_ref()
            .map_or(0, |l| l.dropped.load(Ordering::Relaxed))
    }

    /// Hands what is buffered to the thread, without waiting. With [`Overflow::Block`], what
    /// does not fit waits ([`Output::ready`] is false until [`Output::wait`] hands it
    /// over); with a dropping policy, it is counted.
    pub fn hand_over(&mut self) {
        if self.pending.is_empty() {
            std::mem::swap(&mut self.pending, &mut self.buf);
        } else {
            self.pending.append(&mut self.buf);
        }
        self.send_pending();
    }

    fn send_pending(&mut self) {
        let Some(lines) = &self.lines else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            let rest = self.pending.split_off(self.pending.len().min(CHUNK_BYTES));
            let piece = std::mem::replace(&mut self.pending, rest);
            match lines.tx.try_send(Chunk::Out(piece)) {
                Ok(()) => {}
                Err(TrySendError::Full(Chunk::Out(mut piece), cause))
                    if cause != Cause::Oversize && lines.tx.overflow() == Overflow::Block =>
                {
                    piece.append(&mut self.pending);
                    self.pending = piece;
                    return;
                }
                Err(e) => {
                    // Dropped (and counted), or the thread is gone (its end says why).
                    let n = e.into_inner().lines();
                    lines.dropped.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
    }

    /// Resolves when what waits has been handed over (`None`), or with the error that
    /// stopped the thread. With nothing waiting, only the error ends it. Cancel-safe.
    pub async fn wait(&mut self) -> Option<io::Error> {
        if self.pending.is_empty() {
            return Some(self.failed().await);
        }
        let room = match &self.lines {
            Some(lines) => {
                let tx = lines.tx.clone();
                let weight = size_of::<Chunk>() + self.pending.len().min(self.piece);
                tokio::select! {
                    room = tx.room_for(weight) => room,
                    e = self.failed() => return Some(e),
                }
            }
            None => false,
        };
        if !room {
            return Some(self.outcome().await.err().unwrap_or_else(stopped));
        }
        self.send_pending();
        None
    }

    /// Hands over everything, waiting for room as long as it takes.
    async fn flush(&mut self) -> io::Result<()> {
        self.hand_over();
        while !self.pending.is_empty() {
            if let Some(e) = self.wait().await {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Resolves when the thread has stopped on a write error: a closed stdout is seen here
    /// even while nothing more is handed over. Cancel-safe.
    pub async fn failed(&mut self) -> io::Error {
        match self.outcome().await {
            Err(e) => e,
            // It cannot end cleanly while it is still handed output.
            Ok(()) => std::future::pending().await,
        }
    }

    /// Hands over the rest, closes the queue (other [`Lines`] are refused from now on) and
    /// waits until the thread has written everything.
    pub async fn finish(mut self) -> io::Result<()> {
        self.flush().await?;
        if let Some(lines) = self.lines.take() {
            lines.tx.close();
        }
        self.outcome().await
    }

    /// Waits for the thread's end and tells how it went (again, if asked again). Cancel-safe.
    async fn outcome(&mut self) -> io::Result<()> {
        if self.outcome.is_none() {
            let result = (&mut self.done).await;
            self.outcome = Some(match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some((e.kind(), e.to_string())),
                Err(_) => Some((io::ErrorKind::Other, stopped().to_string())),
            });
        }
        match &self.outcome {
            Some(Some((kind, message))) => Err(io::Error::new(*kind, message.clone())),
            _ => Ok(()),
        }
    }
}

fn stopped() -> io::Error {
    io::Error::other("the output thread stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_counts_its_lines() {
        assert_eq!(Chunk::Out(b"a\nb\n".to_vec()).lines(), 2);
        assert_eq!(Chunk::Out(b"a\nb".to_vec()).lines(), 2);
        assert_eq!(Chunk::Err(Vec::new()).lines(), 0);
    }
}
