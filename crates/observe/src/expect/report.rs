//! A verdict as text: the Nagios plugin line (with perfdata), JSON, or the Prometheus text
//! format. Pure: each returns a string, one line for Nagios, the caller writes it.

use serde_json::{Value, json};

use super::verdict::{Perf, Verdict};
use protocol::safe_text::terminal_safe;

/// `TICKERTAPE CRITICAL - RULE: why; … | 'label'=value;warn;crit;min; …` (no newline).
///
/// The text before `|` is made safe for a terminal and has no `|` of its own, so the
/// perfdata always starts at the first `|`.
pub fn nagios(v: &Verdict) -> String {
    let failing: Vec<String> = v
        .outcomes
        .iter()
        .filter(|o| o.status != super::verdict::Status::Ok)
        .map(|o| format!("{}: {}", o.expectation, o.detail))
        .collect();
    let text = if failing.is_empty() {
        format!(
            "{} expectation{} met over {:.1}s, {} events",
            v.outcomes.len(),
            if v.outcomes.len() == 1 { "" } else { "s" },
            v.window.as_secs_f64(),
            v.events
        )
    } else {
        failing.join("; ")
    };
    let text = terminal_safe(&text).replace('|', "/");
    let mut perf = vec![format!("events={}c;;;0;", v.events)];
    perf.extend(v.outcomes.iter().flat_map(|o| o.perf.iter().map(perfdata)));
    format!(
        "TICKERTAPE {} - {text} | {}",
        v.status.as_str(),
        perf.join(" ")
    )
}

/// One perfdata item. Labels are quoted; `'`, `=`, `|` and spaces (which naive parsers split
/// on) cannot appear in them.
pub fn perfdata(p: &Perf) -> String {
    let label: String = terminal_safe(&p.label)
        .chars()
        .map(|c| match c {
            '\'' | '=' | ' ' => '_',
            '|' => '/',
            c => c,
        })
        .collect();
    let num = |n: Option<f64>| n.map_or(String::new(), number);
    format!(
        "'{label}'={}{};{};{};0;",
        number(p.value),
        p.unit,
        num(p.warn),
        num(p.crit)
    )
}

/// A number without needless digits: `2`, `0.25`, `1.234`.
fn number(n: f64) -> String {
    let text = format!("{n:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.into()
    }
}

/// The verdict as one JSON object.
pub fn json(v: &Verdict) -> Value {
    json!({
        "status": v.status.as_str(),
        "code": v.status.code(),
        "window_s": v.window.as_secs_f64(),
        "events": v.events,
        "summary": nagios(v),
        "expectations": v.outcomes.iter().map(|o| json!({
            "expectation": o.expectation,
            "level": o.level.as_str(),
            "status": o.status.as_str(),
            "detail": o.detail,
            "perfdata": o.perf.iter().map(|p| json!({
                "label": p.label,
                "value": p.value,
                "unit": p.unit,
                "warn": p.warn,
                "crit": p.crit,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The Prometheus text exposition format (for a textfile collector or a pushgateway).
pub fn prometheus(v: &Verdict) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, rows: Vec<(String, f64)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (labels, value) in rows {
            out.push_str(&format!("{name}{labels} {}\n", number(value)));
        }
    };
    metric(
        "tickertape_check_status",
        "The check's Nagios status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        vec![(String::new(), f64::from(v.status.code()))],
    );
    metric(
        "tickertape_check_window_seconds",
        "How long the check watched.",
        vec![(String::new(), v.window.as_secs_f64())],
    );
    metric(
        "tickertape_check_events",
        "Application events received in the window.",
        vec![(String::new(), v.events as f64)],
    );
    metric(
        "tickertape_expectation_status",
        "Each expectation's Nagios status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        v.outcomes
            .iter()
            .map(|o| {
                (
                    format!(
                        "{{expectation=\"{}\",level=\"{}\"}}",
                        label_value(&o.expectation),
                        o.level.as_str()
                    ),
                    f64::from(o.status.code()),
                )
            })
            .collect(),
    );
    metric(
        "tickertape_expectation_measure",
        "What each expectation measured: gaps, latency and downtime in seconds, counts as counts.",
        v.outcomes
            .iter()
            .flat_map(|o| {
                o.perf.iter().map(|p| {
                    (
                        format!(
                            "{{expectation=\"{}\",measure=\"{}\"}}",
                            label_value(&o.expectation),
                            label_value(&p.label)
                        ),
                        p.value,
                    )
                })
            })
            .collect(),
    );
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format asks.
fn label_value(text: &str) -> String {
    terminal_safe(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
