//! One WebSocket connection on the server: the handshake, then the client's frames until it
//! leaves. A writer task owns the socket's sending half and drains a bounded queue; the hub
//! and this reader put frames into it, and ask it to close through a one-slot `kick` channel.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout};

use super::ServerConfig;
use super::apps::App;
use super::hub::{ConnHandle, Hub};
use super::log::Log;
use crate::protocol::channel::{
    ChannelKind, SERVER_TO_USER_PREFIX, classify, is_client_event, validate_channel, validate_event,
};
use crate::protocol::frame::{Event, Member, PusherError, SubscriptionError};
use crate::protocol::limits::{CLIENT_EVENTS_PER_SECOND, MAX_EVENT_DATA_BYTES, MAX_USER_ID_LEN};
use crate::protocol::{ClientMessage, Data, ServerMessage, signature};

/// The query of the connection URL, checked before the upgrade completes.
pub enum Handshake {
    Ok(Arc<App>),
    /// Send `pusher:error` with this code and close with it.
    Refuse(u16, String),
}

pub fn check_handshake(cfg: &ServerConfig, key: &str, protocol: Option<&str>) -> Handshake {
    let Some(app) = cfg.apps.by_key(key) else {
        return Handshake::Refuse(4001, format!("App key {key} does not exist"));
    };
    if !app.enabled {
        return Handshake::Refuse(4003, "The app is not enabled".into());
    }
    match protocol.map(str::parse::<u32>) {
        None => Handshake::Refuse(4008, "No protocol version supplied".into()),
        Some(Ok(5..=7)) => Handshake::Ok(app),
        Some(_) => Handshake::Refuse(4007, "Unsupported protocol version: use protocol=7".into()),
    }
}

/// Closes a refused socket the protocol's way: the error event, then the close code.
pub async fn refuse(mut socket: WebSocket, code: u16, message: String) {
    let error = ServerMessage::Error(PusherError {
        code: Some(code),
        message: message.clone(),
        channel: None,
    });
    let _ = socket.send(Message::Text(error.encode().into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: message.into(),
        })))
        .await;
}

struct Conn {
    hub: Arc<Hub>,
    app: Arc<App>,
    cfg: Arc<ServerConfig>,
    log: Log,
    socket_id: String,
    handle: ConnHandle,
    /// Client events in the current one-second window.
    window: (Instant, u32),
    /// The channels this socket is subscribed to (at most [`MAX_SUBSCRIPTIONS`]).
    subscribed: HashSet<String>,
    /// The user this socket signed in as (`pusher:signin`).
    user: Option<String>,
}

/// Most channels one connection may subscribe to; past it, subscriptions are refused.
pub const MAX_SUBSCRIPTIONS: usize = 1000;

fn new_socket_id() -> String {
    format!(
        "{}.{}",
        rand::random_range(1..10_000_000_000u64),
        rand::random_range(1..10_000_000_000u64)
    )
}

pub async fn run(
    socket: WebSocket,
    hub: Arc<Hub>,
    app: Arc<App>,
    cfg: Arc<ServerConfig>,
    log: Log,
) {
    let (mut sink, mut stream) = socket.split();
    let (frames_tx, mut frames_rx) = mpsc::channel::<Utf8Bytes>(cfg.send_queue);
    let (kick_tx, mut kick_rx) = mpsc::channel::<(u16, String)>(1);
    let mut writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                Some((code, reason)) = kick_rx.recv() => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                frame = frames_rx.recv() => match frame {
                    Some(f) => if sink.send(Message::Text(f)).await.is_err() { break },
                    None => break,
                },
            }
        }
    });
    let mut conn = Conn {
        socket_id: new_socket_id(),
        handle: ConnHandle {
            frames: frames_tx,
            kick: kick_tx,
        },
        window: (Instant::now(), 0),
        subscribed: HashSet::new(),
        user: None,
        hub,
        app,
        cfg,
        log,
    };
    conn.hub
        .register(&conn.app.id, &conn.socket_id, conn.handle.clone());
    conn.log.line(
        "CONNECTION",
        format_args!("{} app {}", conn.socket_id, conn.app.id),
    );
    conn.send(&ServerMessage::ConnectionEstablished {
        socket_id: conn.socket_id.clone(),
        activity_timeout: Some(conn.cfg.activity_timeout.as_secs()),
    });

    let mut last_seen = Instant::now();
    let mut ping_sent: Option<Instant> = None;
    // Room kept in the send queue for the answers to one client message. A client's own
    // burst (resubscribing 1000 channels) waits for it to read, rather than overflowing its
    // queue and being closed as too slow; fan-out never waits (4100 when full).
    let headroom = (conn.cfg.send_queue / 4).clamp(1, 16);
    let reason = loop {
        let deadline = match ping_sent {
            Some(sent) => sent + conn.cfg.pong_timeout,
            None => last_seen + conn.cfg.activity_timeout,
        };
        let room = conn.handle.frames.capacity() >= headroom;
        let frames = conn.handle.frames.clone();
        tokio::select! {
            _ = frames.reserve_many(headroom), if !room => {}
            msg = stream.next(), if room => match msg {
                Some(Ok(Message::Text(text))) => {
                    last_seen = Instant::now();
                    ping_sent = None;
                    conn.on_text(&text);
                }
                Some(Ok(Message::Close(_))) | None => break "closed by the client",
                Some(Err(e)) => {
                    // Say why, where the socket can still carry a close frame.
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("Space limit") {
                        conn.handle.close(1009, "Message too big");
                        break "message too big";
                    }
                    conn.handle.close(1002, "Protocol error");
                    break "connection lost";
                }
                Some(Ok(_)) => {
                    last_seen = Instant::now();
                    ping_sent = None;
                }
            },
            _ = sleep_until(deadline.into()) => {
                if ping_sent.is_some() {
                    conn.handle.close(4201, "Pong reply not received in time");
                    break "no pong";
                }
                ping_sent = Some(Instant::now());
                conn.send(&ServerMessage::Ping);
            }
            _ = &mut writer => break "closed by the server",
        }
    };
    conn.hub.unregister(&conn.app.id, &conn.socket_id);
    conn.log.line(
        "DISCONNECTION",
        format_args!("{} ({reason})", conn.socket_id),
    );
    // Let the writer send a pending close frame, then stop it.
    let _ = timeout(Duration::from_secs(2), &mut writer).await;
    writer.abort();
}

impl Conn {
    /// Queues a frame for this client. A full queue means the client is too slow.
    fn send(&self, msg: &ServerMessage) {
        self.send_raw(msg.encode().into());
    }

    fn send_raw(&self, frame: Utf8Bytes) {
        if self.handle.frames.try_send(frame).is_err() {
            self.handle.close(4100, "Client too slow: send queue full");
        }
    }

    fn error(&self, code: Option<u16>, message: String, channel: Option<&str>) {
        self.send(&ServerMessage::Error(PusherError {
            code,
            message,
            channel: channel.map(str::to_owned),
        }));
    }

    fn on_text(&mut self, text: &str) {
        let msg = match ClientMessage::decode(text) {
            Ok(m) => m,
            Err(e) => return self.error(None, format!("Invalid message format: {e}"), None),
        };
        match msg {
            ClientMessage::Ping => self.send(&ServerMessage::Pong),
            ClientMessage::Pong => {}
            ClientMessage::Subscribe {
                channel,
                auth,
                channel_data,
            } => self.subscribe(&channel, auth.as_deref(), channel_data.as_deref()),
            ClientMessage::Unsubscribe { channel } => {
                self.subscribed.remove(&channel);
                self.hub
                    .unsubscribe(&self.app.id, &self.socket_id, &channel);
                self.log
                    .line("UNSUBSCRIBED", format_args!("{} {channel}", self.socket_id));
            }
            ClientMessage::Signin { auth, user_data } => self.signin(&auth, &user_data),
            ClientMessage::Event(ev) => self.client_event(ev),
        }
    }

    /// Refuses a subscription to this client only. The format is soketi's
    /// `pusher:subscription_error` on the channel, because pusher-js hands it to the
    /// channel's own `pusher:subscription_error` handler; the text is Pusher's wording, with
    /// the string that should have been signed.
    fn refuse_subscription(&self, channel: &str, kind: &str, status: u16, error: String) {
        self.log.line(
            "SUBSCRIPTION ERROR",
            format_args!("{} {channel}: {error}", self.socket_id),
        );
        self.send(&ServerMessage::SubscriptionError {
            channel: channel.to_owned(),
            error: SubscriptionError {
                kind: kind.to_owned(),
                error,
                status: Some(status),
            },
        });
    }

    fn subscribe(&mut self, channel: &str, auth: Option<&str>, channel_data: Option<&str>) {
        let info = match validate_channel(channel, true) {
            Ok(info) => info,
            Err(e) => {
                return self.refuse_subscription(channel, "InvalidChannel", 400, e.to_string());
            }
        };
        // pusher-js subscribes to its own server-to-user channel after signing in; no other.
        if info.kind == ChannelKind::ServerToUser
            && self.user.as_deref() != channel.strip_prefix(SERVER_TO_USER_PREFIX)
        {
            return self.refuse_subscription(
                channel,
                "AuthError",
                403,
                format!("{channel} is only for the user signed in as its id (pusher:signin first)"),
            );
        }
        if !self.subscribed.contains(channel) && self.subscribed.len() >= MAX_SUBSCRIPTIONS {
            return self.refuse_subscription(
                channel,
                "LimitReached",
                4100,
                format!(
                    "Too many subscriptions on one connection (the limit is {MAX_SUBSCRIPTIONS})"
                ),
            );
        }
        let mut member = None;
        if info.needs_auth() {
            let Some(auth) = auth else {
                return self.refuse_subscription(
                    channel,
                    "AuthError",
                    401,
                    format!("Auth info required to subscribe to {channel}"),
                );
            };
            let data = if info.is_presence() {
                channel_data
            } else {
                None
            };
            let string = signature::channel_string_to_sign(&self.socket_id, channel, data);
            if let Err(e) =
                signature::verify_auth(&self.app.key, self.app.secret.expose(), &string, auth)
            {
                let message = match e {
                    signature::AuthError::BadSignature { string_to_sign } => format!(
                        "Invalid signature: Expected HMAC SHA256 hex digest of {string_to_sign}, but got {}",
                        auth.split_once(':').map_or(auth, |(_, s)| s)
                    ),
                    other => {
                        format!("Auth value for subscription to {channel} is invalid: {other}")
                    }
                };
                return self.refuse_subscription(channel, "AuthError", 401, message);
            }
            if info.is_presence() {
                match parse_member(channel_data) {
                    Ok(m) => member = Some(m),
                    Err(e) => return self.refuse_subscription(channel, "AuthError", 400, e),
                }
            }
        }
        match self
            .hub
            .subscribe(&self.app.id, &self.socket_id, channel, member)
        {
            Ok(joined) => {
                self.subscribed.insert(channel.to_owned());
                self.log
                    .line("SUBSCRIBED", format_args!("{} {channel}", self.socket_id));
                self.send(&ServerMessage::SubscriptionSucceeded {
                    channel: channel.to_owned(),
                    presence: joined.presence,
                });
                match joined.cached {
                    Some(Some(frame)) => self.send_raw(frame),
                    Some(None) => self.send(&ServerMessage::CacheMiss {
                        channel: channel.to_owned(),
                    }),
                    None => {}
                }
            }
            Err(e) => self.refuse_subscription(channel, "LimitReached", 4100, e),
        }
    }

    fn signin(&mut self, auth: &str, user_data: &str) {
        let string = signature::user_string_to_sign(&self.socket_id, user_data);
        let id = serde_json::from_str::<Value>(user_data)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .filter(|id| !id.is_empty());
        match (
            signature::verify_auth(&self.app.key, self.app.secret.expose(), &string, auth),
            id,
        ) {
            (Ok(()), Some(id)) => {
                self.hub.set_user(&self.app.id, &self.socket_id, &id);
                self.user = Some(id.clone());
                self.log
                    .line("SIGNIN", format_args!("{} as {id}", self.socket_id));
                self.send(&ServerMessage::SigninSuccess {
                    user_data: user_data.to_owned(),
                });
            }
            (Err(e), _) => {
                self.error(Some(4009), format!("Invalid sign-in: {e}"), None);
                self.handle.close(4009, "Connection not authorized");
            }
            (Ok(()), None) => {
                self.error(
                    Some(4009),
                    "Invalid sign-in: user_data needs a non-empty string id".into(),
                    None,
                );
                self.handle.close(4009, "Connection not authorized");
            }
        }
    }

    fn client_event(&mut self, ev: Event) {
        let Some(channel) = ev.channel.clone() else {
            return self.error(None, format!("{} needs a channel", ev.event), None);
        };
        let rejected = |why: String| (Some(4301), why);
        let verdict = if !is_client_event(&ev.event) {
            Err((
                None,
                format!(
                    "Unknown event {:?}: client events must start with client-",
                    ev.event
                ),
            ))
        } else if !self.app.client_events {
            Err(rejected(
                "Client events are not enabled for this app".into(),
            ))
        } else if !classify(&channel).allows_client_events() {
            Err(rejected(format!(
                "Client events are only allowed on private and presence channels, not {channel}"
            )))
        } else if let Err(e) = validate_event(&ev.event) {
            Err(rejected(e.to_string()))
        } else if ev.data.to_wire_string().len() > MAX_EVENT_DATA_BYTES {
            Err(rejected(format!(
                "Client event data is over {MAX_EVENT_DATA_BYTES} bytes"
            )))
        } else if !self.take_rate_token() {
            Err(rejected(format!(
                "Client event rejected: over {CLIENT_EVENTS_PER_SECOND} per second"
            )))
        } else {
            Ok(())
        };
        if let Err((code, message)) = verdict {
            return self.error(code, message, Some(&channel));
        }
        let Some(user) = self
            .hub
            .subscription(&self.app.id, &self.socket_id, &channel)
        else {
            return self.error(
                Some(4301),
                format!("Not subscribed to {channel}"),
                Some(&channel),
            );
        };
        self.log.line(
            "CLIENT EVENT",
            format_args!("{} {channel} {}", self.socket_id, ev.event),
        );
        let frame = ServerMessage::Event(Event {
            user_id: user,
            channel: Some(channel.clone()),
            ..ev
        })
        .encode();
        self.hub
            .publish(&self.app.id, &channel, frame.into(), Some(&self.socket_id));
    }

    fn take_rate_token(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(1) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        self.window.1 <= CLIENT_EVENTS_PER_SECOND
    }
}

/// The presence member a subscription's `channel_data` describes.
fn parse_member(channel_data: Option<&str>) -> Result<Member, String> {
    let data = channel_data.ok_or("presence channels need channel_data with a user_id")?;
    let v: Value =
        serde_json::from_str(data).map_err(|e| format!("channel_data is not JSON: {e}"))?;
    let user_id = match v.get("user_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("channel_data needs a user_id (a string or a number)".into()),
    };
    if user_id.len() > MAX_USER_ID_LEN {
        return Err(format!("user_id is over {MAX_USER_ID_LEN} characters"));
    }
    let user_info = v.get("user_info").cloned().unwrap_or(Value::Null);
    if user_info.to_string().len() > 1024 {
        return Err("user_info is over 1 KB".into());
    }
    Ok(Member { user_id, user_info })
}

/// The frame of an event triggered through the REST API.
pub fn event_frame(channel: &str, event: &str, data: &str) -> Utf8Bytes {
    ServerMessage::Event(Event {
        event: event.to_owned(),
        channel: Some(channel.to_owned()),
        data: Data::Text(data.to_owned()),
        user_id: None,
    })
    .encode()
    .into()
}
