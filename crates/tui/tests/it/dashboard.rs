//! The dashboard without a terminal: state and update tests, and whole-screen snapshots drawn
//! on ratatui's TestBackend (insta). Times are fixed, so the screens are deterministic.

use std::time::{Duration, Instant, SystemTime};

use client::{Item, ReceivedEvent};
use observe::binding::Binding;
use observe::binding::Bindings;
use protocol::Data;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use serde_json::json;
use tui::kit::Effect;
use tui::testing::Dash as State;
use tui::watch::{EventType, Options, Overlay, Source};

use crate::support::dashboard::{
    connected, demo_state, event, fail_and_disconnect, key, render, subscribed, type_text,
};

#[test]
fn snapshot_demo_ticker() {
    let t0 = Instant::now();
    let s = demo_state(t0, Options::default());
    snapshots!("demo_ticker", &s, t0 + Duration::from_secs(20));
}

#[test]
fn snapshot_help() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('?'));
    snapshots!("help", &s, t0 + Duration::from_secs(20));
}

#[test]
fn snapshot_disconnected_and_retrying_with_a_failed_subscription() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    fail_and_disconnect(
        &mut s,
        t0,
        "Invalid signature: Expected HMAC SHA256 hex digest of 1.1:private-orders, but got x",
    );
    snapshots!(
        "disconnected_failed_subscription",
        &s,
        t0 + Duration::from_secs(19),
    );
}

#[test]
fn snapshot_hostile_payload_is_escaped() {
    let t0 = Instant::now();
    let mut s = crate::support::dashboard::state(
        Options::default(),
        Bindings::new(vec![Binding::parse("*=log").unwrap()]),
        t0,
    );
    s.apply(connected(), t0);
    let hostile = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{202e}gnp.exe 中文字符 ".to_owned()
        + &"x".repeat(500);
    s.apply(event("evil\u{1b}[31m", "boom\u{7}", json!(hostile), 1), t0);
    let terminal = render(&s, t0 + Duration::from_secs(1), 80, 24);
    let screen = terminal.backend().to_string();
    assert!(
        !screen.contains('\u{1b}')
            && !screen.contains('\u{9b}')
            && !screen.contains('\u{202e}')
            && !screen.contains('\u{7}')
    );
    snapshots!("hostile_payload", &s, t0 + Duration::from_secs(1));
}

#[test]
fn too_small_says_so() {
    let t0 = Instant::now();
    let s = demo_state(t0, Options::default());
    let screen = render(&s, t0, 50, 10).backend().to_string();
    assert!(screen.contains("terminal too small: 50×10"), "{screen}");
}

#[test]
fn no_color_keeps_the_meaning_without_colours() {
    let t0 = Instant::now();
    let colourless = Options {
        color: false,
        ..Options::default()
    };
    let s = demo_state(t0, colourless);
    let terminal = render(&s, t0 + Duration::from_secs(20), 120, 40);
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "a colour was used"
    );
    let screen = terminal.backend().to_string();
    assert!(screen.contains('▲') && screen.contains('▼'));
    // With colour, the arrows are green and red.
    let s = demo_state(t0, Options::default());
    let terminal = render(&s, t0 + Duration::from_secs(20), 120, 40);
    assert!(
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg == Color::Green)
    );
    // --ascii uses no block characters.
    let s = demo_state(
        t0,
        Options {
            ascii: true,
            ..Options::default()
        },
    );
    let screen = render(&s, t0 + Duration::from_secs(20), 120, 40)
        .backend()
        .to_string();
    assert!(!screen.contains('▲') && !screen.contains('▁') && screen.contains('^'));
}

#[test]
fn unbound_events_are_logged_marked_and_counted() {
    let t0 = Instant::now();
    let s = demo_state(t0, Options::default());
    assert_eq!(s.model.status.unbound, 1);
    let last = &s.model.log.back().unwrap().line;
    assert!(last.is_unbound() && last.event == "update_evnt");
    // Bound events are logged too, and feed the ticker; so is the connection's state.
    assert_eq!(s.model.log.len(), 18);
    assert_eq!(s.model.ticker.len(), 4);
}

#[test]
fn pause_freezes_the_view_and_counts_what_arrives() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key(' '));
    for n in 0..5 {
        s.apply(
            event(
                "stock_ticker",
                "update_event",
                json!({"name": "NEW", "price": n}),
                18,
            ),
            t0,
        );
    }
    let new = (0, "NEW".to_owned());
    assert!(
        s.shown_ticker().get(&new).is_none() && s.log_positions().len() == 18,
        "the view is frozen"
    );
    assert_eq!(s.paused_since(), Some(5));
    assert!(s.model.ticker.get(&new).is_some(), "data kept coming");
    assert_eq!(s.model.log.len(), 23, "the log was not copied: it grew");
    s.key(&key(' '));
    assert!(s.shown_ticker().get(&new).is_some(), "resume catches up");
    assert_eq!(s.log_positions().len(), 23);
}

#[test]
fn keys_move_sort_clear_and_quit() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('j'));
    s.key(&key('j'));
    assert_eq!(s.ui.selected, 2);
    s.key(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT));
    assert_eq!(s.ui.selected, 3);
    s.key(&key('s'));
    assert_eq!(s.ui.sort.label(), "value");
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    s.key(&key('k'));
    let newest = s.model.log.back().unwrap().seq;
    assert_eq!(
        s.ui.log_selected,
        Some(newest - 1),
        "moving up in the log stops following"
    );
    s.key(&KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    assert_eq!(s.ui.log_selected, None, "End follows again");
    s.key(&key('c'));
    assert!(s.model.ticker.is_empty() && s.model.log.is_empty());
    assert!(
        matches!(s.key(&key('q')), Some(Effect::Quit)),
        "q quits, as an effect"
    );
}

#[test]
fn memory_stays_bounded() {
    let t0 = Instant::now();
    let options = Options {
        log_capacity: 1000,
        history: 50,
        max_rows: 100,
        ..Options::default()
    };
    let mut s = crate::support::dashboard::state(options, Bindings::seed(), t0);
    let mut sizes = Vec::new();
    for n in 0..200_000u64 {
        s.apply(
            event(
                "stock_ticker",
                "update_event",
                json!({"name": format!("K{}", n % 500), "price": n}),
                0,
            ),
            t0,
        );
        s.apply(
            event(
                "stock_ticker",
                format!("e{}", n % 5000).as_str(),
                json!(n),
                0,
            ),
            t0,
        );
        if n == 10_000 || n == 100_000 || n == 199_999 {
            let rows = s.model.ticker.sorted(tui::watch::ticker::Sort::Key);
            sizes.push((
                s.model.log.len(),
                s.model.ticker.len(),
                rows.iter().map(|r| r.history.len()).max().unwrap(),
                s.model.counts.len(),
            ));
        }
    }
    // Every ring is at its cap once enough events came, and stays there.
    assert_eq!(sizes[1], sizes[2], "state after 100k events vs 200k events");
    assert_eq!(
        sizes[2],
        (1000, 100, 50, 1000),
        "log, rows, history, event types: each at its cap"
    );
    let (a, b) = (sizes[0], sizes[2]);
    assert!(
        a.0 <= b.0 && a.1 <= b.1 && a.2 <= b.2,
        "{a:?} after 10k is within the caps"
    );
    assert!(s.model.ticker.evicted > 0);
}

#[test]
fn search_jumps_between_matches_and_filter_hides_the_rest() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('/'));
    type_text(&mut s, "hooli");
    let seq_of = |s: &State| s.line(s.ui.log_selected.unwrap()).unwrap().text.clone();
    assert!(
        seq_of(&s).contains("HOOLI") && seq_of(&s).contains("140"),
        "the newest match first: {}",
        seq_of(&s)
    );
    s.key(&KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT));
    assert!(
        seq_of(&s).contains("148.5"),
        "N goes to an older match: {}",
        seq_of(&s)
    );
    s.key(&key('n'));
    assert!(seq_of(&s).contains("140"), "n comes back: {}", seq_of(&s));

    s.key(&key('f'));
    type_text(&mut s, "event:update_event name=ACME");
    let shown: Vec<String> = s
        .log_positions()
        .iter()
        .map(|&p| s.model.log[p].line.text.clone())
        .collect();
    assert_eq!(shown.len(), 4, "{shown:?}");
    assert!(shown.iter().all(|t| t.contains("ACME")));
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.ui.filter.is_none() && s.log_positions().len() == 18);
}

#[test]
fn snapshot_log_with_a_filter() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('f'));
    type_text(&mut s, "name=HOOLI");
    snapshots!("log_filter", &s, t0 + Duration::from_secs(20));
}

#[test]
fn snapshot_inspect_view() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.apply(
        Item::from(ReceivedEvent::decoded(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_019),
            Some("orders".into()),
            "created".into(),
            Data::Json(json!({"id": 7, "items": [{"sku": "A-1", "qty": 2}], "total": "9.99"})),
            None,
            r#"{"event":"created","channel":"orders","data":"{\"id\":7,\"items\":[{\"sku\":\"A-1\",\"qty\":2}],\"total\":\"9.99\"}"}"#.to_owned(),
        )),
        t0,
    );
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(s.ui.overlay, Some(Overlay::Inspect { .. })));
    snapshots!("inspect", &s, t0 + Duration::from_secs(20));
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.ui.overlay.is_none());
}

#[test]
fn snapshot_presence_members() {
    use client::MemberChange;
    use protocol::frame::Member;
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let member = |id: &str, info: serde_json::Value| Member {
        user_id: id.into(),
        user_info: info,
    };
    s.apply(subscribed("presence-lobby"), t0);
    s.apply(
        Item::Members {
            channel: "presence-lobby".into(),
            change: Box::new(MemberChange::Snapshot {
                members: vec![
                    member("ann", json!({"name": "Ann"})),
                    member("bob", json!(null)),
                ],
                me: Some("ann".into()),
            }),
            count: 2,
        },
        t0,
    );
    s.apply(
        Item::Members {
            channel: "presence-lobby".into(),
            change: Box::new(MemberChange::Added(member("cy", json!({"name": "Cy"})))),
            count: 3,
        },
        t0,
    );
    s.apply(
        Item::Members {
            channel: "presence-lobby".into(),
            change: Box::new(MemberChange::Removed("bob".into())),
            count: 2,
        },
        t0,
    );
    assert_eq!(s.model.members_of(0, "presence-lobby").unwrap().len(), 2);
    snapshots!("presence_members", &s, t0 + Duration::from_secs(20));
}

#[test]
fn snapshot_chart_of_a_ticker_row() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('j')); // GLOBEX
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.ui.overlay, Some(Overlay::Chart((0, "GLOBEX".into()))));
    snapshots!("chart", &s, t0 + Duration::from_secs(20));
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.ui.overlay.is_none());
}

#[test]
fn snapshot_no_color_with_styles() {
    // Text snapshots cannot show colour: this one records every cell's style, so a colour
    // sneaking into NO_COLOR mode changes it.
    let t0 = Instant::now();
    let s = demo_state(
        t0,
        Options {
            color: false,
            ..Options::default()
        },
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let terminal = render(&s, t0 + Duration::from_secs(20), w, h);
        insta::assert_debug_snapshot!(format!("no_color_{w}x{h}"), terminal.backend().buffer());
    }
}

#[test]
fn the_mouse_clicks_rows_and_scrolls_panes() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;
    use tui::watch::Focus;
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let size = Rect::new(0, 0, 80, 24);
    let [_, ticker, log, _] = tui::watch::layout(size);
    let at = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // The second data row of the ticker: below the border and the header.
    s.app.mouse(
        at(MouseEventKind::Down(MouseButton::Left), 5, ticker.y + 3),
        size,
    );
    assert_eq!((s.ui.focus, s.ui.selected), (Focus::Ticker, 1));
    s.app
        .mouse(at(MouseEventKind::ScrollUp, 5, log.y + 2), size);
    assert_eq!(s.ui.focus, Focus::Log);
    let newest = s.model.log.back().unwrap().seq;
    assert_eq!(s.ui.log_selected, Some(newest - 3));
    // Outside both panes nothing happens.
    s.app
        .mouse(at(MouseEventKind::Down(MouseButton::Left), 5, 0), size);
    assert_eq!(s.ui.focus, Focus::Log);
}

#[test]
fn latency_windows_per_event_type() {
    let t0 = Instant::now();
    let mut s =
        crate::support::dashboard::state(Options::default(), Bindings::seed(), t0).with_ts("ts");
    // Received at second 1_795_000_000 + n; published 10..=100 ms earlier.
    for n in 0..10u64 {
        let received_ms = (1_795_000_000 + n) * 1000;
        let ts = received_ms - 10 * (n + 1);
        s.apply(
            event(
                "stock_ticker",
                "update_event",
                json!({"name": "ACME", "price": 1, "ts": ts}),
                n,
            ),
            t0,
        );
    }
    let (key, lat) = s.model.latency_summary().unwrap();
    assert_eq!(key, &("stock_ticker".to_owned(), "update_event".to_owned()));
    assert_eq!(
        (lat.p50, lat.p99, lat.max, lat.samples),
        (60.0, 100.0, 100.0, 10)
    );
    assert_eq!(s.model.log.back().unwrap().line.latency_ms(), Some(100.0));
    let screen = render(&s, t0 + Duration::from_secs(10), 120, 40)
        .backend()
        .to_string();
    assert!(screen.contains("lat p50 60 p99 100 max 100ms"), "{screen}");
    snapshots!("latency", &s, t0 + Duration::from_secs(10));
}

#[test]
fn export_writes_the_log_as_shown() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('f'));
    type_text(&mut s, "name=ACME");
    let Some(Effect::Task(task)) = s.key(&key('e')) else {
        panic!("e asks the event loop to export");
    };
    assert_eq!(task.what(), "export 5 lines");
    let records = tui::watch::export::records(
        s.log_positions().iter().map(|&p| &s.model.log[p].line),
        &s.model.connections,
    );
    let dir = std::env::temp_dir().join(format!("tickertape-export-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_100);
    let (path, n) = tui::watch::export::write(&records, &dir, now).unwrap();
    // Four ACME updates and the misspelt one pass the filter.
    assert_eq!(n, 5);
    assert!(
        path.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("tickertape-export-2026"),
        "{path:?}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["data"], json!({"name": "ACME", "price": 41.0}));
    assert!(
        lines
            .iter()
            .all(|l| l["channel"] == "stock_ticker" && l["time"].as_str().unwrap().ends_with('Z'))
    );
    // Exporting again in the same second does not overwrite.
    assert!(tui::watch::export::write(&records, &dir, now).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_trigger_form_checks_and_requests() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let form = |s: &State| match &s.ui.overlay {
        Some(Overlay::Form(f)) => Some(f.clone()),
        _ => None,
    };
    s.key(&key('t'));
    let opened = form(&s).expect("t opens the form");
    assert_eq!(
        opened.values[0], "stock_ticker",
        "the subscribed channel by default"
    );
    for c in "update_event".chars() {
        s.key(&key(c));
    }
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    s.key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    s.key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    for c in "{\"name\":\"ACME\",\"price\":".chars() {
        s.key(&key(c));
    }
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(
        form(&s)
            .unwrap()
            .error
            .unwrap()
            .starts_with("data is not JSON")
    );
    snapshots!("trigger_form", &s, t0 + Duration::from_secs(20));
    for c in "1}".chars() {
        s.key(&key(c));
    }
    let Some(Effect::Task(request)) = s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    else {
        panic!("a checked request");
    };
    assert!(form(&s).is_none());
    assert_eq!(
        request.what(),
        r#"trigger update_event on stock_ticker: {"name":"ACME","price":1}"#
    );
    // While the form is open, keys are typing, not commands: q does not quit.
    s.key(&key('t'));
    assert!(s.key(&key('q')).is_none());
    assert_eq!(form(&s).unwrap().values[1], "q");
}

#[test]
fn count_bindings_show_how_many_and_how_long_ago() {
    let t0 = Instant::now();
    let rules = ["orders/created=count", "*=log"]
        .iter()
        .map(|r| Binding::parse(r).unwrap())
        .collect();
    let mut s = crate::support::dashboard::state(Options::default(), Bindings::new(rules), t0);
    s.apply(connected(), t0);
    for n in 0..3u64 {
        s.apply(
            event("orders", "created", json!({"id": n}), n),
            t0 + Duration::from_secs(n),
        );
    }
    s.apply(
        event("orders", "shipped", json!({"id": 1}), 5),
        t0 + Duration::from_secs(5),
    );
    let created = EventType {
        conn: 0,
        channel: "orders".into(),
        event: "created".into(),
    };
    assert_eq!(s.model.counts.get(&created).unwrap().count, 3);
    assert!(s.model.counting);
    snapshots!("count_binding", &s, t0 + Duration::from_secs(9));
    let screen = render(&s, t0 + Duration::from_secs(9), 80, 24)
        .backend()
        .to_string();
    assert!(
        screen.contains("orders · 4s ago") && screen.contains("created 3 · 7s"),
        "{screen}"
    );
}

#[test]
fn the_demo_shows_its_page_url_in_the_key_hints() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.banner = Some("page http://127.0.0.1:6001/".into());
    let screen = render(&s, t0 + Duration::from_secs(20), 80, 24)
        .backend()
        .to_string();
    let last = screen.lines().last().unwrap();
    assert!(
        last.contains("q quit") && last.contains("page http://127.0.0.1:6001/"),
        "{last}"
    );
}

/// `tickertape webhooks` on a terminal: webhook events as log lines on their channels, their
/// counts by channel in the ticker's place, an invalid signature as an error line, and no
/// connection or channel count in the status bar.
#[test]
fn snapshot_received_webhooks() {
    use observe::output::webhook_items;
    use observe::output::webhooks::Received;
    use protocol::webhook::check::{AppSecret, check};
    use protocol::webhook::sign;

    let t0 = Instant::now();
    let source = Source::Receiving("webhooks on http://127.0.0.1:6010/".into());
    let mut s = tui::testing::watch(Options::default(), Bindings::default(), source, t0);
    s.model.epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let apps = [AppSecret {
        id: "1",
        key: "app-key",
        secret: "app-secret",
    }];
    let bodies: [(&[u8], bool); 3] = [
        (
            br#"{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"stock_ticker"},{"name":"member_added","channel":"presence-room","user_id":"u1"}]}"#,
            true,
        ),
        (
            br#"{"time_ms":1700000001000,"events":[{"name":"client_event","channel":"private-chat","event":"client-typing","data":"{\"who\":\"u1\"}","socket_id":"1.2"}]}"#,
            true,
        ),
        (
            br#"{"time_ms":1700000002000,"events":[{"name":"channel_vacated","channel":"stock_ticker"}]}"#,
            false,
        ),
    ];
    for (i, (body, signed)) in bodies.into_iter().enumerate() {
        let sig = if signed {
            sign("app-secret", body)
        } else {
            "00".into()
        };
        let c = check(&apps, Some("app-key"), Some(&sig), body);
        let received = Received {
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64),
            key: Some("app-key"),
            signature: Some(&sig),
            body,
            check: &c,
        };
        let now = t0 + Duration::from_secs(i as u64);
        for item in webhook_items::items(&received, "/webhooks").0 {
            s.apply(item, now);
        }
    }
    let now = t0 + Duration::from_secs(5);
    let screen = format!("{}", render(&s, now, 80, 24).backend());
    assert!(
        screen.contains("webhooks on http://127.0.0.1:6010/"),
        "{screen}"
    );
    assert!(
        !screen.contains(" sub "),
        "no channels are subscribed:\n{screen}"
    );
    assert!(screen.contains(" client_event 1"), "{screen}");
    snapshots!("received_webhooks", &s, now);
}

/// With several connections, the form opens on the selected line's channel and connection,
/// says which in its title, and its request carries that connection.
#[test]
fn the_trigger_form_sends_through_the_selected_lines_connection() {
    let t0 = Instant::now();
    let mut s = crate::support::dashboard::two_connections(t0, Options::default());
    // Focus the log and select the last event line, which came from "us".
    s.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    let last_us = s
        .model
        .log
        .iter()
        .rev()
        .find(|l| l.line.conn == Some(1) && l.line.channel == "stock_ticker")
        .map(|l| l.seq)
        .unwrap();
    s.ui.log_selected = Some(last_us);
    s.key(&key('t'));
    let Some(Overlay::Form(form)) = &s.ui.overlay else {
        panic!("t opens the form")
    };
    assert_eq!(form.values[0], "stock_ticker");
    assert_eq!((form.conn, form.via.as_deref()), (1, Some("us")));
    let screen = format!(
        "{}",
        render(&s, t0 + Duration::from_secs(7), 80, 24).backend()
    );
    assert!(screen.contains("trigger via us"), "{screen}");
    for c in "update_event".chars() {
        s.key(&key(c));
    }
    let Some(Effect::Task(request)) = s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    else {
        panic!("a checked request")
    };
    assert!(
        request
            .what()
            .starts_with("trigger update_event on stock_ticker via us:"),
        "{}",
        request.what()
    );

    // A line of tickertape's own, on us: us, and a channel subscribed through it.
    let us_state = s
        .model
        .log
        .iter()
        .rev()
        .find(|l| l.line.conn == Some(1) && l.line.is_notice())
        .map(|l| l.seq)
        .unwrap();
    s.ui.log_selected = Some(us_state);
    s.key(&key('t'));
    let Some(Overlay::Form(form)) = &s.ui.overlay else {
        panic!()
    };
    assert_eq!(form.values[0], "stock_ticker");
    assert_eq!((form.conn, form.via.as_deref()), (1, Some("us")));
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));

    // No line selected: the first subscribed channel, of the first connection.
    s.ui.log_selected = None;
    s.key(&key('t'));
    let Some(Overlay::Form(form)) = &s.ui.overlay else {
        panic!()
    };
    assert_eq!((form.conn, form.via.as_deref()), (0, Some("eu")));
}

/// With several connections the events pane counts each connection's channel on its own,
/// and a channel that has events is not called silent.
#[test]
fn with_two_connections_the_events_pane_is_by_connection_and_not_falsely_silent() {
    let t0 = Instant::now();
    let s = crate::support::dashboard::two_connections(t0, Options::default());
    let pairs: Vec<(String, u64)> = s
        .model
        .counts
        .iter()
        .map(|(k, seen)| {
            let shown = s.model.connections.shown(Some(k.conn), &k.channel);
            (shown.into_owned(), seen.count)
        })
        .collect();
    assert_eq!(
        pairs,
        [("eu/stock_ticker".into(), 3), ("us/stock_ticker".into(), 2)]
    );
    // The last events came at 3 s (eu) and 4 s (us): 10 s after the start neither is silent.
    let silent: Vec<_> = s
        .model
        .silence
        .silent(t0 + Duration::from_secs(10))
        .collect();
    assert!(silent.is_empty(), "{silent:?}");
}

/// Past 1000 (channel, event) pairs the events pane says how many events it did not count.
#[test]
fn the_events_pane_says_what_it_did_not_count() {
    let t0 = Instant::now();
    let rules = vec![Binding::parse("*=count").unwrap()];
    let mut s = crate::support::dashboard::state(Options::default(), Bindings::new(rules), t0);
    s.apply(connected(), t0);
    for n in 0..1003u64 {
        s.apply(event(&format!("c{n}"), "e", json!({}), 1), t0);
    }
    assert_eq!((s.model.counts.len(), s.model.uncounted()), (1000, 3));
    let screen = format!("{}", render(&s, t0, 120, 40).backend());
    assert!(screen.contains("3 not counted"), "{screen}");
}

/// With several connections following the same channels, `:view save` names each channel
/// once, and the palette offers each once.
#[test]
fn with_two_connections_a_view_and_the_palette_name_each_channel_once() {
    use tui::kit::Screen;
    let t0 = Instant::now();
    let mut s = crate::support::dashboard::two_connections(t0, Options::default());
    for conn in [0, 1] {
        s.apply_from(conn, subscribed("orders"), t0);
    }
    assert_eq!(s.current("both").channels, ["orders", "stock_ticker"]);
    let commands: Vec<String> = s
        .app
        .screen
        .commands()
        .into_iter()
        .map(|c| c.text)
        .collect();
    let jumps: Vec<&String> = commands
        .iter()
        .filter(|c| c.starts_with("channel "))
        .collect();
    assert_eq!(jumps, ["channel orders", "channel stock_ticker"]);
}
