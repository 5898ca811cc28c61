//! `connected` with several connections: each its own downtime and grace, named in its
//! transitions; with one, nothing is named.

use std::time::{Instant, SystemTime};

use super::eval::{Change, Evaluator, Transition};
use super::eval_tests::{evaluator, ms, state};
use crate::output::alerts::{alert_line, alert_value};
use client::{ConnectionState, Labels};

fn two(rules: &[&str], t0: Instant) -> Evaluator {
    evaluator(rules, t0).for_connections(Labels::new(vec!["eu".into(), "us".into()]))
}

fn named(t: &[Transition]) -> Vec<(Change, Option<&str>)> {
    t.iter()
        .map(|t| (t.change, t.connection.as_deref()))
        .collect()
}

#[test]
fn with_two_connections_the_one_down_past_its_grace_is_named() {
    let t0 = Instant::now();
    let mut e = two(&["connected<2s"], t0);
    e.apply_from(0, &state(ConnectionState::Connected), t0 + ms(100));
    e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(100));
    e.apply_from(0, &state(ConnectionState::Unavailable), t0 + ms(1000));
    // us keeps speaking, and says it is up: that does not mend eu.
    e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(2000));
    assert!(e.tick(t0 + ms(2900)).is_empty(), "within eu's grace");
    e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(3000));
    let t = e.tick(t0 + ms(3100));
    assert_eq!(named(&t), [(Change::Alert, Some("eu"))]);
    assert_eq!(t[0].since, t0 + ms(1000), "since eu went down");
    assert!(t[0].detail.starts_with("down for 2.1s"), "{}", t[0].detail);
    let line = alert_line(&t[0], SystemTime::UNIX_EPOCH);
    assert!(
        line.starts_with("ALERT connected<2s: eu: down for 2.1s (grace 2.0s), since"),
        "{line}"
    );
    let v = alert_value(&t[0], SystemTime::UNIX_EPOCH, SystemTime::UNIX_EPOCH);
    assert_eq!(v["connection"], "eu", "{v}");
    let active = e.active();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].connection.as_deref(), Some("eu"));
    // us going up again, or down within its grace, says nothing of eu.
    e.apply_from(1, &state(ConnectionState::Unavailable), t0 + ms(3200));
    assert!(
        e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(3300))
            .is_empty()
    );
    assert!(e.tick(t0 + ms(4000)).is_empty(), "an alert is said once");
    // eu comes back: its recovery, named.
    let t = e.apply_from(0, &state(ConnectionState::Connected), t0 + ms(4500));
    assert_eq!(named(&t), [(Change::Recovery, Some("eu"))]);
    assert!(t[0].detail.contains("after 3.5s"), "{}", t[0].detail);
    assert!(e.active().is_empty());
}

#[test]
fn with_two_connections_each_breaks_and_recovers_on_its_own() {
    let t0 = Instant::now();
    let mut e = two(&["connected<1s"], t0);
    // eu never comes up; us does, then goes down later.
    e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(100));
    let t = e.tick(t0 + ms(1100));
    assert_eq!(
        named(&t),
        [(Change::Alert, Some("eu"))],
        "down from the start"
    );
    e.apply_from(1, &state(ConnectionState::Disconnected), t0 + ms(2000));
    let t = e.tick(t0 + ms(3100));
    assert_eq!(named(&t), [(Change::Alert, Some("us"))]);
    assert_eq!(e.active().len(), 2);
    let t = e.apply_from(1, &state(ConnectionState::Connected), t0 + ms(3200));
    assert_eq!(named(&t), [(Change::Recovery, Some("us"))]);
    let still: Vec<_> = e.active().into_iter().map(|a| a.connection).collect();
    assert_eq!(still, [Some("eu".to_owned())], "eu is still down");
    // A tag outside the table (not one of the run's connections) changes nothing.
    assert!(
        e.apply_from(7, &state(ConnectionState::Connected), t0 + ms(3300))
            .is_empty()
    );
    assert_eq!(e.active().len(), 1);
}

#[test]
fn one_connection_is_not_named() {
    let t0 = Instant::now();
    let mut e = evaluator(&["connected<1s"], t0).for_connections(Labels::new(vec!["only".into()]));
    let t = e.tick(t0 + ms(1100));
    assert_eq!(named(&t), [(Change::Alert, None)]);
    let line = alert_line(&t[0], SystemTime::UNIX_EPOCH);
    assert!(
        line.starts_with("ALERT connected<1s: down for 1.1s"),
        "{line}"
    );
    let v = alert_value(&t[0], SystemTime::UNIX_EPOCH, SystemTime::UNIX_EPOCH);
    assert!(v.get("connection").is_none(), "{v}");
}
