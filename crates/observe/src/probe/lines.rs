//! The probe's lines: one per canary result, alerts, and the summary, as text for a person
//! or as NDJSON objects. Pure: each returns the line; the shell writes it.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::canary::{Fate, Outcome};
use super::state::{Alert, Change, Probe};
use protocol::safe_text::terminal_safe;
use protocol::time_text::rfc3339_millis;

fn ms(fate: &Fate) -> Option<f64> {
    fate.latency()
        .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

/// `{"time","seq","via","node","result","latency_ms"}`.
pub fn result_json(p: &Probe, o: &Outcome, now: SystemTime) -> Value {
    let mut v = json!({
        "time": rfc3339_millis(now),
        "seq": o.seq,
        "via": p.name(o.via),
        "node": p.name(o.node),
        "result": o.fate.as_str(),
    });
    if let Some(ms) = ms(&o.fate) {
        v["latency_ms"] = json!(ms);
    }
    v
}

/// `canary 12 via ws://a on ws://b: received in 3.2ms`.
pub fn result_text(p: &Probe, o: &Outcome) -> String {
    let what = match (&o.fate, ms(&o.fate)) {
        (Fate::Received(_), Some(ms)) => format!("received in {ms:.1}ms"),
        (Fate::Late(_), Some(ms)) => format!("LATE, {ms:.1}ms after it was sent (counted lost)"),
        (Fate::Lost, _) => "LOST".into(),
        _ => "DUPLICATE".into(),
    };
    terminal_safe(&format!(
        "canary {} via {} on {}: {what}",
        o.seq,
        p.name(o.via),
        p.name(o.node)
    ))
    .into_owned()
}

/// `{"alert":"canary_missing","change":"raised","node":…,"detail":…,"time":…}`.
pub fn alert_json(p: &Probe, a: &Alert, now: SystemTime) -> Value {
    json!({
        "alert": a.kind.as_str(),
        "change": match a.change { Change::Raised => "raised", Change::Recovered => "recovered" },
        "node": a.node.map(|n| p.name(n)),
        "detail": a.detail,
        "time": rfc3339_millis(now),
    })
}

/// `ALERT canary_missing: …` or `RECOVERED canary_missing: …`.
pub fn alert_text(a: &Alert) -> String {
    let word = match a.change {
        Change::Raised => "ALERT",
        Change::Recovered => "RECOVERED",
    };
    terminal_safe(&format!("{word} {}: {}", a.kind, a.detail)).into_owned()
}

/// The summary: totals, latency over every node, and each node's figures and state.
pub fn summary_json(p: &Probe, now: SystemTime) -> Value {
    let latency = |w: &crate::latency::Window, max: f64| match w.summary() {
        Some(s) => json!({"p50_ms": s.p50, "p99_ms": s.p99, "max_ms": max, "samples": s.samples}),
        None => Value::Null,
    };
    let nodes: Vec<Value> = p
        .nodes
        .iter()
        .map(|n| {
            json!({
                "node": n.name,
                "state": n.state.as_str(),
                "sent": n.sent,
                "received": n.received,
                "lost": n.lost,
                "late": n.late,
                "duplicates": n.duplicates,
                "publish_errors": n.publish_errors,
                "last_error": n.last_error,
                "latency": latency(&n.latency, n.max_ms),
            })
        })
        .collect();
    json!({"summary": {
        "time": rfc3339_millis(now),
        "sent": p.total(|n| n.sent),
        "received": p.total(|n| n.received),
        "lost": p.total(|n| n.lost),
        "late": p.total(|n| n.late),
        "duplicates": p.total(|n| n.duplicates),
        "publish_errors": p.total(|n| n.publish_errors),
        "waiting": p.tracker.waiting(),
        "unknown": p.tracker.unknown.arrivals,
        "latency": latency(&p.latency, p.max_ms),
        "presence_differs": p.presence.as_ref().map(|_| p.presence_differs),
        "nodes": nodes,
    }})
}

/// `probe: 20 sent, 40 received, 0 lost, 0 late, 0 duplicates, 0 publish errors; p50 …`.
pub fn summary_text(p: &Probe) -> String {
    let latency = match p.latency.summary() {
        Some(s) => format!(
            "p50 {:.1}ms p99 {:.1}ms max {:.1}ms",
            s.p50, s.p99, p.max_ms
        ),
        None => "no latency yet".into(),
    };
    let states: Vec<String> = p
        .nodes
        .iter()
        .map(|n| format!("{} {}", n.name, n.state))
        .collect();
    terminal_safe(&format!(
        "probe: {} sent, {} received, {} lost, {} late, {} duplicates, {} publish errors; {latency}; {}",
        p.total(|n| n.sent),
        p.total(|n| n.received),
        p.total(|n| n.lost),
        p.total(|n| n.late),
        p.total(|n| n.duplicates),
        p.total(|n| n.publish_errors),
        states.join(", ")
    ))
    .into_owned()
}

/// A publish error as shown: the secret (should a server echo it) replaced by `…`, every URL
/// in it shown as [`net::http_url::redact`] shows it (no `user:pw@`, no query values:
/// signatures, tokens), safe for a terminal, at most `max` chars.
pub fn error_text(error: &str, secret: &str, max: usize) -> String {
    let error = if secret.is_empty() {
        error.to_owned()
    } else {
        error.replace(secret, "…")
    };
    let error = net::http_url::redact_in(&error);
    terminal_safe(&error).chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::super::canary::Tracker;
    use super::*;
    use std::time::Duration;

    #[test]
    fn publish_errors_show_no_secret_and_no_signed_query() {
        let e = "request to http://h:1/apps/1/events?auth_key=k&auth_signature=abc timed out after 10 s";
        assert_eq!(
            error_text(e, "s3cret", 300),
            "request to http://h:1/apps/1/events?auth_key=***&auth_signature=*** timed out after 10 s"
        );
        // A server's answer that quotes a URL with credentials or a token.
        let echoed = "HTTP 500: retry at https://ann:PWSECRET@api.test/x?token=TOKSECRET.";
        assert_eq!(
            error_text(echoed, "s3cret", 300),
            "HTTP 500: retry at https://***@api.test/x?token=***."
        );
        assert_eq!(
            error_text("HTTP 401: bad s3cret? no", "s3cret", 300),
            "HTTP 401: bad …? no"
        );
        assert_eq!(
            error_text("a\u{1b}[2Jb", "", 300),
            error_text("a\u{1b}[2Jb", "", 300)
        );
        assert!(!error_text("x\u{1b}[2J", "", 300).contains('\u{1b}'));
        assert_eq!(error_text(&"x".repeat(1000), "", 300).len(), 300);
    }

    #[test]
    fn results_alerts_and_summaries_as_json_and_text() {
        let mut p = Probe::new(
            vec!["ws://a".into(), "ws://b".into()],
            Tracker::new(2, Duration::from_secs(5)),
            None,
        );
        let o = Outcome {
            seq: 7,
            via: 0,
            node: 1,
            fate: Fate::Received(Duration::from_micros(3_250)),
            accepted: false,
        };
        p.published(1, 0);
        p.outcome(&o);
        let v = result_json(&p, &o, SystemTime::UNIX_EPOCH);
        assert_eq!(v["seq"], 7);
        assert_eq!(
            (v["via"].as_str(), v["node"].as_str()),
            (Some("ws://a"), Some("ws://b"))
        );
        assert_eq!(
            (v["result"].as_str(), v["latency_ms"].as_f64()),
            (Some("received"), Some(3.25))
        );
        assert_eq!(
            result_text(&p, &o),
            "canary 7 via ws://a on ws://b: received in 3.2ms"
        );
        let lost = Outcome {
            fate: Fate::Lost,
            ..o
        };
        assert!(
            result_json(&p, &lost, SystemTime::UNIX_EPOCH)
                .get("latency_ms")
                .is_none()
        );
        let a = p.outcome(&lost).unwrap();
        assert_eq!(alert_json(&p, &a, SystemTime::UNIX_EPOCH)["node"], "ws://b");
        assert!(alert_text(&a).starts_with("ALERT canary_missing: canary 7 published via ws://a"));
        let s = summary_json(&p, SystemTime::UNIX_EPOCH);
        assert_eq!(
            (s["summary"]["sent"].as_u64(), s["summary"]["lost"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(s["summary"]["nodes"][1]["latency"]["p50_ms"], 3.25);
        assert!(
            summary_text(&p).starts_with("probe: 1 sent, 1 received, 1 lost"),
            "{}",
            summary_text(&p)
        );
    }
}
