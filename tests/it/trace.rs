//! `tickertape trace` against real `tickertape serve` processes on 127.0.0.1. Two servers
//! are not a cluster, but they are the single-process parts: the plan, the report's words,
//! and the exit codes on a node that never receives what the other is given.

use std::time::Duration;

use serde_json::Value;

use crate::support::bin::{Proc, command};
use crate::support::server::{KEY, SECRET, Server};

const EXIT: Duration = Duration::from_secs(20);

fn trace(nodes: &[(&str, &Server)], extra: &[&str]) -> tokio::process::Command {
    let mut cmd = command();
    cmd.args(["trace", "--key", KEY, "--app-id", "1", "--secret", SECRET]);
    for (name, s) in nodes {
        cmd.args(["--node", &format!("{name}={}", s.node())]);
    }
    cmd.args(extra);
    cmd
}

#[tokio::test]
async fn one_node_that_receives_is_ok_with_each_hop_timed() {
    let a = Server::start(&[]).await;
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a)],
        &["orders", "--bind", "tickertape_trace=log"],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("published through a"), "{stdout}");
    assert!(stdout.contains("received on a"), "{stdout}");
    // What the server counted, said as what it is: a count made just after publishing.
    assert!(
        stdout.contains("the server counted 1 subscribers just after publishing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("OK: received on every node (1 of 1)"),
        "{stdout}"
    );
    // Hop 4: the binding, with watch's name hints.
    assert!(
        stdout.contains("did you mean tickertape_trace?"),
        "{stdout}"
    );
    assert!(stdout.contains("traceparent 00-"), "{stdout}");
}

#[tokio::test]
async fn a_node_that_never_receives_is_named_and_exits_1() {
    // Two independent servers: what is published through a never reaches b.
    let (a, b) = (Server::start(&[]).await, Server::start(&[]).await);
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a), ("b", &b)],
        &["orders", "--wait", "1s"],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("never received on b (b is connected and subscribed)"),
        "{stdout}"
    );
    assert!(stdout.contains("received on a after"), "{stdout}");
    assert!(stdout.contains("FAILED: a: 1 of 1, b: 0 of 1"), "{stdout}");
}

#[tokio::test]
async fn repeated_rounds_report_per_node_as_json() {
    let (a, b) = (Server::start(&[]).await, Server::start(&[]).await);
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a), ("b", &b)],
        &[
            "private-orders",
            "--count",
            "3",
            "--interval",
            "100ms",
            "--wait",
            "1s",
            "--json",
        ],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    for (i, round) in lines[..3].iter().enumerate() {
        assert_eq!(round["seq"], i as u64 + 1);
        assert_eq!(round["publish"]["ok"], true);
        assert_eq!(round["nodes"][0]["received"], true);
        assert_eq!(round["nodes"][1]["received"], false);
        assert_eq!(round["reached_all"], false);
        assert!(
            round["failed"]
                .as_str()
                .unwrap()
                .contains("never received on b")
        );
    }
    let s = &lines[3]["summary"];
    assert_eq!(s["nodes"][0]["received"], 3);
    assert_eq!(s["nodes"][1]["received"], 0);
    assert_eq!(s["reached_all"], false);
}

#[tokio::test]
async fn a_node_never_reached_is_named() {
    let a = Server::start(&[]).await;
    let port = crate::support::multi::free_port();
    let mut cmd = trace(&[("a", &a)], &["orders", "--wait", "1s"]);
    cmd.args(["--node", &format!("down=ws://127.0.0.1:{port}")]);
    let (code, stdout, _) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("never received on down (down is not connected)"),
        "{stdout}"
    );
    assert!(!stdout.contains(SECRET), "{stdout}");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let a = Server::start(&[]).await;
    for args in [
        &["presence-room"][..],
        &["orders", "--tap", "rediss://u:pw-123@127.0.0.1:1"],
        &["orders", "--count", "0"],
    ] {
        let (code, _, stderr) = Proc::spawn(&mut trace(&[("a", &a)], args))
            .finish(EXIT)
            .await;
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("pw-123"), "{stderr}");
    }
}

/// A node whose webhooks are signed with `secret` and sent to `port`, if any.
async fn hooked_node(secret: &str, port: Option<u16>) -> Server {
    let app = format!("1:{KEY}:{secret}");
    let url = port.map(|p| format!("http://127.0.0.1:{p}/hooks"));
    let mut args = vec!["--listen", "127.0.0.1:0", "--app", &app];
    if let Some(url) = &url {
        args.extend(["--webhook", url.as_str()]);
    }
    Server::start_with(&args, &[]).await
}

#[tokio::test]
async fn webhooks_that_arrive_and_verify_are_hop_5() {
    let port = crate::support::multi::free_port();
    let a = hooked_node(SECRET, Some(port)).await;
    let listen = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a)],
        &["orders", "--webhooks-listen", &listen],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("received on a"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "webhooks on http://{listen}/, times from the first publish"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("channel_occupied of orders on")
            && stdout.contains("signature verified (key app-key)")
            && stdout.contains("OK: the server's webhooks reach"),
        "{stdout}"
    );

    // JSON: one object for the hop, before the summary.
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a)],
        &["orders2", "--webhooks-listen", &listen, "--json"],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hooks = &lines[lines.len() - 2]["webhooks"];
    assert_eq!(hooks["ok"], true, "{stdout}");
    assert_eq!(hooks["verified"], true, "{stdout}");
    assert_eq!(hooks["channel"], "orders2", "{stdout}");
    assert!(hooks["ms"].is_f64(), "{stdout}");
}

#[tokio::test]
async fn webhooks_with_another_secret_fail_naming_the_signature() {
    let port = crate::support::multi::free_port();
    let theirs = "th31r-s3cret-9c1d";
    let a = hooked_node(theirs, Some(port)).await;
    // The REST API refuses trace's secret too; the webhooks, signed by the node, agree.
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = trace(&[("a", &a)], &["orders", "--webhooks-listen", &listen]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("FAILED: its signature does not verify")
            && stdout.contains("the secret is never shown"),
        "{stdout}"
    );
    for secret in [SECRET, theirs] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{stdout}{stderr}"
        );
        let hex = hex::encode(secret);
        assert!(
            !stdout.contains(&hex) && !stderr.contains(&hex),
            "{stdout}{stderr}"
        );
    }
}

#[tokio::test]
async fn no_webhook_within_the_wait_fails_saying_nothing_arrived() {
    let a = hooked_node(SECRET, None).await;
    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a)],
        &["orders", "--webhooks-listen", "127.0.0.1:0", "--wait", "1s"],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    // The event itself reached the node: only the webhooks failed.
    assert!(stdout.contains("OK: received on every node"), "{stdout}");
    assert!(
        stdout.contains("FAILED: no webhook arrived on http://127.0.0.1:")
            && stdout.contains("within 1s of subscribing"),
        "{stdout}"
    );
    assert!(
        stdout.lines().last().unwrap().starts_with("FAILED"),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_occupied_channel_is_answered_by_a_channel_of_traces_own() {
    let port = crate::support::multi::free_port();
    let a = hooked_node(SECRET, Some(port)).await;
    let listen = format!("127.0.0.1:{port}");
    // Someone is on orders already: its channel_occupied went to another receiver, gone now.
    let mut rx = command();
    rx.args([
        "webhooks", "--listen", &listen, "--key", KEY, "--secret", SECRET,
    ])
    .args(["--count", "1", "--json", "--timeout", "10s"]);
    let rx = Proc::spawn(&mut rx);
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&listen).await.is_err() {
        assert!(
            tokio::time::Instant::now() < until,
            "webhooks never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let port_a = a.addr.port().to_string();
    let mut watch = command();
    watch
        .args([
            "watch",
            "--host",
            "127.0.0.1",
            "--port",
            &port_a,
            "--key",
            KEY,
        ])
        .args(["orders", "--json"])
        .stdout(std::process::Stdio::null());
    let _watcher = Proc::spawn(&mut watch);
    let (code, stdout, stderr) = rx.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""channel":"orders""#), "{stdout}");

    let (code, stdout, stderr) = Proc::spawn(&mut trace(
        &[("a", &a)],
        &["orders", "--webhooks-listen", &listen],
    ))
    .finish(EXIT)
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("channel_occupied of tickertape-trace-")
            && stdout.contains("signature verified"),
        "{stdout}"
    );
}

/// A backplane hop asked for with `--tap` and never checked (the tap cannot reach Redis)
/// fails the run: OK means every hop was seen, and the event reaching the node is not all.
#[tokio::test]
async fn a_tap_that_is_not_up_fails_the_run() {
    let a = Server::start(&[]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let tap = format!("redis://:pw-not-shown@127.0.0.1:{port}");
    for json in [false, true] {
        let mut extra = vec!["orders", "--tap", tap.as_str(), "--wait", "2s"];
        if json {
            extra.push("--json");
        }
        let (code, stdout, stderr) = Proc::spawn(&mut trace(&[("a", &a)], &extra))
            .finish(EXIT)
            .await;
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(stdout.contains("received on a"), "{stdout}");
        assert!(
            stdout.contains("the backplane was not checked: the tap is not up"),
            "{stdout}"
        );
        assert!(!format!("{stdout}{stderr}").contains("pw-not-shown"));
        if json {
            let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(summary["summary"]["reached_all"], true, "{stdout}");
            assert_eq!(summary["summary"]["ok"], false, "{stdout}");
        }
    }
}
