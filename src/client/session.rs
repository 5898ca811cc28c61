//! One live connection: the handshake, then frames, heartbeats, commands and auth results,
//! until something ends it. Every wait is inside one `select!`, so the socket is always read
//! and server pings are always answered, however slow the consumer is.

use std::time::{Duration, Instant, SystemTime};

use futures_util::{SinkExt, StreamExt};
use tokio::time::{sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::authorizer::{self, Grant, Mode};
use super::command::Command;
use super::engine::{AuthDone, Engine, Next};
use super::item::{
    ConnectionState, Item, MemberChange, Reason, ReceivedEvent, SubscriptionFailure,
    SubscriptionStatus,
};
use super::subscriptions::{Phase, Succeeded, Unsubscribe};
use super::transport::{self, Socket};
use crate::protocol::channel::{classify, is_client_event};
use crate::protocol::close::handshake_error_action;
use crate::protocol::frame::{Event, PusherError};
use crate::protocol::signature::{expected_string_to_sign, validate_socket_id};
use crate::protocol::{ClientMessage, Data, ServerMessage, crypto};

/// A write that takes longer than this means the connection is gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Live {
    ws: Socket,
    socket_id: String,
    activity: Duration,
    last_seen: Instant,
    ping_sent: Option<Instant>,
}

type Step = Result<(), Next>;

impl Live {
    async fn send(&mut self, msg: ClientMessage) -> Step {
        match timeout(SEND_TIMEOUT, self.ws.send(Message::text(msg.encode()))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Next::Backoff(Reason::Io(transport::describe(e)))),
            Err(_) => Err(Next::Backoff(Reason::Io("send timed out".into()))),
        }
    }

    /// When the heartbeat timer fires: the pong deadline while a ping is unanswered,
    /// else the end of the activity period.
    fn deadline(&self, pong_timeout: Duration) -> Instant {
        match self.ping_sent {
            Some(sent) if self.last_seen <= sent => sent + pong_timeout,
            _ => self.last_seen + self.activity,
        }
    }
}

fn close_next(frame: Option<CloseFrame>) -> Next {
    match frame {
        Some(f) => Next::from_close(f.code.into(), f.reason.to_string()),
        None => Next::from_close(1005, String::new()),
    }
}

impl Engine {
    pub(super) async fn session(&mut self, ws: Socket) -> Next {
        let mut live = match self.handshake(ws).await {
            Ok(live) => live,
            Err(next) => return next,
        };
        self.stats.connections += 1;
        self.backoff.reset();
        self.set_state(
            ConnectionState::Connected,
            None,
            None,
            Some(live.socket_id.clone()),
        );
        let next = match self.start_session(&mut live).await {
            Ok(()) => self.serve(&mut live).await,
            Err(next) => next,
        };
        if matches!(next, Next::Shutdown(_)) {
            transport::close(&mut live.ws, 1000, "").await;
        }
        next
    }

    async fn handshake(&mut self, mut ws: Socket) -> Result<Live, Next> {
        let limit = self.cfg.connect_timeout;
        loop {
            let frame = timeout(limit, ws.next()).await.map_err(|_| {
                Next::Backoff(Reason::Handshake(format!(
                    "no pusher:connection_established within {} s",
                    limit.as_secs_f32()
                )))
            })?;
            let text = match frame {
                None => {
                    return Err(Next::Backoff(Reason::Io(
                        "closed during the handshake".into(),
                    )));
                }
                Some(Err(e)) => return Err(Next::Backoff(Reason::Io(transport::describe(e)))),
                Some(Ok(Message::Close(f))) => return Err(close_next(f)),
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(_)) => continue,
            };
            self.stats.record_frame(text.len());
            return match ServerMessage::decode(&text) {
                Ok(ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                }) => {
                    validate_socket_id(&socket_id)
                        .map_err(|e| Next::Backoff(Reason::Handshake(e.to_string())))?;
                    let server = activity_timeout.map(|s| Duration::from_secs(s.max(1)));
                    let activity = server.map_or(self.cfg.activity_timeout, |s| {
                        s.min(self.cfg.activity_timeout)
                    });
                    Ok(Live {
                        ws,
                        socket_id,
                        activity,
                        last_seen: Instant::now(),
                        ping_sent: None,
                    })
                }
                Ok(ServerMessage::Error(e)) => Err(Next::from_action(
                    handshake_error_action(e.code),
                    Reason::PusherError {
                        code: e.code,
                        message: e.message,
                    },
                )),
                Ok(_) => Err(Next::Backoff(Reason::Handshake(format!(
                    "expected pusher:connection_established first, got {}",
                    crate::protocol::frame::decode_envelope(&text)
                        .map_or_else(|_| "?".into(), |e| e.event)
                )))),
                Err(e) => Err(Next::Backoff(Reason::Handshake(e.to_string()))),
            };
        }
    }

    /// Resubscribes every channel and signs in, on each new connection.
    async fn start_session(&mut self, live: &mut Live) -> Step {
        for channel in self.subs.reset_all() {
            self.start_subscription(live, channel).await?;
        }
        if self.cfg.user.sign_in {
            let (cfg, http, tx, socket_id) = (
                self.cfg.clone(),
                self.http(),
                self.auth_tx.clone(),
                live.socket_id.clone(),
            );
            tokio::spawn(async move {
                let result = authorizer::sign_in(&cfg, &http, &socket_id).await;
                let _ = tx.send(AuthDone::SignIn { socket_id, result }).await;
            });
        }
        Ok(())
    }

    async fn serve(&mut self, live: &mut Live) -> Next {
        let tx = self.out.sender();
        loop {
            let deadline = live.deadline(self.cfg.pong_timeout);
            let step = tokio::select! {
                frame = live.ws.next() => self.on_frame(live, frame).await,
                _ = sleep_until(deadline.into()) => self.on_timer(live).await,
                cmd = self.cmds.recv(), if self.cmds_open => match cmd {
                    Some(cmd) => self.on_command(live, cmd).await,
                    None => {
                        self.cmds_open = false;
                        Ok(())
                    }
                },
                Some(done) = self.auth_rx.recv() => self.on_auth(live, done).await,
                permit = tx.reserve(), if self.out.has_pending() => match permit {
                    Ok(p) => {
                        self.out.send_pending(p);
                        Ok(())
                    }
                    Err(_) => Err(Next::Shutdown(Reason::Requested)),
                },
            };
            if let Err(next) = step {
                return next;
            }
            if self.out.is_closed() {
                return Next::Shutdown(Reason::Requested);
            }
        }
    }

    async fn on_timer(&mut self, live: &mut Live) -> Step {
        if live.ping_sent.is_some_and(|sent| live.last_seen <= sent) {
            // pusher-js reconnects at once when the pong does not come.
            return Err(Next::Now(Reason::PongTimeout(self.cfg.pong_timeout)));
        }
        live.ping_sent = Some(Instant::now());
        live.send(ClientMessage::Ping).await
    }

    async fn on_frame(
        &mut self,
        live: &mut Live,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Step {
        let msg = match frame {
            None => {
                return Err(Next::from_close(
                    1006,
                    "connection lost without a close frame".into(),
                ));
            }
            Some(Err(e)) => return Err(Next::Backoff(Reason::Io(transport::describe(e)))),
            Some(Ok(msg)) => msg,
        };
        live.last_seen = Instant::now();
        match msg {
            Message::Text(text) => self.on_text(live, text).await,
            Message::Close(f) => Err(close_next(f)),
            Message::Binary(b) => {
                self.stats.malformed += 1;
                self.out.push(Item::Error(format!(
                    "ignored a binary frame of {} bytes: the protocol uses text frames",
                    b.len()
                )));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, live: &mut Live, text: Utf8Bytes) -> Step {
        self.stats.record_frame(text.len());
        let msg = match ServerMessage::decode(&text) {
            Ok(msg) => msg,
            Err(e) => {
                self.stats.malformed += 1;
                self.out
                    .push(Item::Error(format!("malformed frame ignored: {e}")));
                return Ok(());
            }
        };
        match msg {
            ServerMessage::Ping => live.send(ClientMessage::Pong).await?,
            ServerMessage::Pong => {
                if let Some(sent) = live.ping_sent.take() {
                    let rtt = sent.elapsed();
                    self.stats.last_rtt = Some(rtt);
                    self.out.push(Item::Pong { rtt });
                }
            }
            ServerMessage::ConnectionEstablished { .. } => {
                self.out.push(Item::Error(
                    "ignored a second pusher:connection_established".into(),
                ));
            }
            ServerMessage::Error(e) => self.on_pusher_error(e),
            ServerMessage::SubscriptionSucceeded { channel, presence } => match self
                .subs
                .succeeded(&channel)
            {
                Succeeded::Subscribed => {
                    self.push_status(&channel, SubscriptionStatus::Subscribed);
                    if let (Some(list), Some(members)) = (presence, self.subs.members_mut(&channel))
                    {
                        let me = members.me.clone();
                        members.reset(&list, me.clone());
                        self.push_members(channel, MemberChange::Snapshot { members: list, me });
                    }
                }
                Succeeded::Cancelled => live.send(ClientMessage::Unsubscribe { channel }).await?,
                Succeeded::Unexpected => {}
            },
            ServerMessage::SubscriptionError { channel, error } => {
                let message = if error.error.is_empty() {
                    error.kind.clone()
                } else {
                    error.error
                };
                let failure = SubscriptionFailure {
                    string_to_sign: expected_string_to_sign(&message).map(str::to_owned),
                    auth: error.kind == "AuthError" || matches!(error.status, Some(401 | 403)),
                    status: error.status,
                    message,
                };
                self.fail(&channel, failure);
            }
            ServerMessage::SubscriptionCount { channel, count } => {
                self.out.push(Item::SubscriptionCount { channel, count });
            }
            ServerMessage::MemberAdded { channel, member } => {
                if self
                    .subs
                    .members_mut(&channel)
                    .is_some_and(|ms| ms.add(&member))
                {
                    self.push_members(channel, MemberChange::Added(member));
                }
            }
            ServerMessage::MemberRemoved { channel, user_id } => {
                if self
                    .subs
                    .members_mut(&channel)
                    .is_some_and(|ms| ms.remove(&user_id))
                {
                    self.push_members(channel, MemberChange::Removed(user_id));
                }
            }
            ServerMessage::SigninSuccess { user_data } => {
                // As pusher-js does: follow the user's own channel.
                let id = serde_json::from_str::<serde_json::Value>(&user_data)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)));
                self.out.push(Item::SignedIn { user_data });
                if let Some(id) = id {
                    let channel =
                        format!("{}{id}", crate::protocol::channel::SERVER_TO_USER_PREFIX);
                    if crate::protocol::channel::validate_channel(&channel, true).is_ok()
                        && self.subs.add(&channel)
                    {
                        self.start_subscription(live, channel).await?;
                    }
                }
            }
            ServerMessage::CacheMiss { channel } => self.deliver(
                Event {
                    event: "pusher:cache_miss".into(),
                    channel: Some(channel),
                    data: Data::Absent,
                    user_id: None,
                },
                &text,
            ),
            ServerMessage::WatchlistEvents(_) => {
                if let Ok(env) = crate::protocol::frame::decode_envelope(&text) {
                    self.deliver(env, &text);
                }
            }
            ServerMessage::Event(ev) => self.deliver(ev, &text),
        }
        Ok(())
    }

    /// Hands an event on, decrypting it first on encrypted channels.
    fn deliver(&mut self, ev: Event, raw: &str) {
        self.stats
            .record_event(ev.channel.as_deref(), &ev.event, raw.len());
        let mut data = ev.data;
        let mut decrypt_error = None;
        if let Some(channel) = ev.channel.as_deref()
            && classify(channel).is_encrypted()
            && !ev.event.starts_with("pusher")
        {
            let opened = match self.subs.key(channel) {
                Some(key) => {
                    crypto::decrypt(key, &data.to_wire_string()).map_err(|e| e.to_string())
                }
                None => Err("no key for this encrypted channel (it is not subscribed)".to_owned()),
            };
            match opened {
                Ok(plain) => data = Data::from_text(String::from_utf8_lossy(&plain).into_owned()),
                Err(e) => decrypt_error = Some(e),
            }
        }
        self.out.push(Item::Event(ReceivedEvent {
            received_at: SystemTime::now(),
            channel: ev.channel,
            event: ev.event,
            data,
            user_id: ev.user_id,
            raw: raw.to_owned(),
            decrypt_error,
        }));
    }

    fn on_pusher_error(&mut self, e: PusherError) {
        let awaiting = |c: &String| {
            matches!(
                self.subs.phase(c),
                Some(Phase::Pending | Phase::Authorizing)
            )
        };
        let channel = e
            .channel
            .clone()
            .filter(awaiting)
            .or_else(|| self.subs.awaiting_named_in(&e.message));
        match channel {
            Some(channel) => {
                let string_to_sign = expected_string_to_sign(&e.message).map(str::to_owned);
                let failure = SubscriptionFailure {
                    auth: string_to_sign.is_some()
                        || e.message.contains("Auth")
                        || e.code == Some(4009),
                    string_to_sign,
                    status: e.code,
                    message: e.message,
                };
                self.fail(&channel, failure);
            }
            None => self.out.push(Item::Error(match e.code {
                Some(code) => format!("pusher:error {code}: {}", e.message),
                None => format!("pusher:error: {}", e.message),
            })),
        }
    }

    fn push_members(&mut self, channel: String, change: MemberChange) {
        let count = self.subs.members_mut(&channel).map_or(0, |m| m.count());
        self.out.push(Item::Members {
            channel,
            change,
            count,
        });
    }

    pub(super) fn fail(&mut self, channel: &str, failure: SubscriptionFailure) {
        tracing::warn!(channel, message = %failure.message, "subscription failed");
        if self.subs.failed(channel, failure.clone()) {
            self.push_status(channel, SubscriptionStatus::Failed(failure));
        }
    }

    async fn start_subscription(&mut self, live: &mut Live, channel: String) -> Step {
        self.push_status(&channel, SubscriptionStatus::Pending);
        if !classify(&channel).needs_auth() {
            return self.send_subscribe(live, channel, None).await;
        }
        match authorizer::channel_mode(&self.cfg) {
            Mode::Local => match authorizer::sign_locally(&self.cfg, &live.socket_id, &channel) {
                Ok(grant) => self.send_subscribe(live, channel, Some(grant)).await?,
                Err(failure) => self.fail(&channel, failure),
            },
            Mode::Endpoint(url) => {
                self.subs.set_authorizing(&channel);
                let (cfg, http, tx, socket_id) = (
                    self.cfg.clone(),
                    self.http(),
                    self.auth_tx.clone(),
                    live.socket_id.clone(),
                );
                tokio::spawn(async move {
                    let result =
                        authorizer::ask_endpoint(&cfg, &http, &url, &socket_id, &channel).await;
                    let _ = tx
                        .send(AuthDone::Channel {
                            socket_id,
                            channel,
                            result,
                        })
                        .await;
                });
            }
            Mode::Unavailable => {
                let failure = authorizer::sign_locally(&self.cfg, &live.socket_id, &channel)
                    .expect_err("no secret and no endpoint: local signing must fail");
                self.fail(&channel, failure);
            }
        }
        Ok(())
    }

    async fn send_subscribe(
        &mut self,
        live: &mut Live,
        channel: String,
        grant: Option<Grant>,
    ) -> Step {
        let (auth, channel_data, key) = match grant {
            Some(g) => (Some(g.auth), g.channel_data, g.key),
            None => (None, None, None),
        };
        if let (Some(data), Some(members)) = (&channel_data, self.subs.members_mut(&channel)) {
            members.me = serde_json::from_str::<serde_json::Value>(data)
                .ok()
                .and_then(|v| match v.get("user_id") {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                    None => None,
                });
        }
        self.subs.set_pending(&channel, key);
        live.send(ClientMessage::Subscribe {
            channel,
            auth,
            channel_data,
        })
        .await
    }

    async fn on_auth(&mut self, live: &mut Live, done: AuthDone) -> Step {
        match done {
            AuthDone::Channel {
                socket_id,
                channel,
                result,
            } => {
                // A result for an earlier connection, or for a channel no longer waiting.
                if socket_id != live.socket_id
                    || self.subs.phase(&channel) != Some(&Phase::Authorizing)
                {
                    return Ok(());
                }
                if self.subs.drop_if_cancelled(&channel) {
                    return Ok(());
                }
                match result {
                    Ok(grant) => self.send_subscribe(live, channel, Some(grant)).await?,
                    Err(failure) => self.fail(&channel, failure),
                }
            }
            AuthDone::SignIn { socket_id, result } if socket_id == live.socket_id => match result {
                Ok(s) => {
                    live.send(ClientMessage::Signin {
                        auth: s.auth,
                        user_data: s.user_data,
                    })
                    .await?
                }
                Err(f) => self
                    .out
                    .push(Item::Error(format!("sign-in failed: {}", f.message))),
            },
            AuthDone::SignIn { .. } => {}
        }
        Ok(())
    }

    async fn on_command(&mut self, live: &mut Live, cmd: Command) -> Step {
        match cmd {
            Command::Subscribe(channel) => {
                if self.subs.add(&channel) {
                    self.start_subscription(live, channel).await?;
                }
            }
            Command::Unsubscribe(channel) => match self.subs.remove(&channel) {
                Unsubscribe::Send => {
                    live.send(ClientMessage::Unsubscribe {
                        channel: channel.clone(),
                    })
                    .await?;
                    self.push_status(&channel, SubscriptionStatus::Unsubscribed);
                }
                Unsubscribe::Deferred | Unsubscribe::Removed => {
                    self.push_status(&channel, SubscriptionStatus::Unsubscribed)
                }
                Unsubscribe::Unknown => {}
            },
            Command::ClientEvent {
                channel,
                event,
                data,
                reply,
            } => {
                let verdict = self.check_client_event(&channel, &event);
                if verdict.is_ok() {
                    live.send(ClientMessage::Event(Event {
                        event,
                        channel: Some(channel),
                        data: Data::Json(data),
                        user_id: None,
                    }))
                    .await?;
                }
                let _ = reply.send(verdict);
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Command::Disconnect => return Err(Next::Shutdown(Reason::Requested)),
        }
        Ok(())
    }

    fn check_client_event(&self, channel: &str, event: &str) -> Result<(), String> {
        if !is_client_event(event) {
            return Err(format!(
                "client events must start with `client-`: {event:?}"
            ));
        }
        if !classify(channel).allows_client_events() {
            return Err(format!(
                "client events are only allowed on private and presence channels, not {channel}"
            ));
        }
        match self.subs.phase(channel) {
            Some(Phase::Subscribed) => Ok(()),
            _ => Err(format!("not subscribed to {channel} (yet)")),
        }
    }
}
