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
