//! `tickertape serve` over WebSocket, as a real process on loopback: the handshake and its
//! refusals, auth, presence, client events, cache channels, heartbeats, slow consumers,
//! oversized frames and shutdown.

use std::time::Duration;

use crate::support::server::{KEY, SECRET, Server};
use futures_util::StreamExt;
use protocol::frame::{Event, PusherError};
use protocol::{ClientMessage, Data, ServerMessage, signature};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn refused(server: &Server, query: &str, key: &str) -> (ServerMessage, Option<u16>) {
    let url = server.url(query).replace(KEY, key);
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut raw = crate::support::server::Raw { ws };
    (raw.recv().await, raw.close_code().await)
}

#[tokio::test]
async fn handshake_and_its_refusals() {
    let server = Server::start(&[]).await;
    let (_raw, socket_id) = server.raw().await;
    signature::validate_socket_id(&socket_id).unwrap();

    let (err, code) = refused(&server, "protocol=7", "nope").await;
    assert!(
        matches!(
            err,
            ServerMessage::Error(PusherError {
                code: Some(4001),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(code, Some(4001));
    let (err, code) = refused(&server, "client=js", KEY).await;
    assert!(
        matches!(
            err,
            ServerMessage::Error(PusherError {
                code: Some(4008),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(code, Some(4008));
    let (err, code) = refused(&server, "protocol=3", KEY).await;
    assert!(
        matches!(
            err,
            ServerMessage::Error(PusherError {
                code: Some(4007),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(code, Some(4007));
}

#[tokio::test]
async fn ping_pong_and_invalid_frames() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    raw.send(&ClientMessage::Ping).await;
    assert_eq!(raw.recv().await, ServerMessage::Pong);
    raw.send_text("not json").await;
    assert!(
        matches!(raw.recv().await, ServerMessage::Error(e) if e.message.starts_with("Invalid message format"))
    );
    // The socket survives.
    raw.send(&ClientMessage::Ping).await;
    assert_eq!(raw.recv().await, ServerMessage::Pong);
}

#[tokio::test]
async fn private_channels_check_auth_and_explain_failures() {
    let server = Server::start(&[]).await;
    let (mut raw, socket_id) = server.raw().await;

    raw.send(&ClientMessage::Subscribe {
        channel: "private-a".into(),
        auth: None,
        channel_data: None,
    })
    .await;
    match raw.recv().await {
        ServerMessage::SubscriptionError { channel, error } => {
            assert_eq!(
                (channel.as_str(), error.kind.as_str(), error.status),
                ("private-a", "AuthError", Some(401))
            );
            assert!(
                error.error.contains("Auth info required"),
                "{}",
                error.error
            );
        }
        other => panic!("{other:?}"),
    }

    let forged = signature::sign_channel(KEY, "wrong", &socket_id, "private-a", None).unwrap();
    raw.send(&ClientMessage::Subscribe {
        channel: "private-a".into(),
        auth: Some(forged),
        channel_data: None,
    })
    .await;
    match raw.recv().await {
        ServerMessage::SubscriptionError { error, .. } => assert!(
            error.error.contains(&format!(
                "Expected HMAC SHA256 hex digest of {socket_id}:private-a, but got"
            )),
            "{}",
            error.error
        ),
        other => panic!("{other:?}"),
    }

    assert_eq!(
        raw.subscribe(&socket_id, "private-a", None).await,
        ServerMessage::SubscriptionSucceeded {
            channel: "private-a".into(),
            presence: None
        }
    );
    // Another socket's signature does not work here.
    let (mut other, other_id) = server.raw().await;
    let stolen = signature::sign_channel(KEY, SECRET, &socket_id, "private-b", None).unwrap();
    other
        .send(&ClientMessage::Subscribe {
            channel: "private-b".into(),
            auth: Some(stolen),
            channel_data: None,
        })
        .await;
    assert!(
        matches!(other.recv().await, ServerMessage::SubscriptionError { .. }),
        "{other_id}"
    );
    // Invalid names are refused.
    raw.send(&ClientMessage::Subscribe {
        channel: "bad name".into(),
        auth: None,
        channel_data: None,
    })
    .await;
    assert!(
        matches!(raw.recv().await, ServerMessage::SubscriptionError { error, .. } if error.status == Some(400))
    );
}

#[tokio::test]
async fn presence_members_count_users_not_sockets() {
    let server = Server::start(&[]).await;
    let ch = "presence-room";
    let (mut ann, ann_id) = server.raw().await;
    let ann_data = r#"{"user_id":"ann","user_info":{"name":"Ann"}}"#;
    match ann.subscribe(&ann_id, ch, Some(ann_data)).await {
        ServerMessage::SubscriptionSucceeded {
            presence: Some(members),
            ..
        } => assert_eq!(members.len(), 1),
        other => panic!("{other:?}"),
    }
    // Bob joins with two sockets: Ann hears about him once.
    let (mut bob1, bob1_id) = server.raw().await;
    let (mut bob2, bob2_id) = server.raw().await;
    let bob_data = r#"{"user_id":"bob"}"#;
    bob1.subscribe(&bob1_id, ch, Some(bob_data)).await;
    match ann.recv().await {
        ServerMessage::MemberAdded { member, .. } => assert_eq!(member.user_id, "bob"),
        other => panic!("{other:?}"),
    }
    match bob2.subscribe(&bob2_id, ch, Some(bob_data)).await {
        ServerMessage::SubscriptionSucceeded {
            presence: Some(members),
            ..
        } => {
            let mut ids: Vec<_> = members.iter().map(|m| m.user_id.clone()).collect();
            ids.sort();
            assert_eq!(ids, ["ann", "bob"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        ann.quiet_for(Duration::from_millis(300)).await,
        "a second socket is not a new member"
    );
    let users = server.rest().users(ch).await.unwrap();
    assert_eq!(users, json!({"users": [{"id": "ann"}, {"id": "bob"}]}));

    // Bob's first socket leaves: still a member. His last one leaves: removed.
    drop(bob1);
    assert!(ann.quiet_for(Duration::from_millis(300)).await);
    bob2.send(&ClientMessage::Unsubscribe { channel: ch.into() })
        .await;
    assert_eq!(
        ann.recv().await,
        ServerMessage::MemberRemoved {
            channel: ch.into(),
            user_id: "bob".into()
        }
    );

    // Bad channel_data is refused.
    let (mut eve, eve_id) = server.raw().await;
    assert!(matches!(
        eve.subscribe(&eve_id, ch, Some(r#"{"name":"x"}"#)).await,
        ServerMessage::SubscriptionError { .. }
    ));
}

#[tokio::test]
async fn presence_channels_hold_at_most_100_members() {
    let server = Server::start(&[]).await;
    let mut sockets = Vec::new();
    for n in 0..100 {
        let (mut raw, id) = server.raw().await;
        let data = format!(r#"{{"user_id":"u{n}"}}"#);
        // Its welcome first, whatever the others' joins announced late to it afterwards.
        match raw.subscribe(&id, "presence-big", Some(&data)).await {
            ServerMessage::SubscriptionSucceeded { .. } => {}
            other => panic!("member {n}: {other:?}"),
        }
        sockets.push(raw);
    }
    let (mut late, id) = server.raw().await;
    match late
        .subscribe(&id, "presence-big", Some(r#"{"user_id":"u100"}"#))
        .await
    {
        ServerMessage::SubscriptionError { error, .. } => assert_eq!(error.kind, "LimitReached"),
        other => panic!("{other:?}"),
    }
}

fn client_event(channel: &str, event: &str) -> ClientMessage {
    ClientMessage::Event(Event {
        event: event.into(),
        channel: Some(channel.into()),
        data: Data::Json(json!({"typing": true})),
        user_id: None,
    })
}

#[tokio::test]
async fn client_events_reach_others_with_user_ids_and_are_rate_limited() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    let (mut b, b_id) = server.raw().await;
    for (raw, id, user) in [(&mut a, &a_id, "ann"), (&mut b, &b_id, "bob")] {
        raw.subscribe(
            id,
            "presence-chat",
            Some(&format!(r#"{{"user_id":"{user}"}}"#)),
        )
        .await;
        raw.subscribe(id, "public", None).await;
    }
    let _ = a.recv().await; // member_added bob
    a.send(&client_event("presence-chat", "client-typing"))
        .await;
    match b.recv().await {
        ServerMessage::Event(ev) => {
            assert_eq!(ev.event, "client-typing");
            assert_eq!(ev.user_id.as_deref(), Some("ann"));
            assert_eq!(ev.data, Data::Json(json!({"typing": true})));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        a.quiet_for(Duration::from_millis(300)).await,
        "never echoed to the sender"
    );

    a.send(&client_event("public", "client-typing")).await;
    assert!(matches!(
        a.recv().await,
        ServerMessage::Error(PusherError {
            code: Some(4301),
            ..
        })
    ));

    // Past 10 per second, events are refused with 4301.
    for _ in 0..12 {
        a.send(&client_event("presence-chat", "client-burst")).await;
    }
    let mut delivered = 0;
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_millis(300), b.ws.next()).await
    {
        // The counts of "public", told as they are due, are no client events.
        if !t.contains("pusher_internal:subscription_count") {
            delivered += 1;
        }
    }
    assert!(delivered <= 10, "{delivered}");
    let mut refused = 0;
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_millis(300), a.ws.next()).await
    {
        if t.contains("pusher_internal:subscription_count") {
            continue;
        }
        assert!(t.contains("4301"), "{t}");
        refused += 1;
    }
    assert_eq!(delivered + refused, 12);
}

#[tokio::test]
async fn client_events_can_be_switched_off() {
    let server = Server::start(&["--no-client-events"]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "private-x", None).await;
    a.send(&client_event("private-x", "client-x")).await;
    assert!(matches!(a.recv().await, ServerMessage::Error(e) if e.message.contains("not enabled")));
}

#[tokio::test]
async fn cache_channels_replay_the_last_event() {
    let server = Server::start(&[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "cache-prices", None).await;
    assert_eq!(
        a.recv().await,
        ServerMessage::CacheMiss {
            channel: "cache-prices".into()
        }
    );
    server
        .rest()
        .trigger(&["cache-prices".into()], "tick", r#"{"p":1}"#, None, None)
        .await
        .unwrap();
    server
        .rest()
        .trigger(&["cache-prices".into()], "tick", r#"{"p":2}"#, None, None)
        .await
        .unwrap();
    let (mut b, b_id) = server.raw().await;
    b.subscribe(&b_id, "cache-prices", None).await;
    match b.recv().await {
        ServerMessage::Event(ev) => assert_eq!(
            (ev.event.as_str(), ev.data),
            ("tick", Data::Json(json!({"p": 2})))
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn idle_clients_are_pinged_and_closed_without_a_pong() {
    let server = Server::start(&["--activity-timeout", "1", "--pong-timeout", "500ms"]).await;
    let (mut raw, _) = server.raw().await;
    assert_eq!(raw.recv().await, ServerMessage::Ping);
    raw.send(&ClientMessage::Pong).await;
    // Answered: the next ping comes after another quiet second; this time no answer.
    assert_eq!(raw.recv().await, ServerMessage::Ping);
    assert_eq!(raw.close_code().await, Some(4201));
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_with_4100_and_others_get_everything() {
    // A long close deadline, so that the slow client, reading again later, still finds its
    // Close behind the frames its TCP buffers hold.
    let server = Server::start(&["--send-queue", "64", "--close-timeout", "20s"]).await;
    let (mut slow, slow_id) = server.raw().await;
    let (mut fast, fast_id) = server.raw().await;
    slow.subscribe(&slow_id, "flood", None).await;
    fast.subscribe(&fast_id, "flood", None).await;
    let rest = server.rest();

    let reader = tokio::spawn(async move {
        let mut n = 0;
        while n < 1500 {
            match fast.recv().await {
                ServerMessage::Event(_) => n += 1,
                other => panic!("{other:?}"),
            }
        }
        (n, fast)
    });
    // The slow client reads nothing while 15 MB go out: its TCP buffers fill, then its queue.
    crate::support::server::flood(&rest, "flood", 150, 10_000).await;
    let (n, _fast) = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1500);
    // The kicked client is gone from the channel at once, though it has read nothing yet.
    let occupancy = rest
        .channel("flood", Some("subscription_count"))
        .await
        .unwrap();
    assert_eq!(occupancy["subscription_count"], 1, "{occupancy}");
    assert_eq!(slow.close_code().await, Some(4100));
}

#[tokio::test]
async fn oversized_frames_are_refused() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    let huge = format!(
        r#"{{"event":"client-x","channel":"private-x","data":"{}"}}"#,
        "x".repeat(200_000)
    );
    let _ = futures_util::SinkExt::send(&mut raw.ws, Message::text(huge)).await;
    assert_eq!(raw.close_code().await, Some(1009));
    // The server is still up.
    let (mut again, _) = server.raw().await;
    again.send(&ClientMessage::Ping).await;
    assert_eq!(again.recv().await, ServerMessage::Pong);
}

#[tokio::test]
async fn sigterm_tells_clients_to_reconnect() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    let closing = tokio::spawn(async move { raw.close_code().await });
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    assert_eq!(closing.await.unwrap(), Some(4200));
}

#[tokio::test]
async fn apps_can_come_from_the_config_file() {
    let home = std::env::temp_dir().join(format!("tickertape-serve-config-{}", std::process::id()));
    std::fs::create_dir_all(home.join("tickertape")).unwrap();
    std::fs::write(
        home.join("tickertape/config.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\n[[server.apps]]\nid = \"7\"\nkey = \"cfg-key\"\nsecret = \"cfg-secret\"\n",
    )
    .unwrap();
    let server = Server::start_with(&[], &[("XDG_CONFIG_HOME", home.to_str().unwrap())]).await;
    let (err, code) = refused(&server, "protocol=7", KEY).await;
    assert!(
        matches!(
            err,
            ServerMessage::Error(PusherError {
                code: Some(4001),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(code, Some(4001));
    let url = format!("ws://{}/app/cfg-key?protocol=7", server.addr);
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut raw = crate::support::server::Raw { ws };
    assert!(matches!(
        raw.recv().await,
        ServerMessage::ConnectionEstablished { .. }
    ));
}

#[tokio::test]
async fn a_subscribe_flood_hits_the_per_connection_limit() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    for n in 0..1001 {
        raw.send(&ClientMessage::Subscribe {
            channel: format!("flood-{n}"),
            auth: None,
            channel_data: None,
        })
        .await;
    }
    for _ in 0..1000 {
        assert!(matches!(
            raw.recv().await,
            ServerMessage::SubscriptionSucceeded { .. }
        ));
    }
    match raw.recv().await {
        ServerMessage::SubscriptionError { channel, error } => {
            assert_eq!(
                (channel.as_str(), error.kind.as_str()),
                ("flood-1000", "LimitReached")
            );
        }
        other => panic!("{other:?}"),
    }
    // Subscribing again to a channel it has gets Pusher's answer, and the socket lives on.
    raw.send(&ClientMessage::Subscribe {
        channel: "flood-7".into(),
        auth: None,
        channel_data: None,
    })
    .await;
    match raw.recv().await {
        ServerMessage::Error(e) => {
            assert_eq!(e.message, "Existing subscription to channel flood-7");
            assert_eq!(e.code, None);
        }
        other => panic!("{other:?}"),
    }
    raw.send(&ClientMessage::Ping).await;
    assert_eq!(raw.recv().await, ServerMessage::Pong);
}

#[tokio::test]
async fn a_disabled_app_refuses_connections_and_api_calls() {
    let home =
        std::env::temp_dir().join(format!("tickertape-serve-disabled-{}", std::process::id()));
    std::fs::create_dir_all(home.join("tickertape")).unwrap();
    std::fs::write(
        home.join("tickertape/config.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\n[[server.apps]]\nid = \"1\"\nkey = \"app-key\"\nsecret = \"app-secret\"\nenabled = false\n",
    )
    .unwrap();
    let server = Server::start_with(&[], &[("XDG_CONFIG_HOME", home.to_str().unwrap())]).await;
    let (err, code) = refused(&server, "protocol=7", KEY).await;
    assert!(
        matches!(
            err,
            ServerMessage::Error(PusherError {
                code: Some(4003),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(code, Some(4003));
    match server
        .rest()
        .trigger(&["c".into()], "e", "{}", None, None)
        .await
    {
        Err(client::publish::ApiError::Status {
            status: 403,
            message,
        }) => assert!(message.contains("disabled"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// pusher-js subscribes to `#server-to-user-{id}` right after `pusher:signin_success`; the
/// server allows exactly that channel, and only to the socket signed in as that user.
#[tokio::test]
async fn a_signed_in_socket_may_subscribe_its_own_server_to_user_channel_only() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    let refused = |m: &ServerMessage| matches!(m, ServerMessage::SubscriptionError { .. });
    let before = raw.subscribe(&id, "#server-to-user-u1", None).await;
    assert!(refused(&before), "before signin: {before:?}");

    let user_data = r#"{"id":"u1"}"#;
    raw.send(&ClientMessage::Signin {
        auth: signature::sign_user(KEY, SECRET, &id, user_data).unwrap(),
        user_data: user_data.into(),
    })
    .await;
    assert!(matches!(
        raw.recv().await,
        ServerMessage::SigninSuccess { .. }
    ));
    let own = raw.subscribe(&id, "#server-to-user-u1", None).await;
    assert!(
        matches!(own, ServerMessage::SubscriptionSucceeded { .. }),
        "{own:?}"
    );
    let other = raw.subscribe(&id, "#server-to-user-u2", None).await;
    assert!(refused(&other), "another user's: {other:?}");
}
