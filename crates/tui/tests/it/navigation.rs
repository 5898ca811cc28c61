//! Payload navigation on the watch screen: the ticker's "changed" column, inspect's value
//! cursor and its copies, hiding and showing panes, views that bring their expectations, and
//! the filter's fast path; drawn on the TestBackend (insta).

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui::testing::Dash as State;
use tui::watch::Options;

use crate::support::dashboard::{demo_state, key, press, screen_text as text, type_text};

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

/// Quotes with more than a price: each update of a key changes some of its fields.
fn quotes(t0: Instant) -> State {
    use tui::testing::{connected, event, subscribed};
    let mut s = crate::support::dashboard::state(
        Options::default(),
        observe::binding::Bindings::seed(),
        t0,
    );
    s.apply(connected(), t0);
    s.apply(subscribed("stock_ticker"), t0);
    let updates = [
        json!({"name": "ACME", "price": 41.0, "volume": 100, "venue": "NYSE"}),
        json!({"name": "HOOLI", "price": 150.0, "volume": 7, "bid": {"size": 1}}),
        json!({"name": "ACME", "price": 42.0, "volume": 180, "venue": "NYSE", "halted": false}),
        json!({"name": "HOOLI", "price": 150.0, "volume": 9, "bid": {"size": 4}, "notes": "a very long note field name follows"}),
        json!({"name": "ACME", "price": 42.5, "volume": 180, "venue": "NYSE", "halted": false}),
    ];
    for (i, data) in updates.into_iter().enumerate() {
        let second = i as u64;
        s.apply(
            event("stock_ticker", "update_event", data, second),
            t0 + Duration::from_secs(second),
        );
    }
    s
}

use serde_json::json;

/// The ticker's CHANGED column: the paths that changed since the key's previous update
/// (its value's own left out: CHANGE has it), from inspect's diff. At 120 columns it is a
/// column; at 80 it is the first dropped, and the selected row's changes go in the pane's
/// bottom border. `C` hides it.
#[test]
fn the_ticker_shows_what_changed() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    let wide = text(&s, now, 120, 40);
    let row = |screen: &str, key: &str| {
        screen
            .lines()
            .find(|l| l.contains(key) && l.contains('│'))
            .unwrap_or_else(|| panic!("{key}:\n{screen}"))
            .to_owned()
    };
    assert!(wide.contains("SINCE 1ST CHANGED"), "{wide}");
    // ACME's last update changed only its price: nothing else to say.
    assert!(!row(&wide, "ACME").contains(".volume"), "{wide}");
    let hooli = row(&wide, "HOOLI");
    assert!(hooli.contains(".volume, .bid.size, .notes"), "{hooli}");
    snapshots!("ticker_changed", &s, now);
    // Narrow: no column; the selected row (ACME, sorted by key) says it at the bottom.
    s.key(&key('j'));
    let narrow = text(&s, now, 80, 24);
    assert!(!narrow.contains("CHANGED"), "{narrow}");
    assert!(
        narrow.contains("changed: .volume, .bid.size, .notes"),
        "{narrow}"
    );
    // `C` hides it, and says so; `C` again shows it.
    s.key(&key('C'));
    let hidden = text(&s, now, 120, 40);
    assert!(
        !hidden.contains("SINCE 1ST CHANGED") && hidden.contains("CHANGED column hidden"),
        "{hidden}"
    );
    assert!(!text(&s, now, 80, 24).contains("changed:"));
    s.key(&key('C'));
    assert!(text(&s, now, 120, 40).contains("SINCE 1ST CHANGED"));
}

/// Inspect's value cursor: ↓ and ↑ move over the data's values, `y` copies the one under
/// the cursor as JSON and `p` its jq path (quoted where a key needs it), both said in the
/// status bar as the log's `y` is; the keys are in the help and the palette.
#[test]
fn inspect_copies_a_value_and_its_path() {
    use tui::kit::Screen as _;
    use tui::testing::event;
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    s.apply(
        event(
            "stock_ticker",
            "update_event",
            json!({"name": "ACME", "price": 43.0, "book": {"bid side": [41.9, 42.0]}}),
            5,
        ),
        t0 + Duration::from_secs(5),
    );
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    // The cursor starts on the whole data.
    s.key(&key('p'));
    assert_eq!(s.app.screen.take_clipboard().as_deref(), Some(".data"));
    for _ in 0..4 {
        press(&mut s, KeyCode::Down);
    }
    s.key(&key('y'));
    assert_eq!(
        s.app.screen.take_clipboard().as_deref(),
        Some("[41.9,42.0]")
    );
    let said = text(&s, now, 120, 40);
    assert!(
        said.contains("copied value .data.book.\"bid side\" (11 bytes)"),
        "{said}"
    );
    s.key(&key('p'));
    assert_eq!(
        s.app.screen.take_clipboard().as_deref(),
        Some(".data.book.\"bid side\"")
    );
    press(&mut s, KeyCode::Down);
    s.key(&key('y'));
    assert_eq!(s.app.screen.take_clipboard().as_deref(), Some("41.9"));
    snapshots!("inspect_value_cursor", &s, now);
    // Past the last value, the cursor stays on it; `G` goes there, `g` back to the top.
    for _ in 0..10 {
        press(&mut s, KeyCode::Down);
    }
    s.key(&key('p'));
    assert_eq!(
        s.app.screen.take_clipboard().as_deref(),
        Some(".data.book.\"bid side\"[1]")
    );
    s.key(&key('g'));
    s.key(&key('y'));
    let whole = s.app.screen.take_clipboard().unwrap();
    assert!(whole.starts_with("{\"name\":\"ACME\""), "{whole}");
    // In the diff, `p` says where it works; `y` copies the event.
    s.key(&key('d'));
    s.key(&key('p'));
    assert!(s.app.screen.take_clipboard().is_none());
    assert!(text(&s, now, 120, 40).contains("p copies a value's path in the event view"));
    s.key(&key('y'));
    assert!(
        s.app
            .screen
            .take_clipboard()
            .unwrap()
            .starts_with("{\"time\"")
    );
    // Outside inspect, `p` says where it works.
    press(&mut s, KeyCode::Esc);
    s.key(&key('p'));
    assert!(text(&s, now, 120, 40).contains("p copies a value's jq path in inspect"));
    // The help and the palette list it, from the keymap.
    s.key(&key('?'));
    let help = text(&s, now, 120, 40);
    assert!(help.contains("copy the selected value's jq path"), "{help}");
}

/// `p` on a value whose key holds a bidi override, DEL or a C1 control copies a path jq
/// reads back as that key (`."\u202e…"`, the `--json` line's escapes), never the
/// terminal-safe formatter's `\u{202e}`, which jq cannot parse; the border shows the same.
#[test]
fn a_copied_path_with_unsafe_characters_is_one_jq_reads() {
    use tui::kit::Screen as _;
    use tui::testing::event;
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    s.apply(
        event(
            "stock_ticker",
            "update_event",
            json!({"\u{202e}evil\u{7f}\u{9b}": 7}),
            5,
        ),
        t0 + Duration::from_secs(5),
    );
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Down);
    s.key(&key('p'));
    let path = s.app.screen.take_clipboard().unwrap();
    assert_eq!(path, r#".data."\u202eevil\u007f\u009b""#);
    // jq (jaq here) reads it, on the line `watch --json` writes, as the key.
    let line = &s.model.log[s.model.log.len() - 1].line;
    let mut json = Vec::new();
    observe::output::ndjson::write_event_from(&mut json, line.received().unwrap(), None, None)
        .unwrap();
    let jq = observe::jq::Jq::parse(&format!("{path} == 7")).unwrap();
    assert_eq!(jq.passes_jaq(&json), Ok(true));
    let shown = text(&s, now, 120, 40);
    assert!(
        shown.contains(r#"copied path .data."\u202eevil"#),
        "{shown}"
    );
}

/// Inspect's diff between two events too large to walk leaf by leaf (5000 keys) that differ
/// only past the leaves walked: a change, never "no change".
#[test]
fn a_diff_past_the_leaves_walked_still_sees_the_change() {
    use tui::testing::event;
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    let mut data = serde_json::Map::new();
    data.insert("name".into(), json!("BIG"));
    data.insert("price".into(), json!(1));
    for i in 0..5000 {
        data.insert(format!("k{i:05}"), json!(i));
    }
    s.apply(
        event("stock_ticker", "update_event", json!(data.clone()), 5),
        t0 + Duration::from_secs(5),
    );
    data.insert("k04999".into(), json!("changed"));
    s.apply(
        event("stock_ticker", "update_event", json!(data), 5),
        t0 + Duration::from_secs(5),
    );
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    s.key(&key('d'));
    let shown = text(&s, now, 120, 40);
    assert!(shown.contains("against the previous one"), "{shown}");
    assert!(!shown.contains("no change"), "{shown}");
    // The data past the leaves walked is compared whole: the data changed.
    assert!(shown.contains("│~ .  "), "{shown}");
}

/// The palette's (and the keys') pane toggles: the ticker, the log and the side panes hide
/// and show; the pane shown takes the hidden one's room, and one of the ticker and the log
/// always stays.
#[test]
fn panes_hide_and_show() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    let palette = |s: &mut State, line: &str| {
        s.key(&key(':'));
        type_text(s, line);
    };
    palette(&mut s, "toggle_ticker");
    let log_only = text(&s, now, 80, 24);
    assert!(
        !log_only.contains("ticker ·") && log_only.contains("log ·"),
        "{log_only}"
    );
    assert!(
        log_only.contains("ticker hidden (again to show)"),
        "{log_only}"
    );
    snapshots!("ticker_hidden", &s, now);
    // Hiding the log too shows the ticker again: one of them stays.
    palette(&mut s, "toggle_log");
    let ticker_only = text(&s, now, 80, 24);
    assert!(
        ticker_only.contains("ticker ·") && !ticker_only.contains("log ·"),
        "{ticker_only}"
    );
    snapshots!("log_hidden", &s, now);
    s.key(&key('2'));
    let both = text(&s, now, 80, 24);
    assert!(
        both.contains("ticker ·") && both.contains("log ·"),
        "{both}"
    );
    // The side column (events by channel, at 120 columns) hides with `3`.
    assert!(text(&s, now, 120, 40).contains("events ·"));
    s.key(&key('3'));
    assert!(!text(&s, now, 120, 40).contains("events ·"));
    palette(&mut s, "toggle_side");
    assert!(text(&s, now, 120, 40).contains("events ·"));
}

/// A builder as the binary's: the view's rules on top of the command line's (none here);
/// a `latency` rule needs `--ts-field`, which this run does not have.
fn builder() -> tui::watch::ExpectBuilder {
    use observe::expect::{Evaluator, Expectation, Kind, Settings};
    std::sync::Arc::new(|view: &[String], _bindings, now| {
        let rules = view
            .iter()
            .map(|r| Expectation::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(r) = rules
            .iter()
            .find(|r| matches!(r.kind, Kind::Latency { .. }))
        {
            return Err(format!("--expect {:?} needs --ts-field", r.text));
        }
        Ok((!rules.is_empty()).then(|| Evaluator::new(rules, Settings::default(), now)))
    })
}

/// `:view NAME` while watching applies the view's expectations too (built and checked
/// first: a view whose rules cannot apply changes nothing); what the old rules raised
/// recovers, saying why; `:view save` writes every rule in force.
#[test]
fn a_view_brings_its_expectations() {
    use observe::binding::Binding;
    use observe::expect::{Evaluator, Settings};
    use std::time::SystemTime;
    use tui::watch::{Expectations, Sort, ViewSpec, ViewStore};
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    s.model.alerts = Expectations::new(
        Evaluator::new(vec![], Settings::default(), t0),
        false,
        t0,
        epoch,
    );
    let view = |name: &str, expect: &[&str], sort| ViewSpec {
        name: name.into(),
        channels: vec!["stock_ticker".into()],
        bindings: vec![Binding::parse("update_event=ticker(key=name,value=price)").unwrap()],
        filter: None,
        sort: Some(sort),
        expect: expect.iter().map(|e| e.to_string()).collect(),
    };
    s.views = ViewStore {
        views: vec![
            view("strict", &["stock_ticker/update_event<5s"], Sort::Value),
            view("calm", &[], Sort::Key),
            view("timed", &["latency<250ms"], Sort::Recency),
        ],
        expect: Some(builder()),
        base_expect: vec!["stock_ticker<1m".into()],
        ..ViewStore::default()
    };
    let palette = |s: &mut State, line: &str| {
        s.key(&key(':'));
        type_text(s, line);
    };
    let at20 = t0 + Duration::from_secs(20);
    s.tick(at20);
    palette(&mut s, "view strict");
    assert_eq!(s.ui.sort, Sort::Value);
    assert!(s.model.alerts.any());
    // The view's rule judges from the switch on: silence past 5 s is an alert.
    let at = Instant::now() + Duration::from_secs(7);
    s.tick(at);
    let alert = text(&s, at, 80, 24);
    assert!(
        alert.contains("ALERT") && alert.contains("stock_ticker/update_event<5s"),
        "{alert}"
    );
    snapshots!("view_expectations", &s, at);
    // Saved with every rule in force.
    let saved = s.current("mine").to_toml();
    assert!(
        saved.ends_with("expect = [\"stock_ticker<1m\", \"stock_ticker/update_event<5s\"]\n"),
        "{saved}"
    );
    // A view whose rules cannot apply changes nothing, and says why.
    palette(&mut s, "view timed");
    let refused = text(&s, at, 80, 24);
    assert!(
        refused.contains("view timed: --expect \"latency<250ms\" needs"),
        "{refused}"
    );
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.ui.sort, Sort::Value, "nothing of it applied");
    assert_eq!(s.current_view.as_deref(), Some("strict"));
    // Another view: its rules (none) replace them; the open alert recovers, saying why.
    palette(&mut s, "view calm");
    assert_eq!(s.ui.sort, Sort::Key);
    assert!(!s.model.alerts.any());
    let calm = text(&s, at, 120, 40);
    assert!(calm.contains("RECOVERED"), "{calm}");
    assert!(
        calm.contains("view calm loaded: no longer expected"),
        "{calm}"
    );
    assert!(!s.current("mine").to_toml().contains("update_event<5s"));
}

/// `save` is a word of its own in `:view save NAME`: `:view saved` loads the view named
/// `saved` (it used to save the current view as `d`). And a view once saved is one
/// `:view NAME` loads, without a restart.
#[tokio::test]
async fn a_saved_view_loads_and_a_view_named_save_something_is_no_save() {
    use observe::binding::Binding;
    use tui::kit::Effect;
    use tui::watch::{Sort, ViewSpec, ViewStore};
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let dir = std::env::temp_dir().join(format!("tickertape-views-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("config.toml");
    s.views = ViewStore {
        views: vec![ViewSpec {
            name: "saved".into(),
            channels: vec!["stock_ticker".into()],
            bindings: vec![Binding::parse("update_event=ticker(key=name,value=price)").unwrap()],
            filter: None,
            sort: Some(Sort::Value),
            expect: vec![],
        }],
        path: Some(path.clone()),
        ..ViewStore::default()
    };
    let palette = |s: &mut State, line: &str| {
        s.key(&key(':'));
        type_text(s, line);
    };
    palette(&mut s, "view saved");
    assert_eq!(s.current_view.as_deref(), Some("saved"));
    assert_eq!(s.ui.sort, Sort::Value);
    assert!(!path.exists(), "nothing saved");
    // Saved under a new name, then loaded after another sort.
    s.key(&key(':'));
    for c in "view save mine".chars() {
        s.key(&key(c));
    }
    let Some(Effect::Task(task)) = s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)) else {
        panic!("saving is a task");
    };
    let done = task.run().await;
    s.app.done(done, t0);
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.contains("[views.mine]"), "{file}");
    palette(&mut s, "sort key");
    assert_eq!(s.ui.sort, Sort::Key);
    palette(&mut s, "view mine");
    let now = t0 + Duration::from_secs(1);
    let screen = text(&s, now, 120, 40);
    assert_eq!(s.current_view.as_deref(), Some("mine"), "{screen}");
    assert_eq!(s.ui.sort, Sort::Value);
    let _ = std::fs::remove_dir_all(&dir);
}

/// In inspect's diff, `j` and PgDn stop at the last line: the pane is never scrolled blank.
#[test]
fn the_diff_never_scrolls_past_its_end() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(6);
    let mut s = quotes(t0);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    s.key(&key('d'));
    assert!(text(&s, now, 120, 40).contains("~ .price"));
    for _ in 0..30 {
        s.key(&key('j'));
    }
    press(&mut s, KeyCode::PageDown);
    let shown = text(&s, now, 120, 40);
    assert!(
        shown.contains("~ .price"),
        "the last change stays in view: {shown}"
    );
    // And `k` comes back at once.
    s.key(&key('k'));
    s.key(&key('k'));
    let shown = text(&s, now, 120, 40);
    assert!(shown.contains("against the previous one"), "{shown}");
}
