//! The rough edges a new user hits, each pinned: the log's byte budget, names from strangers
//! cut in every view, the ticker's columns, the filter's comparisons, the inspect view at 80
//! columns, `--ascii`, and the help at 80×24.

use std::time::Instant;

use client::{Item, MemberChange};
use observe::binding::Binding;
use observe::binding::Bindings;
use protocol::frame::Member;
use ratatui::crossterm::event::KeyCode;
use serde_json::json;
use tui::testing::Dash as State;
use tui::watch::Options;

use crate::support::dashboard::{
    connected, event, key, press, render, screen_text as screen, state, subscribed,
};

#[test]
fn the_log_is_bounded_in_bytes_and_says_how_many_went() {
    let t0 = Instant::now();
    let options = Options {
        log_bytes: 64 * 1024,
        ..Options::default()
    };
    let mut s = state(options, Bindings::seed(), t0);
    s.apply(connected(), t0);
    for n in 0..200u64 {
        s.apply(
            event("c", "e", json!("x".repeat(1500) + &n.to_string()), 0),
            t0,
        );
    }
    let log = &s.model.log;
    assert!(log.bytes() <= 64 * 1024, "{} bytes", log.bytes());
    // 200 events and the line that says the connection is up.
    assert!(log.len() < 200 && log.dropped() == 201 - log.len() as u64);
    let text = screen(&s, t0, 80, 24);
    assert!(
        text.contains(&format!("{} dropped", log.dropped())),
        "{text}"
    );
    // Huge names: each line weighs the event it shares, and the ring stays within its
    // bytes.
    let options = Options {
        log_capacity: 10,
        log_bytes: 8 << 20,
        ..Options::default()
    };
    let mut s = state(options, Bindings::seed(), t0);
    let huge = "n".repeat(1 << 20);
    for _ in 0..20 {
        s.apply(event(&huge, &huge, json!({"a": 1}), 0), t0);
    }
    let log = &s.model.log;
    assert!(log.len() <= 4, "{} lines of 2 MB", log.len());
    assert!(log.bytes() <= 8 << 20, "{} bytes", log.bytes());
    assert_eq!(log.dropped(), 20 - log.len() as u64);
}

/// A state where a 1 MB name reaches every view: channel, event, ticker key, member, reason.
fn hostile_names(ascii: bool) -> State {
    let t0 = Instant::now();
    let rules = ["*/count=count", "*/tick=ticker(key=k,value=v)", "*=log"]
        .iter()
        .map(|r| Binding::parse(r).unwrap())
        .collect();
    let options = Options {
        ascii,
        ..Options::default()
    };
    let mut s = state(options, Bindings::new(rules), t0);
    let huge = "N".repeat(1 << 20);
    s.apply(connected(), t0);
    s.apply(subscribed(&huge), t0);
    s.apply(event(&huge, &huge, json!({"a": 1}), 1), t0);
    s.apply(event(&huge, "count", json!({}), 1), t0);
    s.apply(event("c", "tick", json!({"k": huge, "v": 1.5}), 1), t0);
    s.apply(
        Item::Members {
            channel: format!("presence-{huge}"),
            change: Box::new(MemberChange::Snapshot {
                members: vec![Member {
                    user_id: huge.clone(),
                    user_info: json!({ "name": huge }),
                }],
                me: None,
            }),
            count: 1,
        },
        t0,
    );
    s
}

#[test]
fn long_names_are_cut_with_an_ellipsis_in_every_view() {
    for (ascii, ellipsis) in [(false, "…"), (true, "...")] {
        let mut s = hostile_names(ascii);
        let now = Instant::now();
        // What the state keeps is bounded, so no frame copies a megabyte.
        let line = &s.model.log.back().unwrap().line;
        assert!(line.channel.chars().count() <= 200 && line.text.len() <= 2100);
        assert!(
            s.model
                .counts
                .keys()
                .all(|k| k.channel.len() <= 200 * 4 && k.event.len() <= 200 * 4)
        );
        assert!(
            s.model
                .members
                .values()
                .flat_map(|m| m.iter())
                .all(|(id, info)| id.len() <= 800 && info.len() <= 1100)
        );
        assert!(s.model.status.channels.keys().all(|(_, c)| c.len() <= 800));
        let main = screen(&s, now, 80, 24);
        for view in ["ticker", "log", "members", "events"] {
            assert!(main.contains(view), "{view} shown:\n{main}");
        }
        // The log pane's part of each line, left of the side panes.
        let log: Vec<&str> = main
            .lines()
            .filter(|l| l.contains(":41.000"))
            .map(|l| l.split(['│', '|']).nth(1).unwrap())
            .collect();
        assert_eq!(
            log[0].matches(ellipsis).count(),
            2,
            "channel and event cut:\n{main}"
        );
        assert!(
            log[1].contains(ellipsis) && log[1].contains("count"),
            "{main}"
        );
        assert!(
            main.matches(ellipsis).count() >= 7,
            "cut names in the log, members and events:\n{main}"
        );
        assert!(ascii != main.contains('…'), "{main}");
        let ticker_row = main.lines().nth(3).unwrap();
        assert!(
            ticker_row.contains(ellipsis),
            "the ticker key is cut: {ticker_row}"
        );
        // The chart of the long key, and the inspect view of the long event.
        press(&mut s, KeyCode::Enter);
        let chart = screen(&s, now, 80, 24);
        assert!(chart.lines().next().unwrap().contains(ellipsis), "{chart}");
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Char('k'));
        press(&mut s, KeyCode::Char('k'));
        press(&mut s, KeyCode::Enter);
        let inspect = screen(&s, now, 80, 24);
        // Its header: time, channel and event, each on a line of its own.
        let event_line = inspect.lines().nth(3).unwrap();
        assert!(
            event_line.contains("event") && event_line.contains(ellipsis),
            "the event's name is cut:\n{inspect}"
        );
    }
}

#[test]
fn the_filter_compares_numbers_ignores_case_and_marks_matches() {
    use crate::support::dashboard::{demo_state, type_text};
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let shown = |s: &State, f: &str| -> Vec<String> {
        let mut s2 = demo_state(t0, Options::default());
        s2.key(&key('f'));
        type_text(&mut s2, f);
        let _ = s;
        s2.log_positions()
            .iter()
            .map(|&p| s2.model.log[p].line.text.clone())
            .collect()
    };
    // GLOBEX is the only one above 300 (four updates).
    let above = shown(&s, "price>300");
    assert_eq!(above.len(), 4, "{above:?}");
    assert!(above.iter().all(|t| t.contains("GLOBEX")));
    assert_eq!(shown(&s, "price>=310.2").len(), 1);
    assert_eq!(
        shown(&s, "price<42").len(),
        3,
        "ACME 41, 41.8 and the misspelt 1"
    );
    assert_eq!(shown(&s, "name!=ACME event:update_event").len(), 12);
    assert_eq!(shown(&s, "name=acme").len(), 5, "text ignores case");
    assert_eq!(shown(&s, "channel:STOCK_TICKER hooli").len(), 4);
    // Matches are marked: the free text and the search, in the Match style (reverse).
    s.key(&key('f'));
    type_text(&mut s, "hooli");
    let terminal = render(&s, t0, 120, 40);
    let buffer = terminal.backend().buffer();
    let text = terminal.backend().to_string();
    let row = text
        .lines()
        .position(|l| l.contains("HOOLI\",\"price\":140"))
        .expect("a HOOLI line");
    let col = text.lines().nth(row).unwrap().find("HOOLI").unwrap();
    let col = text.lines().nth(row).unwrap()[..col].chars().count() as u16 - 1;
    let reversed = |c: u16| {
        buffer[(c, row as u16)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    assert!(reversed(col) && reversed(col + 4), "HOOLI is marked");
    assert!(!reversed(col - 1) && !reversed(col + 5), "the rest is not");
    // Esc clears the filter and the search, and their labels go.
    s.key(&key('/'));
    type_text(&mut s, "acme");
    let text = screen(&s, t0, 80, 24);
    assert!(text.contains("/acme"), "{text}");
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Esc);
    let text = screen(&s, t0, 80, 24);
    assert!(
        !text.contains("/acme") && !text.contains("filter:"),
        "{text}"
    );
    assert!(s.ui.search.is_none() && s.ui.filter.is_none());
}

#[test]
fn ticker_prices_line_up_and_the_key_column_fits_its_keys() {
    let t0 = Instant::now();
    let mut s = state(Options::default(), Bindings::seed(), t0);
    for (name, price) in [
        ("ACME", json!(203.8)),
        ("GLOBEX", json!(203.85)),
        ("X", json!(7)),
    ] {
        s.apply(
            event(
                "stock_ticker",
                "update_event",
                json!({"name": name, "price": price}),
                0,
            ),
            t0,
        );
    }
    let text = screen(&s, t0, 200, 40);
    let row = |k: &str| {
        text.lines()
            .find(|l| l.contains(&format!("│{k} ")))
            .unwrap()
            .to_owned()
    };
    assert!(row("ACME").contains("203.80 "), "{}", row("ACME"));
    assert!(row("GLOBEX").contains("203.85 ") && row("X").contains("7.00 "));
    let header = text.lines().find(|l| l.contains("KEY")).unwrap();
    let value_at = header.find("VALUE").unwrap();
    assert!(
        value_at < 20,
        "the key column is as wide as GLOBEX, not the screen: {header}"
    );
}
