//! The dashboard without a terminal: events, states and keys to feed a `State`, the demo's
//! state at a fixed instant, and a screen drawn on ratatui's TestBackend.

use std::time::{Duration, Instant, SystemTime};

use crate::dashboard::{Options, State, view};
use client::{
    ConnectionState, Item, Reason, ReceivedEvent, StateChange, SubscriptionFailure,
    SubscriptionStatus,
};
use observe::binding::Bindings;
use protocol::Data;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

pub fn event(channel: &str, name: &str, data: serde_json::Value, second: u64) -> Item {
    Item::Event(ReceivedEvent::decoded(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + second),
        Some(channel.into()),
        name.into(),
        Data::Json(data),
        None,
        String::new(),
    ))
}

pub fn connected() -> Item {
    Item::State(StateChange {
        previous: ConnectionState::Connecting,
        current: ConnectionState::Connected,
        reason: None,
        retry_in: None,
        socket_id: Some("123.456".into()),
        url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
    })
}

/// A connection state change to `current`, from `previous`, with a reason and a retry.
pub fn state_change(
    previous: ConnectionState,
    current: ConnectionState,
    reason: Option<Reason>,
    retry_in: Option<Duration>,
) -> Item {
    Item::State(StateChange {
        previous,
        current,
        reason,
        retry_in,
        socket_id: (current == ConnectionState::Connected).then(|| "123.456".into()),
        url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
    })
}

pub fn subscribed(channel: &str) -> Item {
    Item::Subscription {
        channel: channel.into(),
        status: SubscriptionStatus::Subscribed,
    }
}

/// A fresh state whose own log lines (connection changes, notices) are stamped from a fixed
/// epoch, so that screens with them are deterministic.
pub fn state(options: Options, bindings: Bindings, t0: Instant) -> State {
    let mut s = State::new(options, bindings, t0);
    s.epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    s
}

/// The demo: the seed's binding and a few minutes of quotes, at a fixed instant.
pub fn demo_state(t0: Instant, options: Options) -> State {
    let mut s = state(options, Bindings::seed(), t0);
    s.apply(connected(), t0);
    s.apply(subscribed("stock_ticker"), t0);
    let quotes = [
        ("ACME", [41.0, 42.5, 41.8, 43.1]),
        ("GLOBEX", [310.2, 309.0, 305.5, 306.0]),
        ("INITECH", [88.0, 88.0, 90.25, 91.0]),
        ("HOOLI", [150.0, 149.0, 148.5, 140.0]),
    ];
    for step in 0..4 {
        for (i, (name, prices)) in quotes.iter().enumerate() {
            let second = (step * 4 + i) as u64;
            s.apply(
                event(
                    "stock_ticker",
                    "update_event",
                    json!({"name": name, "price": prices[step]}),
                    second,
                ),
                t0 + Duration::from_secs(second),
            );
        }
    }
    s.apply(
        event(
            "stock_ticker",
            "update_evnt",
            json!({"name": "ACME", "price": 1}),
            17,
        ),
        t0 + Duration::from_secs(17),
    );
    s
}

pub fn render(state: &State, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, state, now)).unwrap();
    terminal
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        s.key(&key(c));
    }
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

/// One state per view and overlay, each with the screen size it is drawn at: the ticker, the
/// log with a selection, inspect (with latency), chart, help, the trigger form, typing a
/// search, a paused view, presence members and counts, a disconnected status with a failed
/// subscription, and a terminal too small. For checks that must hold on every screen.
pub fn every_view(t0: Instant, options: Options) -> Vec<(&'static str, State, (u16, u16))> {
    use client::MemberChange;
    use protocol::frame::Member;
    let options = Options {
        ts_field: Some(observe::binding::FieldPath::parse("ts").unwrap()),
        ..options
    };
    let demo = || {
        let mut s = demo_state(t0, options.clone());
        s.apply(
            event(
                "stock_ticker",
                "update_event",
                json!({"name": "ACME", "price": 44.0, "ts": 1_795_000_017_990u64}),
                18,
            ),
            t0 + Duration::from_secs(18),
        );
        s
    };
    let press = |s: &mut State, code: KeyCode| s.key(&KeyEvent::new(code, KeyModifiers::NONE));
    let mut views = Vec::new();
    for size in [(80, 24), (120, 40)] {
        views.push(("ticker", demo(), size));
        let mut s = demo();
        press(&mut s, KeyCode::Tab);
        s.key(&key('k'));
        views.push(("log selected", s, size));
        let mut s = demo();
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Enter);
        views.push(("inspect", s, size));
        let mut s = demo();
        press(&mut s, KeyCode::Enter);
        views.push(("chart", s, size));
        let mut s = demo();
        s.key(&key('?'));
        views.push(("help", s, size));
        let mut s = demo();
        s.key(&key('t'));
        for c in "client-x".chars() {
            s.key(&key(c));
        }
        views.push(("form", s, size));
        let mut s = demo();
        s.key(&key('/'));
        for c in "acme".chars() {
            s.key(&key(c));
        }
        views.push(("typing", s, size));
        let mut s = demo();
        s.key(&key(' '));
        views.push(("paused", s, size));
        let mut s = demo();
        s.apply(subscribed("presence-lobby"), t0);
        s.apply(
            Item::Members {
                channel: "presence-lobby".into(),
                change: MemberChange::Snapshot {
                    members: vec![Member {
                        user_id: "ann".into(),
                        user_info: json!({"name": "Ann"}),
                    }],
                    me: Some("ann".into()),
                },
                count: 1,
            },
            t0,
        );
        views.push(("members and events", s, size));
        let mut s = demo();
        fail_and_disconnect(&mut s, t0, "Invalid signature");
        views.push(("disconnected", s, size));
    }
    views.push(("too small", demo(), (50, 10)));
    views
}

/// A failed subscription to `private-orders` (with `message`), then the connection closed
/// with 4100 and a retry in 4 s, 18 s after `t0`.
pub fn fail_and_disconnect(s: &mut State, t0: Instant, message: &str) {
    s.apply(
        Item::Subscription {
            channel: "private-orders".into(),
            status: SubscriptionStatus::Failed(SubscriptionFailure {
                message: message.into(),
                status: Some(401),
                string_to_sign: Some("1.1:private-orders".into()),
                auth: true,
            }),
        },
        t0,
    );
    s.apply(
        Item::State(StateChange {
            previous: ConnectionState::Connected,
            current: ConnectionState::Connecting,
            reason: Some(Reason::Closed {
                code: 4100,
                message: "Over capacity".into(),
            }),
            retry_in: Some(Duration::from_secs(4)),
            socket_id: None,
            url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
        }),
        t0 + Duration::from_secs(18),
    );
}

/// The seed's binding with two connections, "eu" and "us": both quote ACME (at different
/// prices), eu quotes GLOBEX too, and then us loses its server and waits to reconnect.
pub fn two_connections(t0: Instant, options: Options) -> State {
    use crate::dashboard::connections::Connections;
    use client::Labels;
    let mut s = state(options, Bindings::seed(), t0);
    s.connections = Connections::new(Labels::new(vec!["eu".into(), "us".into()]));
    for conn in [0, 1] {
        s.apply_from(conn, connected(), t0);
        s.apply_from(conn, subscribed("stock_ticker"), t0);
    }
    let quotes = [
        (0, "ACME", 41.0),
        (1, "ACME", 44.0),
        (0, "GLOBEX", 310.2),
        (0, "ACME", 42.5),
        (1, "ACME", 43.5),
    ];
    for (second, (conn, name, price)) in quotes.into_iter().enumerate() {
        let second = second as u64;
        s.apply_from(
            conn,
            event(
                "stock_ticker",
                "update_event",
                json!({"name": name, "price": price}),
                second,
            ),
            t0 + Duration::from_secs(second),
        );
    }
    s.apply_from(
        1,
        state_change(
            ConnectionState::Connected,
            ConnectionState::Unavailable,
            Some(Reason::Io("connection refused".into())),
            Some(Duration::from_secs(3)),
        ),
        t0 + Duration::from_secs(6),
    );
    s
}
