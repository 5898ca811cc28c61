//! Strangers share, but none can take it all: `tickertape serve` against one client (one
//! address, or one user id) with many sockets, against the real process on loopback.
//! Attackers connect from 127.0.0.2 and up, honest clients from 127.0.0.1, so that the
//! per-address budgets fall on the attackers.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, ServerMessage, signature};
use tokio_tungstenite::tungstenite::Message;

use crate::support::server::{KEY, Raw, SECRET, Server, raw_from, raw_with, trickling_requests};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_from_one_address_leave_descriptors_for_everyone_else() {
    // As on a machine whose limit is 1024 descriptors, soft and hard.
    let server = Server::start_under(&["prlimit", "--nofile=1024:1024", "--"], &[]).await;
    let addr = server.addr;
    let mut idle = Vec::new();
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..1030 {
        if tries.len() >= 32
            && let Some(Ok(Some(kept))) = tries.join_next().await
        {
            idle.push(kept);
        }
        tries.spawn(raw_from([127, 0, 0, 2], addr));
    }
    while let Some(done) = tries.join_next().await {
        if let Ok(Some(kept)) = done {
            idle.push(kept);
        }
    }
    // Everyone else still gets in: a REST call and a new WebSocket from 127.0.0.1.
    let rest =
        tokio::time::timeout(Duration::from_secs(5), server.rest().channels(None, None)).await;
    assert!(
        matches!(rest, Ok(Ok(_))),
        "REST from 127.0.0.1 with {} idle sockets from 127.0.0.2: {rest:?}",
        idle.len()
    );
    let ws = raw_from([127, 0, 0, 1], addr).await;
    assert!(
        ws.is_some(),
        "no WebSocket from 127.0.0.1 with {} idle sockets from 127.0.0.2",
        idle.len()
    );
    assert!(idle.len() < 1030, "every socket of 127.0.0.2 was kept");
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_more_than_its_share_of_the_apps_channels() {
    let server = Server::start(&["--max-channels", "100"]).await;
    // 127.0.0.2 with 10 sockets of 20 channels each would be 200 channels: twice the cap.
    let mut held = 0;
    let mut refusals = Vec::new();
    let mut attackers = Vec::new();
    for s in 0..10 {
        let (mut raw, id) = raw_from([127, 0, 0, 2], server.addr)
            .await
            .expect("a socket");
        for c in 0..20 {
            match raw.subscribe(&id, &format!("grab-{s}-{c}"), None).await {
                ServerMessage::SubscriptionSucceeded { .. } => held += 1,
                ServerMessage::SubscriptionError { error, .. } => refusals.push(error.error),
                other => panic!("{other:?}"),
            }
        }
        attackers.push(raw);
    }
    assert!(held < 100, "127.0.0.2 holds all {held} channels");
    assert!(
        refusals.iter().any(|e| e.contains("address")),
        "{refusals:?}"
    );
    // An honest client can still open a channel of its own.
    let (mut honest, id) = server.raw().await;
    assert!(
        matches!(
            honest.subscribe(&id, "mine", None).await,
            ServerMessage::SubscriptionSucceeded { .. }
        ),
        "127.0.0.2 holds {held} channels and 127.0.0.1 can make none"
    );
}

/// A presence member's `channel_data`, with `info` bytes of `user_info`.
fn member_with(id: &str, info: usize) -> String {
    format!(
        r#"{{"user_id":"{id}","user_info":{{"bio":"{}"}}}}"#,
        "b".repeat(info)
    )
}

fn presence_subscribe(socket_id: &str, channel: &str, data: &str) -> ClientMessage {
    ClientMessage::Subscribe {
        channel: channel.into(),
        auth: Some(signature::sign_channel(KEY, SECRET, socket_id, channel, Some(data)).unwrap()),
        channel_data: Some(data.into()),
    }
}

/// Reads at most `bytes_per_second` until `until`; the close code if the socket was closed.
async fn read_slowly(mut raw: Raw, bytes_per_second: f64, until: Instant) -> Option<u16> {
    let start = Instant::now();
    let mut read = 0f64;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        match tokio::time::timeout(left, raw.ws.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(Message::Text(t)))) => read += t.len() as f64,
            Ok(Some(Ok(Message::Close(f)))) => return Some(f.map_or(1005, |f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return Some(1006),
        }
        let due = Duration::from_secs_f64(read / bytes_per_second);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_with_many_sockets_never_gets_other_members_kicked() {
    // Small send queues and slow honest readers: announcements must stay far below what
    // one reader takes.
    let server = Server::start(&["--send-queue-bytes", "65536", "--log"]).await;
    let channel = "presence-room";
    let mut honest = Vec::new();
    for i in 0..20 {
        let (mut raw, id) = raw_with([127, 0, 0, 1], server.addr, Some(4096))
            .await
            .expect("a socket");
        raw.send(&presence_subscribe(
            &id,
            channel,
            &member_with(&format!("honest{i}"), 10),
        ))
        .await;
        assert!(matches!(
            raw.recv().await,
            ServerMessage::SubscriptionSucceeded { .. }
        ));
        honest.push(raw);
    }
    let until = Instant::now() + Duration::from_secs(10);
    let readers: Vec<_> = honest
        .into_iter()
        .map(|raw| tokio::spawn(read_slowly(raw, 50_000.0, until)))
        .collect();
    // 20 members with a socket each from 127.0.0.2, and one member with 20 sockets from
    // 127.0.0.3, join and leave as fast as they may.
    let mut storm = Vec::new();
    for m in 0..40 {
        {
            let (ip, user) = match m {
                0..20 => ([127, 0, 0, 2], format!("storm{m}")),
                _ => ([127, 0, 0, 3], "many".to_owned()),
            };
            let (raw, id) = raw_from(ip, server.addr).await.expect("a socket");
            let data = member_with(&user, 1000);
            let sub = presence_subscribe(&id, channel, &data);
            let unsub = ClientMessage::Unsubscribe {
                channel: channel.into(),
            };
            storm.push(tokio::spawn(async move {
                let (mut sink, mut stream) = raw.ws.split();
                let drain =
                    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
                while Instant::now() < until {
                    for m in [&sub, &unsub] {
                        if sink.send(Message::text(m.encode())).await.is_err() {
                            drain.abort();
                            return;
                        }
                    }
                }
                drain.abort();
            }));
        }
    }
    for s in storm {
        let _ = s.await;
    }
    for (i, r) in readers.into_iter().enumerate() {
        assert_eq!(r.await.unwrap(), None, "honest member {i} was closed");
    }
    // What was held back is said in the log.
    let held = server
        .stderr_line_where(|l| l.contains("PRESENCE HELD"))
        .await;
    assert!(held.contains("channel=presence-room"), "{held}");
}

/// The REST API cannot be occupied by strangers: unsigned requests whose bodies never end,
/// 16 from each of two addresses (all of --max-rest-in-flight 16, twice), are refused from
/// their headers, and a publisher's request from 127.0.0.1 is answered. A publisher with the
/// credentials holds at most half of the slots from one address: 20 of its trickling
/// requests leave the other half. Before, the unsigned requests took every slot: 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_rest_requests_never_take_the_api_from_a_publisher() {
    let server = Server::start(&["--max-rest-in-flight", "16"]).await;
    // A publish from 127.0.0.1 while `held` are: answered within 5 s.
    let publish_while = async |held: &[tokio::net::TcpStream], what: &str| {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let honest = ["honest".to_owned()];
        let rest = tokio::time::timeout(
            Duration::from_secs(5),
            server.rest().trigger(&honest, "e", "{}", None, None),
        )
        .await;
        assert!(
            matches!(rest, Ok(Ok(_))),
            "a publish with {} {what}: {rest:?}",
            held.len()
        );
    };
    let strangers =
        trickling_requests(server.addr, &[[127, 0, 0, 2], [127, 0, 0, 3]], 16, false).await;
    publish_while(&strangers, "unsigned trickling requests held").await;
    drop(strangers);
    let publisher = trickling_requests(server.addr, &[[127, 0, 0, 4]], 20, true).await;
    publish_while(&publisher, "signed trickling requests from one address").await;
}

/// Unsubscribes take the hub's lock as subscribes do, and their tokens from the same
/// budgets: past the socket's (here a burst of 10, then 5 a second), an unsubscribe is not
/// done and the client is told with 4301 on that channel. Before, a socket could send them
/// without end, each taking the lock every publish needs.
#[tokio::test]
async fn unsubscribes_take_their_tokens_like_subscribes() {
    let server = Server::start(&["--max-subscriptions", "10", "--subscribe-rate", "5"]).await;
    let (mut raw, _) = raw_from([127, 0, 0, 2], server.addr)
        .await
        .expect("a socket");
    for n in 0..30 {
        raw.send(&ClientMessage::Unsubscribe {
            channel: format!("never-{n}"),
        })
        .await;
    }
    match raw.recv().await {
        ServerMessage::Error(e) => {
            assert_eq!(e.code, Some(4301), "{e:?}");
            assert!(e.message.contains("was not done"), "{e:?}");
        }
        other => panic!("expected a pusher:error, got {other:?}"),
    }
}

/// A channel listing copies, sorts and writes every occupied name: with 4500 channels of
/// 190 characters (made by two addresses' sockets; about the 1 MiB a client reads), 32
/// listings at once would each hold a few MB. Two are made at a time, so the server's peak
/// stays near what two take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_channel_listings_take_turns() {
    let server = Server::start(&[]).await;
    let mut sockets = Vec::new();
    for s in 0..5u8 {
        let (mut raw, id) = raw_from([127, 0, 0, 2 + s % 2], server.addr)
            .await
            .expect("a socket");
        for n in 0..900 {
            let channel = format!("{s}-{n}-{}", "c".repeat(180));
            match raw.subscribe(&id, &channel, None).await {
                ServerMessage::SubscriptionSucceeded { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        sockets.push(raw);
    }
    let before = server.proc.peak_rss();
    let listings: Vec<_> = (0..32)
        .map(|_| {
            let rest = server.rest();
            tokio::spawn(async move { rest.channels(None, None).await })
        })
        .collect();
    for listing in listings {
        let channels = listing.await.unwrap().expect("a listing");
        assert_eq!(
            channels["channels"].as_object().map(|c| c.len()),
            Some(4500)
        );
    }
    let grew = server.proc.peak_rss().saturating_sub(before);
    // 12 MiB here; 109 MiB when all 32 were made at once.
    assert!(
        grew < 50 << 20,
        "32 listings at once took the server's peak {} MiB higher",
        grew >> 20
    );
}

/// Client events: each socket has Pusher's 10 a second, and all the sockets of one address
/// share `--client-events-per-ip` (here 20). 20 sockets of 127.0.0.9 sending 5 each at once
/// (100, each within its socket's 10) get about 20 through to the listener on 127.0.0.1;
/// the rest are refused with 4301. Before, N sockets had N budgets: all 100 went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sockets_of_one_address_share_one_client_event_budget() {
    let server = Server::start(&["--client-events-per-ip", "20"]).await;
    let channel = "private-room";
    // A socket of `ip` on the channel.
    let on = async |ip: [u8; 4]| {
        let (mut raw, id) = raw_from(ip, server.addr).await.expect("a socket");
        match raw.subscribe(&id, channel, None).await {
            ServerMessage::SubscriptionSucceeded { .. } => raw,
            other => panic!("{other:?}"),
        }
    };
    let mut listener = on([127, 0, 0, 1]).await;
    let mut senders = Vec::new();
    for _ in 0..20 {
        senders.push(on([127, 0, 0, 9]).await);
    }
    let event = ClientMessage::Event(protocol::frame::Event {
        event: "client-typing".into(),
        channel: Some(channel.into()),
        data: protocol::frame::Data::Json(serde_json::json!({"typing": true})),
        user_id: None,
    });
    for raw in &mut senders {
        for _ in 0..5 {
            raw.send(&event).await;
        }
    }
    let mut heard = 0;
    while !listener.quiet_for(Duration::from_millis(500)).await {
        heard += 1;
    }
    assert!(
        (20..=25).contains(&heard),
        "{heard} of 100 client events went through"
    );
}

/// Connections in their HTTP phase: when two addresses hold every place (4 each of 8) with
/// headers that never end, a newcomer from 127.0.0.1 takes the oldest place of the one with
/// the most, so a publish and a new WebSocket still get in. Before, both got 503 until the
/// strangers chose to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_holding_every_http_place_make_room_for_a_newcomer() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start(&["--max-http-connections", "8", "--max-http-per-ip", "4"]).await;
    let mut held = Vec::new();
    for ip in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        for _ in 0..4 {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(std::net::SocketAddr::from((ip, 0))).unwrap();
            let mut tcp = socket.connect(server.addr).await.unwrap();
            tcp.write_all(b"GET /apps/1/channels HTTP/1.1\r\n")
                .await
                .unwrap();
            held.push(tcp);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rest =
        tokio::time::timeout(Duration::from_secs(5), server.rest().channels(None, None)).await;
    assert!(
        matches!(rest, Ok(Ok(_))),
        "REST with every place held: {rest:?}"
    );
    let ws = raw_from([127, 0, 0, 1], server.addr).await;
    assert!(ws.is_some(), "no WebSocket with every place held");
}

/// WebSockets: when two addresses hold every place (4 each of --max-connections 8), a
/// newcomer from 127.0.0.1 is let in and one connection of the busiest address is closed
/// with 4100 (to come back after its back-off). Before, the newcomer got 4004.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_holding_every_websocket_make_room_for_a_newcomer() {
    let server = Server::start(&["--max-connections", "8", "--max-connections-per-ip", "4"]).await;
    let mut held = Vec::new();
    for ip in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        for _ in 0..4 {
            held.push(raw_from(ip, server.addr).await.expect("a place").0);
        }
    }
    let newcomer = raw_from([127, 0, 0, 1], server.addr).await;
    assert!(newcomer.is_some(), "the newcomer was refused");
    let mut closed = Vec::new();
    for raw in &mut held {
        if let Ok(code) = tokio::time::timeout(Duration::from_millis(200), raw.close_code()).await {
            closed.push(code);
        }
    }
    assert_eq!(closed, [Some(4100)], "one stranger made room");
}
