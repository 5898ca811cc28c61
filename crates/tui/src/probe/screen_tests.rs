use super::*;
use observe::probe::canary::{Fate, Outcome, Tracker};
use observe::probe::members::Presence;

fn probe(nodes: usize) -> Probe {
    let names = (0..nodes).map(|i| format!("ws://n{i}")).collect();
    Probe::new(names, Tracker::new(nodes, Duration::from_secs(5)), None)
}

fn screen(t0: Instant) -> Screen {
    Screen::new("private-x".into(), Duration::from_secs(1), None, t0, false)
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
fn the_log_is_bounded_in_lines_and_bytes_and_counts_what_it_drops() {
    let t0 = Instant::now();
    let mut log = Log::new(3, 1 << 20);
    for i in 0..5 {
        log.push(t0, Kind::Note, &format!("line {i}"));
    }
    assert_eq!((log.len(), log.dropped), (3, 2));
    let texts: Vec<&str> = log.last(2).map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["line 3", "line 4"]);
    let mut log = Log::new(100, 10);
    log.push(t0, Kind::Note, "12345");
    log.push(t0, Kind::Note, "67890");
    assert_eq!((log.len(), log.bytes(), log.dropped), (2, 10, 0));
    log.push(t0, Kind::Note, "x");
    assert_eq!((log.len(), log.bytes(), log.dropped), (2, 6, 1));
    log.push(t0, Kind::Note, &"y".repeat(5000));
    assert_eq!(log.len(), 1, "the newest stays, alone");
    assert_eq!(log.bytes(), MAX_LINE_CHARS, "cut to its longest");
    assert_eq!(log.dropped, 3);
}

#[test]
fn the_defaults_bound_the_log_at_a_thousand_lines() {
    let t0 = Instant::now();
    let mut s = screen(t0);
    for i in 0..(LOG_LINES + 7) {
        s.line(Kind::Received, &format!("canary {i}"), t0);
    }
    assert_eq!((s.log.len(), s.log.dropped), (LOG_LINES, 7));
    let mut s = screen(t0);
    // Two bytes a character: 512 of the longest lines fill the bytes before the count.
    let long = "é".repeat(MAX_LINE_CHARS + 10);
    for _ in 0..(LOG_BYTES / (2 * MAX_LINE_CHARS) + 5) {
        s.line(Kind::Note, &long, t0);
    }
    assert_eq!(s.log.bytes(), LOG_BYTES);
    assert_eq!((s.log.len(), s.log.dropped), (512, 5));
}

#[test]
fn an_alert_marks_its_node_until_it_recovers_and_the_strip_tells_both() {
    let t0 = Instant::now();
    let mut p = probe(2);
    let mut s = screen(t0);
    s.sync(&p);
    assert!(s.rows.iter().all(|r| !r.alert));
    let a = p.outcome(&lost(1, 0)).unwrap();
    s.alert(&a, "ALERT canary_missing: …", t0);
    s.sync(&p);
    assert!(!s.rows[0].alert && s.rows[1].alert);
    assert_eq!(s.rows[1].lost, 1);
    // Missing via the other node too: one strip entry, open twice.
    let b = p.outcome(&lost(1, 1)).unwrap();
    s.alert(&b, "ALERT", t0 + Duration::from_secs(1));
    assert_eq!(s.strip(t0).len(), 1);
    assert_eq!(s.strip(t0)[0].since, t0);
    let r = p.outcome(&received(1, 0)).unwrap();
    s.alert(&r, "RECOVERED", t0 + Duration::from_secs(2));
    s.sync(&p);
    assert!(s.rows[1].alert, "still missing via node 1");
    assert_eq!(s.strip(t0).len(), 1);
    assert!(s.strip(t0)[0].recovered.is_none());
    let r = p.outcome(&received(1, 1)).unwrap();
    let at = t0 + Duration::from_secs(3);
    s.alert(&r, "RECOVERED", at);
    s.sync(&p);
    assert!(!s.rows[1].alert);
    let strip = s.strip(at);
    assert_eq!(strip.len(), 1);
    assert_eq!(strip[0].recovered.as_ref().map(|r| r.0), Some(at));
    assert!(s.strip(at + RECOVERY_SHOWN).is_empty(), "recoveries leave");
    let kinds: Vec<Kind> = s.log.last(10).map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [Kind::Alert, Kind::Alert, Kind::Recovered, Kind::Recovered]
    );
}

#[test]
fn the_strip_stays_bounded_dropping_recoveries_first() {
    let t0 = Instant::now();
    let mut s = screen(t0);
    let alert = |node, change| Alert {
        kind: AlertKind::CanaryMissing,
        change,
        node: Some(node),
        detail: String::new(),
    };
    s.alert(&alert(0, Change::Raised), "", t0);
    s.alert(&alert(1, Change::Raised), "", t0);
    s.alert(&alert(1, Change::Recovered), "", t0);
    for n in 2..=MAX_ALERTS {
        s.alert(&alert(n, Change::Raised), "", t0);
    }
    assert_eq!(s.alerts.len(), MAX_ALERTS);
    assert_eq!(s.alerts[0].node, Some(0), "the open alert stayed");
    assert!(s.alerts.iter().all(|a| a.recovered.is_none()));
    s.alert(&alert(MAX_ALERTS + 1, Change::Raised), "", t0);
    assert_eq!(s.alerts.len(), MAX_ALERTS);
    assert_eq!(s.alerts[0].node, Some(2), "then the oldest alert");
}

#[test]
fn presence_lines_wait_agree_and_differ() {
    use client::MemberChange;
    use protocol::frame::Member;
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
    let mut s = screen(t0);
    s.sync(&probe(1));
    assert_eq!(s.presence, None, "one node: no presence line");
    let all = ["probe-0", "probe-1", "probe-2"];
    p.presence.as_mut().unwrap().apply(0, &snap(&all));
    s.sync(&p);
    assert_eq!(s.presence, Some(PresenceLine::Waiting { known: 1, of: 3 }));
    p.presence.as_mut().unwrap().apply(1, &snap(&all));
    p.presence.as_mut().unwrap().apply(2, &snap(&all));
    s.sync(&p);
    assert_eq!(s.presence, Some(PresenceLine::Agree(3)));
    p.presence
        .as_mut()
        .unwrap()
        .apply(2, &snap(&["probe-0", "ghost"]));
    s.sync(&p);
    match &s.presence {
        Some(PresenceLine::Differ { detail, alert }) => {
            assert!(!alert, "not yet an alert");
            assert!(detail.contains("ws://n2 lists ghost that ws://n0 does not"));
        }
        other => panic!("{other:?}"),
    }
    let a = p.check_presence(t0).unwrap();
    s.alert(&a, "ALERT presence_mismatch", t0);
    s.sync(&p);
    assert!(matches!(
        s.presence,
        Some(PresenceLine::Differ { alert: true, .. })
    ));
    assert!(s.rows[2].alert && !s.rows[0].alert, "the node that differs");
}

#[test]
fn keys_quit_and_open_and_close_the_help() {
    let t0 = Instant::now();
    let mut s = screen(t0);
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    s.drawn();
    assert_eq!(s.key(&key('?')), Action::None);
    assert!(s.help && s.dirty());
    assert_eq!(
        s.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        Action::None
    );
    assert!(!s.help);
    s.key(&key('?'));
    s.key(&key('?'));
    assert!(!s.help, "? toggles");
    s.drawn();
    assert_eq!(s.key(&key('x')), Action::None);
    assert!(!s.dirty(), "an unknown key changes nothing");
    assert_eq!(s.key(&key('q')), Action::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(s.key(&ctrl_c), Action::Quit);
}
