//! A misbehaving Pusher node as a real process on 127.0.0.1: `rogue.mjs` beside this file,
//! run with Node (its own modules only, so it needs no `npm ci`). See the script for the
//! modes: `drop` (drops every connection after a while), `mute` (never answers a
//! subscription or a publish), `deaf` (takes publishes and never delivers them), `flood`
//! (sends big events on every channel as fast as the socket takes them).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) struct Rogue {
    pub port: u16,
    child: Child,
}

impl Rogue {
    /// `node rogue.mjs ARGS`, once it listens.
    pub(crate) async fn start(args: &[&str]) -> Rogue {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/rogue.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node (the rogue node needs Node.js)");
        let stdout = child.stdout.take().expect("node's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the rogue node said nothing in time")
            .expect("read the rogue node's stdout")
            .expect("the rogue node ended");
        let port = line
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Rogue { port, child }
    }

    /// Its WebSocket URL, for `--node`.
    pub(crate) fn node(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Stops it (by its own handle, so only this process).
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
