//! How a `tickertape serve` connection ends, against the real process on loopback: the close
//! handshake both ways, the frames queued ahead of a server's Close, every close the server
//! starts (SIGTERM, 4100, 4009, terminate_connections, a reset mid-write) without a panic,
//! and 1007 for a text frame that is not UTF-8.

use std::time::{Duration, Instant};

use crate::support::server::{KEY, Raw, SECRET, Server, flood};
use futures_util::{SinkExt, StreamExt};
use protocol::frame::PusherError;
use protocol::{ClientMessage, ServerMessage, signature};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Reads until the server's Close: the frames before it and the close code.
async fn until_close(raw: &mut Raw) -> (Vec<ServerMessage>, Option<u16>) {
    let mut before = Vec::new();
    let read = async {
        while let Some(msg) = raw.ws.next().await {
            match msg {
                Ok(Message::Text(t)) => before.push(ServerMessage::decode(&t).unwrap()),
                Ok(Message::Close(f)) => return f.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    };
    let code = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no close in time");
    (before, code)
}

#[tokio::test]
async fn a_clients_close_is_answered_with_a_close_at_once() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    let started = Instant::now();
    raw.ws
        .send(Message::Close(Some(CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        })))
        .await
        .unwrap();
    // tungstenite returns the server's answer as a Close frame, then the end of the stream.
    let answer = tokio::time::timeout(Duration::from_secs(5), raw.ws.next())
        .await
        .expect("an answer in time");
    match answer {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(u16::from(f.code), 1000),
        other => panic!("the server must echo the Close, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sigterm_closes_every_client_with_4200_and_nothing_panics() {
    let server = Server::start(&[]).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        let (mut raw, id) = server.raw().await;
        raw.subscribe(&id, "stock_ticker", None).await;
        clients.push(raw);
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut raw| tokio::spawn(async move { raw.close_code().await }))
        .collect();
    // The helper checks the server's stderr for a panic once it has exited.
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    for r in readers {
        assert_eq!(r.await.unwrap(), Some(4200));
    }
}

#[tokio::test]
async fn a_failed_signin_explains_itself_before_the_4009_close() {
    let server = Server::start(&[]).await;
    let (mut raw, _) = server.raw().await;
    raw.send(&ClientMessage::Signin {
        auth: format!("{KEY}:{}", "0".repeat(64)),
        user_data: r#"{"id":"mallory"}"#.into(),
    })
    .await;
    let (before, code) = until_close(&mut raw).await;
    assert_eq!(code, Some(4009));
    assert!(
        before.iter().any(|m| matches!(
            m,
            ServerMessage::Error(PusherError {
                code: Some(4009),
                message,
                ..
            }) if message.starts_with("Invalid sign-in")
        )),
        "the pusher:error must arrive ahead of the close: {before:?}"
    );
    drop(server);
}

#[tokio::test]
async fn terminate_connections_closes_the_users_sockets_with_4009() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    let user = r#"{"id":"alice"}"#;
    raw.send(&ClientMessage::Signin {
        auth: signature::sign_user(KEY, SECRET, &id, user).unwrap(),
        user_data: user.into(),
    })
    .await;
    assert!(matches!(
        raw.recv().await,
        ServerMessage::SigninSuccess { .. }
    ));
    server.rest().terminate_user("alice").await.unwrap();
    assert_eq!(until_close(&mut raw).await.1, Some(4009));
    let status = server.terminate().await;
    assert!(status.success());
}

#[tokio::test]
async fn clients_that_reset_mid_write_or_stop_reading_leave_no_panic() {
    let server = Server::start(&["--send-queue", "32"]).await;
    let rest = server.rest();
    let mut gone = Vec::new();
    for _ in 0..5 {
        let (mut raw, id) = server.raw().await;
        raw.subscribe(&id, "flood", None).await;
        gone.push(raw);
    }
    flood(&rest, "flood", 10, 10_000).await;
    // Reset while the server writes to them: the TCP stream just goes away.
    gone.clear();
    flood(&rest, "flood", 30, 10_000).await;
    let (mut slow, slow_id) = server.raw().await;
    slow.subscribe(&slow_id, "flood", None).await;
    flood(&rest, "flood", 60, 10_000).await;
    let status = server.terminate().await;
    assert!(status.success());
}

/// A WebSocket handshake by hand, so that a test can send bytes no client library would.
async fn raw_tcp(server: &Server) -> TcpStream {
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /app/{KEY}?protocol=7 HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    tcp
}

/// Reads server frames (unmasked, short) until a Close; its code.
async fn close_code_from(tcp: &mut TcpStream) -> Option<u16> {
    let read = async {
        loop {
            let mut head = [0u8; 2];
            tcp.read_exact(&mut head).await.ok()?;
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut ext = [0u8; 2];
                tcp.read_exact(&mut ext).await.ok()?;
                len = u64::from(u16::from_be_bytes(ext));
            } else if len == 127 {
                let mut ext = [0u8; 8];
                tcp.read_exact(&mut ext).await.ok()?;
                len = u64::from_be_bytes(ext);
            }
            let mut payload = vec![0u8; usize::try_from(len).ok()?];
            tcp.read_exact(&mut payload).await.ok()?;
            if head[0] & 0x0f == 0x8 {
                return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_gets_1007() {
    let server = Server::start(&[]).await;
    let mut tcp = raw_tcp(&server).await;
    let payload = [0xffu8, 0xfe, 0x7b];
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&frame).await.unwrap();
    assert_eq!(close_code_from(&mut tcp).await, Some(1007));
}
