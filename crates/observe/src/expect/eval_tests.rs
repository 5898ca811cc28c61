//! The evaluator and the verdict with made-up times: each kind breaking and recovering.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use super::eval::{Change, Evaluator, Settings, Transition};
use super::parse::Expectation;
use super::report;
use super::verdict::Status;
use crate::field_path::FieldPath;
use client::{ConnectionState, Item, ReceivedEvent, StateChange};
use protocol::Data;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn event_at(channel: &str, name: &str, data: serde_json::Value, at: SystemTime) -> Item {
    Item::from(ReceivedEvent::decoded(
        at,
        Some(channel.into()),
        name.into(),
        Data::Json(data),
        None,
        String::new(),
    ))
}

fn event(channel: &str, name: &str, data: serde_json::Value) -> Item {
    event_at(channel, name, data, SystemTime::UNIX_EPOCH)
}

pub(super) fn state(current: ConnectionState) -> Item {
    Item::State(Box::new(StateChange {
        previous: ConnectionState::Connecting,
        current,
        reason: None,
        retry_in: None,
        socket_id: None,
        url: String::new(),
    }))
}

pub(super) fn evaluator(rules: &[&str], t0: Instant) -> Evaluator {
    let rules = rules
        .iter()
        .map(|r| Expectation::parse(r).unwrap())
        .collect();
    Evaluator::new(rules, Settings::default(), t0)
}

fn changes(t: &[Transition]) -> Vec<(Change, Option<&str>)> {
    t.iter().map(|t| (t.change, t.subject.as_deref())).collect()
}

#[test]
fn cadence_breaks_after_silence_and_recovers_on_an_event() {
    let t0 = Instant::now();
    let mut e = evaluator(&["stock_ticker/update_event<1s"], t0);
    e.apply(&state(ConnectionState::Connected), t0);
    let tick = e.tick(t0 + ms(900));
    assert!(tick.is_empty());
    assert!(
        e.apply(
            &event("stock_ticker", "update_event", json!({})),
            t0 + ms(950)
        )
        .is_empty()
    );
    // Another channel, another event: not this rule's.
    e.apply(&event("other", "update_event", json!({})), t0 + ms(1500));
    e.apply(&event("stock_ticker", "noise", json!({})), t0 + ms(1600));
    assert!(e.tick(t0 + ms(1900)).is_empty(), "950 ms since the event");
    let alert = e.tick(t0 + ms(2000));
    assert_eq!(changes(&alert), [(Change::Alert, None)]);
    assert_eq!(alert[0].since, t0 + ms(950), "since the last event");
    assert!(
        alert[0].detail.contains("no event for 1.1s"),
        "{}",
        alert[0].detail
    );
    assert!(e.tick(t0 + ms(3000)).is_empty(), "an alert is said once");
    assert_eq!(e.active().len(), 1);
    let back = e.apply(
        &event("stock_ticker", "update_event", json!({})),
        t0 + ms(3100),
    );
    assert_eq!(changes(&back), [(Change::Recovery, None)]);
    assert_eq!(back[0].since, t0 + ms(950));
    assert!(e.active().is_empty());
    // It broke during the window: the verdict remembers.
    let v = e.verdict(t0 + ms(3200));
    assert_eq!(v.status, Status::Critical);
    assert_eq!(v.events, 4);
}

#[test]
fn cadence_wildcards_per_channel_and_per_event() {
    let t0 = Instant::now();
    let mut e = evaluator(&["stock_ticker/*<1s", "update_event<1s"], t0);
    e.apply(&event("stock_ticker", "other", json!({})), t0 + ms(800));
    e.apply(&event("elsewhere", "update_event", json!({})), t0 + ms(900));
    let t = e.tick(t0 + ms(1500));
    assert!(t.is_empty(), "{t:?}");
    let t = e.tick(t0 + ms(1850));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].rule, 0);
}

#[test]
fn a_steady_stream_is_ok() {
    let t0 = Instant::now();
    let mut e = evaluator(&["stock_ticker/update_event<1s", "connected"], t0);
    e.apply(&state(ConnectionState::Connected), t0 + ms(20));
    for n in 1..=10 {
        let at = t0 + ms(200 * n);
        assert!(
            e.apply(&event("stock_ticker", "update_event", json!({})), at)
                .is_empty()
        );
        assert!(e.tick(at + ms(100)).is_empty());
    }
    let v = e.verdict(t0 + ms(2100));
    assert_eq!(v.status, Status::Ok, "{v:?}");
    let line = report::nagios(&v);
    assert!(
        line.starts_with("TICKERTAPE OK - 2 expectations met"),
        "{line}"
    );
    assert!(
        line.contains("'stock_ticker/update_event_gap'=0.2s;;1;0;"),
        "{line}"
    );
    assert!(
        line.contains("'stock_ticker/update_event_events'=10c;;;0;"),
        "{line}"
    );
    assert!(line.contains("'connection_down'=0.02s;;5;0;"), "{line}");
}

#[test]
fn nothing_to_judge_is_unknown() {
    let t0 = Instant::now();
    let mut e = evaluator(&["update_event<1s", "e:price>0"], t0);
    e.tick(t0 + ms(2000));
    let v = e.verdict(t0 + ms(2000));
    assert_eq!(v.status, Status::Unknown, "never connected: {v:?}");
    assert!(v.outcomes[0].detail.contains("never connected"));
    // A `connected` rule says what the trouble is: critical.
    let mut e = evaluator(&["update_event<1s", "connected"], t0);
    e.tick(t0 + ms(2000));
    let v = e.verdict(t0 + ms(2000));
    assert_eq!(v.status, Status::Critical);
    assert_eq!(v.outcomes[1].status, Status::Critical);
}

#[test]
fn value_rules_break_per_ticker_key_and_recover() {
    let t0 = Instant::now();
    let rule = Expectation::parse("stock_ticker/update_event:price>0")
        .unwrap()
        .keyed_by(FieldPath::parse("name").unwrap());
    let mut e = Evaluator::new(vec![rule], Settings::default(), t0);
    e.apply(&state(ConnectionState::Connected), t0);
    let quote = |name: &str, price: serde_json::Value| {
        event(
            "stock_ticker",
            "update_event",
            json!({"name": name, "price": price}),
        )
    };
    assert!(e.apply(&quote("ACME", json!(41.5)), t0).is_empty());
    let t = e.apply(&quote("ACME", json!(-1)), t0 + ms(10));
    assert_eq!(changes(&t), [(Change::Alert, Some("ACME"))]);
    assert_eq!(t[0].detail, "price -1");
    assert!(e.apply(&quote("ACME", json!(-2)), t0 + ms(20)).is_empty());
    let t = e.apply(&quote("HOOLI", json!("n/a")), t0 + ms(30));
    assert_eq!(
        changes(&t),
        [(Change::Alert, Some("HOOLI"))],
        "not a number"
    );
    assert!(
        e.apply(&quote("BETA", json!(5)), t0 + ms(40)).is_empty(),
        "another key does not mend ACME"
    );
    assert_eq!(e.active().len(), 2);
    let t = e.apply(&quote("ACME", json!("3.5")), t0 + ms(50));
    assert_eq!(changes(&t), [(Change::Recovery, Some("ACME"))]);
    assert_eq!(t[0].since, t0 + ms(10));
    // A missing field is not judged.
    assert!(
        e.apply(&event("stock_ticker", "update_event", json!({})), t0)
            .is_empty()
    );
    let v = e.verdict(t0 + ms(60));
    assert_eq!(v.status, Status::Critical);
    assert!(
        v.outcomes[0].detail.starts_with("3 of 6 values broke it"),
        "{}",
        v.outcomes[0].detail
    );
}

#[test]
fn value_rules_without_a_key_and_text_comparisons() {
    let t0 = Instant::now();
    let mut e = evaluator(&["e:state!=halted", "e:ok=true"], t0);
    let t = e.apply(&event("c", "e", json!({"state": "halted", "ok": true})), t0);
    assert_eq!(changes(&t), [(Change::Alert, None)]);
    assert_eq!(t[0].rule, 0);
    let t = e.apply(&event("c", "e", json!({"state": "open", "ok": false})), t0);
    assert_eq!(
        t.iter().map(|t| (t.rule, t.change)).collect::<Vec<_>>(),
        [(0, Change::Recovery), (1, Change::Alert)]
    );
}

#[test]
fn the_connection_breaks_after_its_grace_and_recovers() {
    let t0 = Instant::now();
    let mut e = evaluator(&["connected<2s"], t0);
    e.apply(&state(ConnectionState::Connected), t0 + ms(100));
    e.apply(&state(ConnectionState::Unavailable), t0 + ms(1000));
    assert!(e.tick(t0 + ms(2900)).is_empty(), "within the grace");
    e.apply(&state(ConnectionState::Connecting), t0 + ms(2950));
    let t = e.tick(t0 + ms(3100));
    assert_eq!(changes(&t), [(Change::Alert, None)]);
    assert_eq!(t[0].since, t0 + ms(1000), "since it went down");
    let t = e.apply(&state(ConnectionState::Connected), t0 + ms(4000));
    assert_eq!(changes(&t), [(Change::Recovery, None)]);
    assert!(t[0].detail.contains("after 3.0s"), "{}", t[0].detail);
    let v = e.verdict(t0 + ms(5000));
    assert_eq!(v.status, Status::Critical);
    assert!(v.outcomes[0].detail.contains("was down for 3.0s"), "{v:?}");
    // Down at the end of the window, even within the grace, fails the check.
    let mut e = evaluator(&["connected"], t0);
    e.tick(t0 + ms(2000));
    assert_eq!(e.verdict(t0 + ms(2000)).status, Status::Critical);
}

#[test]
fn latency_p99_over_the_window_breaks_and_recovers() {
    let t0 = Instant::now();
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let settings = Settings {
        ts_field: Some(FieldPath::parse("ts").unwrap()),
        latency_window: Duration::from_secs(10),
    };
    let rules = vec![Expectation::parse_warning("latency<250ms").unwrap()];
    let mut e = Evaluator::new(rules, settings, t0);
    e.apply(&state(ConnectionState::Connected), t0);
    let stamped = |latency: u64, at: u64| {
        let sent = epoch + Duration::from_secs(at);
        let ts = sent
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        event_at("c", "e", json!({"ts": ts}), sent + ms(latency))
    };
    for s in 0..5 {
        e.apply(&stamped(100, s), t0 + Duration::from_secs(s));
    }
    assert!(e.tick(t0 + Duration::from_secs(5)).is_empty());
    e.apply(&stamped(900, 5), t0 + Duration::from_secs(5));
    let t = e.tick(t0 + Duration::from_secs(6));
    assert_eq!(changes(&t), [(Change::Alert, None)]);
    assert!(t[0].detail.contains("p99 900ms"), "{}", t[0].detail);
    // The slow sample leaves the 10 s window.
    for s in 6..17 {
        e.apply(&stamped(100, s), t0 + Duration::from_secs(s));
    }
    let t = e.tick(t0 + Duration::from_secs(16));
    assert_eq!(changes(&t), [(Change::Recovery, None)]);
    let v = e.verdict(t0 + Duration::from_secs(16));
    assert_eq!(v.status, Status::Warning, "a --warn rule warns");
    assert!(report::nagios(&v).contains("'latency_p99'=0.9s;0.25;;0;"));
}

#[test]
fn latency_without_samples_is_unknown() {
    let t0 = Instant::now();
    let mut e = evaluator(&["latency<250ms"], t0);
    e.apply(&state(ConnectionState::Connected), t0);
    e.apply(&event("c", "e", json!({})), t0);
    assert!(e.tick(t0 + ms(1000)).is_empty());
    assert_eq!(e.verdict(t0 + ms(1000)).status, Status::Unknown);
}

#[test]
fn reports_keep_their_shape_whatever_the_names() {
    let t0 = Instant::now();
    let mut e = evaluator(&["we|ird'x'/e\u{1b}<1s"], t0);
    e.apply(&state(ConnectionState::Connected), t0);
    e.tick(t0 + ms(2000));
    let v = e.verdict(t0 + ms(2000));
    let line = report::nagios(&v);
    assert_eq!(line.matches('|').count(), 1, "{line}");
    assert!(!line.contains('\u{1b}') && !line.contains('\n'), "{line}");
    assert!(line.contains("'we/ird_x_/e\\e_gap'=2s;;1;0;"), "{line}");
    let json = report::json(&v);
    assert_eq!(json["code"], 2);
    assert_eq!(json["expectations"][0]["status"], "CRITICAL");
    let prom = report::prometheus(&v);
    assert!(prom.contains("tickertape_check_status 2\n"), "{prom}");
    assert!(!prom.contains('\u{1b}'), "{prom}");
    assert!(
        prom.contains(
            r#"tickertape_expectation_status{expectation="we|ird'x'/e\\e<1s",level="critical"} 2"#
        ),
        "{prom}"
    );
}

/// A server that accepts and drops every connection after a second: each drop is short, but
/// the connection never stays up for the grace, so the spell goes on until it breaks.
#[test]
fn a_flapping_connection_breaks_connected_and_the_verdict() {
    let t0 = Instant::now();
    let mut e = evaluator(&["connected<3s"], t0);
    let mut alerts = Vec::new();
    // Up for 1 s, down for 1.2 s, from 100 ms on.
    for cycle in 0..4u64 {
        let up = t0 + ms(100 + cycle * 2200);
        alerts.extend(e.apply(&state(ConnectionState::Connected), up));
        alerts.extend(e.tick(up + ms(500)));
        e.apply(&state(ConnectionState::Unavailable), up + ms(1000));
        alerts.extend(e.tick(up + ms(1100)));
    }
    assert_eq!(changes(&alerts), [(Change::Alert, None)], "{alerts:?}");
    assert_eq!(
        alerts[0].since,
        t0 + ms(1100),
        "since the first of the drops"
    );
    assert!(
        alerts[0].detail.starts_with("dropping for 4.5s: 3 drops"),
        "{}",
        alerts[0].detail
    );
    assert!(
        e.decided(),
        "an --expect rule broke: CRITICAL whatever comes"
    );
    // Back, and up for the grace: one recovery, not one per reconnection.
    assert!(
        e.apply(&state(ConnectionState::Connected), t0 + ms(9000))
            .is_empty()
    );
    assert!(
        e.tick(t0 + ms(11000)).is_empty(),
        "not up for the grace yet"
    );
    let back = e.tick(t0 + ms(12100));
    assert_eq!(changes(&back), [(Change::Recovery, None)]);
    assert!(
        back[0]
            .detail
            .starts_with("up for 3.1s again after 4 drops")
    );
    let v = e.verdict(t0 + ms(12100));
    assert_eq!(v.status, Status::Critical);
    let line = report::nagios(&v);
    assert!(line.contains("dropped 4 times"), "{line}");
    assert!(line.contains("'connection_drops'=4c;;;0;"), "{line}");
    // One drop, back at once and up since: within the grace, OK.
    let mut e = evaluator(&["connected<3s"], t0);
    e.apply(&state(ConnectionState::Connected), t0 + ms(100));
    e.apply(&state(ConnectionState::Unavailable), t0 + ms(1100));
    e.apply(&state(ConnectionState::Connected), t0 + ms(2300));
    assert!(e.tick(t0 + ms(9000)).is_empty());
    let v = e.verdict(t0 + ms(9000));
    assert_eq!(v.status, Status::Ok, "{v:?}");
    assert_eq!(v.outcomes[0].detail, "connected, dropped once");
    assert!(!e.decided());
}

/// A refusal, and a server never reached, are CRITICAL even for a `--warn` rule.
#[test]
fn a_refusing_or_unreachable_server_is_critical_whatever_the_level() {
    use client::Reason;
    let t0 = Instant::now();
    let warn = |t0| {
        let rules = vec![Expectation::parse_warning("connected<1s").unwrap()];
        Evaluator::new(rules, Settings::default(), t0)
    };
    let mut e = warn(t0);
    assert!(!e.decided());
    e.apply(
        &Item::State(Box::new(StateChange {
            previous: ConnectionState::Connecting,
            current: ConnectionState::Disconnected,
            reason: Some(Reason::PusherError {
                code: Some(4001),
                message: "App key x does not exist".into(),
            }),
            retry_in: None,
            socket_id: None,
            url: String::new(),
        })),
        t0 + ms(10),
    );
    assert!(e.decided(), "refused: nothing can mend it");
    let v = e.verdict(t0 + ms(20));
    assert_eq!(v.status, Status::Critical);
    assert_eq!(
        v.outcomes[0].detail,
        "connection refused: pusher:error 4001: App key x does not exist"
    );
    // Unreachable for longer than the grace, then up: still CRITICAL, and known at once.
    let mut e = warn(t0);
    e.apply(&state(ConnectionState::Unavailable), t0 + ms(10));
    e.tick(t0 + ms(1100));
    assert!(e.decided());
    e.apply(&state(ConnectionState::Connected), t0 + ms(1500));
    let v = e.verdict(t0 + ms(3000));
    assert_eq!(v.status, Status::Critical, "{v:?}");
    assert!(
        v.outcomes[0]
            .detail
            .starts_with("unreachable past the grace")
    );
    // A warning rule broken later is only a warning, and decides nothing.
    let mut e = warn(t0);
    e.apply(&state(ConnectionState::Connected), t0 + ms(10));
    e.apply(&state(ConnectionState::Unavailable), t0 + ms(100));
    e.tick(t0 + ms(1200));
    assert!(!e.decided());
    e.apply(&state(ConnectionState::Connected), t0 + ms(1300));
    assert_eq!(e.verdict(t0 + ms(3000)).status, Status::Warning);
}
