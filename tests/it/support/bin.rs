//! The real binary, run the same way by every test: a clean environment (no PUSHER_* or
//! TICKERTAPE_* from the caller, no user config file, NO_COLOR), and stderr watched for the
//! word `panicked`. A panic anywhere in the process, a spawned task's included, fails the test
//! that ran it: when it exits, when it is finished, or when it is dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tickertape");

/// `tickertape` with a clean environment, its config home at `home`, stdin closed and both
/// outputs piped.
pub(crate) fn command_in(home: &Path) -> Command {
    command_via(home, &[])
}

/// `tickertape` run through `wrapper` (a program and its arguments, such as `prlimit
/// --nofile=1024 --`), with the clean environment of [`command_in`].
pub(crate) fn command_via(home: &Path, wrapper: &[&str]) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(BIN);
            cmd
        }
        None => Command::new(BIN),
    };
    clean_env(&mut cmd, home);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// The environment every run of the binary gets: no PUSHER_*, TICKERTAPE_*, REVERB_*,
/// VITE_* or BROADCAST_* from the caller, `home` as its home and config home, NO_COLOR.
pub(crate) fn clean_env(cmd: &mut Command, home: &Path) {
    for (name, _) in std::env::vars() {
        if ["PUSHER_", "TICKERTAPE_", "REVERB_", "VITE_", "BROADCAST_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            cmd.env_remove(name);
        }
    }
    cmd.env("XDG_CONFIG_HOME", home)
        .env("HOME", home)
        .env("NO_COLOR", "1");
}

/// A fresh config home under the temp dir, with `config` as its tickertape/config.toml.
pub(crate) fn home_with_config(name: &str, config: &str) -> std::path::PathBuf {
    let home = std::env::temp_dir().join(format!("tickertape-test-{}-{name}", std::process::id()));
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).expect("create the config home");
    std::fs::write(dir.join("config.toml"), config).expect("write the config file");
    home
}

/// `tickertape` with a clean environment and no config file at all.
pub(crate) fn command() -> Command {
    command_in(&std::env::temp_dir().join("tickertape-test-no-config"))
}

/// Fails the test when a process's stderr shows a panic.
pub(crate) fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked"),
        "the process panicked; its stderr:\n{stderr}"
    );
}

/// A running `tickertape`. Its stderr is read by a thread of its own, kept whole for the
/// panic check, and handed to the test line by line.
pub(crate) struct Proc {
    pub child: Child,
    /// Every byte of stderr, as written.
    stderr: Arc<Mutex<Vec<u8>>>,
    lines: mpsc::UnboundedReceiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// While set, the reader thread reads no more (so the pipe fills and writes block).
    paused: Arc<(Mutex<bool>, Condvar)>,
}

impl Proc {
    pub(crate) fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd.spawn().expect("start tickertape");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::unbounded_channel();
        let paused = Arc::new((Mutex::new(false), Condvar::new()));
        let reader = child.stderr.take().map(|pipe| {
            let pipe = std::fs::File::from(pipe.into_owned_fd().expect("stderr pipe"));
            let all = stderr.clone();
            let gate = paused.clone();
            std::thread::spawn(move || {
                // Bytes, not lines of UTF-8: a line that is not UTF-8 must not end the check.
                let mut pipe = BufReader::new(pipe);
                let mut raw = Vec::new();
                loop {
                    let (lock, resumed) = &*gate;
                    let mut stop = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while *stop {
                        stop = resumed.wait(stop).unwrap_or_else(|e| e.into_inner());
                    }
                    drop(stop);
                    if !matches!(pipe.read_until(b'\n', &mut raw), Ok(n) if n > 0) {
                        break;
                    }
                    if let Ok(mut all) = all.lock() {
                        all.extend_from_slice(&raw);
                    }
                    let line = String::from_utf8_lossy(&raw)
                        .trim_end_matches(['\n', '\r'])
                        .to_owned();
                    raw.clear();
                    let _ = tx.send(line);
                }
            })
        });
        Proc {
            child,
            stderr,
            lines,
            reader,
            paused,
        }
    }

    /// Stops reading stderr: once the pipe's buffer (and the reader's) is full, the
    /// process's writes to stderr block, as with a terminal that is not read. At most the
    /// read in progress completes.
    pub(crate) fn pause_stderr(&self) {
        *self.paused.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    /// Reads stderr again.
    pub(crate) fn resume_stderr(&self) {
        *self.paused.0.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.paused.1.notify_all();
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// The process's peak resident set so far, in bytes (Linux's `VmHWM`).
    pub(crate) fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kb * 1024
    }

    /// The next line of stderr, or `None` at its end; panics after `within`.
    pub(crate) async fn stderr_line(&mut self, within: Duration) -> Option<String> {
        tokio::time::timeout(within, self.lines.recv())
            .await
            .expect("no stderr line in time")
    }

    /// Reads stderr lines (10 s at most) until one holds `marker` followed by an address,
    /// with `suffix` after it trimmed: `tickertape: metrics on http://ADDR/metrics`.
    pub(crate) async fn stderr_addr(&mut self, marker: &str, suffix: &str) -> std::net::SocketAddr {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self
                .stderr_line(left)
                .await
                .unwrap_or_else(|| panic!("stderr ended before {marker:?}"));
            if let Some(rest) = line.split(marker).nth(1) {
                return rest
                    .trim_end_matches(suffix)
                    .parse()
                    .unwrap_or_else(|_| panic!("no address in {line:?}"));
            }
        }
    }

    /// Hands stderr's lines to the caller (they are still kept for the panic check).
    pub(crate) fn take_stderr_lines(&mut self) -> mpsc::UnboundedReceiver<String> {
        std::mem::replace(&mut self.lines, mpsc::unbounded_channel().1)
    }

    /// Everything on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr_bytes()).into_owned()
    }

    /// Everything on stderr so far, byte for byte (for checks of what reaches a terminal).
    pub(crate) fn stderr_bytes(&self) -> Vec<u8> {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the exit (panics after `within`), then checks stderr for a panic.
    pub(crate) async fn wait(&mut self, within: Duration) -> ExitStatus {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .expect("tickertape did not exit in time")
            .expect("wait for tickertape");
        self.check();
        status
    }

    /// Reads stdout to the end and waits for the exit: (exit code, stdout, stderr).
    pub(crate) async fn finish(mut self, within: Duration) -> (i32, String, String) {
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            tokio::time::timeout(within, out.read_to_string(&mut stdout))
                .await
                .expect("tickertape did not finish its output in time")
                .expect("read stdout");
        }
        let status = self.wait(within).await;
        (status.code().unwrap_or(-1), stdout, self.stderr())
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) async fn terminate(&mut self, within: Duration) -> ExitStatus {
        signal(self.pid(), "-TERM");
        self.wait(within).await
    }

    /// Reads the rest of stderr (the process has exited or been killed) and checks it.
    fn check(&mut self) {
        self.resume_stderr();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        assert_no_panic(&self.stderr());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.reader.is_none() {
            return;
        }
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            return;
        }
        self.check();
    }
}

/// Sends a signal to a process this test started.
pub(crate) fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status();
}

/// A pipe that is full and that nobody reads, for a process's stdout: its first write blocks
/// (it does not fail, because the reading end stays open until this is dropped).
pub(crate) struct FullPipe {
    _reader: std::io::PipeReader,
    writer: std::io::PipeWriter,
}

impl FullPipe {
    pub(crate) async fn new() -> FullPipe {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let mut filler = writer.try_clone().expect("a second write end");
        let written = Arc::new(AtomicUsize::new(0));
        let count = written.clone();
        // Blocks once the pipe is full; ends (EPIPE) when the reading end is dropped.
        std::thread::spawn(move || {
            let chunk = [b'.'; 512];
            while filler.write_all(&chunk).is_ok() {
                count.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        });
        // Full once the count has stopped growing for a while.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let (mut last, mut still) = (0, 0);
        while still < 4 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the pipe never filled"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = written.load(Ordering::Relaxed);
            still = if now == last && now > 0 { still + 1 } else { 0 };
            last = now;
        }
        FullPipe {
            _reader: reader,
            writer,
        }
    }

    /// The write end, for `Command::stdout`.
    pub(crate) fn stdout(&self) -> Stdio {
        Stdio::from(self.writer.try_clone().expect("a write end"))
    }
}
