//! Opening the WebSocket: ws:// or wss:// (rustls on ring), Nagle off, with a frame-size
//! limit, and closing it: either side's close frame is answered, and no close waits long.

use std::time::Duration;

use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::TlsError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::config::{ClientConfig, Endpoint};
use super::wire::Wire;
use net::tls;

pub(crate) type Socket = Wire;

/// Why a connection attempt failed.
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub message: String,
    /// Retrying cannot help (the URL itself is invalid).
    pub fatal: bool,
}

/// Connects to the app's WebSocket URL.
pub(crate) async fn connect(
    endpoint: &Endpoint,
    cfg: &ClientConfig,
) -> Result<Socket, ConnectError> {
    let (key, max_frame_bytes) = (cfg.key.as_str(), cfg.max_frame_bytes);
    let url = endpoint.uri(key).map_err(|message| ConnectError {
        message,
        fatal: true,
    })?;
    let config = WebSocketConfig::default()
        .read_buffer_size(super::wire::READ_STEP)
        .max_message_size(Some(max_frame_bytes))
        .max_frame_size(Some(max_frame_bytes));
    let socket =
        open(url, endpoint, cfg, config)
            .await
            .map_err(|e| match tls::certificate_problem(&e) {
                // A certificate that was refused is refused again: say how to fix it.
                Some(message) => ConnectError {
                    message,
                    fatal: true,
                },
                None => ConnectError {
                    fatal: matches!(e, tungstenite::Error::Url(_)),
                    message: match super::explain::connect_error(
                        &e,
                        endpoint,
                        &format!("/app/{key}"),
                    ) {
                        Some(x) => x.to_string(),
                        None => describe(e),
                    },
                },
            })?;
    Ok(socket)
}

/// TCP (Nagle off), TLS when the endpoint has it, then the WebSocket handshake.
async fn open(
    url: http::Uri,
    endpoint: &Endpoint,
    cfg: &ClientConfig,
    config: WebSocketConfig,
) -> Result<Socket, tungstenite::Error> {
    let request = url.into_client_request()?;
    let tcp = net::tcp::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(tungstenite::Error::Io)?;
    let io = if endpoint.tls {
        let name = tls::server_name(&endpoint.host)
            .ok_or(tungstenite::Error::Tls(TlsError::InvalidDnsName))?;
        let tls = tls::connect(name, tcp, &cfg.tls_roots)
            .await
            .map_err(tungstenite::Error::Io)?;
        MaybeTlsStream::Rustls(tls)
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    let (socket, _response) = Wire::handshake(io, request, config).await?;
    Ok(socket)
}

/// A readable, one-line description of a connection error.
pub(crate) fn describe(e: tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(resp) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .trim()
                        .chars()
                        .take(200)
                        .collect::<String>()
                })
                .unwrap_or_default();
            format!(
                "server answered HTTP {} instead of upgrading: {body}",
                resp.status()
            )
        }
        tungstenite::Error::Io(io) => io.to_string(),
        other => net::http::error_chain(&other),
    }
}

/// How long a closing socket waits for the other side.
const CLOSE_WAIT: Duration = Duration::from_millis(250);

/// Sends a close frame and waits briefly for the server's, so the server sees a clean close.
pub(crate) async fn close(socket: &mut Socket, code: u16, reason: &str) {
    use tungstenite::protocol::CloseFrame;
    let frame = CloseFrame {
        code: code.into(),
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        let _ = socket.send(Message::Close(Some(frame))).await;
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// After the server's close frame: sends the answer (the same code, RFC 6455 §5.5.1) that
/// tungstenite queued when it read the frame, without waiting long for a stalled peer.
pub(crate) async fn answer_close(socket: &mut Socket) {
    let _ = tokio::time::timeout(CLOSE_WAIT, socket.send_written()).await;
}
