//! The screens without a terminal: events, states and keys to feed the watch screen, the
//! demo's screen at a fixed instant, and a screen drawn on ratatui's TestBackend.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant, SystemTime};

use crate::kit::{App, Effect, Keymap, Screen};
use crate::watch::{Done, Options, Source, Watch};
use client::{
    Conn, ConnectionState, Item, Reason, ReceivedEvent, StateChange, SubscriptionFailure,
    SubscriptionStatus,
};
use observe::binding::{Bindings, FieldPath};
use observe::pipeline::Observed;
use protocol::Data;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

pub fn event(channel: &str, name: &str, data: serde_json::Value, second: u64) -> Item {
    Item::from(ReceivedEvent::decoded(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + second),
        Some(channel.into()),
        name.into(),
        Data::Json(data),
        None,
        String::new(),
    ))
}

pub fn connected() -> Item {
    Item::State(Box::new(StateChange {
        previous: ConnectionState::Connecting,
        current: ConnectionState::Connected,
        reason: None,
        retry_in: None,
        socket_id: Some("123.456".into()),
        url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
    }))
}

/// A connection state change to `current`, from `previous`, with a reason and a retry.
pub fn state_change(
    previous: ConnectionState,
    current: ConnectionState,
    reason: Option<Reason>,
    retry_in: Option<Duration>,
) -> Item {
    Item::State(Box::new(StateChange {
        previous,
        current,
        reason,
        retry_in,
        socket_id: (current == ConnectionState::Connected).then(|| "123.456".into()),
        url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
    }))
}

pub fn subscribed(channel: &str) -> Item {
    Item::Subscription {
        channel: channel.into(),
        status: Box::new(SubscriptionStatus::Subscribed),
    }
}

/// The watch screen in its app, fed items as the pipeline feeds it (with the latency at
/// `ts_field` computed as it computes it), and keys as the event loop hands them over.
pub struct Dash {
    pub app: App<Watch>,
    pub ts_field: Option<FieldPath>,
}

impl Deref for Dash {
    type Target = Watch;
    fn deref(&self) -> &Watch {
        &self.app.screen
    }
}

impl DerefMut for Dash {
    fn deref_mut(&mut self) -> &mut Watch {
        &mut self.app.screen
    }
}

impl Dash {
    /// The screen with the default keys.
    pub fn new(watch: Watch) -> Dash {
        Dash::with_keys(watch, Keymap::default())
    }

    pub fn with_keys(watch: Watch, keymap: Keymap<crate::watch::Action>) -> Dash {
        Dash {
            app: watch.into_app(keymap),
            ts_field: None,
        }
    }

    /// Latency read from this field of the data.
    pub fn with_ts(mut self, path: &str) -> Dash {
        self.ts_field = FieldPath::parse(path).ok();
        self
    }

    /// An item from the one connection.
    pub fn apply(&mut self, item: Item, now: Instant) -> Option<Effect<Done>> {
        self.apply_from(0, item, now)
    }

    /// An item from the connection tagged `conn`.
    pub fn apply_from(&mut self, conn: Conn, item: Item, now: Instant) -> Option<Effect<Done>> {
        let latency_ms = match (&item, &self.ts_field) {
            (Item::Event(ev), Some(path)) => {
                observe::latency::latency_ms(&ev.data().as_value(), path.pointer(), ev.received_at)
            }
            _ => None,
        };
        let observed = Observed {
            conn,
            item,
            latency_ms,
        };
        self.app.apply(observed, now)
    }

    /// A key press, and the slice of work the event loop does before the frame that draws it.
    pub fn key(&mut self, key: &KeyEvent) -> Option<Effect<Done>> {
        let effect = self.app.key(key, Instant::now());
        self.app.work(Instant::now());
        effect
    }

    /// The slice of work before one more frame; true while some is left.
    pub fn work(&mut self) -> bool {
        self.app.work(Instant::now())
    }

    /// Text pasted (bracketed paste), and the slice of work before the frame that draws it.
    pub fn paste(&mut self, text: &str) {
        self.app.paste(text, Instant::now());
        self.app.work(Instant::now());
    }

    /// The second's tick.
    pub fn tick(&mut self, now: Instant) {
        self.app.screen.tick(now);
    }
}

/// A fresh screen whose own log lines (connection changes, notices) are stamped from a fixed
/// epoch, so that screens with them are deterministic.
pub fn state(options: Options, bindings: Bindings, t0: Instant) -> Dash {
    watch(options, bindings, Source::Live, t0)
}

/// As [`state`], from `source`.
pub fn watch(options: Options, bindings: Bindings, source: Source, t0: Instant) -> Dash {
    let mut w = Watch::new(options, bindings, source, t0);
    w.model.epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    Dash::new(w)
}

/// The demo: the seed's binding and a few minutes of quotes, at a fixed instant.
pub fn demo_state(t0: Instant, options: Options) -> Dash {
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

/// Any app drawn on a TestBackend of `w`×`h` at `now`.
pub fn draw<S: Screen>(app: &App<S>, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f, now)).unwrap();
    terminal
}

pub fn render(state: &Dash, now: Instant, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(&state.app, now, w, h)
}

/// The screen drawn at `w`×`h`, as text.
pub fn screen_text(state: &Dash, now: Instant, w: u16, h: u16) -> String {
    render(state, now, w, h).backend().to_string()
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// A key without a character (arrows, Tab, Enter, Esc), pressed with no modifier.
pub fn press(s: &mut Dash, code: KeyCode) {
    s.key(&KeyEvent::new(code, KeyModifiers::NONE));
}

pub fn type_text(s: &mut Dash, text: &str) {
    for c in text.chars() {
        s.key(&key(c));
    }
    s.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

/// One screen per view and overlay, each with the size it is drawn at: the ticker, the log
/// with a selection, inspect (with latency), chart, help, the trigger form, typing a
/// search, a paused view, presence members and counts, a disconnected status with a failed
/// subscription, and a terminal too small. For checks that must hold on every screen.
pub fn every_view(t0: Instant, options: Options) -> Vec<(&'static str, Dash, (u16, u16))> {
    use client::MemberChange;
    use protocol::frame::Member;
    let demo = || {
        let mut s = demo_state(t0, options.clone()).with_ts("ts");
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
    let press = |s: &mut Dash, code: KeyCode| s.key(&KeyEvent::new(code, KeyModifiers::NONE));
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
                change: Box::new(MemberChange::Snapshot {
                    members: vec![Member {
                        user_id: "ann".into(),
                        user_info: json!({"name": "Ann"}),
                    }],
                    me: Some("ann".into()),
                }),
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
pub fn fail_and_disconnect(s: &mut Dash, t0: Instant, message: &str) {
    s.apply(
        Item::Subscription {
            channel: "private-orders".into(),
            status: Box::new(SubscriptionStatus::Failed(SubscriptionFailure {
                message: message.into(),
                status: Some(401),
                string_to_sign: Some("1.1:private-orders".into()),
                auth: true,
            })),
        },
        t0,
    );
    s.apply(
        Item::State(Box::new(StateChange {
            previous: ConnectionState::Connected,
            current: ConnectionState::Connecting,
            reason: Some(Reason::Closed {
                code: 4100,
                message: "Over capacity".into(),
            }),
            retry_in: Some(Duration::from_secs(4)),
            socket_id: None,
            url: "ws://127.0.0.1:6001/app/app-key?protocol=7".into(),
        })),
        t0 + Duration::from_secs(18),
    );
}

/// The seed's binding with two connections, "eu" and "us": both quote ACME (at different
/// prices), eu quotes GLOBEX too, and then us loses its server and waits to reconnect.
pub fn two_connections(t0: Instant, options: Options) -> Dash {
    use client::Labels;
    let mut w = Watch::new(options, Bindings::seed(), Source::Live, t0)
        .with_labels(Labels::new(vec!["eu".into(), "us".into()]));
    w.model.epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let mut s = Dash::new(w);
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
