//! Stdout written by a thread of its own. The front end formats into a buffer and hands
//! finished chunks over a bounded channel, so a reader that stops reading blocks only that
//! thread: the front end still sees Ctrl-C and SIGTERM, and can leave without it.
//!
//! The thread writes to its own handle on file descriptor 1, never through `std::io::stdout()`,
//! so nothing at process exit waits on its lock or on a buffer of its.

use std::io::{self, Write};
use std::os::fd::AsFd;

use tokio::sync::{mpsc, oneshot};

/// A chunk is handed over once it holds this much (or when the caller flushes).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the thread; the sender waits when they are all taken.
const QUEUE_CHUNKS: usize = 8;

pub struct Stdout {
    buf: Vec<u8>,
    /// `None` once everything has been handed over.
    tx: Option<mpsc::Sender<Vec<u8>>>,
    /// Tells how the thread ended: its first write error, if any.
    done: oneshot::Receiver<io::Result<()>>,
    /// That end, once known: `Some(None)` for a clean one.
    outcome: Option<Option<(io::ErrorKind, String)>>,
}

impl Stdout {
    /// Starts the writer thread on a duplicate of stdout.
    pub fn spawn() -> io::Result<Stdout> {
        let mut file = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned()?);
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE_CHUNKS);
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                let mut result = Ok(());
                while let Some(chunk) = rx.blocking_recv() {
                    if let Err(e) = file.write_all(&chunk) {
                        result = Err(e);
                        break;
                    }
                }
                let _ = done_tx.send(result);
            })?;
        Ok(Stdout {
            buf: Vec::with_capacity(CHUNK_BYTES),
            tx: Some(tx),
            done,
            outcome: None,
        })
    }

    /// Where the caller formats its output.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The buffer holds a whole chunk: time to hand it over.
    pub fn is_full(&self) -> bool {
        self.buf.len() >= CHUNK_BYTES
    }

    /// Hands what is buffered to the thread; waits while its queue is full.
    /// Cancel-safe in the sense that matters here: a cancelled flush only loses output.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        let Some(tx) = &self.tx else {
            return Err(stopped());
        };
        match tx.send(chunk).await {
            Ok(()) => Ok(()),
            // The thread stopped: say why.
            Err(_) => Err(self.outcome().await.err().unwrap_or_else(stopped)),
        }
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

    /// Hands over the rest and waits until the thread has written everything.
    pub async fn finish(mut self) -> io::Result<()> {
        self.flush().await?;
        self.tx = None; // the thread ends once the channel is closed and drained
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
    io::Error::other("the stdout writer stopped")
}
