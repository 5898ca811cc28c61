//! Payload navigation on the watch screen: the ticker's "changed" column, inspect's value
//! cursor and its copies, hiding and showing panes, views that bring their expectations, and
//! the filter's fast path; drawn on the TestBackend (insta).

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui::testing::Dash as State;
use tui::watch::Options;

use crate::support::dashboard::{demo_state, key, render, type_text};

/// Snapshots of the whole screen at 80×24 and at 120×40.
fn snapshots(name: &str, state: &State, now: Instant) {
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("{name}_{w}x{h}"),
            render(state, now, w, h).backend()
        );
    }
}

fn press(s: &mut State, code: KeyCode) {
    s.key(&KeyEvent::new(code, KeyModifiers::NONE));
}

fn text(s: &State, now: Instant, w: u16, h: u16) -> String {
    format!("{}", render(s, now, w, h).backend())
}

/// `f` with a simple jq comparison is answered by jq's fast path on every line (none goes
/// to jaq), and each answer is jaq's own.
#[test]
fn the_filter_takes_the_fast_path_and_agrees_with_jaq() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('f'));
    type_text(&mut s, ".data.price > 100 and .event == \"update_event\"");
    let shown = s.log_positions();
    let filter = s.ui.filter.as_ref().unwrap();
    let jq = filter.jq().unwrap();
    assert_eq!(filter.engines(), (17, 0), "every line on the fast path");
    let log = &s.model.log;
    let mut agreed = 0;
    for i in 0..log.len() {
        let line = &log[i].line;
        let Some(ev) = line.received() else { continue };
        let mut json = Vec::new();
        observe::output::ndjson::write_event_from(&mut json, ev, line.latency_ms(), None).unwrap();
        let jaq = jq.passes_jaq(&json).unwrap();
        assert_eq!(shown.contains(&i), jaq, "line {i}");
        agreed += 1;
    }
    assert_eq!((agreed, shown.len()), (17, 8));
    // An expression with no fast form goes to jaq.
    s.key(&key('f'));
    for _ in 0..60 {
        press(&mut s, KeyCode::Backspace);
    }
    type_text(&mut s, ".data.price - 100 > 0");
    assert_eq!(s.log_positions().len(), 8);
    assert_eq!(s.ui.filter.as_ref().unwrap().engines(), (0, 17));
}
