//! `serve`'s console without a terminal: entries and snapshots applied as the binary hands
//! them over, keys through the kit's app, and the screen drawn on ratatui's TestBackend
//! (insta). Times are fixed; the theme is NO_COLOR's.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui::console::{
    Backend, CHANNELS_SHOWN, ChannelRow, Console, Entry, Filter, Input, LOG_LINES, MAX_FIELD_CHARS,
    Members, Predicate, Snapshot,
};
use tui::kit::{App, Effect, Keymap, Theme};
use tui::testing::draw;

/// Records what the console asks; triggers answer at once.
#[derive(Default)]
struct Recorder {
    focus: Mutex<Vec<Option<(String, String)>>>,
    triggered: Mutex<Vec<(String, String, String, String)>>,
}

impl Backend for Recorder {
    fn focus(&self, channel: Option<(String, String)>) {
        self.focus.lock().unwrap().push(channel);
    }

    fn trigger(
        &self,
        app: String,
        channel: String,
        event: String,
        data: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> {
        let said = format!("sent {event} to {channel}");
        self.triggered
            .lock()
            .unwrap()
            .push((app, channel, event, data));
        Box::pin(async move { Ok(said) })
    }
}

fn at(second: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_000_000 + second)
}

fn entry(second: u64, kind: &str, fields: &[(&str, &str)], note: Option<&str>) -> Input {
    Input::Entry(Entry {
        time: at(second),
        kind: kind.to_owned(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        note: note.map(str::to_owned),
    })
}

fn row(name: &str, subscribers: u64, members: Option<u64>) -> ChannelRow {
    ChannelRow {
        app: "1".into(),
        name: name.into(),
        subscribers,
        members,
    }
}

fn app(readonly: bool) -> (App<Console>, Arc<Recorder>) {
    let backend = Arc::new(Recorder::default());
    let screen = Console::new("ws://127.0.0.1:6001".into(), readonly, backend.clone());
    (
        App::new(screen, Keymap::default(), Theme::new(false, false)),
        backend,
    )
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typed(app: &mut App<Console>, text: &str) -> Option<Effect<tui::console::Done>> {
    for c in text.chars() {
        app.key(&key(KeyCode::Char(c)), Instant::now());
    }
    app.key(&key(KeyCode::Enter), Instant::now())
}

fn busy(app: &mut App<Console>, t0: Instant) {
    app.apply(
        Input::Snapshot(Snapshot {
            connections: 3,
            opened: 3,
            closed: 0,
            channels: vec![row("presence-room", 1, Some(1)), row("news", 2, None)],
            channels_total: 2,
            members: None,
        }),
        t0,
    );
    for (i, input) in [
        entry(0, "CONNECTION", &[("app", "1"), ("socket_id", "1.1")], None),
        entry(
            1,
            "SUBSCRIBED",
            &[("app", "1"), ("socket_id", "1.1"), ("channel", "news")],
            None,
        ),
        entry(
            2,
            "API MESSAGE",
            &[
                ("app", "1"),
                ("channel", "news"),
                ("event", "headline"),
                ("bytes", "2"),
                ("recipients", "2"),
                ("subscribers", "2"),
                ("too_slow", "0"),
                ("no_subscribers", "false"),
            ],
            None,
        ),
        entry(
            3,
            "API MESSAGE",
            &[
                ("app", "1"),
                ("channel", "nwes"),
                ("event", "headline"),
                ("bytes", "2"),
                ("recipients", "0"),
                ("subscribers", "0"),
                ("no_subscribers", "true"),
                ("suggestions", "news"),
            ],
            Some("NO SUBSCRIBERS: did you mean news?"),
        ),
        entry(
            4,
            "WEBHOOK SENT",
            &[
                ("app", "1"),
                ("url", "http://127.0.0.1:9/hook"),
                ("events", "1"),
            ],
            None,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        app.apply(input, t0 + Duration::from_millis(i as u64));
    }
    // A second later: three opened, one closed.
    app.apply(
        Input::Snapshot(Snapshot {
            connections: 5,
            opened: 6,
            closed: 1,
            channels: vec![row("presence-room", 1, Some(1)), row("news", 2, None)],
            channels_total: 2,
            members: None,
        }),
        t0 + Duration::from_secs(1),
    );
}

#[test]
fn the_console_shows_channels_rates_and_a_publish_to_no_one() {
    let t0 = Instant::now();
    let (mut app, _) = app(false);
    busy(&mut app, t0);
    let t = draw(&app, t0, 80, 24);
    let text = t.backend().to_string();
    assert!(text.contains("5 connections (+3/s -1/s)"), "{text}");
    assert!(
        text.contains("NO SUBSCRIBERS: did you mean news?"),
        "{text}"
    );
    insta::assert_snapshot!("console_80x24", text);
}

#[test]
fn filter_pause_inspect_and_a_channels_detail() {
    let t0 = Instant::now();
    let (mut app, backend) = app(false);
    busy(&mut app, t0);
    app.key(&key(KeyCode::Char('f')), t0);
    typed(&mut app, "type:api nwes");
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(text.contains("1 shown"), "{text}");
    assert!(!text.contains("SUBSCRIBED"), "{text}");
    // Inspect the one shown: every field, and the note.
    app.key(&key(KeyCode::Enter), t0);
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(
        text.contains("┌ entry") && text.contains("suggestions: news"),
        "{text}"
    );
    app.key(&key(KeyCode::Esc), t0);
    app.key(&key(KeyCode::Esc), t0);
    // Paused: what comes is counted, not shown.
    app.key(&key(KeyCode::Char(' ')), t0);
    app.apply(
        entry(9, "CLIENT EVENT", &[("channel", "private-x")], None),
        t0,
    );
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(
        text.contains("paused, 1 new") && !text.contains("private-x"),
        "{text}"
    );
    app.key(&key(KeyCode::Char(' ')), t0);
    // The channels, sorted by members; the first opened asks for its members.
    app.key(&key(KeyCode::Tab), t0);
    app.key(&key(KeyCode::Char('s')), t0);
    // The selection stays on its channel (news) as the table is sorted: to the top.
    app.key(&key(KeyCode::Char('g')), t0);
    app.key(&key(KeyCode::Enter), t0);
    assert_eq!(
        backend.focus.lock().unwrap().last(),
        Some(&Some(("1".to_owned(), "presence-room".to_owned())))
    );
    app.apply(
        Input::Snapshot(Snapshot {
            channels: vec![row("presence-room", 1, Some(1))],
            channels_total: 1,
            members: Some(Members {
                app: "1".into(),
                channel: "presence-room".into(),
                user_ids: vec!["ann".into()],
                total: 1,
            }),
            ..Snapshot::default()
        }),
        t0,
    );
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(text.contains("members: ann"), "{text}");
    app.key(&key(KeyCode::Esc), t0);
    assert_eq!(backend.focus.lock().unwrap().last(), Some(&None));
}

#[tokio::test]
async fn a_test_event_goes_to_the_selected_channel_unless_read_only() {
    let t0 = Instant::now();
    let (mut app, backend) = app(false);
    busy(&mut app, t0);
    app.key(&key(KeyCode::Tab), t0);
    app.key(&key(KeyCode::Char('t')), t0);
    let Some(Effect::Task(task)) = typed(&mut app, r#"ping {"n":1}"#) else {
        panic!("a task");
    };
    let done = task.run().await;
    app.done(done, t0);
    assert_eq!(
        backend.triggered.lock().unwrap().as_slice(),
        [(
            "1".to_owned(),
            "news".to_owned(),
            "ping".to_owned(),
            r#"{"n":1}"#.to_owned()
        )]
    );
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(text.contains("sent ping to news"), "{text}");

    let (mut ro, backend) = self::app(true);
    busy(&mut ro, t0);
    ro.key(&key(KeyCode::Tab), t0);
    assert!(ro.key(&key(KeyCode::Char('t')), t0).is_none());
    assert!(typed(&mut ro, "ping").is_none());
    assert!(backend.triggered.lock().unwrap().is_empty());
    let text = draw(&ro, t0, 80, 24).backend().to_string();
    assert!(text.contains("read-only"), "{text}");
}

/// A paste into the prompt is text: its line break sends nothing, and Enter sends it all.
#[tokio::test]
async fn a_paste_into_the_prompt_sends_nothing_until_enter() {
    let t0 = Instant::now();
    let (mut app, backend) = app(false);
    busy(&mut app, t0);
    app.key(&key(KeyCode::Tab), t0);
    app.key(&key(KeyCode::Char('t')), t0);
    app.paste("ping {\"n\":\n1}\n", t0);
    assert!(backend.triggered.lock().unwrap().is_empty());
    let Some(Effect::Task(task)) = app.key(&key(KeyCode::Enter), t0) else {
        panic!("a task");
    };
    app.done(task.run().await, t0);
    assert_eq!(
        backend.triggered.lock().unwrap().as_slice(),
        [(
            "1".to_owned(),
            "news".to_owned(),
            "ping".to_owned(),
            r#"{"n": 1}"#.to_owned()
        )]
    );
}

/// Whatever comes, the log holds its caps (dropping its oldest, counted), a field is cut,
/// the channel table keeps its cap, and nothing raw reaches the screen.
#[test]
fn the_console_is_bounded_and_terminal_safe() {
    let t0 = Instant::now();
    let (mut app, _) = app(false);
    let huge = "x".repeat(100_000);
    for i in 0..(LOG_LINES as u64 + 500) {
        app.apply(
            entry(
                i,
                "API MESSAGE",
                &[("channel", "c"), ("event", &huge)],
                None,
            ),
            t0,
        );
    }
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(
        text.contains(&format!("log · {LOG_LINES} lines · 500 dropped")),
        "{text}"
    );
    // The newest entry, inspected: its field cut to MAX_FIELD_CHARS.
    app.key(&key(KeyCode::Enter), t0);
    // Narrow and tall: the entry's box covers everything but the panes' edges.
    let text = draw(&app, t0, 100, 60).backend().to_string();
    let xs = text.matches('x').count();
    assert!(
        (MAX_FIELD_CHARS - 2..MAX_FIELD_CHARS + 20).contains(&xs) && text.contains('…'),
        "{xs} x shown:\n{text}"
    );
    app.key(&key(KeyCode::Esc), t0);
    app.apply(
        Input::Snapshot(Snapshot {
            channels: (0..CHANNELS_SHOWN * 3)
                .map(|i| row(&format!("c{i}"), 1, None))
                .collect(),
            channels_total: (CHANNELS_SHOWN * 3) as u64,
            ..Snapshot::default()
        }),
        t0,
    );
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(text.contains(&format!("{CHANNELS_SHOWN} shown")), "{text}");
    app.apply(
        entry(
            1,
            "CLIENT EVENT",
            &[
                ("channel", "private-\u{1b}]0;pwned\u{7}x"),
                ("event", "client-\u{202e}evil"),
            ],
            Some("\u{1b}[2J"),
        ),
        t0,
    );
    let text = draw(&app, t0, 120, 30).backend().to_string();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
}

/// The filter is any predicate: a jq filter can take the typed one's place.
#[test]
fn the_filter_is_pluggable() {
    #[derive(Debug)]
    struct OnlyWebhooks;
    impl Predicate for OnlyWebhooks {
        fn matches(&self, e: &Entry) -> bool {
            e.kind.starts_with("WEBHOOK")
        }
        fn describe(&self) -> String {
            ".kind | startswith(\"WEBHOOK\")".into()
        }
    }
    let t0 = Instant::now();
    let (mut app, _) = app(false);
    busy(&mut app, t0);
    app.screen.set_filter(Filter(Some(Box::new(OnlyWebhooks))));
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(
        text.contains("WEBHOOK SENT") && !text.contains("API MESSAGE"),
        "{text}"
    );
}

/// `f` takes a jq expression as `watch --where` does: over the entry's type and fields,
/// numbers as numbers; a bad one is named and the filter left as it was.
#[test]
fn the_filter_takes_jq() {
    let t0 = Instant::now();
    let (mut app, _) = app(false);
    busy(&mut app, t0);
    app.key(&key(KeyCode::Char('f')), t0);
    typed(
        &mut app,
        r#"select(.type == "API MESSAGE" and .recipients >= 2)"#,
    );
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(
        text.contains("API MESSAGE news headline") && !text.contains("SUBSCRIBED"),
        "{text}"
    );
    assert!(text.contains("1 shown"), "{text}");
    app.key(&key(KeyCode::Char('f')), t0);
    typed(&mut app, ".type ==");
    let text = draw(&app, t0, 80, 24).backend().to_string();
    assert!(text.contains("jq:") && text.contains("1 shown"), "{text}");
}
