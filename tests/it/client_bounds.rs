//! The watcher against servers and endpoints that send too much: every map keyed by names
//! from the wire stays within its caps (resident memory under a flood of 1 MB names), presence
//! members are cut and budgeted, a grant too big to send fails only its subscription, and
//! noise (drops, discovery notices) is coalesced.

use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;
use crate::support::server::Server;
use crate::support::tmux::{Tmux, clean_env, files};
use crate::support::{Peer, http_endpoint};

const MIB: u64 = 1 << 20;

/// A 900 KB `channel_data` made `serve` close the socket (1009), and the client reconnected and
/// asked the auth endpoint again about once a second, forever. Now the grant is refused before
/// it is sent: that subscription fails with the reason, and the connection stays.
#[tokio::test]
async fn an_oversized_grant_fails_its_subscription_and_is_not_asked_again() {
    let server = Server::start(&[]).await;
    let channel_data = serde_json::json!({
        "user_id": "ann",
        "user_info": { "bio": "x".repeat(900_000) },
    })
    .to_string();
    let grant =
        serde_json::json!({ "auth": "app-key:00", "channel_data": channel_data }).to_string();
    let (url, mut requests) = http_endpoint(vec![(200, grant); 30]).await;
    let port = server.addr.port().to_string();
    let proc = Proc::spawn(bin::command().args([
        "watch",
        "presence-lobby",
        "--json",
        "--json-status",
        "--key",
        "app-key",
        "--port",
        &port,
        "--auth-endpoint",
        &url,
        "--timeout",
        "6s",
    ]));
    let (code, _, stderr) = proc.finish(Duration::from_secs(15)).await;
    let mut asked = 0;
    while requests.try_recv().is_ok() {
        asked += 1;
    }
    let connected = stderr
        .lines()
        .filter(|l| l.contains(r#""current":"connected""#))
        .count();
    assert_eq!(
        (code, asked, connected),
        (0, 1, 1),
        "one grant asked for, one connection in 6 s:\n{stderr}"
    );
    let failed = stderr
        .lines()
        .find(|l| l.contains(r#""status":"failed""#))
        .unwrap_or_else(|| panic!("no failure said:\n{stderr}"));
    assert!(
        failed.contains("over the 10000") && failed.contains("channel_data"),
        "{failed}"
    );
    server.terminate().await;
}

/// How many events with distinct names of a megabyte the flood sends. Before the names were
/// cut, each was kept whole (the engine's per-event counters, `--summary`, the metrics'
/// overflow): this many held over 400 MB.
const FLOOD: usize = 400;

/// The flood: `FLOOD` events on `stock_ticker` named `e{n}xxxx…` (1 MB each), then one
/// `done`. False if the watcher went away.
async fn flood_of_names(peer: &mut Peer) -> bool {
    let mut conn = subscribed(peer, "stock_ticker").await;
    let x = "x".repeat(1_000_000);
    for n in 0..FLOOD {
        let frame = format!(r#"{{"event":"e{n}{x}","channel":"stock_ticker","data":"{{}}"}}"#);
        if !conn.try_send(&frame).await {
            return false;
        }
    }
    conn.try_send(r#"{"event":"done","channel":"stock_ticker","data":"{}"}"#)
        .await
}

/// Linux's peak resident set (`VmHWM`) of a process this test started, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The documented worst case of `watch --json` (docs/src/reference/limits.md, Client limits): base (15 MB) +
/// `--max-buffer` + the backlog (4 MiB) + 3 × `--max-message` + stdout (0.6 MiB) + the maps
/// of names from the wire (32 MiB at most, members included).
fn json_worst_case(max_buffer: u64) -> u64 {
    15_000_000 + max_buffer + 4 * MIB + 3 * MIB + MIB * 6 / 10 + 32 * MIB
}

#[allow(clippy::print_stderr)]
fn report(what: &str, peak: u64, bound: u64) {
    eprintln!(
        "{what}: peak RSS {} MiB (worst case {} MiB)",
        peak / MIB,
        bound / MIB
    );
}

/// `watch --json` with every tap that keeps names (hints with `--bind`, `--metrics`), and
/// `--summary`, each fed events with distinct 1 MB names: resident memory
/// stays under the documented worst case.
#[tokio::test]
async fn megabyte_event_names_stay_within_the_worst_case_headless() {
    for summary in [false, true] {
        let mut peer = Peer::start().await;
        let port = peer.addr.port().to_string();
        let mut cmd = bin::command();
        cmd.args(["watch", "stock_ticker", "--key", "app-key", "--port", &port])
            .args(["--max-buffer", "16MiB"]);
        if summary {
            cmd.args(["--summary"]);
        } else {
            cmd.args([
                "--json",
                "--bind",
                "update_event=log",
                "--metrics",
                "127.0.0.1:0",
            ]);
        }
        let mut watcher = Proc::spawn(&mut cmd);
        let mut stdout = watcher.child.stdout.take().expect("stdout");
        let drain = tokio::spawn(async move {
            let mut seen = Vec::new();
            let _ = tokio::io::copy(&mut stdout, &mut seen).await;
            seen
        });
        let sent = tokio::time::timeout(Duration::from_secs(120), flood_of_names(&mut peer)).await;
        assert_eq!(sent, Ok(true), "the watcher stopped reading");
        // What TCP still holds is taken in, then the peak is read.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let peak = watcher.peak_rss();
        let status = watcher.terminate(Duration::from_secs(10)).await;
        let out = drain.await.unwrap();
        assert!(status.success(), "{}", watcher.stderr());
        let bound = json_worst_case(16 * MIB);
        report(if summary { "--summary" } else { "--json" }, peak, bound);
        assert!(peak > 0 && peak <= bound, "peak RSS {} MiB", peak / MIB);
        if summary {
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let names = v["channels"]["stock_ticker"].as_object().unwrap();
            assert!(names.keys().all(|k| k.chars().count() <= 201));
            assert!(v["events"].as_u64().unwrap() > 0, "{v}");
        }
    }
}

/// The dashboard (in tmux, at 80×24) fed the same flood with `--log-capacity 10`: it grew by
/// 110 MB/s, to 2.8 GB, before the names were cut. Its worst case adds `--log-bytes`, the
/// ticker (about 5 MB) and the screen's maps of names (23 MiB) to `watch --json`'s.
#[tokio::test(flavor = "multi_thread")]
async fn megabyte_event_names_stay_within_the_worst_case_on_the_dashboard() {
    let mut peer = Peer::start().await;
    let port = peer.addr.port();
    let (home, stderr_file, _) = files("names-flood");
    let command = format!(
        "{} {} watch stock_ticker --key app-key --host 127.0.0.1 --port {port} \
         --max-buffer 16MiB --log-capacity 10 --log-bytes 4194304 2> {}; true",
        clean_env(&home),
        bin::BIN,
        stderr_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    let pid = tmux.program_pid();
    let sent = tokio::time::timeout(Duration::from_secs(120), flood_of_names(&mut peer)).await;
    assert_eq!(sent, Ok(true), "the dashboard stopped reading");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let screen = tmux.wait("the flood on the screen", |s| {
        s.contains("e399") || s.contains("done")
    });
    let peak = peak_rss(pid);
    let bound = json_worst_case(16 * MIB) + 4 * MIB + 5_000_000 + 23 * MIB;
    report("dashboard", peak, bound);
    assert!(
        peak > 0 && peak <= bound,
        "peak RSS {} MiB:\n{screen}",
        peak / MIB
    );
    tmux.keys(&["q"]);
}

/// 8000 members of 40 KB each held 330 MB: `user_info` had no limit, nor the list in bytes.
/// Now each member's info is cut to 2 KiB (and says so) and a connection's members share
/// 16 MiB, so the watcher stays under its worst case; the members it lists are counted.
#[tokio::test]
async fn presence_members_of_40_kb_are_cut_and_their_list_is_budgeted() {
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut watcher = Proc::spawn(bin::command().args([
        "watch",
        "presence-lobby",
        "--json",
        "--json-status",
        "--key",
        "app-key",
        "--secret",
        "app-secret",
        "--port",
        &port,
        "--max-buffer",
        "16MiB",
    ]));
    let mut conn = peer.conn().await;
    conn.establish("1.2", 120).await;
    let _ = conn.expect_subscribe().await;
    conn.send(
        &serde_json::json!({
            "event": "pusher_internal:subscription_succeeded",
            "channel": "presence-lobby",
            "data": serde_json::json!({"presence": {"ids": [], "hash": {}, "count": 0}}).to_string(),
        })
        .to_string(),
    )
    .await;
    let bio = "b".repeat(40_000);
    let sent = tokio::time::timeout(Duration::from_secs(120), async {
        for n in 0..8000 {
            let data =
                serde_json::json!({ "user_id": format!("user-{n}"), "user_info": { "bio": bio } });
            let frame = serde_json::json!({
                "event": "pusher_internal:member_added",
                "channel": "presence-lobby",
                "data": data.to_string(),
            });
            if !conn.try_send(&frame.to_string()).await {
                return false;
            }
        }
        true
    })
    .await;
    assert_eq!(sent, Ok(true), "the watcher stopped reading");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak = watcher.peak_rss();
    watcher.terminate(Duration::from_secs(10)).await;
    let bound = json_worst_case(16 * MIB);
    report("members", peak, bound);
    assert!(peak <= bound, "peak RSS {} MiB", peak / MIB);
    // A channel's 4 MiB listed about 1900 members (about 2.2 KiB each as cut), not all.
    let stderr = watcher.stderr();
    let last_count = stderr
        .lines()
        .filter(|l| l.contains(r#""type":"member_added""#))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["count"].as_u64())
        .max()
        .unwrap_or(0);
    assert!(
        (1500..8000).contains(&last_count),
        "{last_count} members listed"
    );
}

/// With a full buffer, `--json-status` wrote one `dropped` line per dropped event. Now at most
/// one a second per connection, each with the running total.
#[tokio::test]
async fn drops_are_said_at_most_once_a_second() {
    use tokio::io::AsyncReadExt;
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut watcher = Proc::spawn(bin::command().args([
        "watch",
        "stock_ticker",
        "--json",
        "--json-status",
        "--key",
        "app-key",
        "--port",
        &port,
        "--max-buffer",
        "1MiB",
    ]));
    // A reader that takes a little now and then: room comes back, and drops go on.
    let mut stdout = watcher.child.stdout.take().expect("stdout");
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 << 10];
        while matches!(stdout.read(&mut buf).await, Ok(n) if n > 0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    let data = "x".repeat(4000);
    let frame = format!(r#"{{"event":"e","channel":"stock_ticker","data":"{data}"}}"#);
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        for _ in 0..100 {
            assert!(conn.try_send(&frame).await, "the watcher went away");
        }
        tokio::task::yield_now().await;
    }
    let seconds = started.elapsed().as_secs() + 2;
    tokio::time::sleep(Duration::from_millis(500)).await;
    watcher.terminate(Duration::from_secs(10)).await;
    reader.abort();
    let stderr = watcher.stderr();
    let totals: Vec<u64> = stderr
        .lines()
        .filter(|l| l.contains(r#""type":"dropped""#))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["total"].as_u64())
        .collect();
    assert!(
        !totals.is_empty(),
        "nothing was dropped: the test proves nothing"
    );
    assert!(
        totals.len() as u64 <= seconds,
        "{} dropped lines in about {seconds} s (totals {:?}…)",
        totals.len(),
        &totals[..totals.len().min(10)]
    );
    assert!(
        totals.windows(2).all(|w| w[0] < w[1]),
        "running totals: {totals:?}"
    );
}
