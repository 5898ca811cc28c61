//! Several connections in one `watch`: the credentials every node shares, `--node NAME=URL`
//! flags for real `tickertape serve` processes, a free port for `--metrics` (which says
//! nothing on stderr with `--json-status`), and the wait for one JSON line on stderr.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::server::{KEY, SECRET, Server};

/// The app every test server has: `--key`, `--secret`, `--app-id`.
pub(crate) fn creds() -> [&'static str; 6] {
    ["--key", KEY, "--secret", SECRET, "--app-id", "1"]
}

/// `--node NAME=ws://…` for each named server.
pub(crate) fn named_nodes(nodes: &[(&str, &Server)]) -> Vec<String> {
    nodes
        .iter()
        .flat_map(|(name, server)| ["--node".to_owned(), format!("{name}={}", server.node())])
        .collect()
}

/// A loopback port free a moment ago.
pub(crate) fn free_port() -> u16 {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    taken.local_addr().expect("its address").port()
}

/// Reads stderr lines (5 s at most) until one is a JSON object that `matches`; returns it.
pub(crate) async fn json_line_where(
    lines: &mut mpsc::UnboundedReceiver<String>,
    what: &str,
    matches: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.recv())
            .await
            .unwrap_or_else(|_| panic!("no line on stderr with {what} in time"))
            .unwrap_or_else(|| panic!("stderr ended before {what}"));
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && matches(&v)
        {
            return v;
        }
    }
}
