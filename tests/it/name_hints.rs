//! Name hints for unbound events, in the dashboard (log, events pane, inspect) and in
//! `watch --json --bind`, and how long each subscribed channel has been silent.

use std::time::{Duration, Instant};

use observe::binding::Binding;
use observe::binding::Bindings;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use tui::testing::Dash as State;
use tui::watch::Options;

use crate::support::bin::Proc;
use crate::support::dashboard::{connected, event, render, state, subscribed};
use crate::support::server::Server;

fn bound(rules: &[&str], t0: Instant) -> State {
    let rules = rules.iter().map(|r| Binding::parse(r).unwrap()).collect();
    let mut s = state(Options::default(), Bindings::new(rules), t0);
    s.apply(connected(), t0);
    s
}

fn inspect_last(s: &mut State) {
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

#[test]
fn a_misspelt_event_is_marked_in_the_log_the_events_pane_and_inspect() {
    let t0 = Instant::now();
    let mut s = bound(&["stock_ticker/update_event=count"], t0);
    s.apply(subscribed("stock_ticker"), t0);
    for second in 0..3 {
        s.apply(
            event("stock_ticker", "update_event", json!({"n": second}), second),
            t0 + Duration::from_secs(second),
        );
    }
    s.apply(
        event("stock_ticker", "update-event", json!({"name": "ACME"}), 3),
        t0 + Duration::from_secs(3),
    );
    let now = t0 + Duration::from_secs(4);
    // At 80 columns the log pane is narrow beside the events pane, which has the hint.
    let screen = render(&s, now, 80, 24).backend().to_string();
    assert!(screen.contains("update-event [unbound —"), "{screen}");
    assert!(
        screen.contains("│ — update_event?"),
        "the events pane: {screen}"
    );
    insta::assert_snapshot!("misspelt_80x24", screen);
    let screen = render(&s, now, 120, 40).backend().to_string();
    assert!(
        screen.contains("update-event [unbound — did you mean update_event?]"),
        "{screen}"
    );
    inspect_last(&mut s);
    let screen = render(&s, now, 80, 24).backend().to_string();
    // Wrapped in the narrow inspect pane.
    assert!(
        screen.contains("│binding  unbound — did you mean ") && screen.contains("│update_event?  "),
        "{screen}"
    );
}

#[test]
fn laravel_names_say_which_form_matches() {
    let t0 = Instant::now();
    // Bound as in Echo's listen('OrderShipped'); Laravel sent the class name.
    let mut s = bound(&["orders/OrderShipped=log"], t0);
    s.apply(
        event("orders", r"App\Events\OrderShipped", json!({"id": 7}), 1),
        t0,
    );
    let screen = render(&s, t0, 160, 40).backend().to_string();
    assert!(
        screen.contains(r"[unbound — Laravel: bind App\Events\OrderShipped]"),
        "{screen}"
    );
    inspect_last(&mut s);
    insta::assert_snapshot!(
        "laravel_inspect_80x24",
        render(&s, t0, 80, 24).backend().to_string()
    );
    // Bound with the namespace; the event defines broadcastAs().
    let mut s = bound(&[r"orders/App\Events\OrderShipped=log"], t0);
    s.apply(event("orders", "OrderShipped", json!({"id": 7}), 1), t0);
    inspect_last(&mut s);
    let screen = render(&s, t0, 120, 40).backend().to_string();
    assert!(
        screen.contains("the event defines broadcastAs()"),
        "{screen}"
    );
    assert!(screen.contains("listen('.OrderShipped')"), "{screen}");
}

#[test]
fn a_hint_is_found_once_per_name_and_their_number_is_bounded() {
    let t0 = Instant::now();
    let mut s = bound(&["update_event=log"], t0);
    for n in 0..100 {
        s.apply(event("c", "update-event", json!(n), 0), t0);
    }
    assert_eq!(s.model.hints.len(), 1);
    for n in 0..3000 {
        s.apply(event("c", &format!("other-{n}"), json!(n), 0), t0);
    }
    assert_eq!(s.model.hints.len(), observe::hints::MAX_HINTS);
}

#[test]
fn silent_channels_show_how_long_at_80x24() {
    let t0 = Instant::now();
    let mut s = bound(&["*=log"], t0);
    for c in ["orders", "stock_ticker", "weather"] {
        s.apply(subscribed(c), t0);
    }
    s.apply(event("stock_ticker", "update_event", json!({}), 0), t0);
    s.apply(
        event("weather", "forecast", json!({}), 130),
        t0 + Duration::from_secs(130),
    );
    let now = t0 + Duration::from_secs(133);
    let screen = render(&s, now, 80, 24).backend().to_string();
    assert!(screen.contains("orders: silent 2m13s"), "{screen}");
    assert!(screen.contains("stock_ticker: silent 2m13s"), "{screen}");
    assert!(!screen.contains("weather: silent"), "{screen}");
    insta::assert_snapshot!("silence_80x24", screen);
    // Nothing silent: no events pane at 80 columns.
    let screen = render(&s, t0 + Duration::from_secs(5), 80, 24)
        .backend()
        .to_string();
    assert!(!screen.contains("silent"), "{screen}");
}

#[tokio::test]
async fn json_unbound_events_carry_the_hint() {
    let server = Server::start(&[]).await;
    let child = Proc::spawn(&mut server.command(
        "watch",
        &[
            "stock_ticker",
            "--json",
            "--count",
            "3",
            "--bind",
            "update_event=log",
        ],
    ));
    server.wait_subscribers("stock_ticker", 1).await;
    let rest = server.rest();
    for name in ["update_event", "update-event", "weather"] {
        rest.trigger(&["stock_ticker".into()], name, "{}", None, None)
            .await
            .unwrap();
    }
    let (code, stdout, stderr) = child.finish(Duration::from_secs(10)).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hint = |i: usize| lines[i].get("hint").cloned();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(hint(0), None, "bound: {stdout}");
    assert_eq!(
        hint(1),
        Some(json!("did you mean update_event?")),
        "{stdout}"
    );
    assert_eq!(hint(2), None, "nothing close: {stdout}");
}
