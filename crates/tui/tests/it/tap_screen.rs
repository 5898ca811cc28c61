//! `tap`'s screen without a terminal: the tap fed sockudo-shaped backplane messages (as
//! sockudo 5.2.0 writes them) at fixed instants, drawn with the kit's chrome on ratatui's
//! TestBackend (insta) at 80×24, under NO_COLOR's theme.

use std::time::{Duration, Instant, SystemTime};

use observe::backplane::{Filter, Raw};
use protocol::backplane::Server;
use ratatui::style::Modifier;
use tui::kit::{App, Keymap, Theme};
use tui::tap::{Tap, TapItem};

const A: &str = "3ee0553b-d17b-4b6f-ba83-8f0133681909";
const B: &str = "fc41732d-5138-4ef1-b058-58d699734e5e";

fn raw(channel: &str, payload: String, at: Instant, wall: SystemTime) -> TapItem {
    TapItem::Message(Raw {
        at,
        wall,
        channel: channel.into(),
        payload: payload.into_bytes(),
    })
}

struct Feed {
    app: App<Tap>,
    t0: Instant,
    wall0: SystemTime,
}

impl Feed {
    fn new() -> Feed {
        let t0 = Instant::now();
        let wall0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_450_000);
        let mut s = Tap::new(
            "redis://***@127.0.0.1:6379".into(),
            Server::Sockudo,
            Filter::default(),
            t0,
        );
        s.set_wall(wall0);
        Feed {
            app: App::new(s, Keymap::default(), Theme::new(false, false)),
            t0,
            wall0,
        }
    }

    fn at(&mut self, ms: u64, channel: &str, payload: String) {
        let d = Duration::from_millis(ms);
        let item = raw(channel, payload, self.t0 + d, self.wall0 + d);
        self.app.apply(item, self.t0 + d);
    }

    fn heartbeat(&mut self, ms: u64, node: &str, n: u32) {
        let p = format!(
            r#"{{"request_id":"hb-{node}-{n}","node_id":"{node}","app_id":"cluster","request_type":"Heartbeat","timestamp":1796450000}}"#
        );
        self.at(ms, "sockudo_adapter::#requests", p);
    }

    fn broadcast(&mut self, ms: u64, node: &str, channel: &str, event: &str) {
        let message =
            serde_json::json!({"event": event, "channel": channel, "data": "{\"price\":42}"})
                .to_string();
        let sent = (self.wall0 + Duration::from_millis(ms))
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as f64
            - 0.8;
        let p = serde_json::json!({"node_id": node, "app_id": "app1", "channel": channel,
            "message": message, "except_socket_id": null, "timestamp_ms": sent})
        .to_string();
        self.at(ms, "sockudo_adapter::#broadcast", p);
    }

    fn request(&mut self, ms: u64, id: &str, node: &str, kind: &str, channel: &str) {
        let p = format!(
            r#"{{"request_id":"{id}","node_id":"{node}","app_id":"app1","request_type":"{kind}","channel":"{channel}"}}"#
        );
        self.at(ms, "sockudo_adapter::#requests", p);
    }

    fn answer(&mut self, ms: u64, id: &str, node: &str) {
        let p = format!(
            r#"{{"request_id":"{id}","node_id":"{node}","app_id":"app1","sockets_count":1,"complete":true,"expected_responses":0,"responses_received":0}}"#
        );
        self.at(ms, &format!("sockudo_adapter::#reply:{id}"), p);
    }

    fn text(&self, ms: u64) -> String {
        let t = tui::testing::draw(&self.app, self.t0 + Duration::from_millis(ms), 80, 24);
        t.backend().to_string()
    }
}

/// Two healthy nodes, a publish's broadcasts, requests answered; the cluster counting 3.
fn busy() -> Feed {
    let mut f = Feed::new();
    f.app.apply(
        TapItem::State {
            up: true,
            detail: "redis://***@127.0.0.1:6379: pattern-subscribed to sockudo_adapter::#*".into(),
        },
        f.t0,
    );
    f.heartbeat(100, A, 1);
    f.heartbeat(120, B, 1);
    f.app
        .apply(TapItem::NumSub(2), f.t0 + Duration::from_millis(200));
    for i in 0..5 {
        f.broadcast(1000 + i * 100, A, "stock_ticker", "update_event");
    }
    f.broadcast(1600, B, "private-orders", "created");
    f.request(2000, "r1", A, "ChannelSocketsCount", "stock_ticker");
    f.answer(2002, "r1", B);
    f.request(2100, "r2", B, "ChannelMembers", "presence-room");
    f.heartbeat(10_100, A, 2);
    f.heartbeat(10_120, B, 2);
    f
}

#[test]
fn two_nodes_at_80x24() {
    let f = busy();
    let text = f.text(16_000);
    assert!(text.contains("cluster counts 2 (NUMSUB)"), "{text}");
    assert!(text.contains("2 by heartbeat"), "{text}");
    assert!(text.contains("stock_ticker"), "{text}");
    assert!(text.contains("ChannelSocketsCount"), "{text}");
    assert!(text.contains("q quit"), "{text}");
    insta::assert_snapshot!("tap_two_nodes_80x24", text);
}

#[test]
fn a_count_the_heartbeats_deny_is_red() {
    let mut f = busy();
    // A third subscriber counted by NUMSUB that sends no heartbeat (sockudo#418's shape).
    f.app
        .apply(TapItem::NumSub(3), f.t0 + Duration::from_millis(16_000));
    let t = tui::testing::draw(&f.app, f.t0 + Duration::from_millis(16_000), 80, 24);
    let text = t.backend().to_string();
    assert!(text.contains("cluster counts 3 (NUMSUB)"), "{text}");
    assert!(text.contains("DIFFER"), "{text}");
    assert!(
        text.contains("heartbeats show 2"),
        "the log says it: {text}"
    );
    // Under NO_COLOR the alert border is reverse video.
    let b = t.backend().buffer();
    assert!(
        b[(0, 1)].modifier.contains(Modifier::REVERSED)
            || b[(0, 1)].modifier.contains(Modifier::BOLD),
        "the nodes pane is marked"
    );
    insta::assert_snapshot!("tap_counts_differ_80x24", text);
}

#[test]
fn hostile_names_and_reverb_secrets_never_reach_the_screen() {
    let mut f = Feed::new();
    f.broadcast(100, A, "evil\u{1b}]52;c;AAAA\u{7}\u{202e}", "ev\u{1b}[2J");
    let mut r = Tap::new(
        "redis://127.0.0.1:1".into(),
        Server::Reverb,
        Filter::default(),
        f.t0,
    );
    let app_text = "O:26:\"Laravel\\Reverb\\Application\":3:{s:5:\"\0*\0id\";s:2:\"42\";s:6:\"\0*\0key\";s:3:\"key\";s:9:\"\0*\0secret\";s:13:\"SECRET-abc123\";}";
    let m = serde_json::json!({"type": "message", "application": app_text,
        "payload": {"event": "e", "channel": "c", "data": "{}"}});
    use tui::kit::Screen;
    r.apply(
        raw("reverb", m.to_string(), f.t0, SystemTime::UNIX_EPOCH),
        f.t0,
    );
    let app = App::new(r, Keymap::default(), Theme::new(false, false));
    for text in [
        f.text(200),
        tui::testing::draw(&app, f.t0, 80, 24).backend().to_string(),
    ] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
}

impl Feed {
    fn presence(&mut self, ms: u64, kind: &str, node: &str, channel: &str, user: &str) {
        let p = format!(
            r#"{{"request_id":"p{ms}","node_id":"{node}","app_id":"app1","request_type":"{kind}","channel":"{channel}","user_id":"{user}","user_info":{{"name":"x"}}}}"#
        );
        self.at(ms, "sockudo_adapter::#requests", p);
    }

    fn key(&mut self, key: crossterm::event::KeyEvent, ms: u64) {
        self.app.key(&key, self.t0 + Duration::from_millis(ms));
    }
}

fn tab() -> crossterm::event::KeyEvent {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)
}

/// Members joined through both nodes; node B is then declared dead by A with no leaves:
/// its members are ghosts (A still lists them; nobody has them).
fn presence_feed() -> Feed {
    let mut f = busy();
    f.presence(3000, "PresenceMemberJoined", A, "presence-lobby", "alice");
    f.presence(3010, "PresenceMemberJoined", B, "presence-lobby", "bob");
    f.presence(3020, "PresenceMemberJoined", B, "presence-lobby", "carol");
    f.presence(3030, "PresenceMemberJoined", A, "presence-room-7", "dave");
    f.presence(3040, "PresenceMemberJoined", B, "presence-room-7", "dave");
    f.presence(3050, "PresenceMemberLeft", A, "presence-room-7", "dave");
    f.presence(3060, "PresenceMemberJoined", A, "presence-room-9", "erin");
    let dead = format!(
        r#"{{"request_id":"dead-1","node_id":"{A}","app_id":"cluster","request_type":"NodeDead","dead_node_id":"{B}"}}"#
    );
    f.at(12_000, "sockudo_adapter::#requests", dead);
    f
}

#[test]
fn tab_shows_presence_by_node_and_the_ghosts_of_a_dead_node_at_80x24() {
    let mut f = presence_feed();
    let before = f.text(16_000);
    assert!(!before.contains("GHOSTS"), "traffic first: {before}");
    assert!(
        before.contains("Tab presence"),
        "the hint names the key: {before}"
    );
    f.key(tab(), 16_000);
    let text = f.text(16_000);
    assert!(text.contains("presence-lobby"), "{text}");
    assert!(text.contains("3 GHOSTS"), "bob, carol and dave: {text}");
    assert!(text.contains("2: bob carol"), "{text}");
    assert!(
        text.contains("fc41732d(gone) 2") && text.contains("3ee0553b 1"),
        "members by node: {text}"
    );
    assert!(text.contains("Tab traffic"), "{text}");
    insta::assert_snapshot!("tap_presence_80x24", text);
    // Tab again: the traffic panes.
    f.key(tab(), 16_000);
    let text = f.text(16_000);
    assert!(
        text.contains("broadcasts · ") && text.contains("requests · "),
        "{text}"
    );
}

#[test]
fn the_help_lists_the_pane_key() {
    let mut f = busy();
    f.key(tui::testing::key('?'), 16_000);
    let text = f.text(16_000);
    assert!(text.contains("tab"), "{text}");
    assert!(text.contains("switch the middle panes"), "{text}");
}

#[test]
fn rates_per_second_beside_the_counts_at_80x24() {
    let mut f = Feed::new();
    f.heartbeat(0, A, 1);
    // 10 a second on stock_ticker for 4 s, 2 a second on orders, then one of chat.
    for i in 0..40 {
        f.broadcast(i * 100, A, "stock_ticker", "update_event");
    }
    for i in 0..8 {
        f.broadcast(i * 500, B, "private-orders", "created");
    }
    f.broadcast(3900, B, "chat", "message");
    let text = f.text(4_000);
    assert!(text.contains("broadcasts · 12.2/s · 49"), "{text}");
    assert!(
        text.contains("stock_ticker update_event 10.0  40"),
        "the rate beside the count: {text}"
    );
    assert!(text.contains("private-ord… created      2.0   8"), "{text}");
    insta::assert_snapshot!("tap_rates_80x24", text);
    // A minute later the rates are 0 and the counts stay.
    let text = f.text(64_000);
    assert!(text.contains("broadcasts · 0.0/s · 49"), "{text}");
    assert!(
        text.contains("stock_ticker update_event 0.0   40"),
        "{text}"
    );
}

/// The log's keys: k selects (the title names the follow key, as `[keys]` binds it), Tab
/// switches the middle panes and leaves the selection, G or Esc follows again.
#[test]
fn the_log_keys_select_tab_keeps_the_selection_and_the_end_follows() {
    use tui::testing::key;
    let mut f = busy();
    assert!(f.app.screen.log.is_following());
    f.key(key('k'), 16_000);
    assert!(!f.app.screen.log.is_following());
    let text = f.text(16_000);
    // The log's title names the key, and so does the hint line at the bottom.
    let hints = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        text.contains("G follows") && hints.contains("G follow"),
        "{text}"
    );
    f.key(tab(), 16_000);
    assert!(!f.app.screen.log.is_following(), "Tab is not a log key");
    f.key(key('G'), 16_000);
    assert!(f.app.screen.log.is_following());
    f.key(key('g'), 16_000);
    f.key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Esc,
            crossterm::event::KeyModifiers::NONE,
        ),
        16_000,
    );
    assert!(f.app.screen.log.is_following(), "Esc follows");

    let table = tui::keys::KeyTable::new(
        [("bottom".to_owned(), vec!["b".to_owned()])]
            .into_iter()
            .collect(),
    )
    .unwrap();
    let mut g = busy();
    g.app = App::new(
        std::mem::replace(
            &mut g.app.screen,
            Tap::new("x".into(), Server::Sockudo, Filter::default(), g.t0),
        ),
        table.keymap(),
        Theme::new(false, false),
    );
    g.key(key('k'), 16_000);
    let text = g.text(16_000);
    assert!(
        text.contains("b follows") && !text.contains("G follows"),
        "{text}"
    );
    g.key(key('G'), 16_000);
    assert!(!g.app.screen.log.is_following(), "G is unbound");
    g.key(key('b'), 16_000);
    assert!(g.app.screen.log.is_following());
}
