//! The watcher's memory against a hostile server: big events into a stalled stdout stay
//! within the byte budget, and a message over `--max-message` is refused, reported and
//! counted before its payload is read.

use std::time::Duration;

use crate::support::Peer;
use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;

const EXIT: Duration = Duration::from_secs(10);
const MIB: u64 = 1 << 20;

/// A frame of about `size` bytes: an `update_event` whose data is one long JSON string.
fn big_event(size: usize) -> String {
    format!(
        r#"{{"event":"update_event","channel":"stock_ticker","data":"{{\"name\":\"{}\",\"price\":1}}"}}"#,
        "x".repeat(size)
    )
}

fn watch(port: u16, extra: &[&str]) -> Proc {
    let port = port.to_string();
    let mut args = vec![
        "watch",
        "stock_ticker",
        "--json",
        "--json-status",
        "--key",
        "app-key",
        "--port",
        &port,
    ];
    args.extend_from_slice(extra);
    Proc::spawn(bin::command().args(&args))
}

/// Before the byte budget, the engine's queue held 4096 items whatever their size: this
/// flood grew the process by hundreds of megabytes (5 GB in the field).
#[tokio::test]
async fn one_mb_events_into_a_stalled_stdout_stay_within_the_byte_budget() {
    let mut peer = Peer::start().await;
    // stdout is a pipe this test never reads.
    let mut watcher = watch(peer.addr.port(), &["--max-buffer", "16MiB"]);
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    let frame = big_event(900_000);
    let sent = tokio::time::timeout(Duration::from_secs(60), async {
        for _ in 0..250 {
            if !conn.try_send(&frame).await {
                return false;
            }
        }
        true
    })
    .await;
    assert_eq!(sent, Ok(true), "the watcher stopped reading the socket");
    // Give the engine time to take in what TCP still holds.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let peak = watcher.peak_rss();
    report(peak);
    // The budget, plus the 64 MB allowance for everything else (read buffers, the frame in
    // hand, the allocator, the binary itself).
    assert!(
        peak <= 16 * MIB + 64 * MIB,
        "peak RSS {} MiB for a 16 MiB budget",
        peak / MIB
    );
    // Once stdout is read again, the drop is reported, with its count.
    let mut stdout = watcher.child.stdout.take().expect("stdout");
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await;
    });
    let mut lines = watcher.take_stderr_lines();
    let dropped = tokio::time::timeout(EXIT, async {
        while let Some(line) = lines.recv().await {
            if line.contains(r#""type":"dropped""#) {
                return line;
            }
        }
        String::new()
    })
    .await
    .unwrap_or_default();
    let line: serde_json::Value = serde_json::from_str(&dropped)
        .unwrap_or_else(|_| panic!("no drop reported: {}", watcher.stderr()));
    assert!(line["total"].as_u64().unwrap() > 0, "{line}");
    watcher.terminate(EXIT).await;
}

#[tokio::test]
async fn a_message_over_max_message_is_refused_reported_and_counted() {
    let mut peer = Peer::start().await;
    let mut watcher = watch(peer.addr.port(), &["--count", "1"]);
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    // The client may refuse it from its header and close before the rest is sent.
    let _ = conn.try_send(&big_event(2 << 20)).await;
    // The client gives up on this connection and comes back.
    let mut again = subscribed(&mut peer, "stock_ticker").await;
    again.send(&big_event(10)).await;
    let status = watcher.wait(EXIT).await;
    assert!(status.success(), "{}", watcher.stderr());
    let stderr = watcher.stderr();
    let refusal = stderr
        .lines()
        .find(|l| l.contains(r#""type":"error""#) && l.contains("--max-message"))
        .unwrap_or_else(|| panic!("no refusal reported: {stderr}"));
    assert!(
        refusal.contains("1048576-byte limit") && refusal.contains("(1 so far)"),
        "{refusal}"
    );
}

#[tokio::test]
async fn max_message_raises_the_limit() {
    let mut peer = Peer::start().await;
    let watcher = watch(peer.addr.port(), &["--count", "1", "--max-message", "4MiB"]);
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    conn.send(&big_event(2 << 20)).await;
    let (code, stdout, stderr) = watcher.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.len() > 2 << 20, "the big event is printed");
}

/// What the test measured, for whoever reads the test's output.
#[allow(clippy::print_stderr)]
fn report(peak: u64) {
    eprintln!("peak RSS: {} MiB", peak / MIB);
}
