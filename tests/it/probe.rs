//! `tickertape probe` with the real binary against our own `serve` processes: a healthy node
//! is OK with its latency, --json lines parse, a wrong secret is CRITICAL with the server's
//! reason, two independent servers (not a cluster) lose each other's canaries, and
//! `--metrics` passes promtool; and against a node that misbehaves (`support::rogue`): one
//! that never confirms the canary subscription, one that never delivers.

use std::time::Duration;

use crate::support::bin::{FullPipe, Proc};
use crate::support::metrics;
use crate::support::rogue::Rogue;
use crate::support::server::{KEY, SECRET, Server};
use serde_json::Value;

const EXIT: Duration = Duration::from_secs(10);

/// Piped with `--for`, probe is a Nagios plugin: the status line with perfdata first, then
/// the detail as long output; nothing while it runs.
#[tokio::test]
async fn one_healthy_node_is_ok_with_the_status_line_first() {
    let server = Server::start(&[]).await;
    let run = Server::probe(&[&server], SECRET, &["--for", "2s", "--interval", "200ms"]);
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("TICKERTAPE PROBE OK - ")
            && first.contains(" canaries on 1 node over 2."),
        "{stdout}"
    );
    assert!(first.contains("latency p50 "), "{first}");
    let (_, perf) = first.split_once(" | ").expect(first);
    for label in [
        "'lost'=0c;;0;0;",
        "'publish_errors'=0c;;;0;",
        "'nodes_subscribed'=1c",
    ] {
        assert!(perf.contains(label), "{perf}");
    }
    assert!(
        perf.contains("'latency_p99'=") && perf.contains("s;0.25;1;0;"),
        "{perf}"
    );
    // The detail: each part of the verdict, and the node's figures; no line per canary.
    let detail: Vec<&str> = stdout.lines().skip(1).collect();
    for part in [
        "publish: OK - ",
        "loss: OK - ",
        "subscribed: OK - ",
        "connected: OK - ",
    ] {
        assert!(detail.iter().any(|l| l.starts_with(part)), "{stdout}");
    }
    let node = format!("node {}: connected; ", server.node());
    assert!(
        detail
            .iter()
            .any(|l| l.starts_with(&node) && l.contains(" 0 lost")),
        "{stdout}"
    );
    assert!(!stdout.contains("canary 1 "), "{stdout}");
    assert_eq!(stdout.matches('|').count(), 1, "{stdout}");
    assert!(!stderr.contains("ALERT"), "{stderr}");
}

/// `--lines`: a line per canary as it comes, then the verdict and its detail at the end.
#[tokio::test]
async fn lines_show_each_canary_then_the_verdict() {
    let server = Server::start(&[]).await;
    let run = Server::probe(
        &[&server],
        SECRET,
        &["--lines", "--for", "1500ms", "--interval", "200ms"],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run }).finish(EXIT).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let received = lines
        .iter()
        .filter(|l| l.starts_with("canary ") && l.contains(": received in "))
        .count();
    assert!(received >= 2, "{stdout}");
    let verdict = lines
        .iter()
        .position(|l| l.starts_with("TICKERTAPE PROBE OK - "))
        .expect(&stdout);
    assert!(verdict >= received, "{stdout}");
    assert!(lines[verdict + 1].starts_with("publish: OK"), "{stdout}");
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
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("TICKERTAPE PROBE CRITICAL - publish: all ")
            && first.contains("publishes failed, the last: HTTP 401: invalid signature"),
        "{first}"
    );
    assert!(first.contains("; subscribed: "), "{first}");
    // The detail says what happened: the failures, and both alerts, raised once each.
    assert!(
        stdout.contains("publish via ") && stdout.contains("failed: HTTP 401"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("ALERT publish_failing: ").count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("ALERT subscription_failed: ").count(),
        1,
        "{stdout}"
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
            "--lines",
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
    let last = stdout
        .lines()
        .find(|l| l.starts_with("TICKERTAPE PROBE "))
        .unwrap_or_default();
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

/// A node that takes the connection but never answers a subscription or a publish (what a
/// sockudo cluster does once its Redis is gone): nothing can be published, and that is
/// CRITICAL, not "nothing to judge".
#[tokio::test]
async fn a_node_that_never_confirms_the_subscription_is_critical() {
    let rogue = Rogue::start(&["mute"]).await;
    let node = format!("ws://127.0.0.1:{}", rogue.port);
    let mut cmd = crate::support::bin::command();
    cmd.args(["probe", "--key", KEY, "--app-id", "1", "--secret", SECRET])
        .args(["--node", &node, "--for", "2s", "--loss-after", "1s"]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    rogue.stop().await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("TICKERTAPE PROBE CRITICAL - "),
        "{stdout}"
    );
    assert!(
        first.contains(&format!(
            "subscribed: {node} never confirmed the canary subscription"
        )),
        "{first}"
    );
}

/// A node that takes publishes (200) and never delivers them, probed for less than
/// `--loss-after`: the canaries on their way are waited for when `--for` ends, so they are
/// judged lost (CRITICAL), not left unjudged (UNKNOWN).
#[tokio::test]
async fn canaries_never_delivered_are_lost_even_when_for_is_shorter_than_loss_after() {
    let rogue = Rogue::start(&["deaf"]).await;
    let node = format!("ws://127.0.0.1:{}", rogue.port);
    let started = std::time::Instant::now();
    let mut cmd = crate::support::bin::command();
    cmd.args(["probe", "--key", KEY, "--app-id", "1", "--secret", SECRET])
        .args(["--node", &node, "--for", "1s", "--loss-after", "2s"])
        .args(["--interval", "300ms"]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    let took = started.elapsed();
    rogue.stop().await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("TICKERTAPE PROBE CRITICAL - loss: "),
        "{stdout}"
    );
    let sent = perf(first, "sent");
    assert!(sent >= 2.0, "{first}");
    assert_eq!(
        perf(first, "lost"),
        sent,
        "every canary sent is lost: {first}"
    );
    assert!(
        took < Duration::from_secs(6),
        "--for, then --loss-after at most: {took:?}"
    );
}

/// A healthy node: the wait after `--for` ends as soon as the last canary arrived.
#[tokio::test]
async fn a_healthy_run_ends_with_for_whatever_loss_after_is() {
    let server = Server::start(&[]).await;
    let started = std::time::Instant::now();
    let run = Server::probe(
        &[&server],
        SECRET,
        &["--for", "1s", "--loss-after", "20s", "--interval", "200ms"],
    );
    let (code, stdout, stderr) = Proc::spawn(&mut { run })
        .finish(Duration::from_secs(30))
        .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A perfdata value of the Nagios line: `'label'=VALUE…`.
fn perf(line: &str, label: &str) -> f64 {
    line.split(&format!("'{label}'="))
        .nth(1)
        .map(|v| {
            v.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {label} in {line}"))
}
