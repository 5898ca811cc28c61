//! The WebSocket handshake: the URL's app key and protocol version are checked before the
//! upgrade completes, and a refused socket is closed the protocol's way.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;

use super::ServerConfig;
use super::apps::App;
use protocol::frame::PusherError;
use protocol::{CloseCode, ServerMessage};

/// Why a socket is refused: the code, and the message sent in `pusher:error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: CloseCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: CloseCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// The app a connection URL names, or why it is refused.
pub(crate) fn check(
    cfg: &ServerConfig,
    key: &str,
    protocol: Option<&str>,
) -> Result<Arc<App>, Refusal> {
    let Some(app) = cfg.apps.by_key(key) else {
        return Err(Refusal::new(
            CloseCode::AppNotFound,
            format!("App key {} does not exist", clip(key, 64)),
        ));
    };
    if !app.enabled {
        return Err(Refusal::new(
            CloseCode::AppDisabled,
            "The app is not enabled",
        ));
    }
    match protocol.map(str::parse::<u32>) {
        None => Err(Refusal::new(
            CloseCode::NoProtocolVersion,
            "No protocol version supplied",
        )),
        Some(Ok(5..=7)) => Ok(app),
        Some(_) => Err(Refusal::new(
            CloseCode::UnsupportedProtocol,
            "Unsupported protocol version: use protocol=7",
        )),
    }
}

/// Closes a refused socket: the error event, then the close code, then a short wait for the
/// client's close so that it sees a clean close rather than a reset.
pub(crate) async fn refuse(mut socket: WebSocket, refusal: Refusal, deadline: Duration) {
    let error = ServerMessage::Error(PusherError {
        code: Some(refusal.code.as_u16()),
        message: refusal.message.clone(),
        channel: None,
    });
    let _ = tokio::time::timeout(deadline, async {
        socket.send(Message::Text(error.encode().into())).await?;
        socket
            .send(Message::Close(Some(CloseFrame {
                code: refusal.code.as_u16(),
                reason: close_reason(&refusal.message).into(),
            })))
            .await?;
        while let Some(Ok(_)) = socket.next().await {}
        Ok::<(), axum::Error>(())
    })
    .await;
}

/// A close frame's reason holds at most 123 bytes.
pub(crate) fn close_reason(text: &str) -> &str {
    clip(text, 123)
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
