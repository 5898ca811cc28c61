//! The inspect view (Enter on a log line) at 80 columns: long text that is not JSON wraps
//! instead of being cut, and the event's latency has a line of its own.

use std::time::{Duration, Instant, SystemTime};

use client::{Item, ReceivedEvent};
use observe::binding::Binding;
use observe::binding::Bindings;
use protocol::Data;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use tui::testing::Dash as State;
use tui::watch::{Options, Overlay};

use crate::support::dashboard::{connected, event, render};

fn open_newest(s: &mut State) {
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(s.ui.overlay, Some(Overlay::Inspect { .. })));
}

fn log_all(options: Options, t0: Instant) -> State {
    let mut s = crate::support::dashboard::state(
        options,
        Bindings::new(vec![Binding::parse("*=log").unwrap()]),
        t0,
    );
    s.apply(connected(), t0);
    s
}

#[test]
fn long_text_wraps_in_the_inspect_view() {
    let t0 = Instant::now();
    let mut s = log_all(Options::default(), t0);
    let words: Vec<String> = (0..60).map(|n| format!("word{n}")).collect();
    let text = words.join(" ") + " THE-END";
    s.apply(
        Item::from(ReceivedEvent::decoded(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_001),
            Some("notes".into()),
            "plain".into(),
            Data::Text(text.clone()),
            None,
            format!(r#"{{"event":"plain","channel":"notes","data":"{text}"}}"#),
        )),
        t0,
    );
    open_newest(&mut s);
    let now = t0 + Duration::from_secs(2);
    let screen = render(&s, now, 80, 24).backend().to_string();
    let left: String = screen
        .lines()
        .map(|l| l.chars().take(44).collect::<String>())
        .collect();
    assert!(
        left.contains("word59") && left.contains("THE-END"),
        "the text's end shows in the data pane:\n{screen}"
    );
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("inspect_long_text_{w}x{h}"),
            render(&s, now, w, h).backend()
        );
    }
}

#[test]
fn latency_has_its_own_line_at_80_columns() {
    let t0 = Instant::now();
    let mut s = log_all(Options::default(), t0).with_ts("ts");
    let received_ms = 1_795_000_003u64 * 1000;
    s.apply(
        event(
            "private-orders-eu-west-1",
            "order.created.v2",
            json!({"id": 7, "ts": received_ms - 42}),
            3,
        ),
        t0,
    );
    open_newest(&mut s);
    let now = t0 + Duration::from_secs(4);
    let screen = render(&s, now, 80, 24).backend().to_string();
    let line = screen
        .lines()
        .find(|l| l.contains("latency"))
        .unwrap_or_else(|| panic!("no latency line:\n{screen}"));
    assert!(line.contains("latency  42.0 ms"), "{line}");
    assert!(screen.contains("private-orders-eu-west-1") && screen.contains("order.created.v2"));
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("inspect_latency_{w}x{h}"),
            render(&s, now, w, h).backend()
        );
    }
}
