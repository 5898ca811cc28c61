//! Payload tools on the watch screen: the jq filter, read-only mode, the palette, copying,
//! the diff, views, themes and the empty ticker; drawn on the TestBackend (insta).

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui::testing::Dash as State;
use tui::watch::{Options, Overlay};

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

fn text(s: &State, now: Instant) -> String {
    format!("{}", render(s, now, 120, 40).backend())
}

/// `f` takes a jq expression: the error while it is typed, the number of events it matches,
/// and then the log narrowed to them.
#[test]
fn the_filter_takes_jq() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    s.key(&key('f'));
    for c in ".data.price >".chars() {
        s.key(&key(c));
    }
    let typed = text(&s, now);
    assert!(typed.contains("column 14: expected term"), "{typed}");
    // Enter keeps a broken expression open.
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.ui.overlay, Some(Overlay::Input(..))));
    for c in " 150".chars() {
        s.key(&key(c));
    }
    let typed = text(&s, now);
    assert!(typed.contains("4 of 17 events match"), "{typed}");
    snapshots("jq_filter_typing", &s, now);
    press(&mut s, KeyCode::Enter);
    assert!(s.ui.overlay.is_none());
    assert_eq!(s.log_positions().len(), 4, "the four GLOBEX quotes");
    snapshots("jq_filter", &s, now);
    // An error on a line is counted, not fatal.
    s.key(&key('f'));
    for _ in 0..40 {
        press(&mut s, KeyCode::Backspace);
    }
    type_text(&mut s, ".data.name - 1");
    assert_eq!(s.log_positions().len(), 0);
    assert_eq!(s.ui.filter.as_ref().unwrap().errors().0, 17);
    assert!(text(&s, now).contains("17 errors"));
    // The simple syntax is still the simple syntax.
    s.key(&key('f'));
    for _ in 0..40 {
        press(&mut s, KeyCode::Backspace);
    }
    type_text(&mut s, "name=HOOLI");
    assert_eq!(s.log_positions().len(), 4);
}

/// Read-only: the status bar says so first, `t` opens no form and says why, and the
/// screen keeps no way to send (its trigger gate refuses even a request it is handed).
#[test]
fn read_only_sends_nothing() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let options = Options {
        readonly: true,
        ..Options::default()
    };
    let mut s = demo_state(t0, options);
    s.key(&key('t'));
    assert!(s.ui.overlay.is_none(), "no trigger form");
    let screen = text(&s, now);
    assert!(screen.starts_with("\"READ-ONLY │ connected"), "{screen}");
    assert!(screen.contains("triggering is off: read-only"), "{screen}");
    snapshots("read_only", &s, now);
    // Narrow: READ-ONLY is the part that stays.
    let narrow = format!("{}", render(&s, now, 80, 24).backend());
    assert!(narrow.contains("\"READ-ONLY │"), "{narrow}");
}
