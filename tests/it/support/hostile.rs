//! A hostile Pusher server on 127.0.0.1: every name it chooses and every text it sends is
//! made of [`CORPUS`], on one port for the WebSocket and the REST API, as a Pusher server
//! has them. `serve` refuses most bad names, so it cannot play this part.
//!
//! - WebSocket: each subscription succeeds (a presence one with hostile members), except
//!   `private-refused`, which gets a `pusher:subscription_error` with hostile text; then the
//!   corpus arrives as event names, channel names, data, user ids, member ids and infos, a
//!   `pusher:error`, a binary frame that is not UTF-8, and, 1.5 s after the first
//!   subscription, a close (4200) whose reason is hostile. The `pusher:error`, the
//!   subscription error and the close reason quote a URL with credentials and a token. The
//!   client comes back, and it all starts again.
//! - REST: publishes get a 400 whose error is hostile and quotes a URL with credentials and
//!   a token ([`PASSWORD`], [`TOKEN`]); `GET /channels` lists hostile names; a channel's
//!   users are hostile ids; a channel's info is a hostile 404; an auth endpoint (any path
//!   with `auth`) a hostile 403; anything else a hostile 500 that is not JSON.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Every kind of hostile text, each short enough for a cell; each with a marker (`X1`…) after
/// its sequence, so that the sequence arriving raw can be told from the screen's own.
pub(crate) const CORPUS: &[&str] = &[
    "\u{1b}]52;c;ZXZpbA==\u{7}X0",    // OSC 52: write the clipboard
    "\u{1b}]0;pwned title\u{1b}\\X1", // OSC 0: the window title, ST-terminated
    "\u{1b}[21tX2",                   // CSI: report the title (the terminal answers)
    "\u{1b}[6nX3",                    // CSI: report the cursor (the terminal answers)
    "\u{1b}P+q544e\u{1b}\\X4",        // DCS: a terminfo query
    "\u{9b}31mX5\u{9d}0;c1\u{9c}",    // C1 CSI and OSC
    "bell\u{7}nul\u{0}del\u{7f}X6",   // BEL, NUL, DEL
    "\u{202e}gnp.exe\u{202c}\u{2066}X7\u{2069}\u{200f}", // bidi overrides and isolates
    "soft\u{ad}hy\u{200b}zw\u{2060}wj\u{feff}\u{3164}X8", // soft hyphen, zero widths, BOM, a Hangul filler
    "tag\u{e0068}\u{e0069}\u{e007f}\u{180e}\u{fff9}X9\u{fffb}", // tags, annotations
    "cr\rover\u{8}bs\nnl\u{2028}ls",                      // CR, BS, newline, line separator
];

/// What every hostile text is, whole.
pub(crate) fn hostile_text() -> String {
    CORPUS.concat()
}

/// A password and a token that must never be shown.
pub(crate) const PASSWORD: &str = "PWSECRET9";
pub(crate) const TOKEN: &str = "TOKSECRET9";

/// A URL with credentials and a token, as an answer might echo one.
pub(crate) fn echoed_url() -> String {
    format!("https://ann:{PASSWORD}@api.test/retry?token={TOKEN}")
}

/// The markers after each sequence (`X0`…`X9`): seen escaped on a screen, they show the
/// hostile text reached it.
pub(crate) fn markers() -> impl Iterator<Item = String> {
    (0..10).map(|i| format!("X{i}"))
}

/// A running hostile server, stopped when dropped.
pub(crate) struct Hostile {
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Hostile {
    pub(crate) async fn start() -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(connection(tcp));
            }
        });
        Hostile { addr, accept }
    }

    pub(crate) fn port(&self) -> String {
        self.addr.port().to_string()
    }
}

/// A WebSocket upgrade or a plain HTTP request, told apart by the head (peeked, not read).
async fn connection(tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    let head = loop {
        let n = match tcp.peek(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        if text.contains("\r\n\r\n") || n == buf.len() {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    if head.contains("upgrade: websocket") {
        if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
            websocket(ws).await;
        }
    } else {
        http(tcp).await;
    }
}

fn frame(event: &str, channel: Option<&str>, data: &Value, extra: Option<(&str, &str)>) -> String {
    let mut v = json!({ "event": event, "data": data });
    if let Some(c) = channel {
        v["channel"] = c.into();
    }
    if let Some((k, x)) = extra {
        v[k] = x.into();
    }
    v.to_string()
}

/// What the server sends on `channel` once it is subscribed.
fn script(channel: &str) -> Vec<String> {
    let mut out = Vec::new();
    let stringified = |v: Value| Value::String(v.to_string());
    for t in CORPUS {
        out.push(frame(
            &format!("update_event{t}"),
            Some(channel),
            &stringified(json!({ "name": t, "price": 1, "note": t })),
            Some(("user_id", t)),
        ));
        out.push(frame(
            "update_event",
            Some(&format!("{channel}{t}")),
            &Value::String((*t).to_owned()),
            None,
        ));
        if channel.starts_with("presence-") {
            let member = json!({ "user_id": format!("m{t}"), "user_info": { "name": t } });
            out.push(frame(
                "pusher_internal:member_added",
                Some(channel),
                &stringified(member),
                None,
            ));
            out.push(frame(
                "pusher_internal:member_removed",
                Some(channel),
                &stringified(json!({ "user_id": format!("u{t}") })),
                None,
            ));
        }
    }
    // A plain one, for the rules that wait for it.
    out.push(frame(
        "update_event",
        Some(channel),
        &stringified(json!({ "name": "ACME", "price": 2 })),
        None,
    ));
    out.push(frame(
        "pusher:error",
        None,
        &json!({ "code": null, "message": format!("{} see {}", hostile_text(), echoed_url()) }),
        None,
    ));
    out
}

/// The presence data of a successful presence subscription: a member per hostile text.
fn presence() -> Value {
    let ids: Vec<String> = CORPUS.iter().map(|t| format!("u{t}")).collect();
    let hash: serde_json::Map<String, Value> = CORPUS
        .iter()
        .map(|t| (format!("u{t}"), json!({ "name": t, "email": t })))
        .collect();
    json!({ "presence": { "ids": ids, "hash": hash, "count": CORPUS.len() } })
}

async fn websocket(mut ws: tokio_tungstenite::WebSocketStream<TcpStream>) {
    let established = json!({ "socket_id": "123.456", "activity_timeout": 120 }).to_string();
    let hello = frame(
        "pusher:connection_established",
        None,
        &Value::String(established),
        None,
    );
    if ws.send(Message::text(hello)).await.is_err() {
        return;
    }
    let mut close_at: Option<tokio::time::Instant> = None;
    loop {
        let until_close = async {
            match close_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let msg = tokio::select! {
            m = ws.next() => m,
            () = until_close => {
                // Within a close frame's 123 bytes.
                let reason = format!("bye\u{1b}]0;t\u{7}\u{9b}2J\u{202e}\u{ad}\u{e0041}X9 {}", echoed_url());
                let _ = ws
                    .send(Message::Close(Some(CloseFrame { code: 4200.into(), reason: reason.into() })))
                    .await;
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                return;
            }
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(_)) => continue,
            _ => return,
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mut sends = Vec::new();
        match v["event"].as_str() {
            Some("pusher:ping") => sends.push(frame("pusher:pong", None, &json!({}), None)),
            Some("pusher:subscribe") => {
                let channel = v["data"]["channel"].as_str().unwrap_or("").to_owned();
                if channel == "private-refused" {
                    sends.push(frame(
                        "pusher:subscription_error",
                        Some(&channel),
                        &json!({ "type": "AuthError", "error": format!("{} see {}", hostile_text(), echoed_url()), "status": 403 }),
                        None,
                    ));
                } else {
                    let data = if channel.starts_with("presence-") {
                        Value::String(presence().to_string())
                    } else {
                        Value::String("{}".into())
                    };
                    sends.push(frame(
                        "pusher_internal:subscription_succeeded",
                        Some(&channel),
                        &data,
                        None,
                    ));
                    sends.extend(script(&channel));
                }
                close_at.get_or_insert(tokio::time::Instant::now() + Duration::from_millis(1500));
            }
            _ => {}
        }
        for s in sends {
            if ws.send(Message::text(s)).await.is_err() {
                return;
            }
        }
        if v["event"] == "pusher:subscribe" {
            let mut binary = b"{\"event\":\"bin\xff\xfe\x1b[2J\",\"data\":\"\x9b\"}".to_vec();
            binary.extend_from_slice(&[0xc3, 0x28]);
            if ws.send(Message::binary(binary)).await.is_err() {
                return;
            }
        }
    }
}

/// One request, answered and closed: (status, content type, body) by route.
async fn http(mut tcp: TcpStream) {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, body_start) = loop {
        let n = match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        raw.extend_from_slice(&chunk[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&raw[..at]).into_owned(), at + 4);
        }
    };
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while raw.len() < body_start + length {
        let n = match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        raw.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let error = json!({ "error": format!("{} see {}", hostile_text(), echoed_url()) }).to_string();
    let (status, kind, body) = match (method, segments.as_slice()) {
        ("POST", ["apps", _, "events" | "batch_events"]) => (400, "application/json", error),
        ("GET", ["apps", _, "channels"]) => {
            let channels: serde_json::Map<String, Value> = CORPUS
                .iter()
                .map(|t| (format!("presence-h{t}"), json!({ "user_count": 1 })))
                .chain([("stock_ticker".to_owned(), json!({}))])
                .collect();
            (
                200,
                "application/json",
                json!({ "channels": channels }).to_string(),
            )
        }
        ("GET", ["apps", _, "channels", _, "users"]) => {
            let users: Vec<Value> = CORPUS.iter().map(|t| json!({ "id": t })).collect();
            (
                200,
                "application/json",
                json!({ "users": users }).to_string(),
            )
        }
        ("GET", ["apps", _, "channels", _]) => (404, "application/json", error),
        _ if path.contains("auth") => (
            403,
            "text/plain",
            format!("denied {} see {}", hostile_text(), echoed_url()),
        ),
        _ => (500, "text/plain", hostile_text()),
    };
    let answer = format!(
        "HTTP/1.1 {status} Hostile\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(answer.as_bytes()).await;
    let _ = tcp.shutdown().await;
}
