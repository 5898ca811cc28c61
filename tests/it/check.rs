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
    // The gap is the whole window: 2 s, more on a loaded machine, never less.
    let gap = items[1]
        .strip_prefix("'stock_ticker/update_event_gap'=")
        .and_then(|v| v.strip_suffix("s;;1;0;"))
        .and_then(|v| v.parse::<f64>().ok())
        .expect(perf);
    assert!((2.0..10.0).contains(&gap), "{perf}");
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

#[tokio::test]
async fn an_unreachable_server_is_critical_for_connected_and_unknown_otherwise() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    let run = |rule: &'static str| {
        let mut cmd = bin::command();
        cmd.args(["check", "--key", KEY, "--port", &port, "--for", "1s"]);
        cmd.args(["--expect", rule]);
        Proc::spawn(&mut cmd)
    };
    let (code, stdout, _) = run("connected").finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.starts_with("TICKERTAPE CRITICAL - connected: never connected"),
        "{stdout}"
    );
    let (code, stdout, _) = run("stock_ticker/update_event<1s").finish(EXIT).await;
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.starts_with("TICKERTAPE UNKNOWN - "), "{stdout}");
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
