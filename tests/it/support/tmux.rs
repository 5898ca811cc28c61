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
}

impl Tmux {
    pub(crate) fn start(command: &str, stderr: &Path) -> Tmux {
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("tickertape-test-{}-{n}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "80",
                "-y",
                "24",
                command,
            ])
            .status()
            .expect("tmux is needed for this test (apt-get install tmux)")
            .success();
        assert!(ok, "tmux new-session failed");
        // Keep the pane after the program exits, to see what it left behind.
        Command::new("tmux")
            .args(["set-option", "-t", &session, "remain-on-exit", "on"])
            .status()
            .unwrap();
        Tmux {
            session,
            stderr: stderr.to_owned(),
        }
    }

    /// What the program in the pane wrote on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub(crate) fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with the lines scrolled off above it (the alternate screen keeps none).
    pub(crate) fn history(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
        }
    }

    pub(crate) fn pane(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits until the screen satisfies `pred`; returns it.
    pub(crate) fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
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
        if name.starts_with("PUSHER_") || name.starts_with("TICKERTAPE_") {
            env.push_str(&format!(" -u '{name}'"));
        }
    }
    let home = home.display();
    env.push_str(&format!(
        " XDG_CONFIG_HOME='{home}' HOME='{home}' NO_COLOR=1"
    ));
    env
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
