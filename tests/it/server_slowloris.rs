//! `tickertape serve` against slow and greedy clients over 127.0.0.1: half-sent requests,
//! trickling bodies, idle keep-alive connections, too many WebSockets and too many REST
//! requests. Attackers connect from 127.0.0.2 (still loopback) so that the per-address cap
//! falls on them and not on the honest clients on 127.0.0.1.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::server::{Raw, Server, trickling_requests};
use client::publish::ApiError;
use protocol::ServerMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Slack on top of a deadline for a busy two-core machine.
const SLACK: Duration = Duration::from_secs(2);

/// A TCP connection to `server` from 127.0.0.2, with `bytes` sent and nothing more.
async fn attacker(server: SocketAddr, bytes: &[u8]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 2], 0)))
        .expect("bind 127.0.0.2");
    let mut tcp = socket.connect(server).await.expect("connect");
    // An excess connection may already be closed: that is fine.
    let _ = tcp.write_all(bytes).await;
    tcp
}

/// Whether the server closes `tcp` within `within`, whatever it sends first; and what it sent.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> (bool, String) {
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(within, read).await.is_ok();
    (closed, String::from_utf8_lossy(&seen).into_owned())
}

/// One complete response (headers and a Content-Length body) from a kept-alive connection.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = tcp.read(&mut buf).await.expect("read");
            assert!(
                n > 0,
                "closed mid-response: {:?}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .expect("content-length");
                if seen.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("no response in time")
}

/// An honest WebSocket client and an honest REST call both work.
async fn honest_clients_served(server: &Server) {
    let (mut raw, id) = server.raw().await;
    assert!(matches!(
        raw.subscribe(&id, "honest", None).await,
        ServerMessage::SubscriptionSucceeded { .. }
    ));
    server
        .rest()
        .trigger(&["honest".into()], "hello", "{}", None, None)
        .await
        .expect("honest REST call");
    match raw.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "hello"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn half_sent_requests_lock_nobody_out_and_are_closed_at_the_header_deadline() {
    // The deadline is long enough that no early attacker is closed (freeing its slot for a
    // later one) before all 300 have connected, even on a busy machine.
    let server = Server::start(&["--header-timeout", "3s", "--max-http-per-ip", "50"]).await;
    let mut attackers = Vec::new();
    for i in 0..300 {
        let half: &[u8] = if i % 2 == 0 {
            b"GET / HTTP/1.1\r\nHost: x\r\n"
        } else {
            b"GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        };
        attackers.push(attacker(server.addr, half).await);
    }
    let opened = Instant::now();
    honest_clients_served(&server).await;

    // Past the per-address cap, the server closes at once (with a 503 when it can).
    let mut at_once = 0;
    for tcp in &mut attackers[50..] {
        let (closed, said) = closed_within(tcp, Duration::from_millis(200)).await;
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 503"),
            "{said:?}"
        );
        at_once += usize::from(closed);
    }
    assert_eq!(at_once, 250, "excess connections were left open");

    // The rest are closed by the header deadline.
    for tcp in &mut attackers[..50] {
        let left =
            (opened + Duration::from_secs(3) + SLACK).saturating_duration_since(Instant::now());
        let (closed, _) = closed_within(tcp, left).await;
        assert!(closed, "a half-sent request outlived the header deadline");
    }
    honest_clients_served(&server).await;
}

#[tokio::test]
async fn a_trickling_body_gets_408_at_the_body_deadline() {
    let server = Server::start(&["--body-timeout", "1s"]).await;
    // Signed (an unsigned one is refused from its headers, before its body).
    let mut held = trickling_requests(server.addr, &[[127, 0, 0, 1]], 1, true).await;
    let mut tcp = held.pop().expect("a trickling request");
    let sent = Instant::now();
    let (closed, said) = closed_within(&mut tcp, Duration::from_secs(1) + SLACK).await;
    assert!(
        closed,
        "the connection outlived the body deadline: {said:?}"
    );
    assert!(said.starts_with("HTTP/1.1 408"), "{said:?}");
    assert!(said.contains("{\"error\":"), "{said:?}");
    assert!(sent.elapsed() >= Duration::from_millis(900));
    honest_clients_served(&server).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(&["--idle-timeout", "1s"]).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..2 {
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let resp = read_response(&mut tcp).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        // Within the idle timeout it is kept alive for the next request.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let idle_from = Instant::now() - Duration::from_millis(300);
    let (closed, said) = closed_within(&mut tcp, Duration::from_secs(1) + SLACK).await;
    assert!(closed, "an idle connection was kept: {said:?}");
    assert!(said.is_empty(), "{said:?}");
    assert!(idle_from.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn past_max_connections_a_websocket_gets_4004() {
    // From one address: the per-address share (a quarter) is lifted.
    let server = Server::start(&["--max-connections", "2", "--max-connections-per-ip", "2"]).await;
    let (first, _) = server.raw().await;
    let (_second, _) = server.raw().await;
    let (ws, _) = tokio_tungstenite::connect_async(server.url("protocol=7&client=test&version=1"))
        .await
        .unwrap();
    let mut third = Raw { ws };
    match third.recv().await {
        ServerMessage::Error(e) => {
            assert_eq!(e.code, Some(4004));
            assert!(e.message.contains("over connection quota"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(third.close_code().await, Some(4004));

    // A closed connection gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (ws, _) =
            tokio_tungstenite::connect_async(server.url("protocol=7&client=test&version=1"))
                .await
                .unwrap();
        let mut again = Raw { ws };
        match again.recv().await {
            ServerMessage::ConnectionEstablished { .. } => break,
            ServerMessage::Error(e) if e.code == Some(4004) && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("the slot never came back: {other:?}"),
        }
    }
}

/// Whether the server has answered or closed `tcp` already.
fn answered(tcp: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    !matches!(tcp.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test]
async fn saturated_rest_gets_503_in_json() {
    let server = Server::start(&["--max-rest-in-flight", "2", "--body-timeout", "10s"]).await;
    // Signed slow requests (unsigned ones hold nothing), from two addresses (one may hold
    // half the slots).
    let ips = [[127, 0, 0, 2], [127, 0, 0, 3]];
    let mut slow = Vec::new();
    for ip in ips {
        slow.extend(trickling_requests(server.addr, &[ip], 1, true).await);
    }
    // Both slots held: the honest call is turned away. An honest call made before the
    // server read a slow one's headers holds a slot for a moment, and that slow one is
    // then answered 503 and holds nothing: it is sent again until both are held.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match server.rest().channels(None, None).await {
            Err(ApiError::Status {
                status: 503,
                message,
            }) => {
                assert!(message.contains("retry"), "{message}");
                break;
            }
            Ok(_) if Instant::now() < deadline => {
                for (n, ip) in ips.iter().enumerate() {
                    if answered(&slow[n]) {
                        let mut again = trickling_requests(server.addr, &[*ip], 1, true).await;
                        slow[n] = again.pop().expect("a slow request");
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("expected 503, got {other:?}"),
        }
    }
    // Once the slow ones leave, REST works again.
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match server.rest().channels(None, None).await {
            Ok(_) => break,
            Err(ApiError::Status { status: 503, .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("REST did not recover: {other:?}"),
        }
    }
}
