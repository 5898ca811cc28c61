//! The log's lines between whoever logs and the one thread that writes them: a
//! [`bounded::queue`] capped in lines and bytes. Logging never waits on the output: a line is
//! queued under a short lock, or dropped and counted when the queue is at a cap. The writer
//! takes what is queued in batches, held ([`bounded::Held`]) until written, so lines being
//! written still count against the caps and the memory held is bounded by them. Then it
//! says how many lines were dropped meanwhile.
//!
//! Lines of one kind past [`LogLimits::per_kind`] a second are not queued at all: they are
//! counted, and one line says `… and 4 812 more like this in the last second` once that
//! second is over ([`Coalescer`]), so that one stranger's flood of refusals is one line a
//! second, whatever it sends.
//!
//! Some lines are made by the writer itself ([`Later`]): a publish to no one, whose "did you
//! mean" compares names, is worked out on the writer's thread, never on the runtime's.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bounded::{Limits, Overflow, Oversize, TryRecvError, Weigh};

/// The queue's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Bytes of lines queued or being written.
    pub bytes: usize,
    /// Lines queued or being written.
    pub lines: usize,
    /// Lines of one kind per second; past it they are counted and said in one line.
    pub per_kind: u32,
}

impl LogLimits {
    pub const DEFAULT_BYTES: usize = 1024 * 1024;
    pub const DEFAULT_LINES: usize = 10_000;
    pub const DEFAULT_PER_KIND: u32 = 100;
}

impl Default for LogLimits {
    fn default() -> LogLimits {
        LogLimits {
            bytes: LogLimits::DEFAULT_BYTES,
            lines: LogLimits::DEFAULT_LINES,
            per_kind: LogLimits::DEFAULT_PER_KIND,
        }
    }
}

/// Formats the line that says how many were dropped.
pub(super) type Notice = Box<dyn Fn(u64) -> String + Send>;

/// Formats the line that says how many lines of a kind were held back.
pub(super) type Summary = Box<dyn Fn(&str, u64) -> String + Send>;

/// A line the writer makes when it comes to it.
pub(super) trait Later: Send {
    /// Bytes held while it waits.
    fn weight(&self) -> usize;
    fn render(self: Box<Self>) -> String;
}

/// One entry of the queue.
pub(super) enum Entry {
    Line(String),
    Later(Box<dyn Later>),
}

impl Weigh for Entry {
    /// A line weighs its text (as the caps have always counted it).
    fn weight(&self) -> usize {
        match self {
            Entry::Line(line) => line.len(),
            Entry::Later(later) => later.weight(),
        }
    }
}

/// Kinds never coalesced: one line per API publish is what the log is for, and only the
/// app's own publishers (who hold its secret) make them.
const NOT_COALESCED: [&str; 1] = ["API MESSAGE"];

/// Kinds followed one by one within a second; more kinds share one count.
const MAX_KINDS: usize = 64;

/// Per kind, the lines of the current second and how many were held back.
pub(super) struct Coalescer {
    per_kind: u32,
    started: Instant,
    kinds: Vec<(String, u32, u64)>,
    /// Makes the `… and N more like this` line of a kind.
    summary: Summary,
}

impl Coalescer {
    pub(super) fn new(per_kind: u32, summary: Summary) -> Self {
        Coalescer {
            per_kind: per_kind.max(1),
            started: Instant::now(),
            kinds: Vec::new(),
            summary,
        }
    }

    /// Whether a line of `kind` is written now; `due` gets the summary lines of a second
    /// that is over.
    pub(super) fn admit(&mut self, kind: &str, now: Instant, due: &mut Vec<String>) -> bool {
        self.roll(now, due);
        if NOT_COALESCED.contains(&kind) {
            return true;
        }
        let i = match self.kinds.iter().position(|(k, ..)| k == kind) {
            Some(i) => i,
            None if self.kinds.len() < MAX_KINDS => {
                self.kinds.push((kind.to_owned(), 0, 0));
                self.kinds.len() - 1
            }
            None => self.kinds.len() - 1,
        };
        let (_, lines, more) = &mut self.kinds[i];
        *lines = lines.saturating_add(1);
        if *lines > self.per_kind {
            *more += 1;
            return false;
        }
        true
    }

    /// Ends the current second if it is over: the summary of each kind that held lines back.
    pub(super) fn roll(&mut self, now: Instant, due: &mut Vec<String>) {
        if now.saturating_duration_since(self.started) < Duration::from_secs(1) {
            return;
        }
        for (kind, _, more) in self.kinds.drain(..) {
            if more > 0 {
                due.push((self.summary)(&kind, more));
            }
        }
        self.started = now;
    }
}

pub(super) struct Queue {
    tx: bounded::Sender<Entry>,
    coalescer: Mutex<Coalescer>,
    /// The writer has stopped.
    done: Mutex<bool>,
    /// `finish` waits here for the writer.
    finished: Condvar,
}

/// Lines taken per batch by the writer.
const BATCH: usize = 256;

impl Queue {
    /// A queue and its writer thread, writing to `out`.
    pub(super) fn start(
        limits: LogLimits,
        mut out: Box<dyn Write + Send>,
        notice: Notice,
        coalescer: Coalescer,
    ) -> std::io::Result<Arc<Queue>> {
        let (tx, rx) = bounded::queue_with(
            Limits::new(limits.lines, limits.bytes),
            Overflow::DropNewest,
            Oversize::Alone,
        );
        let queue = Arc::new(Queue {
            tx,
            coalescer: Mutex::new(coalescer),
            done: Mutex::new(false),
            finished: Condvar::new(),
        });
        let q = queue.clone();
        // A thread of its own, not the commands' output thread (`observe::output::writer`,
        // which the server cannot see from below): it writes stderr or a log file, not
        // stdout, and it does work of its own between batches (the coalesced lines, and the
        // did-you-mean kept off the runtime's workers).
        std::thread::Builder::new()
            .name("serve-log".into())
            .spawn(move || q.write_all(rx, &mut *out, &notice))?;
        Ok(queue)
    }

    fn coalescer(&self) -> MutexGuard<'_, Coalescer> {
        self.coalescer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a line of `kind` is to be made now (else it is counted, to be said later).
    pub(super) fn admit(&self, kind: &str) -> bool {
        let mut due = Vec::new();
        let admitted = self.coalescer().admit(kind, Instant::now(), &mut due);
        for line in due {
            self.push(Entry::Line(line));
        }
        admitted
    }

    /// Queues an entry, or drops and counts it; never waits on the output.
    pub(super) fn push(&self, entry: Entry) {
        // A refused entry is counted by the queue (or the queue is closed).
        let _ = self.tx.try_send(entry);
    }

    /// The writer thread: until closed and drained, or the output fails.
    fn write_all(&self, mut rx: bounded::Receiver<Entry>, out: &mut dyn Write, notice: &Notice) {
        let mut buf = Vec::new();
        let mut reported = 0u64;
        let mut due = Vec::new();
        loop {
            let tick = Instant::now() + Duration::from_secs(1);
            let batch = match rx.blocking_recv_batch_until(BATCH, tick) {
                Ok(batch) => Some(batch),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => break,
            };
            buf.clear();
            let mut held = batch;
            if let Some(batch) = held.as_mut() {
                for entry in batch.drain(..) {
                    match entry {
                        Entry::Line(line) => buf.extend_from_slice(line.as_bytes()),
                        Entry::Later(later) => buf.extend_from_slice(later.render().as_bytes()),
                    }
                }
            }
            self.coalescer().roll(Instant::now(), &mut due);
            for line in due.drain(..) {
                buf.extend_from_slice(line.as_bytes());
            }
            let dropped = rx.drops().total();
            if dropped > reported {
                buf.extend_from_slice(notice(dropped - reported).as_bytes());
                reported = dropped;
            }
            if buf.is_empty() {
                continue;
            }
            let ok = out.write_all(&buf).and_then(|()| out.flush()).is_ok();
            // The lines written stop counting against the caps only now.
            drop(held);
            if !ok {
                // Nowhere to write: take no more lines, and forget the queued ones.
                rx.close();
                while rx.try_recv().is_ok() {}
                break;
            }
        }
        let dropped = rx.drops().total();
        if dropped > reported {
            let _ = out
                .write_all(notice(dropped - reported).as_bytes())
                .and_then(|()| out.flush());
        }
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.finished.notify_all();
    }

    /// Takes no more lines and waits, at most `within`, for the writer to write what is
    /// queued (and the dropped count). Whether it did.
    pub(super) fn finish(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        self.tx.close();
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .finished
                .wait_timeout(done, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Entries queued or being written (for tests).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.tx.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Output whose first write waits for the test: (the output, "a write began", release).
    struct Gate {
        began: mpsc::Sender<()>,
        release: mpsc::Receiver<()>,
        out: Arc<Mutex<Vec<u8>>>,
        first: bool,
    }

    impl Write for Gate {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if std::mem::take(&mut self.first) {
                let _ = self.began.send(());
                let _ = self.release.recv();
            }
            self.out.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A queue, "its first write began", the release of that write, and what was written.
    type Gated = (
        Arc<Queue>,
        mpsc::Receiver<()>,
        mpsc::Sender<()>,
        Arc<Mutex<Vec<u8>>>,
    );

    fn coalescer(per_kind: u32) -> Coalescer {
        Coalescer::new(
            per_kind,
            Box::new(|kind, n| format!("{kind}: and {n} more\n")),
        )
    }

    fn gated(limits: LogLimits) -> Gated {
        let (began_tx, began) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let out = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate {
            began: began_tx,
            release: release_rx,
            out: out.clone(),
            first: true,
        };
        let q = Queue::start(
            limits,
            Box::new(gate),
            Box::new(|n| format!("dropped {n}\n")),
            coalescer(limits.per_kind),
        )
        .unwrap();
        (q, began, release, out)
    }

    fn line(text: &str) -> Entry {
        Entry::Line(text.to_owned())
    }

    #[test]
    fn a_stuck_output_drops_lines_past_the_caps_and_counts_them_once_it_drains() {
        let (q, began, release, out) = gated(LogLimits {
            bytes: 1000,
            lines: 3,
            ..LogLimits::default()
        });
        q.push(line("first\n"));
        began.recv().unwrap();
        // The writer is stuck on "first", which still counts: two more fit.
        for i in 0..10 {
            q.push(Entry::Line(format!("line {i}\n")));
        }
        release.send(()).unwrap();
        assert!(q.finish(Duration::from_secs(10)));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "first\nline 0\nline 1\ndropped 8\n");
    }

    #[test]
    fn the_byte_cap_counts_too_and_a_stuck_output_does_not_hold_up_finish() {
        let (q, began, release, out) = gated(LogLimits {
            bytes: 20,
            lines: 100,
            ..LogLimits::default()
        });
        q.push(line("0123456789\n"));
        began.recv().unwrap();
        q.push(line("abcdefgh\n"));
        q.push(line("x\n")); // 11 + 9 + 2 > 20
        assert!(
            !q.finish(Duration::from_millis(50)),
            "the writer is still stuck"
        );
        q.push(line("after finish\n"));
        release.send(()).unwrap();
        assert!(q.finish(Duration::from_secs(10)));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "0123456789\nabcdefgh\ndropped 1\n");
    }

    #[test]
    fn a_failed_output_stops_taking_lines() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let q = Queue::start(
            LogLimits::default(),
            Box::new(Broken),
            Box::new(|_| String::new()),
            coalescer(100),
        )
        .unwrap();
        q.push(line("lost\n"));
        assert!(q.finish(Duration::from_secs(10)));
        q.push(line("ignored\n"));
        assert_eq!(q.queued(), 0);
    }

    #[test]
    fn lines_of_one_kind_past_the_rate_are_said_once_as_a_count() {
        let mut c = coalescer(2);
        let t0 = Instant::now();
        let mut due = Vec::new();
        let admitted: Vec<bool> = (0..5).map(|_| c.admit("REFUSED", t0, &mut due)).collect();
        assert_eq!(admitted, [true, true, false, false, false]);
        assert!(
            c.admit("CONNECTION", t0, &mut due),
            "another kind has its own count"
        );
        assert!(c.admit("API MESSAGE", t0, &mut due) && c.admit("API MESSAGE", t0, &mut due));
        assert!(
            c.admit("API MESSAGE", t0, &mut due),
            "publishes are never coalesced"
        );
        assert!(due.is_empty());
        c.roll(t0 + Duration::from_millis(1500), &mut due);
        assert_eq!(due, ["REFUSED: and 3 more\n"]);
        assert!(c.admit("REFUSED", t0 + Duration::from_millis(1600), &mut due));
    }
}
