//! The verdict of `probe --for`: check's Nagios statuses, from the probe's figures.
//!
//! The rules, each one outcome:
//! - `publish`: every publish failed → CRITICAL; some failed → WARNING;
//! - `loss`: any canary lost on any node → CRITICAL (late arrivals stay lost);
//!   none published, or none settled yet → UNKNOWN;
//! - `latency`: p99 of publish-to-receive ≥ `--crit-latency` → CRITICAL, ≥ `--warn-latency`
//!   → WARNING; no sample → UNKNOWN;
//! - `duplicates`: any → WARNING;
//! - `connected`: a node not connected at the end, or never → CRITICAL;
//! - `subscribed`: a node that connected and refused the canary subscription, or never
//!   confirmed it in the window → CRITICAL (nothing could reach it);
//! - `presence` (several nodes): the member lists differed past the settle time, or a node
//!   that connected never gave its list (its presence subscription never confirmed) →
//!   CRITICAL.
//!
//! The whole is the worst, as in `check`: CRITICAL, WARNING, UNKNOWN, OK.

use std::time::Duration;

use super::state::Probe;
use crate::expect::Level;
use crate::expect::verdict::{Outcome, Perf, Status, Verdict};
use client::ConnectionState;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warn_latency: Duration,
    pub crit_latency: Duration,
}

fn count(label: &str, value: u64, crit: Option<f64>) -> Perf {
    Perf {
        label: label.into(),
        value: value as f64,
        unit: "c",
        warn: None,
        crit,
    }
}

fn outcome(name: &str, status: Status, detail: String, perf: Vec<Perf>) -> Outcome {
    let level = if status == Status::Warning {
        Level::Warning
    } else {
        Level::Critical
    };
    Outcome {
        expectation: name.into(),
        level,
        status,
        detail,
        perf,
    }
}

/// Nodes with a nonzero figure: `ws://a (2), ws://b (1)`.
fn per_node(p: &Probe, f: impl Fn(&super::state::NodeStats) -> u64) -> String {
    p.nodes
        .iter()
        .filter(|n| f(n) > 0)
        .map(|n| format!("{} ({})", n.name, f(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn verdict(p: &Probe, window: Duration, t: Thresholds) -> Verdict {
    let sent = p.total(|n| n.sent);
    let errors = p.total(|n| n.publish_errors);
    let lost = p.total(|n| n.lost);
    let received = p.total(|n| n.received);
    let duplicates = p.total(|n| n.duplicates);
    let mut outcomes = Vec::new();

    let last_error = p.nodes.iter().find_map(|n| n.last_error.clone());
    let (status, detail) = match (errors, sent) {
        (0, _) => (Status::Ok, format!("{sent} published")),
        (e, 0) => (
            Status::Critical,
            format!(
                "all {e} publishes failed, the last: {}",
                last_error.unwrap_or_default()
            ),
        ),
        (e, s) => (
            Status::Warning,
            format!(
                "{e} of {} publishes failed ({}), the last: {}",
                e + s,
                per_node(p, |n| n.publish_errors),
                last_error.unwrap_or_default()
            ),
        ),
    };
    let perf = vec![
        count("sent", sent, None),
        count("publish_errors", errors, None),
    ];
    outcomes.push(outcome("publish", status, detail, perf));

    let (status, detail) = if lost > 0 {
        (
            Status::Critical,
            format!("{lost} lost, on {}", per_node(p, |n| n.lost)),
        )
    } else if sent == 0 {
        (Status::Unknown, "no canary published".into())
    } else if received == 0 {
        (Status::Unknown, "no canary settled yet".into())
    } else {
        (Status::Ok, format!("{received} received, none lost"))
    };
    let perf = vec![
        count("received", received, None),
        count("lost", lost, Some(0.0)),
        count("late", p.total(|n| n.late), None),
    ];
    outcomes.push(outcome("loss", status, detail, perf));

    let (warn, crit) = (t.warn_latency.as_secs_f64(), t.crit_latency.as_secs_f64());
    match p.latency.summary() {
        None => outcomes.push(outcome(
            "latency",
            Status::Unknown,
            "no canary received".into(),
            Vec::new(),
        )),
        Some(s) => {
            let p99 = s.p99 / 1000.0;
            let status = if p99 >= crit {
                Status::Critical
            } else if p99 >= warn {
                Status::Warning
            } else {
                Status::Ok
            };
            let secs = |label: &str, v: f64, limits: bool| Perf {
                label: label.into(),
                value: v / 1000.0,
                unit: "s",
                warn: limits.then_some(warn),
                crit: limits.then_some(crit),
            };
            let detail = format!(
                "p50 {:.1}ms p99 {:.1}ms max {:.1}ms (warn {:.0}ms, crit {:.0}ms)",
                s.p50,
                s.p99,
                p.max_ms,
                warn * 1000.0,
                crit * 1000.0
            );
            let perf = vec![
                secs("latency_p50", s.p50, false),
                secs("latency_p99", s.p99, true),
                secs("latency_max", p.max_ms, false),
            ];
            outcomes.push(outcome("latency", status, detail, perf));
        }
    }

    let (status, detail) = if duplicates > 0 {
        (
            Status::Warning,
            format!("{duplicates}: {}", per_node(p, |n| n.duplicates)),
        )
    } else {
        (Status::Ok, "none".into())
    };
    outcomes.push(outcome(
        "duplicates",
        status,
        detail,
        vec![count("duplicates", duplicates, None)],
    ));

    let down: Vec<String> = p
        .nodes
        .iter()
        .filter(|n| n.state != ConnectionState::Connected)
        .map(|n| {
            if n.ever_connected {
                format!("{} {}", n.name, n.state)
            } else {
                format!("{} never connected", n.name)
            }
        })
        .collect();
    let up = (p.nodes.len() - down.len()) as u64;
    let (status, detail) = if down.is_empty() {
        (Status::Ok, "every node connected".into())
    } else {
        (Status::Critical, down.join(", "))
    };
    outcomes.push(outcome(
        "connected",
        status,
        detail,
        vec![count("nodes_connected", up, None)],
    ));

    // Every node that connected must have taken the canary subscription: a refusal, or no
    // answer in the whole window (a cluster whose adapter is gone), is CRITICAL. A node
    // never connected is the `connected` part's.
    let mut unsubscribed = Vec::new();
    for n in p.nodes.iter().filter(|n| n.ever_connected) {
        match (&n.refused, n.subscribed) {
            (Some(why), _) => unsubscribed.push(format!("{} refused: {why}", n.name)),
            (None, false) => unsubscribed.push(format!(
                "{} never confirmed the canary subscription",
                n.name
            )),
            (None, true) => {}
        }
    }
    let subscribed = p.nodes.iter().filter(|n| n.subscribed).count() as u64;
    let (status, detail) = if unsubscribed.is_empty() {
        (
            Status::Ok,
            "every node connected took the canaries' subscription".into(),
        )
    } else {
        (Status::Critical, unsubscribed.join(", "))
    };
    outcomes.push(outcome(
        "subscribed",
        status,
        detail,
        vec![count("nodes_subscribed", subscribed, None)],
    ));

    if let Some(presence) = &p.presence {
        let missing: Vec<usize> = (0..p.nodes.len())
            .filter(|&i| presence.list(i).is_none())
            .collect();
        // A node that connected and never gave its member list: its presence subscription
        // was never confirmed, and the nodes cannot be compared.
        let never: Vec<String> = missing
            .iter()
            .filter(|&&i| p.nodes[i].ever_connected && !p.nodes[i].listed)
            .map(|&i| p.name(i))
            .collect();
        let names = |all: &[usize]| all.iter().map(|&i| p.name(i)).collect::<Vec<_>>();
        let (status, detail) = match (&p.presence_first, never.is_empty(), missing.is_empty()) {
            (Some(first), _, _) => (Status::Critical, first.clone()),
            (None, false, _) => (
                Status::Critical,
                format!(
                    "no member list from {}: the presence subscription was never confirmed",
                    never.join(", ")
                ),
            ),
            (None, true, true) => (Status::Ok, "the nodes agree".into()),
            (None, true, false) => (
                Status::Unknown,
                format!("no member list from {}", names(&missing).join(", ")),
            ),
        };
        outcomes.push(outcome("presence", status, detail, Vec::new()));
    }

    let status = worst(outcomes.iter().map(|o| o.status));
    Verdict {
        status,
        window,
        events: sent,
        outcomes,
    }
}

fn worst(all: impl Iterator<Item = Status>) -> Status {
    let rank = |s: Status| match s {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    };
    all.max_by_key(|s| rank(*s)).unwrap_or(Status::Ok)
}

/// `TICKERTAPE PROBE OK - 20 canaries on 2 nodes, p50 … | perfdata` (no newline).
pub fn nagios(v: &Verdict, nodes: usize) -> String {
    let failing: Vec<String> = v
        .outcomes
        .iter()
        .filter(|o| o.status != Status::Ok)
        .map(|o| format!("{}: {}", o.expectation, o.detail))
        .collect();
    let text = if failing.is_empty() {
        let latency = v
            .outcomes
            .iter()
            .find(|o| o.expectation == "latency")
            .map_or(String::new(), |o| format!(", latency {}", o.detail));
        format!(
            "{} canaries on {nodes} node{} over {:.1}s, none lost{latency}",
            v.events,
            if nodes == 1 { "" } else { "s" },
            v.window.as_secs_f64()
        )
    } else {
        failing.join("; ")
    };
    let text = protocol::safe_text::terminal_safe(&text).replace('|', "/");
    let perf: Vec<String> = v
        .outcomes
        .iter()
        .flat_map(|o| o.perf.iter().map(crate::expect::report::perfdata))
        .collect();
    format!(
        "TICKERTAPE PROBE {} - {text} | {}",
        v.status.as_str(),
        perf.join(" ")
    )
}

/// The verdict as a Nagios plugin prints it: the status line with its perfdata first, then
/// the detail as long output: each part of the verdict, each node's figures, and the
/// latest alerts, states and errors of the run (`story`, oldest first). Every line is safe
/// for a terminal, and none but the first holds a `|` (Nagios would read perfdata there).
pub fn nagios_block(v: &Verdict, p: &Probe, story: &bounded::Bounded<String>) -> String {
    let clean = |text: &str| protocol::safe_text::terminal_safe(text).replace('|', "/");
    let mut out = nagios(v, p.nodes.len());
    out.push('\n');
    for o in &v.outcomes {
        out.push_str(&clean(&format!(
            "{}: {} - {}",
            o.expectation,
            o.status.as_str(),
            o.detail
        )));
        out.push('\n');
    }
    for n in &p.nodes {
        let latency = n.latency.summary().map_or_else(
            || "no latency".to_owned(),
            |s| {
                format!(
                    "p50 {:.1}ms p99 {:.1}ms max {:.1}ms",
                    s.p50, s.p99, n.max_ms
                )
            },
        );
        out.push_str(&clean(&format!(
            "node {}: {}; {} sent, {} received, {} lost, {} late, {} duplicates, {} publish errors; {latency}",
            n.name, n.state, n.sent, n.received, n.lost, n.late, n.duplicates, n.publish_errors
        )));
        out.push('\n');
    }
    if !story.is_empty() {
        let dropped = story.drops().total();
        let earlier = match dropped {
            0 => String::new(),
            n => format!(", {n} earlier not kept"),
        };
        out.push_str(&format!(
            "latest alerts, states and errors ({}{earlier}):\n",
            story.len()
        ));
        for line in story.iter() {
            out.push_str(&clean(line));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::canary::{Fate, Outcome as Canary, Tracker};
    use super::*;

    const T: Thresholds = Thresholds {
        warn_latency: Duration::from_millis(250),
        crit_latency: Duration::from_secs(1),
    };

    fn probe() -> Probe {
        let mut p = Probe::new(
            vec!["ws://a".into()],
            Tracker::new(1, Duration::from_secs(5)),
            None,
        );
        p.state(0, ConnectionState::Connected);
        p.subscription(0, None);
        p
    }

    fn got(p: &mut Probe, ms: u64) {
        p.published(1, 0);
        p.outcome(&Canary {
            seq: 1,
            via: 0,
            node: 0,
            fate: Fate::Received(Duration::from_millis(ms)),
            accepted: false,
        });
    }

    #[test]
    fn a_healthy_run_is_ok_with_its_latency_in_the_line() {
        let mut p = probe();
        got(&mut p, 3);
        let v = verdict(&p, Duration::from_secs(2), T);
        assert_eq!(v.status, Status::Ok, "{v:?}");
        let line = nagios(&v, 1);
        assert!(
            line.starts_with("TICKERTAPE PROBE OK - 1 canaries on 1 node"),
            "{line}"
        );
        assert!(line.contains("'latency_p99'=0.003s;0.25;1;0;"), "{line}");
        assert!(line.contains("'lost'=0c;;0;0;"), "{line}");
    }

    #[test]
    fn latency_thresholds_warn_then_crit() {
        let mut p = probe();
        got(&mut p, 300);
        assert_eq!(verdict(&p, Duration::ZERO, T).status, Status::Warning);
        got(&mut p, 1500);
        got(&mut p, 1500);
        assert_eq!(verdict(&p, Duration::ZERO, T).status, Status::Critical);
    }

    #[test]
    fn losses_failed_publishes_and_down_nodes_are_critical() {
        let mut p = probe();
        got(&mut p, 3);
        p.outcome(&Canary {
            seq: 2,
            via: 0,
            node: 0,
            fate: Fate::Lost,
            accepted: false,
        });
        let v = verdict(&p, Duration::ZERO, T);
        assert_eq!(v.status, Status::Critical);
        assert!(nagios(&v, 1).contains("loss: 1 lost, on ws://a (1)"));

        let mut p = probe();
        p.publish_failed(1, 0, "HTTP 401: bad signature".into());
        let line = nagios(&verdict(&p, Duration::ZERO, T), 1);
        assert!(line.starts_with("TICKERTAPE PROBE CRITICAL - publish: all 1 publishes failed, the last: HTTP 401: bad signature"), "{line}");

        let mut p = probe();
        got(&mut p, 3);
        p.state(0, ConnectionState::Unavailable);
        let line = nagios(&verdict(&p, Duration::ZERO, T), 1);
        assert!(
            line.contains("CRITICAL - connected: ws://a unavailable"),
            "{line}"
        );
    }

    #[test]
    fn nothing_to_judge_is_unknown_and_duplicates_warn() {
        let p = probe();
        assert_eq!(verdict(&p, Duration::ZERO, T).status, Status::Unknown);
        let mut p = probe();
        got(&mut p, 3);
        p.outcome(&Canary {
            seq: 1,
            via: 0,
            node: 0,
            fate: Fate::Duplicate,
            accepted: false,
        });
        assert_eq!(verdict(&p, Duration::ZERO, T).status, Status::Warning);
    }

    /// A cluster whose adapter is gone: connected, but the canary subscription is never
    /// confirmed, so nothing is published. Not "nothing to judge": CRITICAL.
    #[test]
    fn a_subscription_refused_or_never_confirmed_is_critical() {
        let mut p = Probe::new(
            vec!["ws://a".into(), "ws://b".into()],
            Tracker::new(2, Duration::from_secs(5)),
            Some(super::super::members::Presence::new(2, Duration::ZERO)),
        );
        p.state(0, ConnectionState::Connected);
        p.state(1, ConnectionState::Connected);
        let line = nagios(&verdict(&p, Duration::from_secs(20), T), 2);
        assert!(line.starts_with("TICKERTAPE PROBE CRITICAL - "), "{line}");
        assert!(
            line.contains(
                "subscribed: ws://a never confirmed the canary subscription, ws://b never"
            ),
            "{line}"
        );
        assert!(
            line.contains("presence: no member list from ws://a, ws://b: the presence subscription was never confirmed"),
            "{line}"
        );
        assert!(line.contains("'nodes_subscribed'=0c"), "{line}");
        p.subscription(0, None);
        p.subscription(1, Some("HTTP 401: bad signature"));
        p.subscription(1, None);
        let line = nagios(&verdict(&p, Duration::from_secs(20), T), 2);
        assert!(
            line.contains("subscribed: ws://b refused: HTTP 401: bad signature"),
            "refused once is refused: {line}"
        );
        // A node never connected is said by `connected`, not twice.
        let mut p = Probe::new(
            vec!["ws://a".into()],
            Tracker::new(1, Duration::from_secs(5)),
            None,
        );
        let v = verdict(&p, Duration::from_secs(2), T);
        let line = nagios(&v, 1);
        assert!(line.contains("connected: ws://a never connected"), "{line}");
        assert!(!line.contains("subscribed:"), "{line}");
        p.state(0, ConnectionState::Connected);
        p.subscription(0, None);
        assert_eq!(verdict(&p, Duration::ZERO, T).status, Status::Unknown);
    }

    #[test]
    fn the_nagios_block_is_the_status_line_first_then_the_detail() {
        let mut p = probe();
        got(&mut p, 3);
        p.nodes[0].last_error = Some("a | b".into());
        let mut story = bounded::Bounded::new(
            bounded::Limits::new(2, 1 << 10),
            bounded::Overflow::DropOldest,
        );
        for line in ["one", "two | pipe", "three\u{1b}[2J"] {
            let _ = story.push(line.to_owned());
        }
        let block = nagios_block(&verdict(&p, Duration::from_secs(2), T), &p, &story);
        let lines: Vec<&str> = block.lines().collect();
        assert!(
            lines[0].starts_with("TICKERTAPE PROBE OK - 1 canaries"),
            "{block}"
        );
        assert!(lines[0].contains(" | 'sent'=1c"), "{block}");
        assert_eq!(lines[1], "publish: OK - 1 published");
        assert!(
            lines
                .contains(&"subscribed: OK - every node connected took the canaries' subscription"),
            "{block}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("node ws://a: connected; 1 sent, 1 received, 0 lost")),
            "{block}"
        );
        let at = lines
            .iter()
            .position(|l| {
                l.starts_with("latest alerts, states and errors (2, 1 earlier not kept):")
            })
            .expect(&block);
        assert_eq!(lines[at + 1], "two / pipe");
        assert!(!block.contains('\u{1b}'), "{block}");
        assert_eq!(block.matches('|').count(), 1, "perfdata once: {block}");
    }
}
