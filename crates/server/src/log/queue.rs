//! The log's lines between whoever logs and the one thread that writes them. Logging never
//! waits on the output: a line is queued under a short lock, or dropped and counted when the
//! queue is at its cap in lines or bytes. The writer takes everything queued at once, writes
//! it, and then says how many lines were dropped meanwhile. Lines being written still count
//! against the caps, so the memory held is bounded by them.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The queue's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Bytes of lines queued or being written.
    pub bytes: usize,
    /// Lines queued or being written.
    pub lines: usize,
}

impl LogLimits {
    pub const DEFAULT_BYTES: usize = 1024 * 1024;
    pub const DEFAULT_LINES: usize = 10_000;
}

impl Default for LogLimits {
    fn default() -> LogLimits {
        LogLimits {
            bytes: LogLimits::DEFAULT_BYTES,
            lines: LogLimits::DEFAULT_LINES,
        }
    }
}

/// Formats the line that says how many were dropped.
pub(super) type Notice = Box<dyn Fn(u64) -> String + Send>;

pub(super) struct Queue {
    state: Mutex<State>,
    /// The writer waits here for lines, or for the end.
    ready: Condvar,
    /// `finish` waits here for the writer to be done.
    done: Condvar,
    limits: LogLimits,
}

#[derive(Default)]
struct State {
    lines: VecDeque<String>,
    /// Lines and bytes queued plus those being written.
    count: usize,
    bytes: usize,
    /// Dropped since the writer last said so.
    dropped: u64,
    writer_waiting: bool,
    /// No more lines are taken: the server is stopping, or the output failed.
    closing: bool,
    /// The writer has stopped.
    finished: bool,
}

impl Queue {
    /// A queue and its writer thread, writing to `out`.
    pub(super) fn start(
        limits: LogLimits,
        mut out: Box<dyn Write + Send>,
        notice: Notice,
    ) -> std::io::Result<Arc<Queue>> {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            done: Condvar::new(),
            limits: LogLimits {
                bytes: limits.bytes.max(1),
                lines: limits.lines.max(1),
            },
        });
        let q = queue.clone();
        std::thread::Builder::new()
            .name("serve-log".into())
            .spawn(move || q.write_all(&mut *out, &notice))?;
        Ok(queue)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a line, or drops and counts it; never waits on the output.
    pub(super) fn push(&self, line: String) {
        let mut s = self.lock();
        if s.closing {
            return;
        }
        // One line larger than the byte cap still goes into an empty queue.
        if s.count >= self.limits.lines || (s.count > 0 && s.bytes + line.len() > self.limits.bytes)
        {
            s.dropped += 1;
            return;
        }
        s.count += 1;
        s.bytes += line.len();
        s.lines.push_back(line);
        if s.writer_waiting {
            s.writer_waiting = false;
            self.ready.notify_one();
        }
    }

    /// The writer thread: until closed and drained, or the output fails.
    fn write_all(&self, out: &mut dyn Write, notice: &Notice) {
        let mut buf = Vec::new();
        loop {
            let (batch, dropped) = {
                let mut s = self.lock();
                while s.lines.is_empty() && s.dropped == 0 && !s.closing {
                    s.writer_waiting = true;
                    s = self.ready.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if s.lines.is_empty() && s.dropped == 0 {
                    break;
                }
                (std::mem::take(&mut s.lines), std::mem::take(&mut s.dropped))
            };
            buf.clear();
            for line in &batch {
                buf.extend_from_slice(line.as_bytes());
            }
            if dropped > 0 {
                buf.extend_from_slice(notice(dropped).as_bytes());
            }
            let ok = out.write_all(&buf).and_then(|()| out.flush()).is_ok();
            let mut s = self.lock();
            s.count -= batch.len();
            s.bytes -= batch.iter().map(String::len).sum::<usize>();
            if !ok {
                // Nowhere to write: take no more lines.
                s.closing = true;
                s.lines.clear();
                (s.count, s.bytes) = (0, 0);
                break;
            }
        }
        self.lock().finished = true;
        self.done.notify_all();
    }

    /// Takes no more lines and waits, at most `within`, for the writer to write what is
    /// queued (and the dropped count). Whether it did.
    pub(super) fn finish(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        let mut s = self.lock();
        s.closing = true;
        self.ready.notify_one();
        while !s.finished {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .done
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
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
        )
        .unwrap();
        (q, began, release, out)
    }

    #[test]
    fn a_stuck_output_drops_lines_past_the_caps_and_counts_them_once_it_drains() {
        let (q, began, release, out) = gated(LogLimits {
            bytes: 1000,
            lines: 3,
        });
        q.push("first\n".into());
        began.recv().unwrap();
        // The writer is stuck on "first", which still counts: two more fit.
        for i in 0..10 {
            q.push(format!("line {i}\n"));
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
        });
        q.push("0123456789\n".into());
        began.recv().unwrap();
        q.push("abcdefgh\n".into());
        q.push("x\n".into()); // 11 + 9 + 2 > 20
        assert!(
            !q.finish(Duration::from_millis(50)),
            "the writer is still stuck"
        );
        q.push("after finish\n".into());
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
        )
        .unwrap();
        q.push("lost\n".into());
        assert!(q.finish(Duration::from_secs(10)));
        q.push("ignored\n".into());
        assert_eq!(q.lock().count, 0);
    }
}
