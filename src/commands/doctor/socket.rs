//! The WebSocket's hops: the upgrade on `/app/KEY` (its status and headers, or the page a
//! proxy answered with), then `pusher:connection_established` within the deadline, or the
//! `pusher:error` the server refused the connection with. Also the socket's reads for the
//! later hops: one frame at a time, each within a deadline.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::report::Hop;
use client::explain::{self, Explanation};
use protocol::{ClientMessage, ServerMessage};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest message read from the server.
const MAX_MESSAGE: usize = 1 << 20;

pub(crate) async fn upgrade(
    endpoint: &client::Endpoint,
    key: &str,
    stream: MaybeTlsStream<TcpStream>,
    deadline: Duration,
) -> (Hop, Option<Socket>) {
    let started = Instant::now();
    let path = format!("/app/{key}");
    let request = match endpoint.uri(key).and_then(|u| {
        u.to_string()
            .into_client_request()
            .map_err(|e| e.to_string())
    }) {
        Ok(r) => r,
        Err(e) => {
            return (
                Hop::fail(
                    "upgrade",
                    Explanation::new(
                        format!("no WebSocket URL: {e}"),
                        "the host or key cannot make a URL",
                        "check the host and the key",
                    ),
                ),
                None,
            );
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let shaken = tokio::time::timeout(
        deadline,
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
    )
    .await;
    let took = started.elapsed();
    match shaken {
        Err(_) => (
            Hop::fail(
                "upgrade",
                Explanation::new(
                    format!(
                        "no answer to the WebSocket upgrade of {path} within {} s",
                        deadline.as_secs_f32()
                    ),
                    "the server accepted the connection but does not answer HTTP there",
                    "check that this port is the WebSocket server's (or its proxy's)",
                ),
            )
            .took(took),
            None,
        ),
        Ok(Err(e)) => {
            let x = explain::connect_error(&e, endpoint, &path).unwrap_or_else(|| {
                Explanation::new(
                    format!(
                        "the WebSocket upgrade of {path} failed: {}",
                        net::http::error_chain(&e)
                    ),
                    "the server closed the connection or answered something that is not HTTP",
                    "check that this port is the WebSocket server's (or its proxy's)",
                )
            });
            let mut hop = Hop::fail("upgrade", x).took(took);
            if let tungstenite::Error::Http(resp) = &e
                && let Some(ct) = resp.headers().get(http::header::CONTENT_TYPE)
            {
                hop = hop.line(format!(
                    "Content-Type: {}",
                    String::from_utf8_lossy(ct.as_bytes())
                        .chars()
                        .take(100)
                        .collect::<String>()
                ));
            }
            (hop, None)
        }
        Ok(Ok((socket, response))) => {
            let header = |name: http::header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .map(|v| {
                        String::from_utf8_lossy(v.as_bytes())
                            .chars()
                            .take(100)
                            .collect::<String>()
                    })
                    .unwrap_or_else(|| "(none)".into())
            };
            let hop = Hop::pass("upgrade", format!("HTTP {} on {path}", response.status()))
                .line(format!(
                    "Upgrade: {}, Connection: {}",
                    header(http::header::UPGRADE),
                    header(http::header::CONNECTION)
                ))
                .took(took);
            (hop, Some(socket))
        }
    }
}

/// What the connection's first message said.
pub(crate) struct Established {
    pub socket_id: String,
}

pub(crate) async fn connected(
    socket: &mut Socket,
    deadline: Duration,
) -> (Hop, Option<Established>) {
    let started = Instant::now();
    let until = tokio::time::Instant::now() + deadline;
    let mut unreadable = 0usize;
    loop {
        match next(socket, until).await {
            Read::Timeout if unreadable > 0 => {
                return (
                    Hop::fail(
                        "connect",
                        Explanation::new(
                            format!(
                                "no valid pusher:connection_established within {} s: {unreadable} message(s) that are not the Pusher protocol's, or malformed",
                                deadline.as_secs_f32()
                            ),
                            "the server answered, but not as a Pusher protocol 7 server does (a connection_established without a socket id or activity timeout as numbers, or not JSON)",
                            "check that this is a Pusher protocol 7 server (Reverb, sockudo, soketi, tickertape serve), and its version",
                        ),
                    )
                    .took(started.elapsed()),
                    None,
                );
            }
            Read::Timeout => {
                return (
                    Hop::fail(
                        "connect",
                        Explanation::new(
                            format!("no pusher:connection_established within {} s", deadline.as_secs_f32()),
                            "the WebSocket opened, but the server does not speak the Pusher protocol there (or is stalled)",
                            "check that this is a Pusher protocol 7 server (Reverb, sockudo, soketi, tickertape serve)",
                        ),
                    )
                    .took(started.elapsed()),
                    None,
                );
            }
            Read::Closed(code, reason) => {
                let x = match code {
                    Some(c) if c >= 4000 => explain::pusher_error(Some(c), &reason),
                    _ => Explanation::new(
                        format!(
                            "the server closed the WebSocket before pusher:connection_established ({})",
                            code.map_or("no close code".into(), |c| c.to_string())
                        ),
                        "the server refused the connection without saying why: most often the app key is not one of its apps (sockudo resets the connection so for an unknown key)",
                        "check the app key (REVERB_APP_KEY or PUSHER_APP_KEY) against the server's apps, and see the server's log",
                    ),
                };
                return (Hop::fail("connect", x).took(started.elapsed()), None);
            }
            Read::Message(ServerMessage::ConnectionEstablished {
                socket_id,
                activity_timeout,
            }) => {
                let hop = Hop::pass(
                    "connect",
                    format!(
                        "pusher:connection_established: socket {socket_id}, activity timeout {}",
                        activity_timeout.map_or("not given".into(), |t| format!("{t} s"))
                    ),
                )
                .took(started.elapsed());
                return (hop, Some(Established { socket_id }));
            }
            Read::Message(ServerMessage::Error(e)) => {
                return (
                    Hop::fail("connect", explain::pusher_error(e.code, &e.message))
                        .took(started.elapsed()),
                    None,
                );
            }
            Read::Unreadable => unreadable += 1,
            Read::Message(_) | Read::Other => continue,
        }
    }
}

/// One read from the socket.
pub(crate) enum Read {
    Message(ServerMessage),
    /// A frame that is not a message of the protocol (binary, a ping).
    Other,
    /// A text frame that is not a message of the protocol as it should be (not JSON, or a
    /// known event with a malformed `data`).
    Unreadable,
    Closed(Option<u16>, String),
    Timeout,
}

/// The next frame, before `until`. The server's pings are answered.
pub(crate) async fn next(socket: &mut Socket, until: tokio::time::Instant) -> Read {
    let frame = match tokio::time::timeout_at(until, socket.next()).await {
        Err(_) => return Read::Timeout,
        Ok(f) => f,
    };
    match frame {
        None => Read::Closed(None, "the connection ended".into()),
        Some(Err(e)) => Read::Closed(None, net::http::error_chain(&e)),
        Some(Ok(Message::Close(f))) => Read::Closed(
            f.as_ref().map(|f| u16::from(f.code)),
            f.map(|f| f.reason.to_string()).unwrap_or_default(),
        ),
        Some(Ok(Message::Text(t))) => match ServerMessage::decode(&t) {
            Ok(ServerMessage::Ping) => {
                let _ = send(socket, &ClientMessage::Pong).await;
                Read::Other
            }
            Ok(m) => Read::Message(m),
            Err(_) => Read::Unreadable,
        },
        Some(Ok(_)) => Read::Other,
    }
}

pub(crate) async fn send(socket: &mut Socket, message: &ClientMessage) -> Result<(), String> {
    socket
        .send(Message::text(message.encode()))
        .await
        .map_err(|e| net::http::error_chain(&e))
}

/// Closes the socket, briefly waiting for the server's answer.
pub(crate) async fn close(mut socket: Socket) {
    let _ = tokio::time::timeout(Duration::from_millis(250), async {
        let _ = socket.close(None).await;
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}
