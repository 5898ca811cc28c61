//! Fault injection with real processes: `tickertape serve` killed with SIGKILL mid-flood and
//! restarted, frozen with SIGSTOP past the activity timeout, and cut half-open behind a TCP
//! proxy; `tickertape watch` and `tickertape stocks` must notice, say why, and recover.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;
use tokio::sync::mpsc;

use crate::support::bin::{self, Proc};
use crate::support::server::{KEY, SECRET, Server};

/// A loopback port that was free a moment ago (for a server that must come back on it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve_on(port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    Server::start_with(&["--listen", &listen, "--app", "1:app-key:app-secret"], &[]).await
}

fn signal(child: &Child, sig: &str) {
    let pid = child.id().expect("running").to_string();
    let ok = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// `tickertape watch --json --json-status` as a real process; stdout and stderr lines, parsed.
struct Watcher {
    _proc: Proc,
    lines: mpsc::UnboundedReceiver<Value>,
    seen: Vec<Value>,
}

impl Watcher {
    fn start(port: u16, channels: &[&str], extra: &[&str]) -> Watcher {
        let mut cmd = bin::command();
        cmd.arg("watch")
            .args(channels)
            .args(["--json", "--json-status", "--host", "127.0.0.1"])
            .args([
                "--port",
                &port.to_string(),
                "--key",
                KEY,
                "--secret",
                SECRET,
            ])
            .args(["--user-id", "u1"])
            .args(extra);
        let mut proc = Proc::spawn(&mut cmd);
        let (tx, lines) = mpsc::unbounded_channel();
        let parse = |line: String| -> Value {
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"))
        };
        let stdout = proc.child.stdout.take().unwrap();
        let out = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = out.send(parse(line));
            }
        });
        let mut stderr = proc.take_stderr_lines();
        tokio::spawn(async move {
            while let Some(line) = stderr.recv().await {
                let _ = tx.send(parse(line));
            }
        });
        Watcher {
            _proc: proc,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until `pred` holds for one; returns it.
    async fn until(
        &mut self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                _ => panic!("no {what} within {within:?}; saw {:#?}", self.seen),
            }
        }
    }

    /// Waits until every channel has been reported subscribed, in any order; returns when
    /// each was (in ms since the epoch).
    async fn subscribed(
        &mut self,
        channels: &[&str],
        within: Duration,
    ) -> std::collections::HashMap<String, u128> {
        let mut when = std::collections::HashMap::new();
        while when.len() < channels.len() {
            let v = self
                .until(&format!("subscriptions of {channels:?}"), within, |v| {
                    v["type"] == "subscription"
                        && v["status"] == "subscribed"
                        && channels.iter().any(|c| v["channel"] == *c)
                })
                .await;
            when.insert(
                v["channel"].as_str().unwrap().to_owned(),
                millis(&v["time"]),
            );
        }
        when
    }
}

impl Watcher {
    /// The connection ends with the reason "no pong" (only the heartbeat can tell).
    async fn pong_timeout(&mut self) {
        let down = self
            .until("the pong timeout", Duration::from_secs(10), |v| {
                v["type"] == "state" && v["previous"] == "connected"
            })
            .await;
        assert!(
            down["reason"].as_str().unwrap().contains("no pong"),
            "the state says why: {down}"
        );
    }

    /// Connected and subscribed again, and an event published now arrives.
    async fn recovered(&mut self, rest: &client::publish::RestClient) {
        self.until("the reconnect", Duration::from_secs(20), |v| {
            is_state(v, "connected")
        })
        .await;
        self.subscribed(&["stock_ticker"], Duration::from_secs(10))
            .await;
        rest.trigger(&["stock_ticker".into()], "after", "{}", None, None)
            .await
            .unwrap();
        self.until("an event after recovery", Duration::from_secs(5), |v| {
            v["event"] == "after"
        })
        .await;
    }
}

fn is_state(v: &Value, current: &str) -> bool {
    v["type"] == "state" && v["current"] == current
}

fn millis(rfc3339: &Value) -> u128 {
    let t = humantime::parse_rfc3339(rfc3339.as_str().expect("a time")).unwrap();
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test]
async fn kill_9_mid_flood_then_restart_resubscribes_every_channel_and_reports_losses() {
    let port = free_port();
    let server = serve_on(port).await;
    let channels = ["stock_ticker", "private-orders", "presence-lobby"];
    let mut w = Watcher::start(port, &channels, &[]);
    w.subscribed(&channels, Duration::from_secs(10)).await;

    // The flood: one event on all three channels every 5 ms, numbered; what the API answered
    // and when is kept for the check at the end.
    let rest = server.rest();
    let log = Arc::new(std::sync::Mutex::new(Vec::<(u64, bool, u128)>::new()));
    let stop = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (log, stop) = (log.clone(), stop.clone());
        let chans: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        tokio::spawn(async move {
            let mut seq = 0u64;
            while stop.load(Ordering::Relaxed) == 0 {
                let at = now_millis();
                let ok = rest
                    .trigger(&chans, "tick", &format!(r#"{{"seq":{seq}}}"#), None, None)
                    .await
                    .is_ok();
                log.lock().unwrap().push((seq, ok, at));
                seq += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    w.until("flood events", Duration::from_secs(10), |v| {
        v["event"] == "tick" && v["data"]["seq"].as_u64() >= Some(30)
    })
    .await;

    let mut server = server;
    server.proc.child.start_kill().unwrap(); // SIGKILL: no 4200, no close frame
    server.proc.child.wait().await.unwrap();
    let down = w
        .until("the disconnect", Duration::from_secs(5), |v| {
            v["type"] == "state" && v["previous"] == "connected"
        })
        .await;
    assert!(
        down["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "the state says why: {down}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = serve_on(port).await;

    w.until("the reconnect", Duration::from_secs(20), |v| {
        is_state(v, "connected")
    })
    .await;
    let back = w.subscribed(&channels, Duration::from_secs(10)).await;
    let last_back = *back.values().max().unwrap();
    // Events flow again on every channel after the restart.
    let mut flowing = std::collections::HashSet::new();
    while flowing.len() < 3 {
        let v = w
            .until("events after the restart", Duration::from_secs(10), |v| {
                v["event"] == "tick"
            })
            .await;
        if millis(&v["time"]) > last_back + 100 {
            flowing.insert(v["channel"].as_str().unwrap().to_owned());
        }
    }
    stop.store(1, Ordering::Relaxed);
    publisher.await.unwrap();
    // Drain what is still on its way.
    while let Ok(Some(v)) = tokio::time::timeout(Duration::from_millis(300), w.lines.recv()).await {
        w.seen.push(v);
    }

    let log = log.lock().unwrap().clone();
    let failed = log.iter().filter(|(_, ok, _)| !ok).count();
    assert!(
        failed > 0,
        "publishes while the server was down must fail, not vanish"
    );
    let down_at = millis(&down["time"]);
    for ch in channels {
        let got: std::collections::HashSet<u64> = w
            .seen
            .iter()
            .filter(|v| v["event"] == "tick" && v["channel"] == ch)
            .filter_map(|v| v["data"]["seq"].as_u64())
            .collect();
        for &(seq, ok, at) in &log {
            // Lost without a trace would be: accepted by the API while the watcher was
            // subscribed (before the crash, or after it resubscribed), yet never delivered.
            let while_subscribed = at + 500 < down_at || at > back[ch] + 2;
            assert!(
                got.contains(&seq) || !ok || !while_subscribed,
                "{ch}: event {seq} (published at {at}, accepted) never arrived; down at {down_at}, back at {}",
                back[ch]
            );
        }
    }
}

#[tokio::test]
async fn sigstop_past_the_activity_timeout_fires_the_pong_timeout_then_recovers() {
    let port = free_port();
    let server = serve_on(port).await;
    let mut w = Watcher::start(
        port,
        &["stock_ticker"],
        &["--activity-timeout", "1s", "--pong-timeout", "1s"],
    );
    w.subscribed(&["stock_ticker"], Duration::from_secs(10))
        .await;
    signal(&server.proc.child, "-STOP");
    // Resumed whether or not the check passes, so the server is never left stopped.
    let result = tokio::time::timeout(Duration::from_secs(10), w.pong_timeout()).await;
    signal(&server.proc.child, "-CONT");
    result.expect("the pong timeout");
    w.recovered(&server.rest()).await;
}

/// A TCP proxy. After `silence(n)`, its first n connections go silent both ways without
/// closing (half-open), while later connections are forwarded normally.
struct Proxy {
    port: u16,
    cut_before: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut_before = Arc::new(AtomicU64::new(0));
        let cut = cut_before.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Ok((down, _)) = listener.accept().await {
                n += 1;
                let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (dr, dw) = down.into_split();
                let (ur, uw) = up.into_split();
                tokio::spawn(pipe(dr, uw, n, cut.clone()));
                tokio::spawn(pipe(ur, dw, n, cut.clone()));
            }
        });
        Proxy { port, cut_before }
    }

    fn silence(&self, first: u64) {
        self.cut_before.store(first, Ordering::Relaxed);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    id: u64,
    cut_before: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if id <= cut_before.load(Ordering::Relaxed) {
            // Half-open: hold both sockets, forward nothing, never close.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_half_open_connection_is_detected_and_replaced() {
    let server = Server::start(&[]).await;
    let proxy = Proxy::start(server.addr.port()).await;
    let mut w = Watcher::start(
        proxy.port,
        &["stock_ticker"],
        &["--activity-timeout", "1s", "--pong-timeout", "1s"],
    );
    w.subscribed(&["stock_ticker"], Duration::from_secs(10))
        .await;
    let rest = server.rest();
    rest.trigger(&["stock_ticker".into()], "before", "{}", None, None)
        .await
        .unwrap();
    w.until("an event through the proxy", Duration::from_secs(5), |v| {
        v["event"] == "before"
    })
    .await;

    proxy.silence(1);
    // The event goes into the void: nothing closes, so only the heartbeat can tell.
    rest.trigger(&["stock_ticker".into()], "lost", "{}", None, None)
        .await
        .unwrap();
    w.pong_timeout().await;
    w.recovered(&rest).await;
    assert!(
        !w.seen.iter().any(|v| v["event"] == "lost"),
        "the cut event cannot have arrived"
    );
}

#[tokio::test]
async fn the_stock_publisher_reports_every_failed_publish_through_a_restart() {
    let port = free_port();
    let mut server = serve_on(port).await;
    let mut w = Watcher::start(port, &["stock_ticker"], &[]);
    w.subscribed(&["stock_ticker"], Duration::from_secs(10))
        .await;
    let mut cmd = bin::command();
    cmd.args(["stocks", "--interval", "50ms", "--host", "127.0.0.1"])
        .args([
            "--port",
            &port.to_string(),
            "--key",
            KEY,
            "--secret",
            SECRET,
        ])
        .args(["--app-id", "1"])
        .stdout(Stdio::null());
    let mut stocks = Proc::spawn(&mut cmd);
    let mut errors = stocks.take_stderr_lines();
    w.until("a price", Duration::from_secs(10), |v| {
        v["event"] == "update_event"
    })
    .await;

    server.proc.child.start_kill().unwrap();
    server.proc.child.wait().await.unwrap();
    // Each failed publish is said on stderr, and the publisher keeps going.
    let said = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .expect("a failed publish must be reported")
        .expect("stderr closed");
    assert!(said.starts_with("tickertape: stocks:"), "{said}");
    assert!(!said.contains(SECRET), "{said}");
    let _server = serve_on(port).await;
    w.until("the reconnect", Duration::from_secs(20), |v| {
        is_state(v, "connected")
    })
    .await;
    w.until("prices after the restart", Duration::from_secs(10), |v| {
        v["event"] == "update_event"
    })
    .await;
    assert!(
        stocks.child.try_wait().unwrap().is_none(),
        "stocks must survive the restart"
    );
}
