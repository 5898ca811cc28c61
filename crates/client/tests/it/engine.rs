//! The client engine against a scripted peer over loopback: states, close codes and retry
//! delays, heartbeats, malformed frames, restarts, resubscription and slow consumers.

use std::time::{Duration, Instant};

use client::{self, ConnectionState, Item, Reason, SubscriptionStatus};
use protocol::frame::PusherError;
use protocol::{ClientMessage, Data, ServerMessage};
use serde_json::json;
use testkit::{Peer, next_item, wait_for};

fn state(item: &Item) -> Option<ConnectionState> {
    match item {
        Item::State(c) => Some(c.current),
        _ => None,
    }
}

fn is_state(s: ConnectionState) -> impl Fn(&Item) -> bool {
    move |i| state(i) == Some(s)
}

/// Waits until every one of `channels` is reported subscribed, in any order.
async fn wait_subscribed(rx: &mut client::FeedRx, channels: &[&str]) {
    let mut left: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
    while !left.is_empty() {
        if let Item::Subscription { channel, status } = wait_for(rx, "subscriptions", |i| {
            matches!(i, Item::Subscription { .. })
        })
        .await
            && *status == SubscriptionStatus::Subscribed
        {
            left.retain(|c| *c != channel);
        }
    }
}

fn subscribed(channel: &'static str) -> impl Fn(&Item) -> bool {
    move |i| matches!(i, Item::Subscription { channel: c, status } if c == channel && **status == SubscriptionStatus::Subscribed)
}

#[tokio::test]
async fn connects_subscribes_and_decodes_events() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["stock_ticker".into()]).unwrap();

    let first = next_item(&mut rx).await;
    match &first {
        Item::State(c) => {
            assert_eq!(
                (c.previous, c.current),
                (ConnectionState::Initialized, ConnectionState::Connecting)
            );
            assert!(
                c.url
                    .contains("/app/app-key?protocol=7&client=tickertape&version="),
                "{}",
                c.url
            );
        }
        other => panic!("{other:?}"),
    }
    let mut conn = peer.conn().await;
    assert!(
        conn.path
            .starts_with("/app/app-key?protocol=7&client=tickertape"),
        "{}",
        conn.path
    );
    conn.establish("123.456", 120).await;
    match wait_for(&mut rx, "connected", is_state(ConnectionState::Connected)).await {
        Item::State(c) => assert_eq!(c.socket_id.as_deref(), Some("123.456")),
        _ => unreachable!(),
    }

    assert_eq!(
        conn.expect_subscribe().await,
        ("stock_ticker".into(), None, None)
    );
    // soketi's form: subscription_succeeded with no data at all.
    conn.send(r#"{"event":"pusher_internal:subscription_succeeded","channel":"stock_ticker"}"#)
        .await;
    wait_for(&mut rx, "subscribed", subscribed("stock_ticker")).await;

    let frame = r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"ACME\",\"price\":42}"}"#;
    conn.send(frame).await;
    conn.send(r#"{"event":"update_event","channel":"stock_ticker","data":"not json"}"#)
        .await;
    match wait_for(&mut rx, "event", |i| matches!(i, Item::Event(_))).await {
        Item::Event(ev) => {
            assert_eq!(ev.channel.as_deref(), Some("stock_ticker"));
            assert_eq!(ev.event, "update_event");
            assert_eq!(*ev.data(), Data::Json(json!({"name": "ACME", "price": 42})));
            assert_eq!(ev.raw, frame);
            assert!(ev.is_application());
        }
        _ => unreachable!(),
    }
    match next_item(&mut rx).await {
        Item::Event(ev) => assert_eq!(*ev.data(), Data::Text("not json".into())),
        other => panic!("{other:?}"),
    }
}

/// A WebSocket ping (not `pusher:ping`) is answered with its payload while connected, as
/// RFC 6455 asks: servers behind proxies use them to tell a live client.
#[tokio::test]
async fn websocket_pings_are_answered_while_connected() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    wait_for(&mut rx, "connected", is_state(ConnectionState::Connected)).await;
    let _ = conn.expect_subscribe().await;
    for payload in [&b"one"[..], b"two"] {
        assert_eq!(conn.ping_for_pong(payload).await.as_deref(), Some(payload));
    }
}

/// A WebSocket ping that comes before `pusher:connection_established` is answered at once:
/// the client sends nothing else before then, so the pong must not wait for a later send.
#[tokio::test]
async fn websocket_pings_are_answered_during_the_pusher_handshake() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    for payload in [&b"early"[..], b"again"] {
        assert_eq!(conn.ping_for_pong(payload).await.as_deref(), Some(payload));
    }
    conn.establish("1.1", 120).await;
    wait_for(&mut rx, "connected", is_state(ConnectionState::Connected)).await;
}

#[tokio::test]
async fn heartbeat_pings_after_activity_timeout_and_answers_server_pings() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &[]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 1).await;
    wait_for(&mut rx, "connected", is_state(ConnectionState::Connected)).await;

    // The server's ping is answered at once.
    conn.send_msg(&ServerMessage::Ping).await;
    assert_eq!(conn.recv().await, ClientMessage::Pong);

    // After one second of silence (the server's activity_timeout), the client pings.
    let started = Instant::now();
    assert_eq!(conn.recv().await, ClientMessage::Ping);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    conn.send(r#"{"event":"pusher:pong"}"#).await;
    match wait_for(&mut rx, "pong", |i| matches!(i, Item::Pong { .. })).await {
        Item::Pong { rtt } => assert!(rtt < Duration::from_secs(1)),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn missing_pong_reconnects_at_once_and_says_why() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.pong_timeout = Duration::from_millis(500);
    let (_client, mut rx) = client::connect(cfg, &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 1).await;
    conn.expect_subscribe().await;
    conn.succeed("a").await;
    assert_eq!(conn.recv().await, ClientMessage::Ping);
    // No pong: the client gives the connection up.
    let change = wait_for(&mut rx, "reconnect", |i| {
        matches!(i, Item::State(c) if c.current == ConnectionState::Connecting && c.reason.is_some())
    })
    .await;
    match change {
        Item::State(c) => {
            assert_eq!(
                c.reason,
                Some(Reason::PongTimeout(Duration::from_millis(500)))
            );
            assert_eq!(c.retry_in, Some(Duration::ZERO));
        }
        _ => unreachable!(),
    }
    let mut conn = peer.conn().await;
    conn.establish("2.2", 120).await;
    assert_eq!(conn.expect_subscribe().await.0, "a");
}

#[tokio::test]
async fn close_4001_stops_with_the_reason() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &[]).unwrap();
    let mut conn = peer.conn().await;
    conn.send(r#"{"event":"pusher:error","data":{"code":4001,"message":"App key app-key does not exist."}}"#)
        .await;
    conn.close(4001, "App key app-key does not exist.").await;
    match wait_for(
        &mut rx,
        "disconnected",
        is_state(ConnectionState::Disconnected),
    )
    .await
    {
        Item::State(c) => {
            assert_eq!(
                c.reason,
                Some(Reason::PusherError {
                    code: Some(4001),
                    message: "App key app-key does not exist.".into()
                })
            );
            assert_eq!(c.retry_in, None);
        }
        _ => unreachable!(),
    }
    // The engine ends: no retry, and the item channel closes.
    assert!(peer.try_conn(Duration::from_millis(1500)).await.is_none());
    assert!(
        tokio::time::timeout(Duration::from_secs(3), rx.recv())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn close_4100_backs_off_at_least_a_second_then_resubscribes() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["a".into(), "b".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.expect_subscribe().await;
    conn.close(4100, "Over capacity").await;
    let closed_at = Instant::now();
    match wait_for(
        &mut rx,
        "back-off",
        |i| matches!(i, Item::State(c) if c.retry_in.is_some()),
    )
    .await
    {
        Item::State(c) => {
            assert_eq!(c.current, ConnectionState::Connecting);
            assert_eq!(
                c.reason,
                Some(Reason::Closed {
                    code: 4100,
                    message: "Over capacity".into()
                })
            );
            let d = c.retry_in.unwrap();
            assert!(
                d >= Duration::from_secs(1) && d <= Duration::from_millis(1500),
                "{d:?}"
            );
        }
        _ => unreachable!(),
    }
    let mut conn = peer.conn().await;
    assert!(
        closed_at.elapsed() >= Duration::from_millis(950),
        "{:?}",
        closed_at.elapsed()
    );
    conn.establish("2.2", 120).await;
    let mut again = vec![
        conn.expect_subscribe().await.0,
        conn.expect_subscribe().await.0,
    ];
    again.sort();
    assert_eq!(again, ["a", "b"]);
}

#[tokio::test]
async fn close_4200_and_4201_reconnect_immediately() {
    for code in [4200u16, 4201] {
        let mut peer = Peer::start().await;
        let (_client, mut rx) = client::connect(peer.config(), &["a".into()]).unwrap();
        let mut conn = peer.conn().await;
        conn.establish("1.1", 120).await;
        conn.expect_subscribe().await;
        conn.succeed("a").await;
        wait_for(&mut rx, "subscribed", subscribed("a")).await;
        conn.close(code, "").await;
        match wait_for(
            &mut rx,
            "retry",
            |i| matches!(i, Item::State(c) if c.retry_in.is_some()),
        )
        .await
        {
            Item::State(c) => {
                assert_eq!(c.retry_in, Some(Duration::ZERO), "{code}");
                assert!(matches!(c.reason, Some(Reason::Closed { code: got, .. }) if got == code));
            }
            _ => unreachable!(),
        }
        let started = Instant::now();
        let mut conn = peer.conn().await;
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{code}: {:?}",
            started.elapsed()
        );
        conn.establish("2.2", 120).await;
        assert_eq!(conn.expect_subscribe().await.0, "a");
        // Subscriptions are pending again until the new connection confirms them.
        wait_for(&mut rx, "pending", |i| {
            matches!(
                i,
                Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Pending)
            )
        })
        .await;
    }
}

#[tokio::test]
async fn malformed_frames_are_reported_and_the_connection_survives() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.send("{not json").await;
    conn.send(r#"{"no_event":1}"#).await;
    conn.send(r#"{"event":"pusher_internal:member_added","channel":"presence-x","data":"{}"}"#)
        .await;
    conn.send(r#"{"event":"e","channel":"a","data":"ok"}"#)
        .await;
    let mut errors = 0;
    loop {
        match next_item(&mut rx).await {
            Item::Error(e) => {
                assert!(e.starts_with("malformed frame ignored"), "{e}");
                errors += 1;
            }
            Item::Event(ev) => {
                assert_eq!(*ev.data(), Data::Text("ok".into()));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(errors, 3);
}

#[tokio::test]
async fn invalid_handshake_backs_off() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &[]).unwrap();
    let mut conn = peer.conn().await;
    conn.send(r#"{"event":"update_event","data":"{}"}"#).await;
    match wait_for(
        &mut rx,
        "retry",
        |i| matches!(i, Item::State(c) if c.retry_in.is_some()),
    )
    .await
    {
        Item::State(c) => {
            assert!(
                matches!(&c.reason, Some(Reason::Handshake(m)) if m.contains("update_event")),
                "{:?}",
                c.reason
            );
            assert!(c.retry_in.unwrap() >= Duration::from_secs(1));
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_restarted_server_gets_every_channel_back() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("app-secret"));
    cfg.user.id = "u1".into();
    let channels = [
        "public".to_owned(),
        "private-a".to_owned(),
        "presence-b".to_owned(),
    ];
    let (_client, mut rx) = client::connect(cfg, &channels).unwrap();

    for socket_id in ["1.1", "2.2"] {
        let mut conn = peer.conn().await;
        conn.establish(socket_id, 120).await;
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (channel, auth, data) = conn.expect_subscribe().await;
            if channel != "public" {
                // Each resubscription is signed for the new socket.
                let string = protocol::signature::channel_string_to_sign(
                    socket_id,
                    &channel,
                    data.as_deref(),
                );
                protocol::signature::verify_auth(
                    "app-key",
                    "app-secret",
                    &string,
                    auth.as_deref().unwrap(),
                )
                .unwrap_or_else(|e| panic!("{channel}: {e}"));
            }
            if channel == "presence-b" {
                assert_eq!(data.as_deref(), Some(r#"{"user_id":"u1"}"#));
            }
            // With data "{}" this time (sockudo and Reverb's form).
            conn.send(&format!(r#"{{"event":"pusher_internal:subscription_succeeded","channel":"{channel}","data":"{{}}"}}"#))
                .await;
            seen.push(channel);
        }
        seen.sort();
        assert_eq!(seen, ["presence-b", "private-a", "public"]);
        wait_subscribed(&mut rx, &["public", "private-a", "presence-b"]).await;
        if socket_id == "1.1" {
            // The server dies: its listener and the connection go away without a close frame.
            let port = peer.stop();
            drop(conn);
            wait_for(
                &mut rx,
                "lost",
                |i| matches!(i, Item::State(c) if c.retry_in.is_some()),
            )
            .await;
            peer = Peer::start_on(port).await;
        }
    }
}

#[tokio::test]
async fn pusher_errors_without_a_channel_fail_the_named_subscription() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("wrong-secret"));
    let (_client, mut rx) =
        client::connect(cfg, &["private-x".into(), "private-xy".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.expect_subscribe().await;
    // Pusher's own wording, code null and no channel field.
    conn.send_msg(&ServerMessage::Error(PusherError {
        code: None,
        message: "Invalid signature: Expected HMAC SHA256 hex digest of 1.1:private-x, but got abc"
            .into(),
        channel: None,
    }))
    .await;
    match wait_for(&mut rx, "failure", |i| {
        matches!(
            i,
            Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Failed(_))
        )
    })
    .await
    {
        Item::Subscription { channel, status } => {
            let SubscriptionStatus::Failed(f) = *status else {
                unreachable!()
            };
            assert_eq!(channel, "private-x");
            assert_eq!(f.string_to_sign.as_deref(), Some("1.1:private-x"));
            assert!(f.auth);
        }
        _ => unreachable!(),
    }
    // An error that names no waiting channel is reported as such.
    conn.send(r#"{"event":"pusher:error","data":{"code":4301,"message":"Rate limit"}}"#)
        .await;
    assert_eq!(
        wait_for(&mut rx, "error", |i| matches!(i, Item::Error(_))).await,
        Item::Error("pusher:error 4301: Rate limit".into())
    );
}

#[tokio::test]
async fn unsubscribing_while_pending_leaks_nothing() {
    let mut peer = Peer::start().await;
    let (client, mut rx) = client::connect(peer.config(), &[]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    wait_for(&mut rx, "connected", is_state(ConnectionState::Connected)).await;
    client.subscribe("late").await.unwrap();
    assert_eq!(conn.expect_subscribe().await.0, "late");
    client.unsubscribe("late").await.unwrap();
    wait_for(&mut rx, "unsubscribed", |i| {
        matches!(
            i,
            Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Unsubscribed)
        )
    })
    .await;
    // The server confirms the old request: the client takes it back at once.
    conn.succeed("late").await;
    assert_eq!(
        conn.recv().await,
        ClientMessage::Unsubscribe {
            channel: "late".into()
        }
    );
    let snapshot = client.snapshot().await.unwrap();
    assert_eq!(snapshot.channels.subscribed + snapshot.channels.pending, 0);
    // And it never reported the channel as subscribed.
    while let Ok(item) = rx.try_recv() {
        assert!(!subscribed("late")(&item), "{item:?}");
    }
}

#[tokio::test]
async fn presence_members_follow_the_server() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("s"));
    cfg.user.id = "me".into();
    let (_client, mut rx) = client::connect(cfg, &["presence-room".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.send(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"me\",\"ann\"],\"hash\":{\"me\":null,\"ann\":{\"name\":\"Ann\"}},\"count\":2}}"}"#).await;
    match wait_for(&mut rx, "members", |i| matches!(i, Item::Members { .. })).await {
        Item::Members {
            count, ref change, ..
        } if let client::MemberChange::Snapshot { members, me } = &**change => {
            assert_eq!(count, 2);
            assert_eq!(me.as_deref(), Some("me"));
            assert_eq!(members[1].user_info, json!({"name": "Ann"}));
        }
        other => panic!("{other:?}"),
    }
    conn.send(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"bob\",\"user_info\":{}}"}"#).await;
    // A known user's second socket is not a new member.
    conn.send(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"bob\",\"user_info\":{}}"}"#).await;
    conn.send(r#"{"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"ann\"}"}"#).await;
    conn.send(r#"{"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"nobody\"}"}"#).await;
    conn.send(r#"{"event":"client-wave","channel":"presence-room","data":"{}","user_id":"bob"}"#)
        .await;
    let mut changes = Vec::new();
    loop {
        match next_item(&mut rx).await {
            Item::Members { change, count, .. } => changes.push((*change, count)),
            Item::Event(ev) => {
                assert_eq!(ev.user_id(), Some("bob"));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(matches!(&changes[0], (client::MemberChange::Added(m), 3) if m.user_id == "bob"));
    assert!(matches!(&changes[1], (client::MemberChange::Removed(id), 2) if id == "ann"));
}

/// What a node of a sockudo cluster on Redis does when another node's member joins while
/// this one subscribes: `member_added` first, then the welcome, whose list was made without
/// that member. The list the client reports has the member all the same.
#[tokio::test]
async fn a_member_told_before_the_welcome_is_in_the_list() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("s"));
    cfg.user.id = "a".into();
    let (_client, mut rx) = client::connect(cfg, &["presence-room".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.send(r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"b\",\"user_info\":{}}"}"#).await;
    conn.send(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"a\"],\"hash\":{\"a\":null},\"count\":1}}"}"#).await;
    match wait_for(&mut rx, "members", |i| matches!(i, Item::Members { .. })).await {
        Item::Members {
            count, ref change, ..
        } if let client::MemberChange::Snapshot { members, .. } = &**change => {
            let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
            assert_eq!((ids, count), (vec!["a", "b"], 2));
        }
        other => panic!("the list first, nothing before it: {other:?}"),
    }
}

#[tokio::test]
async fn client_events_only_where_the_protocol_allows() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("s"));
    let (client, mut rx) = client::connect(cfg, &["private-chat".into(), "public".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    for _ in 0..2 {
        let (c, ..) = conn.expect_subscribe().await;
        conn.succeed(&c).await;
    }
    wait_subscribed(&mut rx, &["public", "private-chat"]).await;
    client
        .trigger_client_event("private-chat", "client-typing", json!({"who": "me"}))
        .await
        .unwrap();
    match conn.recv().await {
        ClientMessage::Event(ev) => {
            assert_eq!(
                (ev.event.as_str(), ev.channel.as_deref()),
                ("client-typing", Some("private-chat"))
            );
            assert_eq!(ev.data, Data::Json(json!({"who": "me"})));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        client
            .trigger_client_event("public", "client-x", json!({}))
            .await
            .is_err()
    );
    assert!(
        client
            .trigger_client_event("private-chat", "typing", json!({}))
            .await
            .is_err()
    );
    assert!(
        client
            .trigger_client_event("private-other", "client-x", json!({}))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_slow_consumer_loses_counted_events_but_the_socket_stays_alive() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.queue_capacity = 8;
    let (client, mut rx) = client::connect(cfg, &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.succeed("a").await;
    // The consumer reads nothing while 500 events arrive.
    for n in 0..500 {
        conn.send(&format!(r#"{{"event":"e","channel":"a","data":"{n}"}}"#))
            .await;
    }
    // The engine still reads the socket: it answers a ping right away.
    conn.send_msg(&ServerMessage::Ping).await;
    assert_eq!(conn.recv().await, ClientMessage::Pong);
    let snapshot = client.snapshot().await.unwrap();
    assert_eq!(snapshot.stats.event("a", "e").messages, 500);
    assert!(snapshot.dropped >= 490, "{}", snapshot.dropped);

    // Now the consumer catches up: what fitted, then the count of what did not.
    let mut events = 0u64;
    let mut dropped = 0u64;
    while dropped == 0 {
        match next_item(&mut rx).await {
            Item::Event(_) => events += 1,
            Item::Dropped { count, total } => {
                assert_eq!(count, total);
                dropped = count;
            }
            _ => {}
        }
    }
    assert_eq!(events + dropped, 500, "events {events}, dropped {dropped}");
}

#[tokio::test]
async fn a_consumer_that_hiccups_loses_nothing() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.queue_capacity = 8;
    let (_client, mut rx) = client::connect(cfg, &["a".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.succeed("a").await;
    for n in 0..300 {
        conn.send(&format!(r#"{{"event":"e","channel":"a","data":"{n}"}}"#))
            .await;
    }
    // The consumer looks away for less than the grace period, then reads everything.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut next = 0;
    while next < 300 {
        match next_item(&mut rx).await {
            Item::Event(ev) => {
                assert_eq!(
                    *ev.data(),
                    Data::Json(json!(next)),
                    "events arrive in order, none lost"
                );
                next += 1;
            }
            Item::Dropped { count, .. } => panic!("dropped {count} events"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_disconnect_waits_only_briefly_for_the_servers_close() {
    let mut peer = Peer::start().await;
    let (client, mut rx) = client::connect(peer.config(), &["a".into()]).unwrap();
    let mut conn = testkit::scripted::subscribed(&mut peer, "a").await;
    wait_subscribed(&mut rx, &["a"]).await;
    let asked = Instant::now();
    client.disconnect().await;
    // `conn` is not read until the engine has ended: its close frame gets no answer.
    tokio::time::timeout(Duration::from_secs(5), async {
        while rx.recv().await.is_some() {}
    })
    .await
    .expect("the engine ends");
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "the engine took {took:?}");
    assert_eq!(conn.close_code().await, Some(1000));
}

/// The link says the connection went down at once, while the feed is full and nobody reads
/// it: the state change does not wait behind the events.
#[tokio::test]
async fn the_link_shows_a_drop_while_the_feed_is_full() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.queue_capacity = 8;
    let (client, _rx) = client::connect(cfg, &["a".into()]).unwrap();
    let mut link = client.link();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.succeed("a").await;
    tokio::time::timeout(Duration::from_secs(5), link.wait_for(|l| l.is_up()))
        .await
        .expect("connected in time")
        .unwrap();
    for n in 0..100 {
        conn.send(&format!(r#"{{"event":"e","channel":"a","data":"{n}"}}"#))
            .await;
    }
    let dropped = Instant::now();
    conn.close(4200, "going away").await;
    let down = tokio::time::timeout(Duration::from_secs(5), link.wait_for(|l| !l.is_up()))
        .await
        .expect("the link shows the drop")
        .unwrap()
        .to_owned();
    assert!(down.since >= dropped, "{down:?}");
    assert!(client.snapshot().await.unwrap().dropped > 0);
}

/// A server that accepts every connection and ends it at once (a grant it refuses, a node
/// that drops everyone) used to get a reconnect a second forever: `connection_established`
/// reset the back-off. Now only a connection that lasted resets it.
#[tokio::test]
async fn connections_that_die_at_once_keep_the_backoff_growing() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.backoff_base = Duration::from_millis(50);
    let (_client, mut rx) = client::connect(cfg, &["stock_ticker".into()]).unwrap();
    let mut delays = Vec::new();
    for _ in 0..5 {
        let mut conn = peer.conn().await;
        conn.establish("1.2", 120).await;
        conn.close(4100, "over capacity").await;
        let Item::State(c) = wait_for(
            &mut rx,
            "a retry",
            |i| matches!(i, Item::State(c) if c.retry_in.is_some_and(|d| d > Duration::ZERO)),
        )
        .await
        else {
            unreachable!()
        };
        delays.push(c.retry_in.unwrap());
    }
    for (n, d) in delays.iter().enumerate() {
        let floor = Duration::from_millis(50 << n);
        assert!(
            *d >= floor,
            "attempt {n}: {d:?} < {floor:?} (all: {delays:?})"
        );
    }
}
