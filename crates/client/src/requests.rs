//! What the engine sends on its own behalf or the front end's: subscriptions (authorized
//! locally or through an endpoint), auth results, client events and other commands.

use super::authorizer::{self, Grant, Mode};
use super::command::Command;
use super::engine::{AuthDone, Engine, Next};
use super::item::{Reason, SubscriptionFailure, SubscriptionStatus};
use super::session::{Live, Step};
use super::subscriptions::{Phase, Unsubscribe};
use protocol::channel::{classify, is_client_event};
use protocol::frame::Event;
use protocol::limits::MAX_SUBSCRIBE_BYTES;
use protocol::{ClientMessage, Data};

/// Why a grant too big to send failed its subscription.
fn oversized_grant(size: usize) -> SubscriptionFailure {
    SubscriptionFailure {
        message: format!(
            "the grant makes a pusher:subscribe of {size} bytes, over the {MAX_SUBSCRIBE_BYTES} \
             that servers accept (Pusher allows 1 KB of user_info in channel_data): not sent; \
             the auth endpoint must answer a smaller channel_data"
        ),
        status: None,
        string_to_sign: None,
        auth: true,
    }
}

impl Engine {
    pub(super) async fn start_subscription(&mut self, live: &mut Live, channel: String) -> Step {
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
        if let Some(data) = &channel_data {
            let me = serde_json::from_str::<serde_json::Value>(data)
                .ok()
                .and_then(|v| match v.get("user_id") {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                    None => None,
                })
                .map(super::presence::kept_id);
            self.subs.set_me(&channel, me);
        }
        let msg = ClientMessage::Subscribe {
            channel: channel.clone(),
            auth,
            channel_data,
        };
        let size = msg.encode().len();
        if size > MAX_SUBSCRIBE_BYTES {
            // Sent, it would get the socket closed (1009) and this grant asked for again on
            // every reconnect: only this subscription fails, and the connection stays.
            self.fail(&channel, oversized_grant(size));
            return Ok(());
        }
        self.subs.set_pending(&channel, key);
        live.send(msg).await
    }

    pub(super) async fn on_auth(&mut self, live: &mut Live, done: AuthDone) -> Step {
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
            AuthDone::SignIn { socket_id, result } => {
                self.on_signin_result(live, socket_id, result).await?
            }
        }
        Ok(())
    }

    pub(super) async fn on_command(&mut self, live: &mut Live, cmd: Command) -> Step {
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
