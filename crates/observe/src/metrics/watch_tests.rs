//! The watch observer on made-up items: presence past its cap, and several connections each
//! with its own series.

use std::time::{Duration, SystemTime};

use super::watch::{Observer, PRESENCE_SERIES};
use crate::pipeline::{Observed, Tap};
use client::{
    ConnectionState, Item, Labels, MemberChange, ReceivedEvent, StateChange, SubscriptionStatus,
};
use net::metrics::encode;
use protocol::Data;

fn seen(o: &mut Observer, conn: u8, item: Item) {
    o.observe(&Observed::new(conn, item, None));
}

fn members(channel: &str, count: usize) -> Item {
    Item::Members {
        channel: channel.to_owned(),
        change: Box::new(MemberChange::Removed("x".to_owned())),
        count,
    }
}

fn state(current: ConnectionState, retry: Option<Duration>) -> Item {
    Item::State(Box::new(StateChange {
        previous: ConnectionState::Connecting,
        current,
        reason: None,
        retry_in: retry,
        socket_id: None,
        url: String::new(),
    }))
}

fn event(channel: &str, name: &str) -> Item {
    Item::from(ReceivedEvent::decoded(
        SystemTime::UNIX_EPOCH + Duration::from_secs(100),
        Some(channel.into()),
        name.into(),
        Data::Json(serde_json::json!({})),
        None,
        String::new(),
    ))
}

#[test]
fn presence_channels_past_the_cap_add_up_in_other() {
    let (mut o, registry) = Observer::new(&Labels::default());
    for i in 0..PRESENCE_SERIES + 2 {
        seen(&mut o, 0, members(&format!("presence-{i}"), 3));
    }
    let text = encode(&registry);
    let series = text
        .lines()
        .filter(|l| l.starts_with("tickertape_watch_presence_members{"))
        .count();
    assert_eq!(series, PRESENCE_SERIES + 1, "{text}");
    assert!(
        text.contains("tickertape_watch_presence_members{channel=\"other\"} 6\n"),
        "{text}"
    );
    seen(
        &mut o,
        0,
        Item::Subscription {
            channel: format!("presence-{}", PRESENCE_SERIES),
            status: Box::new(SubscriptionStatus::Unsubscribed),
        },
    );
    let text = encode(&registry);
    assert!(
        text.contains("tickertape_watch_presence_members{channel=\"other\"} 3\n"),
        "{text}"
    );
}

#[test]
fn each_connection_has_its_own_series() {
    let labels = Labels::new(vec!["eu".into(), "us".into()]);
    let (mut o, registry) = Observer::new(&labels);
    seen(&mut o, 0, state(ConnectionState::Connected, None));
    seen(&mut o, 1, state(ConnectionState::Connected, None));
    seen(&mut o, 0, event("prices", "tick"));
    seen(&mut o, 0, event("prices", "tick"));
    seen(&mut o, 1, event("prices", "tick"));
    seen(
        &mut o,
        1,
        Item::Pong {
            rtt: Duration::from_millis(250),
        },
    );
    seen(&mut o, 1, members("presence-room", 4));
    seen(&mut o, 0, Item::Dropped { count: 5, total: 5 });
    // us goes down and is retrying: eu's state is not touched.
    seen(
        &mut o,
        1,
        state(ConnectionState::Unavailable, Some(Duration::from_secs(1))),
    );
    let text = encode(&registry);
    for line in [
        r#"tickertape_watch_connected{connection="eu"} 1"#,
        r#"tickertape_watch_connected{connection="us"} 0"#,
        r#"tickertape_watch_connection_state{connection="eu",state="connected"} 1"#,
        r#"tickertape_watch_connection_state{connection="us",state="unavailable"} 1"#,
        r#"tickertape_watch_connection_state{connection="us",state="connected"} 0"#,
        r#"tickertape_watch_reconnects_total{connection="us",code="none"} 1"#,
        r#"tickertape_watch_events_total{connection="eu",channel="prices",event="tick"} 2"#,
        r#"tickertape_watch_events_total{connection="us",channel="prices",event="tick"} 1"#,
        r#"tickertape_watch_ping_rtt_seconds{connection="us"} 0.25"#,
        r#"tickertape_watch_ping_rtt_seconds{connection="eu"} 0.0"#,
        r#"tickertape_watch_dropped_events_total{connection="eu"} 5"#,
        r#"tickertape_watch_dropped_events_total{connection="us"} 0"#,
        r#"tickertape_watch_subscription_failures_total{connection="eu",cause="auth"} 0"#,
        r#"tickertape_watch_presence_members{connection="us",channel="presence-room"} 4"#,
        r#"tickertape_watch_last_event_timestamp_seconds{connection="eu"} 100.0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(
        !text.contains(r#"reconnects_total{connection="eu""#),
        "{text}"
    );
    // No series without the label.
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("tickertape_watch_connected ")),
        "{text}"
    );
}

#[test]
fn one_connection_has_no_connection_label() {
    let (mut o, registry) = Observer::new(&Labels::new(vec!["only".into()]));
    seen(&mut o, 0, state(ConnectionState::Connected, None));
    seen(&mut o, 0, event("prices", "tick"));
    let text = encode(&registry);
    assert!(!text.contains("connection=\""), "{text}");
    for line in [
        "tickertape_watch_connected 1",
        r#"tickertape_watch_events_total{channel="prices",event="tick"} 1"#,
        "tickertape_watch_dropped_events_total 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}
