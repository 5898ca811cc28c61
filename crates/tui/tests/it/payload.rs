//! Payload tools on the watch screen: the jq filter, read-only mode, the palette, copying,
//! the diff, views, themes and the empty ticker; drawn on the TestBackend (insta).

use std::time::{Duration, Instant};

use ratatui::crossterm::event::KeyCode;
use tui::testing::Dash as State;
use tui::watch::{Options, Overlay};

use crate::support::dashboard::{demo_state, key, press, render, screen_text, type_text};

fn text(s: &State, now: Instant) -> String {
    screen_text(s, now, 120, 40)
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
    snapshots!("jq_filter_typing", &s, now);
    press(&mut s, KeyCode::Enter);
    assert!(s.ui.overlay.is_none());
    assert_eq!(s.log_positions().len(), 4, "the four GLOBEX quotes");
    snapshots!("jq_filter", &s, now);
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
    // (Before the key: the refusal's line is stamped with the clock.)
    snapshots!("read_only", &s, now);
    s.key(&key('t'));
    assert!(s.ui.overlay.is_none(), "no trigger form");
    let screen = text(&s, now);
    assert!(screen.starts_with("\"READ-ONLY │ connected"), "{screen}");
    assert!(screen.contains("triggering is off: read-only"), "{screen}");
    // Narrow: READ-ONLY is the part that stays.
    let narrow = format!("{}", render(&s, now, 80, 24).backend());
    assert!(narrow.contains("\"READ-ONLY │"), "{narrow}");
}

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        s.key(&key(c));
    }
}

/// `:` opens the palette: written from the keymap (every action, with the keys it has now)
/// and the screen's commands, narrowed as you type; Tab completes, Enter runs.
#[test]
fn the_palette_runs_actions_and_commands() {
    use tui::kit::Action as _;
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    s.key(&key(':'));
    assert!(s.app.palette_open());
    let all = text(&s, now);
    assert!(all.contains("palette"), "{all}");
    snapshots!("palette", &s, now);
    // Every action is there by its [keys] name (a long list scrolls: look for each).
    for info in tui::watch::Action::ALL {
        if info.name == "palette" {
            continue;
        }
        let mut p = demo_state(t0, Options::default());
        p.key(&key(':'));
        typed(&mut p, info.name);
        let shown = text(&p, now);
        assert!(shown.contains(info.name), "{}: {shown}", info.name);
    }
    typed(&mut s, "sort va");
    press(&mut s, KeyCode::Tab);
    snapshots!("palette_completed", &s, now);
    press(&mut s, KeyCode::Enter);
    assert!(!s.app.palette_open());
    assert!(text(&s, now).contains("sort value"));
    // A command with an argument: the filter, jq included.
    s.key(&key(':'));
    typed(&mut s, "filter .data.name == \"ACME\"");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.log_positions().len(), 5);
    // An unknown command keeps the palette open and says so.
    s.key(&key(':'));
    typed(&mut s, "frobnicate now");
    press(&mut s, KeyCode::Enter);
    assert!(s.app.palette_open());
    assert!(text(&s, now).contains("unknown command"));
    press(&mut s, KeyCode::Esc);
    assert!(!s.app.palette_open());
    // An action by name goes where its key goes: read-only refuses the trigger here too.
    let mut r = demo_state(
        t0,
        Options {
            readonly: true,
            ..Options::default()
        },
    );
    r.key(&key(':'));
    typed(&mut r, "trigger");
    press(&mut r, KeyCode::Enter);
    assert!(r.ui.overlay.is_none());
    assert!(text(&r, now).contains("triggering is off"));
}

/// `y` copies the selected event as `--json` writes it, `Y` a trigger command; a copy past
/// the OSC 52 cap is cut, and the status says so.
#[test]
fn copy_confirms_and_says_when_it_cut() {
    use tui::kit::Screen as _;
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    press(&mut s, KeyCode::Tab);
    s.key(&key('k'));
    s.key(&key('y'));
    let copied = s.app.screen.take_clipboard().expect("a copy");
    assert_eq!(
        copied,
        r#"{"time":"2026-11-18T11:06:55.000Z","channel":"stock_ticker","event":"update_event","data":{"name":"HOOLI","price":140.0}}"#
    );
    assert!(text(&s, now).contains(&format!("copied event ({} bytes)", copied.len())));
    snapshots!("copied", &s, now);
    s.key(&key('Y'));
    let command = s.app.screen.take_clipboard().expect("a command");
    assert_eq!(
        command,
        r#"tickertape trigger 'stock_ticker' 'update_event' '{"name":"HOOLI","price":140.0}'"#
    );
    // Past the cap: cut, and said.
    s.apply(
        tui::testing::event(
            "stock_ticker",
            "big",
            serde_json::json!({"blob": "x".repeat(100_000)}),
            30,
        ),
        t0,
    );
    s.key(&key('G'));
    s.key(&key('y'));
    let cut = s.app.screen.take_clipboard().unwrap();
    assert_eq!(cut.len(), tui::kit::clipboard::MAX_COPY);
    assert!(text(&s, now).contains("copied event: first 75000 of"));
}

/// Inspect, then `d`: what changed since the previous event of the same ticker key (the
/// binding's), marked `+ - ~` and coloured; `d` again shows the event.
#[test]
fn inspect_shows_the_diff() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    // A richer event for HOOLI: one value changed, one added.
    s.apply(
        tui::testing::event(
            "stock_ticker",
            "update_event",
            serde_json::json!({"name": "HOOLI", "price": 139.5, "halted": true}),
            18,
        ),
        t0 + Duration::from_secs(18),
    );
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    s.key(&key('d'));
    let shown = text(&s, now);
    assert!(shown.contains("~ .price 140.0 → 139.5"), "{shown}");
    assert!(shown.contains("+ .halted true"), "{shown}");
    assert!(
        shown.contains("(2 lines earlier)"),
        "the previous HOOLI, not ACME's: {shown}"
    );
    snapshots!("diff", &s, now);
    let plain = demo_state(
        t0,
        Options {
            color: false,
            ascii: true,
            ..Options::default()
        },
    );
    let mut plain = plain;
    plain.apply(
        tui::testing::event(
            "stock_ticker",
            "update_event",
            serde_json::json!({"name": "HOOLI", "price": 139.5}),
            18,
        ),
        t0 + Duration::from_secs(18),
    );
    press(&mut plain, KeyCode::Tab);
    press(&mut plain, KeyCode::Enter);
    plain.key(&key('d'));
    assert!(text(&plain, now).contains("~ .price 140.0 -> 139.5"));
    snapshots!("diff_ascii_no_color", &plain, now);
    s.key(&key('d'));
    assert!(text(&s, now).contains("\"halted\": true"));
}

/// A saved view from the palette: its filter, sort and bindings apply at once.
#[test]
fn a_view_loads_from_the_palette() {
    use observe::binding::Binding;
    use tui::watch::{Sort, ViewSpec, ViewStore};
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    s.views = ViewStore {
        views: vec![ViewSpec {
            name: "dear".into(),
            channels: vec!["stock_ticker".into()],
            bindings: vec![Binding::parse("update_event=ticker(key=name,value=price)").unwrap()],
            filter: Some(".data.price > 100".into()),
            sort: Some(Sort::Value),
            expect: Vec::new(),
        }],
        ..ViewStore::default()
    };
    s.key(&key(':'));
    typed(&mut s, "view de");
    let offered = text(&s, now);
    assert!(offered.contains("view dear"), "{offered}");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.ui.sort, Sort::Value);
    assert_eq!(
        s.ui.filter.as_ref().map(|f| f.text.as_str()),
        Some(".data.price > 100")
    );
    snapshots!("view_loaded", &s, now);
    let saved = s.current("mine").to_toml();
    assert_eq!(
        saved,
        "[views.mine]\nchannels = [\"stock_ticker\"]\nbindings = [\"update_event=ticker(key=/name,value=/price)\"]\nfilter = \".data.price > 100\"\nsort = \"value\"\n"
    );
    s.key(&key(':'));
    typed(&mut s, "view nope");
    press(&mut s, KeyCode::Enter);
    assert!(text(&s, now).contains("no view \"nope\"; views: dear"));
}

/// Themes: the built-in light and colour-blind ones fill the slots (rises are not green in
/// the colour-blind one), `:theme NAME` switches, NO_COLOR keeps only the modifiers.
#[test]
fn themes_fill_the_slots() {
    use ratatui::style::Color;
    use std::collections::BTreeMap;
    use tui::kit::{Theme, ThemeSpec};
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let rise_colour = |s: &State| {
        let term = render(s, now, 80, 24);
        let buf = term.backend().buffer().clone();
        // ACME rose: its ▲ in the ticker.
        buf.content()
            .iter()
            .find(|c| c.symbol() == "▲")
            .map(|c| c.fg)
    };
    let mut s = demo_state(t0, Options::default());
    assert_eq!(rise_colour(&s), Some(Color::Green));
    s.key(&key(':'));
    typed(&mut s, "theme colorblind");
    press(&mut s, KeyCode::Enter);
    assert_eq!(rise_colour(&s), Some(Color::Indexed(32)), "Okabe-Ito blue");
    snapshots!("theme_colorblind", &s, now);
    let light = ThemeSpec::new("light", &BTreeMap::new()).unwrap();
    s.app.set_theme(Theme::with(&light, true, false));
    assert_eq!(rise_colour(&s), Some(Color::Indexed(28)));
    snapshots!("theme_light", &s, now);
    s.app.set_theme(Theme::with(&light, false, false));
    assert_eq!(rise_colour(&s), Some(Color::Reset), "NO_COLOR: no colour");
}

/// Nothing bound: no empty ticker pane; the log has the screen, under one line on how to
/// bind (with a rule for the latest event's obvious key and number).
#[test]
fn nothing_bound_gives_the_screen_to_the_log() {
    use observe::binding::Bindings;
    use tui::testing::{connected, event, state, subscribed};
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = state(Options::default(), Bindings::new(Vec::new()), t0);
    s.apply(connected(), t0);
    s.apply(subscribed("quotes"), t0);
    for i in 0..5 {
        s.apply(
            event(
                "quotes",
                "tick",
                serde_json::json!({"sym": "HOOLI", "px": 50 + i}),
                i,
            ),
            t0,
        );
    }
    let shown = text(&s, now);
    assert!(!shown.contains("0 keys"), "{shown}");
    assert!(
        shown.contains("no ticker: nothing is bound · try --bind 'tick=ticker(key=sym,value=px)'"),
        "{shown}"
    );
    snapshots!("nothing_bound", &s, now);
}

/// A jq filter being typed is counted a slice per frame: a keystroke tries at most the
/// slice's lines before its frame is drawn, the hint says how far it got, and after enough
/// frames the count is the whole log's.
#[test]
fn typing_a_jq_filter_counts_a_slice_per_frame() {
    use tui::testing::event;
    use tui::watch::COUNT_LINES_PER_FRAME;
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let lines = 5 * COUNT_LINES_PER_FRAME as u64;
    for i in 0..lines {
        let price = if i % 4 == 0 { 200 } else { 100 };
        let data = serde_json::json!({"name": "ACME", "price": price});
        s.apply(event("stock_ticker", "update_event", data, i), t0);
    }
    s.key(&key('f'));
    typed(&mut s, ".data.price > 150");
    let count = s.ui.counting.as_ref().expect("a count under way");
    let (fast, jaq) = count.filter.engines();
    assert!(
        fast + jaq <= COUNT_LINES_PER_FRAME as u64,
        "{} lines tried before the frame",
        fast + jaq
    );
    assert!(!count.done());
    let typed = text(&s, t0);
    assert!(typed.contains(" so far… ("), "{typed}");
    let mut frames = 0;
    while s.work() {
        frames += 1;
        assert!(frames < 10_000, "the count never ends");
    }
    let typed = text(&s, t0);
    let want = format!("{} of {} events match", 4 + lines / 4, 17 + lines);
    assert!(typed.contains(&want), "{want}: {typed}");
    // Every line was tried once, and the filter once applied asks none again.
    let (fast, jaq) = s.ui.counting.as_ref().unwrap().filter.engines();
    assert_eq!(fast + jaq, 17 + lines);
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.log_positions().len() as u64, 4 + lines / 4);
    let (fast, jaq) = s.ui.filter.as_ref().unwrap().engines();
    assert_eq!(fast + jaq, 17 + lines, "the count's answers are kept");
}

/// A paste is text, never keys: a line break in it submits nothing, in the trigger form, the
/// filter, the search or the palette; line breaks become spaces, control characters go.
#[test]
fn a_paste_never_submits() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    s.key(&key('t'));
    press(&mut s, KeyCode::Tab); // to the data
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Backspace);
    s.paste("{\"a\":1}\n");
    match &s.ui.overlay {
        Some(Overlay::Form(form)) => assert_eq!(form.values[2], "{\"a\":1} "),
        other => panic!("the form was submitted: {other:?}"),
    }
    s.paste("\r\n\u{1b}[2~x\u{7}");
    match &s.ui.overlay {
        Some(Overlay::Form(form)) => assert_eq!(form.values[2], "{\"a\":1}  [2~x"),
        other => panic!("the form was submitted: {other:?}"),
    }
    press(&mut s, KeyCode::Esc);
    // The filter: still open, the line break a space.
    s.key(&key('f'));
    s.paste(".data.price\n> 150\n");
    match &s.ui.overlay {
        Some(Overlay::Input(_, text)) => assert_eq!(text, ".data.price > 150 "),
        other => panic!("the filter was applied: {other:?}"),
    }
    assert!(s.ui.filter.is_none());
    assert!(text(&s, t0).contains("4 of 17 events match"));
    press(&mut s, KeyCode::Esc);
    // The search.
    s.key(&key('/'));
    s.paste("acme\n");
    assert!(matches!(&s.ui.overlay, Some(Overlay::Input(_, t)) if t == "acme "));
    assert!(s.ui.search.is_none());
    press(&mut s, KeyCode::Esc);
    // The palette: open, the command not run.
    s.key(&key(':'));
    assert!(s.app.palette_open());
    s.paste("pause\n");
    assert!(s.app.palette_open(), "the paste ran the line");
    assert!(s.ui.paused.is_none(), "the paste ran `pause`");
    press(&mut s, KeyCode::Esc);
    // With nothing open, a paste is not keys: `q` in it does not quit, `f` opens nothing.
    s.paste("fq\n");
    assert!(s.ui.overlay.is_none());
}
