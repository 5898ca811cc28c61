//! What the server load tools (`load`, `pace`) share: a subscriber on a plain WebSocket, and
//! the time stamp an event's data carries.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects a plain TCP socket with Nagle off (as every real client should have it: with it
/// on, the pong to a ping may wait for a delayed ACK), and subscribes to `channel`; returns
/// once the subscription succeeded.
pub(crate) async fn subscriber(addr: &str, key: &str, channel: &str) -> Result<Ws, String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let url = format!("ws://{addr}/app/{key}?protocol=7&client=tickertape-load&version=1");
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let _established = ws.next().await;
    let sub = format!(r#"{{"event":"pusher:subscribe","data":{{"channel":"{channel}"}}}}"#);
    ws.send(Message::text(sub))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(m) = ws.next().await {
        let m = m.map_err(|e| e.to_string())?;
        if m.to_text()
            .is_ok_and(|t| t.contains("subscription_succeeded"))
        {
            return Ok(ws);
        }
    }
    Err("closed before the subscription succeeded".into())
}

/// The time stamp in an event's data: `\"t\":NANOS` (a byte scan; no JSON parse per
/// delivery).
pub(crate) fn stamp(frame: &str) -> Option<u64> {
    let at = frame.find(r#"\"t\":"#)? + 6;
    let digits = frame[at..].bytes().take_while(u8::is_ascii_digit).count();
    frame[at..at + digits].parse().ok()
}
