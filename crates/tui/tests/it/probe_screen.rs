//! `probe`'s screen without a terminal: a `Probe` fed outcomes, states and member lists, its
//! reports applied to the screen as the probe's loop hands them over, and the screen drawn
//! with the kit's chrome on ratatui's TestBackend (insta). Times are fixed, so the screens
//! are deterministic; the theme is NO_COLOR's, as the binary's tests run.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use client::{ConnectionState, MemberChange};
use observe::probe::canary::{Fate, Outcome, Tracker};
use observe::probe::lines;
use observe::probe::members::Presence;
use observe::probe::state::{Alert, AlertKind, Change, Probe as Model};
use protocol::frame::Member;
use tui::kit::{App, Effect, Keymap, Theme};
use tui::probe::{
    Figures, Kind, LOG_BYTES, LOG_LINES, MAX_LINE_CHARS, PresenceLine, Probe, Report,
};

const CHANNEL: &str = "private-tickertape-probe-0badf00d";

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("ws://127.0.0.1:{}", 7001 + i))
        .collect()
}

fn probe(n: usize) -> Model {
    let presence = (n > 1).then(|| Presence::new(n, Duration::from_secs(3)));
    Model::new(names(n), Tracker::new(n, Duration::from_secs(5)), presence)
}

/// The screen in its app, and the reports it is handed, as the probe's loop hands them.
struct Screen {
    app: App<Probe>,
}

impl Screen {
    fn line(&mut self, kind: Kind, text: &str, at: Instant) {
        let text = text.to_owned();
        self.app.apply(Report::Line { kind, text }, at);
    }

    fn alert(&mut self, alert: &Alert, text: &str, at: Instant) {
        let report = Report::Alert {
            alert: alert.clone(),
            text: text.to_owned(),
        };
        self.app.apply(report, at);
    }

    /// The probe's figures now, as the loop sends them when they change.
    fn sync(&mut self, p: &Model) {
        let figures = Figures::of(p, self.app.screen.presence_node());
        self.app.apply(Report::Figures(figures), Instant::now());
    }

    fn key(&mut self, key: &KeyEvent) -> Option<Effect<()>> {
        self.app.key(key, Instant::now())
    }
}

fn screen(t0: Instant, window: Option<Duration>) -> Screen {
    let mut s = Probe::new(CHANNEL.into(), Duration::from_secs(1), window, t0);
    s.set_wall(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000));
    Screen {
        app: App::new(s, Keymap::default(), Theme::new(false, false)),
    }
}

/// `seconds` of canaries, one a second via the nodes in turn, received everywhere in
/// 2 + seq ms, each result logged as the shell logs it.
fn healthy(p: &mut Model, s: &mut Screen, t0: Instant, seconds: u64) {
    let n = p.nodes.len();
    for i in 0..n {
        p.state(i, ConnectionState::Connected);
        s.line(Kind::Note, &format!("{}: connected", p.name(i)), t0);
    }
    for seq in 1..=seconds {
        let via = (seq as usize - 1) % n;
        p.published(seq, via);
        for node in 0..n {
            let o = Outcome {
                seq,
                via,
                node,
                fate: Fate::Received(Duration::from_micros(
                    2_000 + seq * 1_000 + node as u64 * 300,
                )),
                accepted: false,
            };
            p.outcome(&o);
            s.line(
                Kind::Received,
                &lines::result_text(p, &o),
                t0 + Duration::from_secs(seq),
            );
        }
    }
}

fn render(s: &mut Screen, p: &Model, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
    s.sync(p);
    tui::testing::draw(&s.app, now, w, h)
}

/// The row of the buffer whose text contains `needle`.
fn row_of(t: &Terminal<TestBackend>, needle: &str) -> u16 {
    let b = t.backend().buffer();
    (0..b.area.height)
        .find(|&y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
                .contains(needle)
        })
        .unwrap_or_else(|| panic!("no row with {needle}"))
}

fn reversed(t: &Terminal<TestBackend>, x: u16, y: u16) -> bool {
    t.backend().buffer()[(x, y)]
        .modifier
        .contains(Modifier::REVERSED)
}

#[test]
fn one_healthy_node_at_80x24_and_wider() {
    let t0 = Instant::now();
    let mut p = probe(1);
    let mut s = screen(t0, Some(Duration::from_secs(30)));
    healthy(&mut p, &mut s, t0, 12);
    let now = t0 + Duration::from_secs(12);
    let t = render(&mut s, &p, now, 80, 24);
    let text = t.backend().to_string();
    assert!(
        text.contains("ws://127.0.0.1:7001 connected 12   12   0"),
        "{text}"
    );
    assert!(text.contains("no alerts"), "{text}");
    assert!(text.contains("0:12 of 0:30, 0:18 left"), "{text}");
    assert!(text.contains("q quit · ? help"), "{text}");
    assert!(
        !text.contains("presence"),
        "one node: no presence line\n{text}"
    );
    insta::assert_snapshot!("healthy_80x24", text);
    let t = render(&mut s, &p, now, 120, 30);
    insta::assert_snapshot!("healthy_120x30", t.backend().to_string());
}

#[test]
fn a_lost_canary_reverses_the_nodes_row_and_the_strip_under_no_color() {
    let t0 = Instant::now();
    let mut p = probe(2);
    let mut s = screen(t0, None);
    healthy(&mut p, &mut s, t0, 6);
    // Canary 7 via the first node never reaches the second; its publishes then fail.
    p.published(7, 0);
    let at = t0 + Duration::from_secs(12);
    let lost = Outcome {
        seq: 7,
        via: 0,
        node: 1,
        fate: Fate::Lost,
        accepted: false,
    };
    let alert = p.outcome(&lost).expect("an alert");
    s.line(Kind::Bad, &lines::result_text(&p, &lost), at);
    s.alert(&alert, &lines::alert_text(&alert), at);
    let secret = "s3cret";
    let error = lines::error_text(
        "HTTP 500 from http://127.0.0.1:7002/apps/1/events?auth_signature=abc: s3cret \u{1b}[2J over capacity",
        secret,
        300,
    );
    p.publish_failed(8, 1, error.clone());
    s.line(
        Kind::Bad,
        &format!("canary 8: publish via {} failed: {error}", p.name(1)),
        at,
    );
    let now = at + Duration::from_secs(8);
    let t = render(&mut s, &p, now, 80, 24);
    let text = t.backend().to_string();
    assert!(
        text.contains(" ALERT since 11:06:52 (8s) canary_missing [ws://127.0.0.1:7002]: canary 7"),
        "{text}"
    );
    assert!(!text.contains(secret) && !text.contains('\u{1b}'), "{text}");
    insta::assert_snapshot!("lost_no_color_80x24", text);
    let bad = row_of(&t, "ws://127.0.0.1:7002 connected");
    let good = row_of(&t, "ws://127.0.0.1:7001 connected");
    assert!(reversed(&t, 3, 1), "the strip, under the status bar");
    assert!(reversed(&t, 3, bad), "the row of the node that missed it");
    assert!(!reversed(&t, 3, good), "the other row");
    let bold = t.backend().buffer()[(24, good)].modifier;
    assert!(
        bold.contains(Modifier::BOLD),
        "the state is bold without colour"
    );
    // Wider, the last error shows in full, with neither the secret nor the signed query.
    let t = render(&mut s, &p, now, 160, 24);
    let text = t.backend().to_string();
    assert!(
        text.contains(
            "HTTP 500 from http://127.0.0.1:7002/apps/1/events?auth_signature=***: … \\e[2J over"
        ),
        "{text}"
    );
    insta::assert_snapshot!("lost_no_color_160x24", text);

    // The canary via the first node arrives again: the row is plain, the strip says when.
    let back = Outcome {
        seq: 9,
        via: 0,
        node: 1,
        fate: Fate::Received(Duration::from_millis(4)),
        accepted: false,
    };
    let recovery = p.outcome(&back).expect("a recovery");
    s.alert(&recovery, &lines::alert_text(&recovery), now);
    let t = render(&mut s, &p, now + Duration::from_secs(1), 80, 24);
    let text = t.backend().to_string();
    assert!(
        text.contains(
            " RECOVERED 11:06:52-11:07:00 canary_missing [ws://127.0.0.1:7002]: canary 9"
        ),
        "{text}"
    );
    assert!(!reversed(
        &t,
        3,
        row_of(&t, "ws://127.0.0.1:7002 connected")
    ));
}

#[test]
fn three_nodes_whose_presence_lists_differ() {
    let t0 = Instant::now();
    let mut p = probe(3);
    let mut s = screen(t0, Some(Duration::from_secs(60)));
    healthy(&mut p, &mut s, t0, 9);
    let member = |id: &str| Member {
        user_id: id.into(),
        user_info: serde_json::Value::Null,
    };
    let all = ["probe-0", "probe-1", "probe-2"];
    let snapshot = |ids: &[&str]| MemberChange::Snapshot {
        members: ids.iter().map(|id| member(id)).collect(),
        me: None,
    };
    let presence = p.presence.as_mut().unwrap();
    presence.apply(0, &snapshot(&all));
    presence.apply(1, &snapshot(&all));
    // The third node misses probe-1 and lists a ghost whose id would clear the screen.
    presence.apply(2, &snapshot(&["probe-0", "probe-2", "gh\u{1b}[2Jost"]));
    let at = t0 + Duration::from_secs(6);
    p.check_presence(at);
    let alert = p
        .check_presence(at + Duration::from_secs(3))
        .expect("after --settle");
    s.alert(
        &alert,
        &lines::alert_text(&alert),
        at + Duration::from_secs(3),
    );
    let now = t0 + Duration::from_secs(10);
    let t = render(&mut s, &p, now, 80, 24);
    let text = t.backend().to_string();
    assert!(
        text.contains(
            " presence DIFFERS: ws://127.0.0.1:7001 lists probe-1 that ws://127.0.0.1:7003"
        ),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    insta::assert_snapshot!("presence_differs_80x24", text);
    assert!(reversed(&t, 3, row_of(&t, "ws://127.0.0.1:7003 connected")));
    assert!(!reversed(
        &t,
        3,
        row_of(&t, "ws://127.0.0.1:7002 connected")
    ));
    let t = render(&mut s, &p, now, 160, 30);
    let text = t.backend().to_string();
    assert!(
        text.contains("ws://127.0.0.1:7003 lists gh\\e[2Jost that ws://127.0.0.1:7001 does not"),
        "{text}"
    );
    insta::assert_snapshot!("presence_differs_160x30", text);

    // The lists agree again.
    let presence = p.presence.as_mut().unwrap();
    presence.apply(2, &snapshot(&all));
    let recovery = p.check_presence(now).expect("a recovery");
    s.alert(&recovery, &lines::alert_text(&recovery), now);
    let text = render(&mut s, &p, now, 80, 24).backend().to_string();
    assert!(
        text.contains(" presence: the member lists agree (3 members)"),
        "{text}"
    );
    assert!(
        text.contains(" RECOVERED 11:06:49-11:06:50 presence_mismatch: every node"),
        "{text}"
    );
}

#[test]
fn the_help_opens_over_the_screen_and_a_tiny_terminal_says_so() {
    let t0 = Instant::now();
    let mut p = probe(1);
    let mut s = screen(t0, None);
    healthy(&mut p, &mut s, t0, 3);
    s.key(&KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    let text = render(&mut s, &p, t0 + Duration::from_secs(3), 80, 24)
        .backend()
        .to_string();
    assert!(
        text.contains("keys · Esc closes") && text.contains("q  Ctrl-C     quit"),
        "{text}"
    );
    insta::assert_snapshot!("help_80x24", text);
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    let text = render(&mut s, &p, t0, 80, 24).backend().to_string();
    assert!(!text.contains("Esc closes"), "{text}");
    let text = render(&mut s, &p, t0, 30, 8).backend().to_string();
    assert!(text.contains("terminal too small: 30×8"), "{text}");
}

#[test]
fn the_log_title_counts_what_the_ring_dropped() {
    let t0 = Instant::now();
    let mut p = probe(1);
    let mut s = screen(t0, None);
    healthy(&mut p, &mut s, t0, 1);
    for i in 0..1_005 {
        s.line(Kind::Note, &format!("note {i}"), t0);
    }
    let text = render(&mut s, &p, t0, 80, 24).backend().to_string();
    assert!(text.contains("log · 1000 lines · 7 dropped"), "{text}");
    assert!(text.contains("note 1004"), "{text}");
}

#[test]
fn the_log_is_bounded_in_lines_and_bytes() {
    let t0 = Instant::now();
    let mut s = screen(t0, None);
    // Two bytes a character: the longest lines fill the bytes before the count.
    let long = "é".repeat(MAX_LINE_CHARS + 10);
    for _ in 0..(LOG_BYTES / (2 * MAX_LINE_CHARS) + 5) {
        s.line(Kind::Note, &long, t0);
    }
    let log = s.app.screen.log.lines();
    assert!(
        log.bytes() <= LOG_BYTES && log.len() < LOG_LINES,
        "{}",
        log.len()
    );
    assert!(log.dropped() > 0);
    assert!(
        log.iter()
            .all(|l| l.line.text.chars().count() <= MAX_LINE_CHARS)
    );
}

fn lost(node: usize, via: usize) -> Outcome {
    Outcome {
        seq: 1,
        via,
        node,
        fate: Fate::Lost,
        accepted: false,
    }
}

fn received(node: usize, via: usize) -> Outcome {
    Outcome {
        fate: Fate::Received(Duration::from_millis(2)),
        ..lost(node, via)
    }
}

#[test]
fn an_alert_marks_its_node_until_it_recovers_and_the_strip_tells_both() {
    let t0 = Instant::now();
    let mut p = probe(2);
    let mut s = screen(t0, None);
    s.sync(&p);
    let rows = |s: &Screen| s.app.screen.figures.rows.clone();
    assert!(rows(&s).iter().all(|r| !r.alert));
    let a = p.outcome(&lost(1, 0)).unwrap();
    s.alert(&a, "ALERT canary_missing: …", t0);
    s.sync(&p);
    assert!(!rows(&s)[0].alert && rows(&s)[1].alert);
    // Missing via the other node too: one strip entry, open twice.
    let b = p.outcome(&lost(1, 1)).unwrap();
    s.alert(&b, "ALERT", t0 + Duration::from_secs(1));
    let open = |s: &Screen| s.app.screen.alerts.open().len();
    assert_eq!(open(&s), 1);
    let r = p.outcome(&received(1, 0)).unwrap();
    s.alert(&r, "RECOVERED", t0 + Duration::from_secs(2));
    s.sync(&p);
    assert!(rows(&s)[1].alert, "still missing via node 1");
    assert_eq!(open(&s), 1);
    let r = p.outcome(&received(1, 1)).unwrap();
    let at = t0 + Duration::from_secs(3);
    s.alert(&r, "RECOVERED", at);
    s.sync(&p);
    assert!(!rows(&s)[1].alert);
    assert_eq!(open(&s), 0);
    let strip = s.app.screen.alerts.lines(at, |_| None);
    assert_eq!(strip.len(), 1, "{strip:?}");
    let later = at + tui::probe::RECOVERY_SHOWN;
    assert!(
        s.app.screen.alerts.lines(later, |_| None).is_empty(),
        "recoveries leave"
    );
    let kinds: Vec<Kind> = s
        .app
        .screen
        .log
        .lines()
        .iter()
        .map(|l| l.line.kind)
        .collect();
    assert_eq!(
        kinds,
        [Kind::Alert, Kind::Alert, Kind::Recovered, Kind::Recovered]
    );
}

#[test]
fn alert_kinds_are_values_and_the_strip_stays_bounded() {
    let t0 = Instant::now();
    let mut s = screen(t0, None);
    let alert = |kind, node, change| Alert {
        kind,
        change,
        node: Some(node),
        detail: String::new(),
    };
    s.alert(&alert(AlertKind::PublishFailing, 0, Change::Raised), "", t0);
    // A presence alert is one at a time, whichever node it names.
    s.alert(
        &alert(AlertKind::PresenceMismatch, 2, Change::Raised),
        "",
        t0,
    );
    s.alert(
        &alert(AlertKind::PresenceMismatch, 0, Change::Recovered),
        "",
        t0,
    );
    assert_eq!(s.app.screen.alerts.open().len(), 1);
    assert_eq!(s.app.screen.presence_node(), None);
    for n in 1..200 {
        s.alert(&alert(AlertKind::CanaryMissing, n, Change::Raised), "", t0);
    }
    let alerts = &s.app.screen.alerts;
    assert_eq!(alerts.open().len(), tui::widgets::alerts::MAX_ALERTS);
    assert!(alerts.dropped() > 0);
}

#[test]
fn presence_lines_wait_agree_and_differ() {
    let snap = |ids: &[&str]| MemberChange::Snapshot {
        members: ids
            .iter()
            .map(|id| Member {
                user_id: (*id).into(),
                user_info: serde_json::Value::Null,
            })
            .collect(),
        me: None,
    };
    let t0 = Instant::now();
    let mut p = probe(3);
    p.presence = Some(Presence::new(3, Duration::ZERO));
    let mut s = screen(t0, None);
    s.sync(&probe(1));
    let presence = |s: &Screen| s.app.screen.figures.presence.clone();
    assert_eq!(presence(&s), None, "one node: no presence line");
    let all = ["probe-0", "probe-1", "probe-2"];
    p.presence.as_mut().unwrap().apply(0, &snap(&all));
    s.sync(&p);
    assert_eq!(
        presence(&s),
        Some(PresenceLine::Waiting { known: 1, of: 3 })
    );
    p.presence.as_mut().unwrap().apply(1, &snap(&all));
    p.presence.as_mut().unwrap().apply(2, &snap(&all));
    s.sync(&p);
    assert_eq!(presence(&s), Some(PresenceLine::Agree(3)));
    p.presence
        .as_mut()
        .unwrap()
        .apply(2, &snap(&["probe-0", "ghost"]));
    s.sync(&p);
    match presence(&s) {
        Some(PresenceLine::Differ { detail, alert }) => {
            assert!(!alert, "not yet an alert");
            assert!(
                detail
                    .contains("ws://127.0.0.1:7003 lists ghost that ws://127.0.0.1:7001 does not"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    let a = p.check_presence(t0).unwrap();
    s.alert(&a, "ALERT presence_mismatch", t0);
    s.sync(&p);
    assert!(matches!(
        presence(&s),
        Some(PresenceLine::Differ { alert: true, .. })
    ));
    let rows = &s.app.screen.figures.rows;
    assert!(rows[2].alert && !rows[0].alert, "the node that differs");
}

/// The probe's keys are the kit's: `q` and Ctrl-C quit, `?` toggles the help, Esc closes
/// it, and `[keys]` rebinds them as it rebinds watch's.
#[test]
fn keys_quit_and_open_and_close_the_help_and_the_table_rebinds_them() {
    let t0 = Instant::now();
    let mut s = screen(t0, None);
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert!(s.key(&key('?')).is_none());
    assert!(s.app.help_open());
    s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!s.app.help_open());
    s.key(&key('?'));
    s.key(&key('?'));
    assert!(!s.app.help_open(), "? toggles");
    assert!(s.key(&key('x')).is_none());
    assert!(matches!(s.key(&key('q')), Some(Effect::Quit)));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(matches!(s.key(&ctrl_c), Some(Effect::Quit)));

    let table = tui::keys::KeyTable::new(
        [("quit".to_owned(), vec!["x".to_owned()])]
            .into_iter()
            .collect(),
    )
    .unwrap();
    let probe = Probe::new(CHANNEL.into(), Duration::from_secs(1), None, t0);
    let mut app = App::new(probe, table.keymap(), Theme::new(false, false));
    assert!(app.key(&key('q'), t0).is_none(), "q no longer quits");
    assert!(matches!(app.key(&key('x'), t0), Some(Effect::Quit)));
    assert!(
        matches!(app.key(&ctrl_c, t0), Some(Effect::Quit)),
        "Ctrl-C always does"
    );
}
