//! `tickertape serve` under abuse: connection churn, 10 MB frames, a 10 000-channel
//! subscribe flood, replayed and oversized REST requests. Each gets the protocol's answer and
//! the server stays up and serves the next client.

use std::time::Duration;

use crate::support::server::{KEY, SECRET, Server};
use futures_util::{SinkExt, StreamExt};
use protocol::ServerMessage;
use protocol::rest::{encode_query, sign_request};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// The server still works: a new client subscribes and receives a published event.
async fn still_serves(server: &Server) {
    let (mut raw, id) = server.raw().await;
    assert!(matches!(
        raw.subscribe(&id, "health", None).await,
        ServerMessage::SubscriptionSucceeded { .. }
    ));
    server
        .rest()
        .trigger(&["health".into()], "ping", "{}", None, None)
        .await
        .unwrap();
    match raw.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "ping"),
        other => panic!("{other:?}"),
    }
}

async fn occupied(server: &Server) -> usize {
    let v = server.rest().channels(None, None).await.unwrap();
    v["channels"].as_object().map_or(0, |m| m.len())
}

#[tokio::test]
async fn a_thousand_connections_opened_and_dropped_leave_nothing_behind() {
    let server = Server::start(&[]).await;
    for i in 0..1000 {
        match i % 4 {
            // TCP only, then gone.
            0 => drop(TcpStream::connect(server.addr).await.unwrap()),
            // Half an HTTP upgrade request, then gone.
            1 => {
                let mut tcp = TcpStream::connect(server.addr).await.unwrap();
                let _ = tcp
                    .write_all(b"GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
                    .await;
            }
            // A WebSocket, subscribed, dropped without a close frame.
            _ => {
                let (mut raw, id) = server.raw().await;
                let channel = format!("churn-{}", i % 50);
                raw.subscribe(&id, &channel, None).await;
            }
        }
    }
    // Every subscription went with its socket.
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = occupied(&server).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "channels still occupied after every socket went");
    still_serves(&server).await;
}

#[tokio::test]
async fn a_10_mb_frame_is_refused_with_1009() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    let big = format!(
        r#"{{"event":"client-x","channel":"private-a","data":"{}"}}"#,
        "x".repeat(10 << 20)
    );
    let _ = raw.ws.send(Message::text(big)).await;
    assert_eq!(raw.close_code().await, Some(1009));
    still_serves(&server).await;
}

#[tokio::test]
async fn a_10000_channel_subscribe_flood_is_capped_at_1000() {
    let server = Server::start(&[]).await;
    let (raw, _) = server.raw().await;
    // Written from one task while this one reads: a client that reads nothing while 10 000
    // answers pile up would be closed as too slow (4100), which is another test.
    let (mut tx, mut rx) = raw.ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..10_000 {
            let frame =
                format!(r#"{{"event":"pusher:subscribe","data":{{"channel":"flood-{i}"}}}}"#);
            tx.feed(Message::text(frame)).await.unwrap();
        }
        tx.flush().await.unwrap();
        tx
    });
    let (mut ok, mut refused) = (0, 0);
    while ok + refused < 10_000 {
        let frame = tokio::time::timeout(Duration::from_secs(10), rx.next())
            .await
            .expect("an answer to every subscribe")
            .expect("open")
            .unwrap();
        let Ok(text) = frame.to_text() else {
            panic!("{frame:?}")
        };
        match ServerMessage::decode(text)
            .unwrap_or_else(|_| panic!("{frame:?} after {ok} ok, {refused} refused"))
        {
            ServerMessage::SubscriptionSucceeded { .. } => ok += 1,
            // Each new channel's count, to its one subscriber.
            ServerMessage::SubscriptionCount { .. } => {}
            ServerMessage::SubscriptionError { error, .. } => {
                assert_eq!(error.kind, "LimitReached");
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    let _tx = writer.await.unwrap();
    assert_eq!((ok, refused), (1000, 9000));
    assert_eq!(occupied(&server).await, 1000);
    still_serves(&server).await;
}

/// A signed POST /events; returns the URL so that it can be sent again as it is.
fn signed_url(server: &Server, body: &[u8], timestamp: u64) -> String {
    let path = "/apps/1/events";
    let signed = sign_request(KEY, SECRET, "POST", path, &[], body, timestamp).unwrap();
    format!("http://{}{path}?{}", server.addr, encode_query(&signed))
}

async fn post(url: &str, body: Vec<u8>) -> (u16, Value) {
    let http = net::http::HttpClient::default();
    let resp = http
        .send(http::Method::POST, url, &[], Some("application/json"), body)
        .await
        .unwrap();
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn replayed_and_oversized_rest_requests_get_their_answers() {
    let server = Server::start(&[]).await;
    let body = json!({"name": "e", "channel": "c", "data": "{}"}).to_string();

    // Protocol v7's REST signature has no nonce: within the 600 s window, a replay of the
    // exact request is accepted, as Pusher accepts it. Past the window it is refused, and a
    // replayed signature cannot carry another body.
    let url = signed_url(&server, body.as_bytes(), now());
    assert_eq!(post(&url, body.clone().into_bytes()).await.0, 200);
    assert_eq!(post(&url, body.clone().into_bytes()).await.0, 200);
    let other = json!({"name": "e", "channel": "bank", "data": "{}"}).to_string();
    let (status, v) = post(&url, other.into_bytes()).await;
    assert_eq!(status, 401, "{v}");
    assert!(v["error"].as_str().unwrap().contains("body_md5"), "{v}");
    let old = signed_url(&server, body.as_bytes(), now() - 601);
    let (status, v) = post(&old, body.into_bytes()).await;
    assert_eq!(status, 401, "{v}");

    // 1 MB: refused before it is read whole, with a JSON error like every other.
    let huge = json!({"name": "e", "channel": "c", "data": "x".repeat(1 << 20)}).to_string();
    let url = signed_url(&server, huge.as_bytes(), now());
    let (status, v) = post(&url, huge.into_bytes()).await;
    assert_eq!(status, 413);
    assert!(v["error"].is_string(), "413 says why as JSON: {v}");

    // Malformed JSON of every shape, signed correctly.
    for bad in [
        "",
        "{",
        "[]",
        "null",
        "{\"name\":5}",
        "\u{0}",
        "{\"name\":\"e\"}",
    ] {
        let url = signed_url(&server, bad.as_bytes(), now());
        let (status, v) = post(&url, bad.as_bytes().to_vec()).await;
        assert!(status == 400 || status == 401, "{bad:?}: {status} {v}");
        assert!(v["error"].is_string(), "{bad:?}: {v}");
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn garbage_on_the_websocket_port_is_answered_and_survived() {
    let server = Server::start(&[]).await;
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..], // a TLS ClientHello
        b"GET /app/app-key HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
        &[0u8; 70_000][..],
    ] {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let _ = tcp.write_all(junk).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let mut buf = [0u8; 1024];
            use tokio::io::AsyncReadExt;
            while tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        })
        .await;
    }
    let (mut raw, _) = server.raw().await;
    raw.ws
        .send(Message::Binary(vec![0xff, 0xfe, 0x1b].into()))
        .await
        .unwrap();
    raw.ws
        .send(Message::text("{\"event\":\"pusher:subscribe\",\"data\":7}"))
        .await
        .unwrap();
    let _ = raw.ws.next().await;
    still_serves(&server).await;
}
