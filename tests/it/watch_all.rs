//! `watch --all` against `tickertape serve`: occupied channels are found and followed,
//! including private and presence ones; new channels are picked up; vacated ones reported.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::bin::{self, Proc};
use crate::support::server::Server;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long a run may take to end.
const EXIT: Duration = Duration::from_secs(10);

async fn line_matching(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(left, lines.next_line())
            .await
            .expect("timed out")
            .unwrap()
            .expect("stdout closed");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if pred(&v) {
            return v;
        }
    }
}

#[tokio::test]
async fn watch_all_follows_channels_as_they_come_and_go() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "public-1", None).await;
    a.subscribe(&a_id, "private-2", None).await;
    a.subscribe(&a_id, "presence-3", Some(r#"{"user_id":"ann"}"#))
        .await;
    let port = server.addr.port().to_string();
    let mut child = Proc::spawn(
        bin::command()
            .args([
                "watch",
                "--all",
                "--json",
                "--json-status",
                "--discover-interval",
                "200ms",
            ])
            .args([
                "--key",
                "app-key",
                "--secret",
                "app-secret",
                "--app-id",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
            ]),
    );
    let mut out = BufReader::new(child.child.stdout.take().unwrap()).lines();
    let mut err = child.take_stderr_lines();
    let mut notices = Vec::new();
    let mut wait_notice = async |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !notices.iter().any(|n: &String| n == want) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, err.recv())
                .await
                .unwrap_or_else(|_| panic!("no {want:?}; saw {notices:?}"))
                .expect("stderr closed");
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["type"] == "notice" {
                notices.push(v["message"].as_str().unwrap().to_owned());
            }
        }
    };
    for c in ["public-1", "private-2", "presence-3"] {
        wait_notice(&format!("discovered {c}")).await;
    }
    // Give the subscriptions a moment, then publish to every kind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rest = server.rest();
    for c in ["public-1", "private-2", "presence-3"] {
        rest.trigger(&[c.to_owned()], "hello", "{}", None, None)
            .await
            .unwrap();
        let v = line_matching(&mut out, |v| v["channel"] == c).await;
        assert_eq!(v["event"], "hello");
    }
    // A channel that appears later is picked up.
    a.subscribe(&a_id, "late-4", None).await;
    wait_notice("discovered late-4").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rest.trigger(&["late-4".to_owned()], "hi", "{}", None, None)
        .await
        .unwrap();
    line_matching(&mut out, |v| v["channel"] == "late-4").await;
    // Its other subscriber leaves: vacated (the watcher itself does not count).
    a.send(&protocol::ClientMessage::Unsubscribe {
        channel: "late-4".into(),
    })
    .await;
    wait_notice("late-4 vacated").await;
}

#[tokio::test]
async fn watch_all_needs_the_secret_and_honours_the_prefix() {
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let (code, _, stderr) = Proc::spawn(bin::command().args([
        "watch",
        "--all",
        "--json",
        "--key",
        "app-key",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]))
    .finish(EXIT)
    .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("--all asks the REST API"), "{stderr}");

    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "private-x", None).await;
    a.subscribe(&a_id, "public-y", None).await;
    let mut watch = bin::command();
    watch
        .args([
            "watch",
            "--all",
            "--prefix",
            "private-",
            "--json",
            "--json-status",
            "--discover-interval",
            "200ms",
            "--timeout",
            "2",
        ])
        .args([
            "--key",
            "app-key",
            "--secret",
            "app-secret",
            "--app-id",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ])
        .stdout(Stdio::null());
    let (_, _, stderr) = Proc::spawn(&mut watch).finish(EXIT).await;
    assert!(stderr.contains("discovered private-x"), "{stderr}");
    assert!(!stderr.contains("public-y"), "{stderr}");
}

/// `watch --all` against `server`, with `extra` flags, for a second and a half (unless they
/// give a `--timeout`).
fn watch_all(server: &Server, extra: &[&str]) -> Proc {
    let port = server.addr.port().to_string();
    let mut watch = bin::command();
    watch
        .args(["watch", "--all", "--json", "--json-status"])
        .args(["--discover-interval", "200ms"])
        .args(extra)
        .args(if extra.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "1500ms"][..]
        })
        .args([
            "--key",
            "app-key",
            "--secret",
            "app-secret",
            "--app-id",
            "1",
        ])
        .args(["--host", "127.0.0.1", "--port", &port])
        .stdout(Stdio::null());
    Proc::spawn(&mut watch)
}

#[tokio::test]
async fn watch_all_joins_presence_as_a_named_observer_or_skips_it() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "public-1", None).await;
    a.subscribe(&a_id, "presence-3", Some(r#"{"user_id":"ann"}"#))
        .await;
    let skipping = watch_all(&server, &["--no-presence"]);
    // Joined: ann sees a member whose id says what it is (and only this one).
    let watcher = watch_all(&server, &[]);
    let joined = loop {
        if let protocol::ServerMessage::MemberAdded { channel, member } = a.recv().await {
            assert_eq!(channel, "presence-3");
            break member.user_id;
        }
    };
    assert!(joined.starts_with("tickertape-observer-"), "{joined}");
    let (_, _, stderr) = watcher.finish(EXIT).await;
    assert!(stderr.contains("discovered presence-3"), "{stderr}");
    // Skipped: the presence channel is neither joined nor talked about.
    let (_, _, stderr) = skipping.finish(EXIT).await;
    assert!(stderr.contains("discovered public-1"), "{stderr}");
    assert!(!stderr.contains("presence-3"), "{stderr}");

    // A user id given is the one used.
    let watcher = watch_all(&server, &["--user-id", "ops-bot"]);
    let joined = loop {
        if let protocol::ServerMessage::MemberAdded { member, .. } = a.recv().await {
            break member.user_id;
        }
    };
    assert_eq!(joined, "ops-bot");
    watcher.finish(EXIT).await;
}

/// Channels that come and go in numbers make notices in numbers: each kind is said one by
/// one up to ten per look at the listing, then counted in one line. 30 channels found at
/// once: ten `discovered` and one line for the other twenty; all vacated at once, the same.
#[tokio::test]
async fn many_channels_at_once_are_said_ten_then_counted() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    for n in 0..30 {
        a.subscribe(&a_id, &format!("flap-{n}"), None).await;
    }
    let mut child = watch_all(&server, &["--timeout", "4s"]);
    let mut err = child.take_stderr_lines();
    let mut notices: Vec<String> = Vec::new();
    let mut wait = async |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !notices.iter().any(|n| n.contains(want)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, err.recv())
                .await
                .unwrap_or_else(|_| panic!("no {want:?}; saw {notices:?}"))
                .expect("stderr closed");
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["type"] == "notice"
            {
                notices.push(v["message"].as_str().unwrap_or_default().to_owned());
            }
        }
        std::mem::take(&mut notices)
    };
    let found = wait("… and 20 more channels discovered in this look at the listing").await;
    let one_by_one = found
        .iter()
        .filter(|n| n.starts_with("discovered flap-"))
        .count();
    assert_eq!(one_by_one, 10, "{found:?}");
    drop(a);
    let gone = wait("… and 20 more channels vacated in this look at the listing").await;
    let one_by_one = gone.iter().filter(|n| n.ends_with(" vacated")).count();
    assert_eq!(one_by_one, 10, "{gone:?}");
    let _ = child.finish(EXIT).await;
}
