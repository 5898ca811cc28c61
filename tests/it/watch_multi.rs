//! Several connections in one `watch`: `--node URL` and `--profile NAME` given more than once,
//! against two real `tickertape serve` processes, each a "node" (and, for the flood, a node
//! in Node that sends 100 KB events as fast as it can). Every item is labelled with
//! its connection (in `--json`, `--json-status`, recordings and the dashboard), one connection
//! looks exactly as before, and bad setups are refused before anything starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

use crate::support::bin::{self, Proc};
use crate::support::dashboard::{render, two_connections};
use crate::support::metrics::{Page, scrape_until};
use crate::support::multi::{creds, free_port, json_line_where, named_nodes};
use crate::support::rogue::Rogue;
use crate::support::server::{SECRET, Server};
use tui::watch::Options;

const EXIT: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(5);

/// The next stdout line as JSON.
async fn next_json(out: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(WAIT, out.next_line())
        .await
        .expect("no line in time")
        .expect("read stdout")
        .expect("stdout closed");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// The label a `--node` connection gets.
fn label(server: &Server) -> String {
    format!("127.0.0.1:{}", server.addr.port())
}

#[tokio::test]
async fn two_nodes_deliver_each_with_its_connection_label() {
    let (a, b) = (Server::start(&[]).await, Server::start(&[]).await);
    let mut child = Proc::spawn(
        bin::command()
            .args([
                "watch",
                "stock_ticker",
                "--json",
                "--json-status",
                "--count",
                "2",
            ])
            .args(["--node", &a.node(), "--node", &b.node()])
            .args(creds()),
    );
    a.wait_subscribers("stock_ticker", 1).await;
    b.wait_subscribers("stock_ticker", 1).await;
    a.publish("stock_ticker", "update_event", r#"{"from":"a"}"#)
        .await;
    let mut out = BufReader::new(child.child.stdout.take().unwrap()).lines();
    let first = next_json(&mut out).await;
    b.publish("stock_ticker", "update_event", r#"{"from":"b"}"#)
        .await;
    let second = next_json(&mut out).await;
    assert_eq!(first["connection"], label(&a), "{first}");
    assert_eq!(first["data"]["from"], "a");
    assert_eq!(second["connection"], label(&b), "{second}");
    assert_eq!(second["data"]["from"], "b");
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    // Every status line says which connection it is about; both connected.
    let states: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    assert!(
        states.iter().all(|v| v["connection"].is_string()),
        "{stderr}"
    );
    for server in [&a, &b] {
        assert!(
            states
                .iter()
                .any(|v| v["current"] == "connected" && v["connection"] == label(server)),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn two_profiles_are_two_connections_named_after_them_and_a_recording_keeps_the_names() {
    let (a, b) = (Server::start(&[]).await, Server::start(&[]).await);
    let home = bin::home_with_config(
        "multi-profiles",
        &format!("{}{}", a.profile("prod-eu"), b.profile("prod-us")),
    );
    let recording = home.join("two.ndjson");
    let mut child = Proc::spawn(
        bin::command_in(&home)
            .args(["watch", "stock_ticker", "--json", "--count", "2"])
            .args(["--profile", "prod-eu", "--profile", "prod-us"])
            .arg("--record")
            .arg(&recording),
    );
    a.wait_subscribers("stock_ticker", 1).await;
    b.wait_subscribers("stock_ticker", 1).await;
    a.publish("stock_ticker", "update_event", r#"{"n":1}"#)
        .await;
    let mut out = BufReader::new(child.child.stdout.take().unwrap()).lines();
    let eu = next_json(&mut out).await;
    b.publish("stock_ticker", "update_event", r#"{"n":2}"#)
        .await;
    let us = next_json(&mut out).await;
    assert_eq!(
        (&eu["connection"], &us["connection"]),
        (&"prod-eu".into(), &"prod-us".into())
    );
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");

    // The replay shows each event's and each state's connection.
    let replay = Proc::spawn(bin::command_in(&home).arg("replay").arg(&recording).args([
        "--json",
        "--json-status",
        "--max",
    ]));
    let (code, stdout, stderr) = replay.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let labels: Vec<&Value> = events.iter().map(|v| &v["connection"]).collect();
    assert_eq!(labels, ["prod-eu", "prod-us"], "{stdout}");
    for name in ["prod-eu", "prod-us"] {
        assert!(
            stderr.lines().any(|l| l.contains("\"connected\"")
                && l.contains(&format!("\"connection\":\"{name}\""))),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn a_stopped_node_reconnects_while_the_other_keeps_delivering() {
    let (a, b) = (Server::start(&[]).await, Server::start(&[]).await);
    // Named nodes (NAME=URL) are labelled with their names.
    let (label_a, label_b) = ("eu", "us");
    let mut child = Proc::spawn(
        bin::command()
            .args(["watch", "stock_ticker", "--json", "--json-status"])
            .args(named_nodes(&[(label_a, &a), (label_b, &b)]))
            .args(creds()),
    );
    a.wait_subscribers("stock_ticker", 1).await;
    b.wait_subscribers("stock_ticker", 1).await;
    let mut states = child.take_stderr_lines();
    a.terminate().await;
    // The first connection says it is down and retrying...
    json_line_where(&mut states, "the stopped node retrying", |v| {
        v["connection"] == label_a
            && v["type"] == "state"
            && v["current"] != "connected"
            && v["retry_in_ms"].is_u64()
    })
    .await;
    // ...while the other still delivers.
    b.publish("stock_ticker", "update_event", r#"{"still":"here"}"#)
        .await;
    let mut out = BufReader::new(child.child.stdout.take().unwrap()).lines();
    let ev = next_json(&mut out).await;
    assert_eq!(ev["connection"], label_b, "{ev}");
    assert_eq!(ev["data"]["still"], "here");
    let status = child.terminate(EXIT).await;
    assert_eq!(status.code(), Some(0));
}

/// `--expect connected<1s` and `--metrics` with two nodes: the one killed is named in the
/// alert and shown down on the metrics page, and the other stays up.
#[tokio::test]
async fn a_killed_node_is_named_in_the_alert_and_shown_down_in_the_metrics() {
    let (mut eu, us) = (Server::start(&[]).await, Server::start(&[]).await);
    let metrics = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut child = Proc::spawn(
        bin::command()
            .args(["watch", "stock_ticker", "--json", "--json-status"])
            .args([
                "--expect",
                "connected<1s",
                "--metrics",
                &metrics.to_string(),
            ])
            .args(named_nodes(&[("eu", &eu), ("us", &us)]))
            .args(creds()),
    );
    eu.wait_subscribers("stock_ticker", 1).await;
    us.wait_subscribers("stock_ticker", 1).await;
    us.publish("stock_ticker", "update_event", r#"{"n":1}"#)
        .await;
    let up = |p: &Page, conn: &str| {
        p.value(&format!(
            r#"tickertape_watch_connected{{connection="{conn}"}}"#
        )) == Some(1.0)
    };
    scrape_until(metrics, "both connections up and us's event", |p| {
        up(p, "eu")
            && up(p, "us")
            && p.value(
                r#"tickertape_watch_events_total{connection="us",channel="stock_ticker",event="update_event"}"#,
            ) == Some(1.0)
    })
    .await;
    let mut lines = child.take_stderr_lines();
    bin::signal(eu.proc.pid(), "-KILL");
    eu.proc.wait(EXIT).await;

    let alert = json_line_where(&mut lines, "eu's alert", |v| {
        v["type"] == "expectation" && v["state"] == "alert" && v["connection"] == "eu"
    })
    .await;
    assert_eq!(alert["expectation"], "connected<1s", "{alert}");
    assert!(
        alert["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("down for")),
        "{alert}"
    );
    let page = scrape_until(metrics, "eu down, us up", |p| {
        p.value(r#"tickertape_watch_connected{connection="eu"}"#) == Some(0.0) && up(p, "us")
    })
    .await;
    assert_eq!(
        page.get(r#"tickertape_watch_connection_state{connection="us",state="connected"}"#),
        1.0
    );
    assert_eq!(
        page.get(r#"tickertape_watch_connection_state{connection="eu",state="connected"}"#),
        0.0
    );
    let reconnects = page.samples("tickertape_watch_reconnects_total");
    assert!(
        reconnects.iter().any(|l| l.contains(r#"connection="eu""#))
            && !reconnects.iter().any(|l| l.contains(r#"connection="us""#)),
        "{reconnects:?}"
    );
    page.promtool_check();
    let status = child.terminate(EXIT).await;
    assert_eq!(status.code(), Some(0));
    // eu's going down left us alone: if us was ever late to connect, it recovered then.
    let stderr = child.stderr();
    let last_us = stderr
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "expectation" && v["connection"] == "us");
    assert!(
        last_us.is_none_or(|v| v["state"] == "recovered"),
        "{stderr}"
    );
}

#[tokio::test]
async fn one_connection_is_not_labelled() {
    let a = Server::start(&[]).await;
    let mut child = Proc::spawn(
        bin::command()
            .args([
                "watch",
                "stock_ticker",
                "--json",
                "--json-status",
                "--count",
                "1",
            ])
            .args(["--node", &a.node()])
            .args(creds()),
    );
    a.wait_subscribers("stock_ticker", 1).await;
    a.publish("stock_ticker", "update_event", r#"{"n":1}"#)
        .await;
    let mut out = BufReader::new(child.child.stdout.take().unwrap()).lines();
    let ev = next_json(&mut out).await;
    let keys: Vec<&str> = ev.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["time", "channel", "event", "data"], "{ev}");
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("\"connection\""), "{stderr}");
}

#[tokio::test]
async fn too_many_connections_and_bad_profiles_are_refused_before_connecting() {
    // Seventeen nodes: a usage error (2), before any connection.
    let nodes: Vec<String> = (1..=17)
        .flat_map(|p| ["--node".to_owned(), format!("ws://127.0.0.1:{p}")])
        .collect();
    let child = Proc::spawn(
        bin::command()
            .args(["watch", "a"])
            .args(&nodes)
            .args(creds()),
    );
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("at most 16"), "{stderr}");

    let a = Server::start(&[]).await;
    // An unknown profile among several is named, with the known ones.
    let home = bin::home_with_config(
        "multi-bad",
        &format!(
            "{}[profiles.keyless]\nhost = \"127.0.0.1\"\nport = {}\nsecret = \"hush-{SECRET}\"\n",
            a.profile("prod-eu"),
            a.addr.port()
        ),
    );
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--json",
        "--profile",
        "prod-eu",
        "--profile",
        "prod-us",
    ]));
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no profile \"prod-us\"") && stderr.contains("prod-eu"),
        "{stderr}"
    );
    // An incomplete one (no key) is named too, and its secret is not printed.
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--json",
        "--profile",
        "prod-eu",
        "--profile",
        "keyless",
    ]));
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("profile \"keyless\"") && stderr.contains("no app key"),
        "{stderr}"
    );
    assert!(!stderr.contains("hush-"), "{stderr}");
    // Nothing connected to the server.
    let info = a
        .rest()
        .channel("a", Some("subscription_count"))
        .await
        .unwrap();
    assert_ne!(info["subscription_count"], 1, "{info}");
}

/// Each connection has its own state in the status bar, and each row and line its label:
/// the same symbol from two environments is two rows.
#[test]
fn snapshot_two_connections_at_80x24() {
    let t0 = Instant::now();
    let s = two_connections(t0, Options::default());
    let now = t0 + Duration::from_secs(7);
    let screen = render(&s, now, 80, 24);
    insta::assert_snapshot!("two_connections_80x24", screen.backend());
    let text = format!("{:?}", screen.backend());
    assert!(
        text.contains("eu/ACME") && text.contains("us/ACME"),
        "{text}"
    );
    assert!(
        text.contains("eu ● connected") && text.contains("us ○ reconnecting"),
        "{text}"
    );
    // Narrow: the states shrink to the labels and their marks.
    let narrow = format!("{:?}", render(&s, now, 60, 24).backend());
    assert!(narrow.contains("eu●") && narrow.contains("us○"), "{narrow}");
}

/// Fairness: one connection floods with 100 KB events (a node that sends them as fast as the
/// socket takes them) into a stdout read slowly, and the other connection's server is
/// killed. `--expect connected<2s` names the killed one within its grace (and a tick), as if
/// nothing else were happening: its state does not wait behind the flood's events, and the
/// expectations keep judging while the output is slow.
#[tokio::test(flavor = "multi_thread")]
async fn a_flood_on_one_connection_never_delays_the_alert_of_anothers_outage() {
    let flood = Rogue::start(&["flood", "102400"]).await;
    let mut quiet = Server::start(&[]).await;
    let mut child = Proc::spawn(
        bin::command()
            .args(["watch", "stock_ticker", "--json", "--json-status"])
            .args(["--expect", "connected<2s", "--max-buffer", "8MiB"])
            .args(["--node", &format!("flood={}", flood.node())])
            .args(named_nodes(&[("quiet", &quiet)]))
            .args(creds()),
    );
    quiet.wait_subscribers("stock_ticker", 1).await;
    let mut lines = child.take_stderr_lines();
    // stdout is read, slowly: 4 KiB every 20 ms.
    let mut stdout = child.child.stdout.take().unwrap();
    let read = Arc::new(AtomicUsize::new(0));
    let reading = tokio::spawn({
        let read = read.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf).await {
                read.fetch_add(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    // Long enough for the flood to fill every buffer on its way to stdout (8 MiB, about
    // 80 events, and stdout's).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        read.load(Ordering::Relaxed) > 200 * 1024,
        "the flood is too thin: {read:?} bytes on stdout"
    );
    bin::signal(quiet.proc.pid(), "-KILL");
    let killed = Instant::now();
    quiet.proc.wait(EXIT).await;
    let alert = json_line_where(&mut lines, "quiet's alert", |v| {
        v["type"] == "expectation" && v["state"] == "alert" && v["connection"] == "quiet"
    })
    .await;
    let took = killed.elapsed();
    assert!(
        took < Duration::from_millis(4500),
        "the alert came {took:?} after the kill: {alert}"
    );
    assert!(
        alert["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("down for 2.")),
        "{alert}"
    );
    let status = child.terminate(EXIT).await;
    reading.abort();
    assert_eq!(status.code(), Some(0));
    let stderr = child.stderr();
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("\"alert\"") && l.contains("\"connection\":\"flood\"")),
        "the flooding connection stayed up:\n{stderr}"
    );
}

/// `watch` and `probe` resolve `--node` in one place: the same mistake is the same usage
/// error (2), said the same way, before anything connects. Two names for one node are one
/// node given twice.
#[tokio::test]
async fn watch_and_probe_refuse_one_node_given_twice_alike() {
    let a = Server::start(&[]).await;
    let twice = [
        "--node".to_owned(),
        format!("eu={}", a.node()),
        "--node".to_owned(),
        format!("us={}", a.node()),
    ];
    let mut said = Vec::new();
    for command in [
        &["watch", "stock_ticker", "--json"][..],
        &["probe", "--lines"][..],
    ] {
        let child = Proc::spawn(bin::command().args(command).args(&twice).args(creds()));
        let (code, _, stderr) = child.finish(EXIT).await;
        assert_eq!(code, 2, "{command:?}: {stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains("given twice"))
            .unwrap_or_else(|| panic!("{command:?}: {stderr}"));
        said.push(line.to_owned());
    }
    assert_eq!(said[0], said[1]);
    assert!(said[0].contains("--node us is given twice"), "{said:?}");
    let info = a
        .rest()
        .channel("stock_ticker", Some("subscription_count"))
        .await
        .unwrap();
    assert_ne!(info["subscription_count"], 1, "nothing connected: {info}");
}
