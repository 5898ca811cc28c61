//! `tickertape check` and `watch --expect` with the real binary against our own `serve`: exit
//! codes, the Nagios line and its perfdata, JSON, and alert then recovery lines on stderr.

use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::metrics::Page;
use crate::support::server::{KEY, Server, publish_every};

const EXIT: Duration = Duration::from_secs(10);

fn check(server: &Server, extra: &[&str]) -> Proc {
    let port = server.addr.port().to_string();
    let mut cmd = bin::command();
    cmd.args(["check", "--key", KEY, "--port", &port])
        .args(extra);
    Proc::spawn(&mut cmd)
}

#[tokio::test]
async fn silence_is_critical_with_a_nagios_line_and_perfdata() {
    let server = Server::start(&[]).await;
    let run = check(
        &server,
        &["--expect", "stock_ticker/update_event<1s", "--for", "2s"],
    );
    let (code, stdout, stderr) = run.finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (text, perf) = stdout.trim_end().split_once(" | ").expect(&stdout);
    assert!(
        text.starts_with("TICKERTAPE CRITICAL - stock_ticker/update_event<1s: 0 events"),
        "{text}"
    );
    let items: Vec<&str> = perf.split(' ').collect();
    assert_eq!(items[0], "events=0c;;;0;");
    // The check ends once the rule broke (CRITICAL whatever comes): the gap is past the
    // rule's 1 s, and not the whole window on a loaded machine.
    let gap = items[1]
        .strip_prefix("'stock_ticker/update_event_gap'=")
        .and_then(|v| v.strip_suffix("s;;1;0;"))
        .and_then(|v| v.parse::<f64>().ok())
        .expect(perf);
    assert!((1.0..3.0).contains(&gap), "{perf}");
    // Every item is 'label'=value[unit];warn;crit;min;
    for item in items {
        let (_, value) = item.rsplit_once('=').expect(item);
        assert_eq!(value.matches(';').count(), 4, "{item}");
    }
}

#[tokio::test]
async fn a_steady_publisher_is_ok_and_json_parses() {
    let server = Server::start(&[]).await;
    let publisher = publish_every(
        server.rest(),
        "stock_ticker",
        "update_event",
        Duration::from_millis(200),
    );
    let run = check(
        &server,
        &[
            "--expect",
            "stock_ticker/update_event<1s",
            "--warn",
            "stock_ticker/update_event:price>0",
            "--for",
            "2s",
            "--format",
            "json",
        ],
    );
    let (code, stdout, stderr) = run.finish(EXIT).await;
    publisher.abort();
    let v: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(code, 0, "{v:#}{stderr}");
    assert_eq!(v["status"], "OK");
    assert_eq!(v["code"], 0);
    assert!(v["events"].as_u64().unwrap() >= 5, "{v:#}");
    assert_eq!(v["expectations"][1]["level"], "warning");
    assert_eq!(v["expectations"][0]["perfdata"][0]["unit"], "s");
}

/// Nothing listens: CRITICAL, with or without a `connected` rule, and as soon as the server
/// has been unreachable for the grace rather than after the whole window.
#[tokio::test]
async fn an_unreachable_server_is_critical_whatever_the_rules_and_said_after_the_grace() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    let run = |window: &str, rule: &'static str| {
        let mut cmd = bin::command();
        cmd.args(["check", "--key", KEY, "--port", &port, "--for", window]);
        cmd.args(["--expect", rule]);
        Proc::spawn(&mut cmd)
    };
    let (code, stdout, _) = run("1s", "connected").finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.starts_with("TICKERTAPE CRITICAL - connected: never connected"),
        "{stdout}"
    );
    let started = std::time::Instant::now();
    let (code, stdout, _) = run("60s", "stock_ticker/update_event<1s")
        .finish(Duration::from_secs(70))
        .await;
    let took = started.elapsed();
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.starts_with("TICKERTAPE CRITICAL - "), "{stdout}");
    assert!(
        stdout.contains("connected: never connected in 5."),
        "the grace of the `connected` every check has: {stdout}"
    );
    assert!(
        took < Duration::from_secs(10),
        "said after the grace, not the window: {took:?}"
    );
}

#[tokio::test]
async fn usage_errors_are_unknown_and_help_documents_the_codes() {
    let (code, _, stderr) = Proc::spawn(bin::command().args(["check", "--expect", "update_event"]))
        .finish(EXIT)
        .await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no comparison"), "{stderr}");
    let (code, stdout, _) = Proc::spawn(bin::command().args(["check", "--help"]))
        .finish(EXIT)
        .await;
    assert_eq!(code, 0);
    for says in ["0  OK", "1  WARNING", "2  CRITICAL", "3  UNKNOWN"] {
        assert!(stdout.contains(says), "{stdout}");
    }
    // Not for watch: its usage errors stay 2.
    let (code, _, _) = Proc::spawn(bin::command().args(["watch", "c", "--expect", "e"]))
        .finish(EXIT)
        .await;
    assert_eq!(code, 2);
    // latency without --ts-field says so.
    let (code, stdout, _) =
        Proc::spawn(bin::command().args(["check", "--expect", "latency<1s", "--for", "1s"]))
            .finish(EXIT)
            .await;
    assert_eq!(code, 3);
    assert!(stdout.contains("needs --ts-field"), "{stdout}");
}

#[tokio::test]
async fn watch_json_writes_an_alert_then_a_recovery_on_stderr() {
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "stock_ticker",
        "--json",
        "--json-status",
        "--key",
        KEY,
        "--port",
        &port,
        "--expect",
        "stock_ticker/update_event<500ms",
        "--timeout",
        "8s",
    ]);
    let mut watch = Proc::spawn(&mut cmd);
    let mut lines = watch.take_stderr_lines();
    let mut next_expectation = async || loop {
        let line = tokio::time::timeout(EXIT, lines.recv())
            .await
            .expect("no line in time")
            .expect("stderr ended");
        let v: serde_json::Value = serde_json::from_str(&line).expect(&line);
        if v["type"] == "expectation" {
            return v;
        }
    };
    let alert = next_expectation().await;
    assert_eq!(alert["state"], "alert", "{alert}");
    assert_eq!(alert["expectation"], "stock_ticker/update_event<500ms");
    assert_eq!(alert["level"], "critical");
    assert!(alert["since"].as_str().unwrap().ends_with('Z'));
    server
        .rest()
        .trigger(&["stock_ticker".into()], "update_event", "{}", None, None)
        .await
        .unwrap();
    let back = next_expectation().await;
    assert_eq!(back["state"], "recovered", "{back}");
    assert_eq!(back["since"], alert["since"]);
    watch.terminate(EXIT).await;
}

/// `--format prometheus` is the page of every other metrics endpoint (prometheus-client's
/// encoder, with the build info), and promtool accepts it.
#[tokio::test]
async fn the_prometheus_format_passes_promtool() {
    let server = Server::start(&[]).await;
    let run = check(
        &server,
        &[
            "--expect",
            "connected",
            "--warn",
            "stock_ticker/update_event<1s",
            "--expect",
            "stock_ticker/update_event:price>0",
            "--for",
            "1s",
            "--format",
            "prometheus",
        ],
    );
    let (code, stdout, stderr) = run.finish(EXIT).await;
    assert!((0..=3).contains(&code), "{stdout}{stderr}");
    let page = Page(stdout);
    page.promtool_check();
    assert!(
        page.0.contains("tickertape_build_info{version="),
        "{}",
        page.0
    );
    let families = page.families();
    for name in [
        "tickertape_check_status",
        "tickertape_check_window_seconds",
        "tickertape_expectation_status",
        "tickertape_expectation_measure",
    ] {
        assert!(
            families.iter().any(|(n, k)| n == name && k == "gauge"),
            "{}",
            page.0
        );
    }
}

/// A channel the server refuses (here a private one signed with the wrong secret) could not
/// be checked: CRITICAL, said at once rather than after the window.
#[tokio::test]
async fn a_refused_subscription_is_critical_at_once() {
    let server = Server::start(&[]).await;
    let started = std::time::Instant::now();
    let run = check(
        &server,
        &[
            "private-orders",
            "--secret",
            "not-the-secret",
            "--for",
            "30s",
        ],
    );
    let (code, stdout, stderr) = run.finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.starts_with("TICKERTAPE CRITICAL - "), "{stdout}");
    assert!(
        stdout.contains("subscribed: private-orders refused: "),
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-secret"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // The right secret: the channel is taken, and the check is OK.
    let run = check(
        &server,
        &[
            "private-orders",
            "--secret",
            crate::support::server::SECRET,
            "--for",
            "1s",
        ],
    );
    let (code, stdout, stderr) = run.finish(EXIT).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("'channels_subscribed'=1c"), "{stdout}");
}

/// An app key the server does not know: `pusher:error 4001`, the engine stops. CRITICAL at
/// once, whatever the rules (even a `--warn connected`).
#[tokio::test]
async fn a_refusing_server_is_critical_at_once_whatever_the_rules() {
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let started = std::time::Instant::now();
    let mut cmd = bin::command();
    cmd.args([
        "check",
        "--key",
        "no-such-key",
        "--port",
        &port,
        "--for",
        "30s",
    ])
    .args([
        "--warn",
        "connected",
        "--expect",
        "stock_ticker/update_event<10s",
    ]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("TICKERTAPE CRITICAL - ") && stdout.contains("4001"),
        "{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A node that accepts, subscribes, and drops every connection after a second: no drop is
/// longer than the grace, but the connection never stays up, so `connected` breaks.
#[tokio::test]
async fn a_node_that_drops_every_connection_is_critical() {
    let rogue = crate::support::rogue::Rogue::start(&["drop", "1000"]).await;
    let port = rogue.port.to_string();
    let started = std::time::Instant::now();
    let mut cmd = bin::command();
    cmd.args([
        "check",
        "stock_ticker",
        "--key",
        KEY,
        "--port",
        &port,
        "--for",
        "20s",
    ]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(Duration::from_secs(30)).await;
    rogue.stop().await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("TICKERTAPE CRITICAL - connected: dropping for "),
        "{stdout}"
    );
    assert!(stdout.contains("never up for the grace (5.0s)"), "{stdout}");
    let drops = stdout
        .split("'connection_drops'=")
        .nth(1)
        .and_then(|v| v.split('c').next())
        .and_then(|v| v.parse::<u32>().ok())
        .expect(&stdout);
    assert!(drops >= 2, "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended once it was decided: {:?}",
        started.elapsed()
    );
}
