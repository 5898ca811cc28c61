//! Scripts of tests/interop run with Node, against the official Pusher SDKs installed there
//! (`npm ci` in tests/interop). Without them a test is skipped, unless
//! `TICKERTAPE_INTEROP=1` (as `.ci/run` sets after its `npm ci`) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A running Node script, read line by line from its stdout.
pub(crate) struct Script {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Script {
    /// `node tests/interop/NAME`, or `None` (after saying why) when the SDKs are not installed.
    pub(crate) fn start(name: &str) -> Option<Script> {
        let dir = interop_dir();
        if !dir.join("node_modules/pusher").is_dir() {
            assert!(
                std::env::var_os("TICKERTAPE_INTEROP").is_none(),
                "TICKERTAPE_INTEROP is set but tests/interop/node_modules is missing: npm ci there"
            );
            eprintln!("skipped: the Node SDKs are not installed (cd tests/interop && npm ci)");
            return None;
        }
        let mut child = Command::new("node")
            .arg(dir.join(name))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let stdout = child.stdout.take().expect("node's stdout");
        Some(Script {
            child,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The next line the script printed; panics after 10 s or at its end.
    pub(crate) async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("the node script printed nothing in time")
            .expect("read node's stdout")
            .expect("the node script ended")
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
