//! A program in tmux at 80×24, as a person sees it: start it, type keys, read the screen,
//! wait for what should show, and read the exit status the shell wrote down. Needs tmux
//! (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::bin;

/// A tmux session running a command whose stderr goes to a file: that file is checked for a
/// panic when the session ends.
pub(crate) struct Tmux {
    session: String,
    stderr: PathBuf,
    socket: PathBuf,
}

impl Tmux {
    pub(crate) fn start(command: &str, stderr: &Path) -> Tmux {
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("tickertape-test-{}-{n}", std::process::id());
        let tmux = Tmux {
            socket: stderr.with_file_name(format!("{session}.sock")),
            session,
            stderr: stderr.to_owned(),
        };
        // Each session has a tmux server of its own, its socket beside the stderr file:
        // with one server shared by the tests, another test's last session ending shuts it
        // down under a starting one.
        let out = tmux
            .command()
            .args(["new-session", "-d", "-s", &tmux.session])
            .args(["-x", "80", "-y", "24", command])
            .output()
            .expect("tmux is needed for this test (apt-get install tmux)");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after the program exits, to see what it left behind.
        tmux.command()
            .args(["set-option", "-t", &tmux.session, "remain-on-exit", "on"])
            .status()
            .unwrap();
        tmux
    }

    /// Pastes `text` into the pane as a terminal does: in brackets when the program asked
    /// for bracketed paste, as bare keys when it did not.
    pub(crate) fn paste(&self, text: &str) {
        self.run(&["set-buffer", text]);
        self.run(&["paste-buffer", "-p", "-t", &self.session]);
    }

    /// Runs a tmux command on this session's own server (`show-buffer`, `set-option`), and
    /// returns what it printed.
    pub(crate) fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux command addressed to this session's own server.
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket);
        command
    }

    /// What the program in the pane wrote on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub(crate) fn screen(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with the lines scrolled off above it (the alternate screen keeps none).
    pub(crate) fn history(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-S", "-", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// From now on, every byte the program in the pane writes to its terminal is appended
    /// to `file`, before tmux interprets it (for checks of what a program emits; start the
    /// program a moment after the session, so that nothing is missed).
    pub(crate) fn record_output(&self, file: &Path) {
        let ok = self
            .command()
            .args([
                "pipe-pane",
                "-o",
                "-t",
                &self.session,
                &format!("cat >> '{}'", file.display()),
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux pipe-pane failed");
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.command()
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            if *k == "Escape" {
                // A key that follows Escape in the same read is taken as Alt+key (as a
                // terminal sends it): let the program read Escape on its own first.
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    pub(crate) fn pane(&self, format: &str) -> String {
        let out = self
            .command()
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The program in the pane: the shell's one child (`env` execs the binary), by its PID.
    pub(crate) fn program_pid(&self) -> u32 {
        let shell = self.pane("#{pane_pid}");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
                .unwrap_or_default();
            if let Some(pid) = children
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
            {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no program under the pane's shell {shell}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`TERM`, `HUP`, …) to the program in the pane, which this test
    /// started.
    pub(crate) fn signal(&self, signal: &str) {
        let pid = self.program_pid().to_string();
        let ok = Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {signal} {pid}");
    }

    /// Waits until the screen satisfies `pred`; returns it.
    pub(crate) fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return self.settled(screen, &pred);
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The screen once tmux has drawn the rest of a frame it may have read in part: the
    /// program writes a frame at once, but tmux reads the pty in chunks, and a capture
    /// between two chunks shows the new frame's top over the old one's bottom. Captured
    /// again until two captures agree (a live screen that never does is taken as it is
    /// after half a second), keeping the last capture `pred` holds for.
    fn settled(&self, mut screen: String, pred: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(40));
            let again = self.screen();
            if again == screen {
                break;
            }
            if pred(&again) {
                screen = again;
            }
        }
        screen
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().args(["kill-server"]).status();
        let _ = std::fs::remove_file(&self.socket);
        let stderr = self.stderr();
        if std::thread::panicking() {
            // The test already failed; a panic in the pane is worth knowing about.
            if stderr.contains("panicked") {
                eprintln!("the dashboard's stderr:\n{stderr}");
            }
        } else {
            bin::assert_no_panic(&stderr);
        }
    }
}

/// A fresh home for one test named `name`, with where the binary's stderr and the shell's
/// record of its exit status go (both removed if a previous run left them).
pub(crate) fn files(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let home = std::env::temp_dir().join(format!("tickertape-tmux-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let (stderr, status) = (home.join("stderr"), home.join("status"));
    let _ = std::fs::remove_file(&stderr);
    let _ = std::fs::remove_file(&status);
    (home, stderr, status)
}

/// The environment `support::bin::command_in(home)` gives the binary, as an `env` command
/// for a shell: the caller's PUSHER_* and TICKERTAPE_* removed, the config home set.
pub(crate) fn clean_env(home: &Path) -> String {
    let mut env = String::from("env");
    for (name, _) in std::env::vars() {
        if ["PUSHER_", "TICKERTAPE_", "REVERB_", "VITE_", "BROADCAST_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            env.push_str(&format!(" -u '{name}'"));
        }
    }
    let home = home.display();
    env.push_str(&format!(
        " XDG_CONFIG_HOME='{home}' HOME='{home}' NO_COLOR=1"
    ));
    env
}

/// `command` for a pane: its stderr to `stderr`; once it exits, the terminal's settings as
/// `stty -a` reads them to `stty` (raw mode left on shows as `-icanon -echo`), then its exit
/// status to `status`.
pub(crate) fn recorded(command: &str, stderr: &Path, stty: &Path, status: &Path) -> String {
    format!(
        "{command} 2> {}; code=$?; stty -a > {}; echo $code > {}",
        stderr.display(),
        stty.display(),
        status.display()
    )
}

/// The terminal is as a shell wants it: canonical mode and echo on (what `stty -a` wrote).
pub(crate) fn assert_cooked(stty: &Path) {
    let text = std::fs::read_to_string(stty).unwrap_or_default();
    let flags: Vec<&str> = text.split_whitespace().collect();
    assert!(
        flags.contains(&"icanon") && flags.contains(&"echo"),
        "the terminal was left in raw mode:\n{text}"
    );
}

/// The exit status the shell wrote to `status_file` once the program quit (10 s at most).
pub(crate) fn exit_status(tmux: &Tmux, status_file: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(status_file)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
