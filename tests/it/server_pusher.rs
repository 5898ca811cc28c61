//! What Pusher's own servers do that `serve` does too: subscription counts, watchlist
//! events, the 3 s delay on `channel_vacated` and `member_removed` webhooks, cache channels
//! that never cache client events, and listings that hide server-to-user channels. The real
//! binary on 127.0.0.1, raw WebSocket clients and a real webhook receiver.

use std::time::Duration;

use crate::support::server::{KEY, Raw, SECRET, Server};
use crate::support::webhook_sink::{Sink, names, pair, serve_to};
use protocol::frame::{Event, PusherError, WatchlistEvent};
use protocol::{ClientMessage, Data, ServerMessage, signature};

/// Signs `raw` in as `user` with `watchlist`.
async fn sign_in(raw: &mut Raw, socket_id: &str, user: &str, watchlist: &[&str]) {
    let user_data = serde_json::json!({ "id": user, "watchlist": watchlist }).to_string();
    let auth = signature::sign_user(KEY, SECRET, socket_id, &user_data).unwrap();
    raw.send(&ClientMessage::Signin { auth, user_data }).await;
    assert!(
        matches!(raw.recv().await, ServerMessage::SigninSuccess { .. }),
        "signed in"
    );
}

fn watchlist(name: &str, ids: &[&str]) -> ServerMessage {
    ServerMessage::WatchlistEvents(vec![WatchlistEvent {
        name: name.into(),
        user_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
    }])
}

#[tokio::test]
async fn a_subscriber_hears_the_count_when_a_second_subscriber_joins_and_leaves() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "room", None).await;
    let count = |n| ServerMessage::SubscriptionCount {
        channel: "room".into(),
        count: n,
    };
    assert_eq!(a.recv_any().await, count(1), "its own subscription counts");
    let (mut b, b_id) = server.raw().await;
    b.subscribe(&b_id, "room", None).await;
    assert_eq!(a.recv_any().await, count(2), "the second subscriber joined");
    // Told once it is due (at most every 100 ms per channel): b's own count is 2 as well.
    assert_eq!(b.recv_any().await, count(2));
    b.send(&ClientMessage::Unsubscribe {
        channel: "room".into(),
    })
    .await;
    assert_eq!(a.recv_any().await, count(1), "and left");
    // Presence channels say it with their members: no count there.
    let (mut p, p_id) = server.raw().await;
    p.subscribe(&p_id, "presence-x", Some(r#"{"user_id":"ann"}"#))
        .await;
    let (mut q, q_id) = server.raw().await;
    q.subscribe(&q_id, "presence-x", Some(r#"{"user_id":"bob"}"#))
        .await;
    assert!(matches!(
        p.recv_any().await,
        ServerMessage::MemberAdded { .. }
    ));
    assert!(p.quiet_for(Duration::from_millis(300)).await);
    server.terminate().await;
}

#[tokio::test]
async fn subscription_counts_can_be_turned_off() {
    let server = Server::start(&["--no-subscription-count"]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "room", None).await;
    let (mut b, b_id) = server.raw().await;
    b.subscribe(&b_id, "room", None).await;
    let next = tokio::time::timeout(Duration::from_millis(400), a.recv_any()).await;
    assert!(next.is_err(), "{next:?}");
    server.terminate().await;
}

#[tokio::test]
async fn a_watcher_hears_its_watched_users_come_online_and_go_offline() {
    let server = Server::start(&[]).await;
    let (mut ann, ann_id) = server.raw().await;
    sign_in(&mut ann, &ann_id, "ann", &["bob", "cy"]).await;
    let (mut bob, bob_id) = server.raw().await;
    sign_in(&mut bob, &bob_id, "bob", &[]).await;
    assert_eq!(ann.recv().await, watchlist("online", &["bob"]));
    // A second socket of bob's changes nothing; one who signs in watching bob hears he
    // is online at once.
    let (mut bob2, bob2_id) = server.raw().await;
    sign_in(&mut bob2, &bob2_id, "bob", &[]).await;
    let (mut dee, dee_id) = server.raw().await;
    sign_in(&mut dee, &dee_id, "dee", &["bob"]).await;
    assert_eq!(dee.recv().await, watchlist("online", &["bob"]));
    drop(bob);
    assert!(
        ann.quiet_for(Duration::from_millis(400)).await,
        "bob still has a socket"
    );
    bob2.ws.close(None).await.unwrap();
    assert_eq!(ann.recv().await, watchlist("offline", &["bob"]));
    assert_eq!(dee.recv().await, watchlist("offline", &["bob"]));
    server.terminate().await;
}

#[tokio::test]
async fn a_watchlist_keeps_its_first_hundred_ids() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    let ids: Vec<String> = (0..150).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    sign_in(&mut raw, &id, "ann", &refs).await;
    assert!(
        matches!(
            raw.recv().await,
            ServerMessage::Error(PusherError {
                code: Some(4302),
                ..
            })
        ),
        "Pusher's 4302"
    );
    // u99 is watched, u100 is not.
    let mut others = Vec::new();
    for user in ["u100", "u99"] {
        let (mut other, other_id) = server.raw().await;
        sign_in(&mut other, &other_id, user, &[]).await;
        others.push(other);
    }
    assert_eq!(raw.recv().await, watchlist("online", &["u99"]));
    assert!(raw.quiet_for(Duration::from_millis(300)).await);
    server.terminate().await;
}

#[tokio::test]
async fn a_client_event_on_a_cache_channel_is_never_cached() {
    let server = Server::start(&[]).await;
    let channel = "private-cache-game";
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, channel, None).await;
    assert!(matches!(a.recv().await, ServerMessage::CacheMiss { .. }));
    let (mut b, b_id) = server.raw().await;
    b.subscribe(&b_id, channel, None).await;
    assert!(matches!(b.recv().await, ServerMessage::CacheMiss { .. }));
    b.send(&ClientMessage::Event(Event {
        event: "client-move".into(),
        channel: Some(channel.into()),
        data: Data::Text("{}".into()),
        user_id: None,
    }))
    .await;
    assert!(matches!(a.recv().await, ServerMessage::Event(e) if e.event == "client-move"));
    let (mut c, c_id) = server.raw().await;
    c.subscribe(&c_id, channel, None).await;
    assert_eq!(
        c.recv().await,
        ServerMessage::CacheMiss {
            channel: channel.into()
        },
        "Pusher caches only what is triggered through its API"
    );
    server.terminate().await;
}

#[tokio::test]
async fn listings_hide_server_to_user_channels_unless_their_prefix_is_asked_for() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    sign_in(&mut raw, &id, "ann", &[]).await;
    raw.subscribe(&id, "#server-to-user-ann", None).await;
    raw.subscribe(&id, "news", None).await;
    let rest = server.rest();
    let all = rest.channels(None, None).await.unwrap();
    assert_eq!(all["channels"].as_object().unwrap().len(), 1, "{all}");
    assert!(all["channels"].get("news").is_some(), "{all}");
    let empty = rest.channels(Some(""), None).await.unwrap();
    assert!(empty["channels"].get("#server-to-user-ann").is_none());
    let asked = rest.channels(Some("#server-to-user-"), None).await.unwrap();
    assert!(
        asked["channels"].get("#server-to-user-ann").is_some(),
        "{asked}"
    );
    server.terminate().await;
}

/// Pusher's 3 s: a channel left and joined again within it was never vacated, even for a
/// receiver that asked for `channel_vacated` alone.
#[tokio::test]
async fn a_channel_left_and_rejoined_within_three_seconds_is_never_reported_vacated() {
    for filter in [None, Some("channel_vacated")] {
        let mut sink = Sink::start().await;
        let extra: Vec<&str> = filter
            .map(|f| vec!["--webhook-events", f])
            .unwrap_or_default();
        let server = serve_to(&sink, &extra).await;
        let (mut a, a_id) = server.raw().await;
        a.subscribe(&a_id, "flaps", None).await;
        a.send(&ClientMessage::Unsubscribe {
            channel: "flaps".into(),
        })
        .await;
        server.wait_subscribers("flaps", 0).await;
        a.subscribe(&a_id, "flaps", None).await;
        let (mut b, b_id) = server.raw().await;
        b.subscribe(&b_id, "gone", None).await;
        b.send(&ClientMessage::Unsubscribe {
            channel: "gone".into(),
        })
        .await;
        let hooks = sink.collect_for(Duration::from_millis(3600)).await;
        let events: Vec<_> = hooks.iter().flat_map(|h| h.events()).collect();
        let got = names(&events);
        assert!(
            !got.contains(&pair("channel_vacated", "flaps")),
            "{filter:?}: {got:?}"
        );
        assert!(
            got.contains(&pair("channel_vacated", "gone")),
            "{filter:?}: the channel left for good is: {got:?}"
        );
        server.terminate().await;
    }
}

/// The log (and so the console) says when a channel is occupied and vacated, as Pusher's
/// Debug Console does, as it happens rather than after the webhooks' 3 s.
#[tokio::test]
async fn the_log_says_channels_occupied_and_vacated() {
    let server = Server::start(&["--log"]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "room", None).await;
    a.send(&ClientMessage::Unsubscribe {
        channel: "room".into(),
    })
    .await;
    let vacated = server
        .stderr_line_where(|l| l.contains("CHANNEL VACATED"))
        .await;
    assert!(vacated.contains("channel=room"), "{vacated}");
    let stderr = server.stderr();
    let occupied = stderr
        .lines()
        .find(|l| l.contains("CHANNEL OCCUPIED"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(occupied.contains("app=1 channel=room"), "{occupied}");
    server.terminate().await;
}
