//! What strangers can make `tickertape serve` hold, against the real process on loopback: one
//! subscription per channel per socket (no ghost members), a subscribe storm that never gets
//! other members kicked, and caps on channels per app and subscriptions per connection.

use std::time::{Duration, Instant};

use crate::support::server::{KEY, Raw, SECRET, Server, flood};
use futures_util::StreamExt;
use protocol::frame::SubscriptionError;
use protocol::{ClientMessage, ServerMessage, signature};
use tokio_tungstenite::tungstenite::Message;

fn member(id: &str) -> String {
    format!(r#"{{"user_id":"{id}","user_info":{{"name":"{id}"}}}}"#)
}

fn subscribe_msg(socket_id: &str, channel: &str, data: &str) -> ClientMessage {
    ClientMessage::Subscribe {
        channel: channel.into(),
        auth: Some(signature::sign_channel(KEY, SECRET, socket_id, channel, Some(data)).unwrap()),
        channel_data: Some(data.into()),
    }
}

#[tokio::test]
async fn subscribing_again_is_refused_and_leaves_no_ghost_members() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    let channel = "presence-room";
    assert!(matches!(
        raw.subscribe(&id, channel, Some(&member("ghost0"))).await,
        ServerMessage::SubscriptionSucceeded { .. }
    ));
    for i in 1..99 {
        raw.send(&subscribe_msg(&id, channel, &member(&format!("ghost{i}"))))
            .await;
        match raw.recv().await {
            ServerMessage::Error(e) => {
                assert_eq!(
                    e.message,
                    format!("Existing subscription to channel {channel}")
                )
            }
            other => panic!("a second subscribe must be refused: {other:?}"),
        }
    }
    let rest = server.rest();
    let info = rest
        .channel(channel, Some("user_count,subscription_count"))
        .await
        .unwrap();
    assert_eq!(
        (
            info["user_count"].as_u64(),
            info["subscription_count"].as_u64()
        ),
        (Some(1), Some(1)),
        "{info}"
    );
    let users = rest.users(channel).await.unwrap();
    assert_eq!(users["users"], serde_json::json!([{ "id": "ghost0" }]));
    // A real second user still gets in.
    let (mut other, other_id) = server.raw().await;
    match other
        .subscribe(&other_id, channel, Some(&member("bob")))
        .await
    {
        ServerMessage::SubscriptionSucceeded { presence, .. } => {
            assert_eq!(presence.map(|p| p.len()), Some(2))
        }
        other => panic!("{other:?}"),
    }
}

/// Reads everything until `quiet` passes without a frame: the events, and the close code if
/// the socket was closed.
async fn drain(raw: &mut Raw, quiet: Duration) -> (usize, Option<u16>) {
    let mut n = 0;
    loop {
        match tokio::time::timeout(quiet, raw.ws.next()).await {
            Err(_) => return (n, None),
            Ok(Some(Ok(Message::Text(_)))) => n += 1,
            Ok(Some(Ok(Message::Close(f)))) => return (n, f.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return (n, Some(1006)),
        }
    }
}

#[tokio::test]
async fn one_members_subscribe_storm_never_gets_other_members_kicked() {
    let server = Server::start(&[]).await;
    let channel = "presence-room";
    let mut observers = Vec::new();
    for i in 0..20 {
        let (mut raw, id) = server.raw().await;
        let data = member(&format!("observer{i}"));
        assert!(matches!(
            raw.subscribe(&id, channel, Some(&data)).await,
            ServerMessage::SubscriptionSucceeded { .. }
        ));
        observers.push(raw);
    }
    // The observers read nothing during the storm: the worst case for their queues.
    let (attacker, id) = server.raw().await;
    let data = member("storm");
    let sub = subscribe_msg(&id, channel, &data);
    let unsub = ClientMessage::Unsubscribe {
        channel: channel.into(),
    };
    let (mut refused, mut joined) = (0, 0);
    let reader = {
        let started = Instant::now();
        let (mut sink, mut stream) = attacker.ws.split();
        let writer = tokio::spawn(async move {
            use futures_util::SinkExt;
            while started.elapsed() < Duration::from_millis(2200) {
                for m in [&sub, &unsub] {
                    if sink.send(Message::text(m.encode())).await.is_err() {
                        return;
                    }
                }
            }
        });
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(500), stream.next()).await
        {
            if let Message::Text(t) = msg {
                match ServerMessage::decode(&t).unwrap() {
                    ServerMessage::SubscriptionSucceeded { .. } => joined += 1,
                    ServerMessage::SubscriptionError {
                        error:
                            SubscriptionError {
                                status: Some(429), ..
                            },
                        ..
                    } => refused += 1,
                    _ => {}
                }
            }
        }
        writer
    };
    reader.await.unwrap();
    assert!(
        refused > 0,
        "the storm must hit the rate limit ({joined} joined)"
    );
    assert!(joined <= 1000 + 100 * 4, "{joined} joins got through");
    for (i, raw) in observers.iter_mut().enumerate() {
        let (frames, closed) = drain(raw, Duration::from_millis(300)).await;
        assert_eq!(
            closed, None,
            "observer {i} was closed after {frames} frames"
        );
    }
    let info = server
        .rest()
        .channel(channel, Some("user_count"))
        .await
        .unwrap();
    assert_eq!(info["user_count"], 20, "{info}");
}

#[tokio::test]
async fn channels_per_app_and_subscriptions_per_connection_are_capped() {
    // Both sockets come from 127.0.0.1: the per-address share (a tenth) is lifted.
    let server = Server::start(&[
        "--max-channels",
        "30",
        "--max-channels-per-ip",
        "30",
        "--max-subscriptions",
        "20",
    ])
    .await;
    let (mut a, a_id) = server.raw().await;
    let mut outcome = Vec::new();
    for i in 0..25 {
        outcome.push(a.subscribe(&a_id, &format!("a-{i}"), None).await);
    }
    assert!(
        outcome[..20]
            .iter()
            .all(|m| matches!(m, ServerMessage::SubscriptionSucceeded { .. }))
    );
    for m in &outcome[20..] {
        match m {
            ServerMessage::SubscriptionError { error, .. } => {
                assert_eq!(error.kind, "LimitReached");
                assert!(error.error.contains("limit is 20"), "{}", error.error);
            }
            other => panic!("{other:?}"),
        }
    }
    // A second connection may join existing channels, but only 10 new ones fit the app.
    let (mut b, b_id) = server.raw().await;
    assert!(matches!(
        b.subscribe(&b_id, "a-0", None).await,
        ServerMessage::SubscriptionSucceeded { .. }
    ));
    let mut made = 0;
    for i in 0..15 {
        match b.subscribe(&b_id, &format!("b-{i}"), None).await {
            ServerMessage::SubscriptionSucceeded { .. } => made += 1,
            ServerMessage::SubscriptionError { error, .. } => {
                assert!(error.error.contains("too many channels"), "{}", error.error)
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(made, 10);
    // Leaving frees room, and the socket is still served.
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        b.subscribe(&b_id, "b-14", None).await,
        ServerMessage::SubscriptionSucceeded { .. }
    ));
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_by_its_byte_cap() {
    // 4096 frames of 10 KB would be 40 MB; the byte cap closes it long before.
    let server = Server::start(&["--send-queue-bytes", "200000", "--close-timeout", "20s"]).await;
    let (mut slow, slow_id) = server.raw().await;
    slow.subscribe(&slow_id, "big", None).await;
    let rest = server.rest();
    flood(&rest, "big", 100, 10_000).await;
    let info = rest
        .channel("big", Some("subscription_count"))
        .await
        .unwrap();
    assert_eq!(info["subscription_count"], 0, "{info}");
    assert_eq!(drain(&mut slow, Duration::from_secs(5)).await.1, Some(4100));
}

#[tokio::test]
async fn cache_channels_are_bounded_in_bytes_and_never_fill_the_channel_table() {
    let server = Server::start(&[
        "--cache-bytes",
        "3000",
        "--max-channels",
        "5",
        "--max-channels-per-ip",
        "5",
    ])
    .await;
    let rest = server.rest();
    rest.trigger(&["cache-first".into()], "tick", "{\"p\":1}", None, None)
        .await
        .unwrap();
    for i in 0..40 {
        rest.trigger(
            &[format!("cache-{i}")],
            "tick",
            &"x".repeat(100),
            None,
            None,
        )
        .await
        .unwrap();
    }
    let (mut raw, id) = server.raw().await;
    raw.subscribe(&id, "cache-first", None).await;
    assert!(
        matches!(raw.recv().await, ServerMessage::Event(_)),
        "kept within the budget"
    );
    raw.subscribe(&id, "cache-39", None).await;
    assert_eq!(
        raw.recv().await,
        ServerMessage::CacheMiss {
            channel: "cache-39".into()
        },
        "past the budget, a cache channel misses"
    );
    // 41 cached channels take none of the app's 5 channel slots.
    for i in 0..3 {
        assert!(matches!(
            raw.subscribe(&id, &format!("room-{i}"), None).await,
            ServerMessage::SubscriptionSucceeded { .. }
        ));
    }
}

#[tokio::test]
async fn a_client_that_connects_during_shutdown_is_told_to_reconnect() {
    let server = Server::start(&["--close-timeout", "3s"]).await;
    // This client never reads, so shutdown waits out its close deadline.
    let (_silent, _) = server.raw().await;
    crate::support::bin::signal(server.proc.pid(), "-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    match tokio_tungstenite::connect_async(server.url("protocol=7")).await {
        // Refused at the door is fine; served without a word, then dropped, is not.
        Err(_) => {}
        Ok((ws, _)) => {
            let mut late = Raw { ws };
            let (_, code) = drain_until_close(&mut late).await;
            assert_eq!(code, Some(4200));
        }
    }
}

async fn drain_until_close(raw: &mut Raw) -> (usize, Option<u16>) {
    drain(raw, Duration::from_secs(5)).await
}
