//! A verdict as text: the Nagios plugin line (with perfdata), JSON, or the Prometheus text
//! format (through prometheus-client, as every metrics page). Pure: each returns a string,
//! one line for Nagios, the caller writes it.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Unit;
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

/// The Prometheus text exposition format (for a textfile collector or a pushgateway), by
/// prometheus-client, as every metrics page of tickertape is.
pub fn prometheus(v: &Verdict) -> String {
    let mut registry = net::metrics::registry();
    let gauge = |value: i64| {
        let g: Gauge = Gauge::default();
        g.set(value);
        g
    };
    registry.register(
        "check_status",
        "The check's Nagios status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        gauge(i64::from(v.status.code())),
    );
    let window: Gauge<f64, AtomicU64> = Gauge::default();
    window.set(v.window.as_secs_f64());
    registry.register_with_unit(
        "check_window",
        "How long the check watched",
        Unit::Seconds,
        window,
    );
    registry.register(
        "check_events",
        "Application events received in the window",
        gauge(i64::try_from(v.events).unwrap_or(i64::MAX)),
    );
    let status: Family<StatusLabels, Gauge> = Family::default();
    let measure: Family<MeasureLabels, Gauge<f64, AtomicU64>> = Family::default();
    for o in &v.outcomes {
        let expectation = label(&o.expectation);
        status
            .get_or_create(&StatusLabels {
                expectation: expectation.clone(),
                level: o.level.as_str(),
            })
            .set(i64::from(o.status.code()));
        for p in &o.perf {
            measure
                .get_or_create(&MeasureLabels {
                    expectation: expectation.clone(),
                    measure: label(&p.label),
                })
                .set(p.value);
        }
    }
    registry.register(
        "expectation_status",
        "Each expectation's Nagios status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        status,
    );
    registry.register(
        "expectation_measure",
        "What each expectation measured: gaps, latency and downtime in seconds, counts as counts",
        measure,
    );
    net::metrics::encode(&registry)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    expectation: String,
    level: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MeasureLabels {
    expectation: String,
    measure: String,
}

/// A label value: safe for a terminal (the encoder escapes `\`, `"` and newlines as the
/// format asks) and capped in length.
fn label(text: &str) -> String {
    net::metrics::label_value(&terminal_safe(text))
}
