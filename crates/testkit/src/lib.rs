//! Test support shared by the crates' integration tests: a scripted Pusher peer (a real
//! WebSocket server on 127.0.0.1 that plays exact frame sequences), a one-shot HTTP auth
//! endpoint, and helpers to read engine items. It links no server and no terminal, so the
//! client's tests stay free of both.

pub mod scripted;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use client::{ClientConfig, Endpoint, FeedRx, Item};
use protocol::{ClientMessage, ServerMessage};

pub const WAIT: Duration = Duration::from_secs(5);

/// A scripted server: accepts WebSocket connections and hands each to the test.
pub struct Peer {
    pub addr: SocketAddr,
    conns: mpsc::Receiver<Conn>,
    accept: JoinHandle<()>,
}

pub struct Conn {
    ws: WebSocketStream<TcpStream>,
    /// The request path and query the client used.
    pub path: String,
}

impl Peer {
    pub async fn start() -> Peer {
        Peer::start_on(0).await
    }

    /// Binds a given port (to come back on the same address after a "restart").
    // The handshake callback's error type is tungstenite's, not ours to shrink.
    #[allow(clippy::result_large_err)]
    pub async fn start_on(port: u16) -> Peer {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let (tx, conns) = mpsc::channel(16);
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut path = String::new();
                    let cb = |req: &Request, resp: Response| {
                        path = req.uri().to_string();
                        Ok(resp)
                    };
                    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await {
                        let _ = tx.send(Conn { ws, path }).await;
                    }
                });
            }
        });
        Peer {
            addr,
            conns,
            accept,
        }
    }

    /// The next client connection.
    pub async fn conn(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.conns.recv())
            .await
            .expect("no connection in time")
            .expect("listener gone")
    }

    /// A connection within `within`, if any.
    pub async fn try_conn(&mut self, within: Duration) -> Option<Conn> {
        tokio::time::timeout(within, self.conns.recv())
            .await
            .ok()
            .flatten()
    }

    /// Stops listening (connections already handed out stay with the test).
    pub fn stop(self) -> u16 {
        self.accept.abort();
        self.addr.port()
    }

    pub fn config(&self) -> ClientConfig {
        loopback_config(self.addr.port(), "app-key")
    }
}

/// A client configuration for a server on 127.0.0.1:`port`, with `key` and a 2 s connect
/// deadline.
pub fn loopback_config(port: u16, key: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        key,
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            tls: false,
            tls_port: port,
        },
    );
    cfg.connect_timeout = Duration::from_secs(2);
    cfg
}

impl Conn {
    pub async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .expect("send to client");
    }

    /// Sends a binary frame (bytes that need not be UTF-8).
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::binary(bytes)).await;
    }

    /// Sends if the client is still there; false once it is gone.
    pub async fn try_send(&mut self, text: &str) -> bool {
        self.ws.send(Message::text(text.to_owned())).await.is_ok()
    }

    pub async fn send_msg(&mut self, msg: &ServerMessage) {
        self.send(&msg.encode()).await;
    }

    pub async fn establish(&mut self, socket_id: &str, activity_timeout: u64) {
        self.send_msg(&ServerMessage::ConnectionEstablished {
            socket_id: socket_id.into(),
            activity_timeout: Some(activity_timeout),
        })
        .await;
    }

    /// The next text frame from the client; `None` when it closed.
    pub async fn recv_text(&mut self) -> Option<String> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("client sent nothing in time");
            match frame {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn recv(&mut self) -> ClientMessage {
        let text = self.recv_text().await.expect("client closed");
        ClientMessage::decode(&text)
            .unwrap_or_else(|e| panic!("client sent a bad frame {text}: {e}"))
    }

    /// The next `pusher:subscribe`: (channel, auth, channel_data).
    pub async fn expect_subscribe(&mut self) -> (String, Option<String>, Option<String>) {
        match self.recv().await {
            ClientMessage::Subscribe {
                channel,
                auth,
                channel_data,
            } => (channel, auth, channel_data),
            other => panic!("expected pusher:subscribe, got {other:?}"),
        }
    }

    pub async fn succeed(&mut self, channel: &str) {
        self.send_msg(&ServerMessage::SubscriptionSucceeded {
            channel: channel.into(),
            presence: None,
        })
        .await;
    }

    /// Sends a WebSocket ping; false once the client is gone.
    pub async fn ping(&mut self) -> bool {
        self.ws.send(Message::Ping(Vec::new().into())).await.is_ok()
    }

    /// Sends a WebSocket ping with `payload` and waits for the client's pong: its payload,
    /// `None` if the client closed or sent none in time (text frames read meanwhile are
    /// dropped).
    pub async fn ping_for_pong(&mut self, payload: &[u8]) -> Option<Vec<u8>> {
        self.ws
            .send(Message::Ping(payload.to_vec().into()))
            .await
            .ok()?;
        let read = async {
            while let Some(Ok(m)) = self.ws.next().await {
                if let Message::Pong(p) = m {
                    return Some(p.to_vec());
                }
            }
            None
        };
        tokio::time::timeout(WAIT, read).await.ok().flatten()
    }

    /// Sends a close frame and nothing else: what comes back is for the test to read.
    pub async fn send_close(&mut self, code: u16, reason: &str) {
        let _ = self
            .ws
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: reason.into(),
            })))
            .await;
    }

    pub async fn close(&mut self, code: u16, reason: &str) {
        let _ = self
            .ws
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: reason.into(),
            })))
            .await;
        // Read until the client's close arrives.
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }

    /// Reads until the client closes; the close code it sent, if any.
    pub async fn close_code(&mut self) -> Option<u16> {
        let read = async {
            while let Some(Ok(m)) = self.ws.next().await {
                if let Message::Close(frame) = m {
                    return frame.map(|f| u16::from(f.code));
                }
            }
            None
        };
        tokio::time::timeout(WAIT, read).await.ok().flatten()
    }

    /// Everything the client sends within `d`.
    pub async fn collect_for(&mut self, d: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(d, async {
            while let Some(Ok(m)) = self.ws.next().await {
                if let Message::Text(t) = m {
                    out.push(t.to_string());
                }
            }
        })
        .await;
        out
    }
}

/// The next item, or a panic naming what was awaited.
pub async fn next_item(rx: &mut FeedRx) -> Item {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no item in time")
        .expect("engine stopped")
}

/// Skips items until one matches; returns it.
pub async fn wait_for(rx: &mut FeedRx, what: &str, pred: impl Fn(&Item) -> bool) -> Item {
    let found = tokio::time::timeout(WAIT, async {
        while let Some(item) = rx.recv().await {
            if pred(&item) {
                return Some(item);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(item)) => item,
        Ok(None) => panic!("engine stopped before {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A one-request-at-a-time HTTP endpoint: each request gets the next scripted answer.
/// Returns its URL and a receiver of the raw requests it saw.
pub async fn http_endpoint(answers: Vec<(u16, String)>) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pusher/auth", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        for (status, body) in answers {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let request = read_request(&mut tcp).await;
            let _ = tx.send(request).await;
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tcp.write_all(resp.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    });
    (url, rx)
}

async fn read_request(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tcp.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}
