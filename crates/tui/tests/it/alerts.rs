//! The alert strip of `--expect` in the dashboard: what broke and since when, the ticker row a
//! value rule broke in reverse video (the tests run with NO_COLOR's theme), the recovery, and
//! all of it on an 80×24 screen.

use std::time::{Duration, Instant, SystemTime};

use observe::expect::{Evaluator, Expectation, Settings};
use observe::field_path::FieldPath;
use ratatui::style::Modifier;
use serde_json::json;
use tui::testing::Dash as State;
use tui::watch::{Expectations, Options};

use crate::support::dashboard::{demo_state, event, render, screen_text};

fn screen(state: &State, now: Instant) -> String {
    screen_text(state, now, 80, 24)
}

fn with_alerts(t0: Instant) -> State {
    let mut s = demo_state(
        t0,
        Options {
            color: false,
            ..Options::default()
        },
    );
    let rules = vec![
        Expectation::parse("stock_ticker/update_event<5s").unwrap(),
        Expectation::parse("stock_ticker/update_event:price>0")
            .unwrap()
            .keyed_by(FieldPath::parse("name").unwrap()),
    ];
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    s.model.alerts = Expectations::new(
        Evaluator::new(rules, Settings::default(), t0),
        true,
        t0,
        epoch,
    );
    s
}

#[test]
fn a_broken_expectation_shows_in_the_strip_and_its_row_in_reverse_video() {
    let t0 = Instant::now();
    let mut s = with_alerts(t0);
    // The demo's quotes came before the evaluator: it starts from t0.
    s.apply(
        event(
            "stock_ticker",
            "update_event",
            json!({"name": "HOOLI", "price": -3}),
            18,
        ),
        t0 + Duration::from_secs(18),
    );
    assert!(s.model.alerts.take_bell(), "--bell rings on an alert");
    assert!(!s.model.alerts.take_bell(), "once");
    s.model.alerts.tick(t0 + Duration::from_secs(25));
    assert!(
        s.model.alerts.take_bell(),
        "and on the silence the tick found"
    );
    let now = t0 + Duration::from_secs(26);
    let terminal = render(&s, now, 80, 24);
    let text = terminal.backend().to_string();
    assert!(
        text.contains("ALERT since 11:06:58 (8s) stock_ticker/update_event<5s: no event for 7.0s"),
        "{text}"
    );
    assert!(
        text.contains(
            "ALERT since 11:06:58 (8s) stock_ticker/update_event:price>0 [HOOLI]: price -3"
        ),
        "{text}"
    );
    insta::assert_snapshot!("alerts_80x24", text);
    // The strip and HOOLI's row are reverse video, ACME's is not.
    let buffer = terminal.backend().buffer();
    let reversed = |y: u16| buffer[(3, y)].modifier.contains(Modifier::REVERSED);
    let row = |name: &str| {
        (0..24u16)
            .find(|&y| {
                (0..80u16)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    .contains(name)
            })
            .unwrap()
    };
    assert!(reversed(1) && reversed(2), "the strip");
    assert!(reversed(row("HOOLI ")), "the broken row");
    assert!(
        !reversed(row("GLOBEX ")),
        "a row that is neither broken nor selected"
    );
    // Recovery: HOOLI trades above 0 again, and a quote comes.
    s.apply(
        event(
            "stock_ticker",
            "update_event",
            json!({"name": "HOOLI", "price": 139}),
            27,
        ),
        t0 + Duration::from_secs(27),
    );
    let text = screen(&s, t0 + Duration::from_secs(28));
    assert!(!text.contains("ALERT"), "{text}");
    assert!(
        text.contains(
            "RECOVERED 11:06:58-11:07:07 stock_ticker/update_event<5s: an event after 9.0s"
        ),
        "{text}"
    );
    assert!(
        text.contains("RECOVERED 11:06:58-11:07:07 stock_ticker/update_event:price>0 [HOOLI]"),
        "{text}"
    );
    assert!(!s.model.alerts.take_bell(), "no bell on recovery");
    // The recoveries leave the strip after a while.
    s.model.alerts.tick(t0 + Duration::from_secs(29));
    let text = screen(&s, t0 + Duration::from_secs(40));
    assert!(!text.contains("RECOVERED"), "{text}");
}

#[test]
fn nothing_broken_no_strip() {
    let t0 = Instant::now();
    let plain = demo_state(t0, Options::default());
    let mut with = with_alerts(t0);
    with.model.alerts.tick(t0 + Duration::from_secs(4));
    let now = t0 + Duration::from_secs(4);
    assert_eq!(screen(&with, now), screen(&plain, now));
}

/// With two connections, `connected` in the strip names the one that is down; the other's
/// state changes leave it alone.
#[test]
fn with_two_connections_the_strip_names_the_one_down() {
    use client::{ConnectionState, Labels};
    use observe::binding::Bindings;
    use tui::watch::Connections;
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let labels = Labels::new(vec!["eu".into(), "us".into()]);
    let options = Options {
        color: false,
        ..Options::default()
    };
    let mut s = crate::support::dashboard::state(options, Bindings::seed(), t0);
    s.model.connections = Connections::new(labels.clone());
    let rules = vec![Expectation::parse("connected<2s").unwrap()];
    let eval = Evaluator::new(rules, Settings::default(), t0).for_connections(labels);
    s.model.alerts = Expectations::new(eval, false, t0, s.model.epoch);
    for conn in [0, 1] {
        s.apply_from(conn, crate::support::dashboard::connected(), t0);
    }
    let down = crate::support::dashboard::state_change(
        ConnectionState::Connected,
        ConnectionState::Unavailable,
        None,
        None,
    );
    s.apply_from(1, down, at(1));
    s.apply_from(0, crate::support::dashboard::connected(), at(2));
    s.model.alerts.tick(at(4));
    let text = screen(&s, at(4));
    assert!(
        text.contains("connected<2s: us: down for 3.0s (grace 2.0s)"),
        "{text}"
    );
    assert!(!text.contains("eu: down"), "{text}");
    s.apply_from(1, crate::support::dashboard::connected(), at(5));
    let text = screen(&s, at(5));
    assert!(
        text.contains("connected<2s: us: connected again after 4.0s"),
        "{text}"
    );
}
