//! Frames from the server, once connected: protocol events update the subscription table and
//! presence members; application events are decrypted where needed and handed on.

use protocol::safe_text::terminal_safe;

use std::borrow::Cow;
use std::time::SystemTime;

use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::engine::Engine;
use super::heard;
use super::item::{
    DataText, Item, MemberChange, ReceivedEvent, SubscriptionFailure, SubscriptionStatus,
};
use super::presence;
use super::session::{Live, Step};
use super::subscriptions::{Phase, Succeeded};
use protocol::channel::is_encrypted;
use protocol::frame::{Event, Located, PusherError};
use protocol::signature::expected_string_to_sign;
use protocol::{ClientMessage, Data, ServerMessage, crypto};

impl Engine {
    /// A text frame. An application event, the bulk of the traffic, is handed on here,
    /// with no future made for it; a protocol frame is given back, typed from its envelope
    /// (the frame is not parsed again), for [`Engine::on_protocol`].
    pub(super) fn on_text(&mut self, live: &Live, text: Utf8Bytes) -> Option<(Event, Utf8Bytes)> {
        self.stats.record_frame(text.len());
        // Application events, the bulk of the traffic, take the fast path: the envelope is
        // read, the data only located.
        let scanned = match self.scanner.scan(&text) {
            Ok(s) => s,
            Err(e) => {
                self.stats.malformed += 1;
                self.out.push(Item::Error(heard::text(format!(
                    "malformed frame ignored: {e}"
                ))));
                return None;
            }
        };
        if !is_protocol(&scanned.event) {
            let ev = match scanned.data {
                Located::Span(span) => {
                    let (channel, event) = self.names.of_frame(
                        self.scanner.generation(),
                        scanned.channel.as_deref(),
                        &scanned.event,
                    );
                    ReceivedEvent::in_frame(
                        live.read_at,
                        (channel, event, scanned.user_id),
                        span,
                        text,
                    )
                }
                Located::Decoded(data) => ReceivedEvent::decoded(
                    live.read_at,
                    scanned.channel.map(Cow::into_owned),
                    scanned.event.into_owned(),
                    *data,
                    scanned.user_id,
                    text,
                ),
            };
            self.deliver(ev);
            return None;
        }
        // A protocol frame may make the engine wait (to answer a ping): what was read before
        // it goes to the consumer first.
        self.out.hand_over();
        let env = scanned.into_event(&text);
        Some((env, text))
    }

    /// A protocol frame, from [`Engine::on_text`].
    pub(super) async fn on_protocol(
        &mut self,
        live: &mut Live,
        env: Event,
        text: Utf8Bytes,
    ) -> Step {
        let watchlist = (env.event == WATCHLIST).then(|| env.clone());
        let msg = match ServerMessage::from_envelope(env) {
            Ok(msg) => heard::message(msg),
            Err(e) => {
                self.stats.malformed += 1;
                self.out.push(Item::Error(heard::text(format!(
                    "malformed frame ignored: {e}"
                ))));
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
                    if let Some(list) = presence {
                        let list = list.into_iter().map(presence::kept).collect();
                        if let Some((members, me)) = self.subs.reset_members(&channel, list) {
                            self.push_members(channel, MemberChange::Snapshot { members, me });
                        }
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
                let member = presence::kept(member);
                if self.subs.add_member(&channel, &member) {
                    self.push_members(channel, MemberChange::Added(member));
                }
            }
            ServerMessage::MemberRemoved { channel, user_id } => {
                let user_id = presence::kept_id(user_id);
                if self.subs.remove_member(&channel, &user_id) {
                    self.push_members(channel, MemberChange::Removed(user_id));
                }
            }
            ServerMessage::SigninSuccess { user_data } => {
                self.on_signin_success(live, user_data).await?
            }
            ServerMessage::CacheMiss { channel } => self.deliver(ReceivedEvent::decoded(
                live.read_at,
                Some(channel),
                "pusher:cache_miss".into(),
                Data::Absent,
                None,
                text,
            )),
            ServerMessage::WatchlistEvents(_) => {
                if let Some(env) = watchlist {
                    self.deliver(decoded(env, live.read_at, text));
                }
            }
            ServerMessage::Event(ev) => self.deliver(decoded(ev, live.read_at, text)),
        }
        Ok(())
    }

    /// Hands an event on, decrypting it first on encrypted channels.
    fn deliver(&mut self, mut ev: ReceivedEvent) {
        self.stats
            .record_event(ev.channel.as_ref(), &ev.event, ev.raw.len());
        if let Some(channel) = ev.channel.as_deref()
            && is_encrypted(channel)
            && !ev.event.starts_with("pusher")
        {
            let opened = match self.subs.key(channel) {
                Some(key) => {
                    let sealed = match ev.data_text() {
                        DataText::Absent => Cow::Borrowed("{}"),
                        DataText::Json(t) | DataText::Text(t) => t,
                    };
                    crypto::decrypt(key, &sealed).map_err(|e| e.to_string())
                }
                None => Err("no key for this encrypted channel (it is not subscribed)".to_owned()),
            };
            match opened {
                Ok(plain) => ev.set_plaintext(String::from_utf8_lossy(&plain).into_owned()),
                Err(e) => ev.set_decrypt_error(Some(e)),
            }
        }
        self.out.push(Item::from(ev));
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
        let count = self.subs.member_count(&channel);
        self.out.push(Item::Members {
            channel,
            change: Box::new(change),
            count,
        });
    }

    pub(super) fn fail(&mut self, channel: &str, failure: SubscriptionFailure) {
        // The log file may be read with `tail -f`: text from the wire is escaped there too.
        tracing::warn!(
            channel = %terminal_safe(channel),
            message = %terminal_safe(&failure.message),
            "subscription failed"
        );
        if self.subs.failed(channel, failure.clone()) {
            self.push_status(channel, SubscriptionStatus::Failed(failure));
        }
    }
}

/// The watchlist frame, handed on as an event too (its data as it came).
const WATCHLIST: &str = "pusher_internal:watchlist_events";

/// Frames the protocol defines, typed by [`ServerMessage::from_envelope`].
fn is_protocol(event: &str) -> bool {
    event.starts_with("pusher:") || event.starts_with("pusher_internal:")
}

fn decoded(ev: Event, received_at: SystemTime, raw: Utf8Bytes) -> ReceivedEvent {
    ReceivedEvent::decoded(received_at, ev.channel, ev.event, ev.data, ev.user_id, raw)
}
