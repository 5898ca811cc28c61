//! `tickertape probe` with the real binary against our own `serve` processes: a healthy node
//! is OK with its latency, --json lines parse, a wrong secret is CRITICAL with the server's
//! reason, two independent servers (not a cluster) lose each other's canaries, and
//! `--metrics` passes promtool.

use std::time::Duration;

use crate::support::bin::{FullPipe, Proc};
use crate::support::metrics;
use crate::support::server::{SECRET, Server};
use serde_json::Value;

const EXIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn one_healthy_node_is_ok_and_reports_its_latency() {
    let server = Server::start(&[]).await;
    let run = Server::probe(&[&server], SECRET, &["--for", "2s", "--interval", "200ms"]);
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("TICKERTAPE PROBE OK - ") && last.contains(" canaries on 1 node over 2."),
        "{last}"
    );
    assert!(last.contains("latency p50 "), "{last}");
    let (_, perf) = last.split_once(" | ").expect(last);
    for label in ["'lost'=0c;;0;0;", "'publish_errors'=0c;;;0;"] {
        assert!(perf.contains(label), "{perf}");
    }
    assert!(
        perf.contains("'latency_p99'=") && perf.contains("s;0.25;1;0;"),
        "{perf}"
    );
    let received = stdout
        .lines()
        .filter(|l| l.starts_with("canary ") && l.contains(": received in "))
        .count();
    assert!(received >= 5, "{stdout}");
    assert!(
        stdout.contains("probe: ") && stdout.contains(" 0 lost"),
        "{stdout}"
    );
}

#[tokio::test]
async fn json_lines_parse_results_summary_and_verdict() {
    let server = Server::start(&[]).await;
    let run = Server::probe(
        &[&server],
        SECRET,
        &["--json", "--for", "1500ms", "--interval", "200ms"],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let results: Vec<&Value> = lines.iter().filter(|v| v.get("result").is_some()).collect();
    assert!(results.len() >= 3, "{stdout}");
    for r in &results {
        assert_eq!(r["result"], "received", "{r}");
        assert_eq!(r["node"].as_str(), Some(server.node().as_str()), "{r}");
        assert!(
            r["seq"].as_u64().is_some() && r["latency_ms"].as_f64().is_some(),
            "{r}"
        );
    }
    let summary = lines
        .iter()
        .rev()
        .find_map(|v| v.get("summary"))
        .expect(&stdout);
    assert_eq!(summary["lost"], 0, "{summary}");
    assert!(summary["latency"]["p99_ms"].as_f64().is_some(), "{summary}");
    let verdict = &lines.last().unwrap()["verdict"];
    assert_eq!(
        (verdict["status"].as_str(), verdict["code"].as_u64()),
        (Some("OK"), Some(0))
    );
    assert!(lines.iter().any(|v| v["state"] == "connected"), "{stdout}");
}

#[tokio::test]
async fn a_wrong_secret_is_critical_with_the_servers_reason_and_no_secret() {
    let server = Server::start(&[]).await;
    let wrong = "not-the-secret-7f3a";
    let run = Server::probe(
        &[&server],
        wrong,
        &["--for", "1500ms", "--interval", "200ms"],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("TICKERTAPE PROBE CRITICAL - publish: all ")
            && last.contains("publishes failed, the last: HTTP 401: invalid signature"),
        "{last}"
    );
    assert!(
        stderr.contains("publish via ") && stderr.contains("failed: HTTP 401"),
        "{stderr}"
    );
    // Both failures are alerts, raised once each, not only lines.
    assert_eq!(
        stderr.matches("ALERT publish_failing: ").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("ALERT subscription_failed: ").count(),
        1,
        "{stderr}"
    );
    assert!(
        !stdout.contains(wrong) && !stderr.contains(wrong),
        "{stdout}{stderr}"
    );
}

#[tokio::test]
async fn two_independent_servers_miss_each_others_canaries_and_members() {
    let a = Server::start(&[]).await;
    let b = Server::start(&[]).await;
    let run = Server::probe(
        &[&a, &b],
        SECRET,
        &[
            "--for",
            "2500ms",
            "--interval",
            "200ms",
            "--loss-after",
            "700ms",
            "--settle",
            "300ms",
        ],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("TICKERTAPE PROBE CRITICAL - loss: "),
        "{last}"
    );
    for n in [&a, &b] {
        assert!(last.contains(&format!("{} (", n.node())), "{last}");
    }
    assert!(last.contains("presence: presence members differ"), "{last}");
    // A canary via A arrives on A only: the alert names B.
    let missing_on_b = format!(
        "ALERT canary_missing: canary 1 published via {} did not arrive on {}",
        a.node(),
        b.node()
    );
    assert!(stderr.contains(&missing_on_b), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ALERT presence_mismatch: presence members differ: {} lists probe-0",
            a.node()
        )),
        "{stderr}"
    );
    // Losses are found while the probe runs, not only at its end.
    let lost_1 = format!("canary 1 via {} on {}: LOST", a.node(), b.node());
    let lines: Vec<&str> = stdout.lines().collect();
    let lost_at = lines.iter().position(|l| *l == lost_1).expect(&stdout);
    let last_received = lines
        .iter()
        .rposition(|l| l.contains(": received in "))
        .expect(&stdout);
    assert!(lost_at < last_received, "{stdout}");
    assert!(
        stdout.contains(&format!("via {} on {}: received in", a.node(), a.node()))
            && stdout.contains(&format!("via {} on {}: LOST", a.node(), b.node())),
        "{stdout}"
    );
}

#[tokio::test]
async fn metrics_count_canaries_by_node_and_pass_promtool() {
    let server = Server::start(&[]).await;
    let run = Server::probe(
        &[&server],
        SECRET,
        &["--metrics", "127.0.0.1:0", "--interval", "100ms"],
    );
    let mut proc = Proc::spawn(&mut { run });
    let addr = metrics::addr(&mut proc).await;
    let node = server.node();
    let received = format!("tickertape_probe_received_total{{node=\"{node}\"}}");
    let page =
        metrics::scrape_until(addr, "two canaries", |p| p.value(&received) >= Some(2.0)).await;
    let families = page.families();
    for (name, kind) in [
        ("tickertape_probe_latency_seconds", "histogram"),
        ("tickertape_probe_lost_total", "counter"),
        ("tickertape_probe_sent_total", "counter"),
        ("tickertape_probe_publish_errors_total", "counter"),
        ("tickertape_probe_connected", "gauge"),
    ] {
        assert!(
            families.iter().any(|(n, k)| n == name && k == kind),
            "no {kind} {name} in\n{}",
            page.0
        );
    }
    assert_eq!(
        page.get(&format!("tickertape_probe_lost_total{{node=\"{node}\"}}")),
        0.0
    );
    assert_eq!(
        page.get(&format!("tickertape_probe_connected{{node=\"{node}\"}}")),
        1.0
    );
    assert!(
        page.get(&format!(
            "tickertape_probe_latency_seconds_count{{node=\"{node}\"}}"
        )) >= 2.0
    );
    page.promtool_check();
    proc.terminate(EXIT).await;
}

#[tokio::test]
async fn a_usage_error_is_unknown_as_nagios_expects() {
    let server = Server::start(&[]).await;
    let run = Server::probe(&[&server], SECRET, &["--for", "2s", "--interval", "0"]);
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stderr.contains("--interval"), "{stderr}");
}

#[tokio::test]
async fn a_node_given_twice_or_warning_above_critical_is_unknown_not_a_healthy_cluster() {
    let server = Server::start(&[]).await;
    let run = Server::probe(&[&server, &server], SECRET, &["--for", "2s"]);
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("given twice"), "{stdout}");
    let run = Server::probe(
        &[&server],
        SECRET,
        &[
            "--for",
            "2s",
            "--warn-latency",
            "2s",
            "--crit-latency",
            "1s",
        ],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("--warn-latency"), "{stdout}");
}

#[tokio::test]
async fn a_nodes_credentials_are_never_repeated() {
    let server = Server::start(&[]).await;
    let node = format!("ws://user:PWSECRET@{}", server.addr);
    let mut cmd = crate::support::bin::command();
    cmd.args(["probe", "--node", &node, "--secret", SECRET, "--for", "1s"]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        !format!("{stdout}{stderr}").contains("PWSECRET"),
        "{stdout}{stderr}"
    );
}

/// stdout full and never read: the probe goes on (its canaries keep being published and
/// counted, as its metrics show), and SIGTERM still ends it at once. Its lines wait in the
/// output thread, or are counted as not written; they never hold its loop.
#[tokio::test]
async fn a_stdout_nobody_reads_never_stalls_the_probe() {
    let server = Server::start(&[]).await;
    let pipe = FullPipe::new().await;
    let mut run = Server::probe(
        &[&server],
        SECRET,
        &["--metrics", "127.0.0.1:0", "--interval", "100ms"],
    );
    run.stdout(pipe.stdout());
    let mut proc = Proc::spawn(&mut run);
    let addr = metrics::addr(&mut proc).await;
    let received = format!(
        "tickertape_probe_received_total{{node=\"{}\"}}",
        server.node()
    );
    metrics::scrape_until(addr, "ten canaries with stdout full", |p| {
        p.value(&received) >= Some(10.0)
    })
    .await;
    let asked = std::time::Instant::now();
    let status = proc.terminate(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0), "{}", proc.stderr());
    assert!(asked.elapsed() < Duration::from_secs(2));
}
