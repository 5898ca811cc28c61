//! The dashboard without a terminal: events, states and keys to feed a `State`, the demo's
//! state at a fixed instant, and a screen drawn on ratatui's TestBackend.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use tickertape::client::{ConnectionState, Item, ReceivedEvent, StateChange, SubscriptionStatus};
use tickertape::dashboard::{Bindings, Options, State, view};
use tickertape::protocol::Data;

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

pub fn subscribed(channel: &str) -> Item {
    Item::Subscription {
        channel: channel.into(),
        status: SubscriptionStatus::Subscribed,
    }
}

/// The demo: the seed's binding and a few minutes of quotes, at a fixed instant.
pub fn demo_state(t0: Instant, options: Options) -> State {
    let mut s = State::new(options, Bindings::seed(), t0);
    s.epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
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
