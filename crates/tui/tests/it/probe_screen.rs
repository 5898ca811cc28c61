//! `probe`'s dashboard without a terminal: a `Probe` fed outcomes, states and member lists,
//! its `Screen`, and the view drawn on ratatui's TestBackend (insta). Times are fixed, so the
//! screens are deterministic; the theme is NO_COLOR's, as the binary's tests run.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use client::{ConnectionState, MemberChange};
use observe::probe::canary::{Fate, Outcome, Tracker};
use observe::probe::lines;
use observe::probe::members::Presence;
use observe::probe::state::Probe;
use protocol::frame::Member;
use tui::probe::screen::{Kind, Screen};
use tui::probe::view;

const CHANNEL: &str = "private-tickertape-probe-0badf00d";

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("ws://127.0.0.1:{}", 7001 + i))
        .collect()
}

fn probe(n: usize) -> Probe {
    let presence = (n > 1).then(|| Presence::new(n, Duration::from_secs(3)));
    Probe::new(names(n), Tracker::new(n, Duration::from_secs(5)), presence)
}

fn screen(t0: Instant, window: Option<Duration>) -> Screen {
    let mut s = Screen::new(CHANNEL.into(), Duration::from_secs(1), window, t0, false);
    s.wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    s
}

/// `seconds` of canaries, one a second via the nodes in turn, received everywhere in
/// 2 + seq ms, each result logged as the shell logs it.
fn healthy(p: &mut Probe, s: &mut Screen, t0: Instant, seconds: u64) {
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

fn render(s: &mut Screen, p: &Probe, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
    s.sync(p);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, s, now)).unwrap();
    terminal
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
    assert!(reversed(&t, 3, 0), "the strip");
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
        text.contains("HTTP 500 from http://127.0.0.1:7002/apps/1/events?… … \\e[2J over"),
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
        text.contains("help · Esc closes") && text.contains("q, Ctrl-C  quit"),
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
