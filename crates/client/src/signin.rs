//! User sign-in (§6.2): `pusher:signin` when asked for, and the one `pusher:signin_success`
//! that answers it, which opens the user's own `#server-to-user-{id}` channel.
//!
//! A `pusher:signin_success` is accepted only on the connection that sent `pusher:signin`,
//! and only once: a server that sends it unasked, or again and again, opens no channel.

use super::authorizer::{self, SignIn};
use super::engine::{AuthDone, Engine};
use super::item::{Item, SubscriptionFailure};
use super::session::{Live, Step};
use protocol::ClientMessage;
use protocol::channel::{SERVER_TO_USER_PREFIX, validate_channel};

impl Engine {
    /// On a new connection: the user channel belongs to the old connection's sign-in, so it is
    /// not resubscribed (the server would refuse it before the new sign-in); the new sign-in
    /// opens it again. Call before the channels are resubscribed.
    pub(super) fn reset_signin(&mut self) {
        self.signin.awaiting = None;
        if let Some(channel) = self.signin.channel.take() {
            self.subs.remove(&channel);
        }
    }

    /// Asks for the sign-in of this connection, when the configuration signs in.
    pub(super) fn start_signin(&mut self, live: &Live) {
        if !self.cfg.user.sign_in {
            return;
        }
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

    /// The signature is ready: sends `pusher:signin` (for the current connection only).
    pub(super) async fn on_signin_result(
        &mut self,
        live: &mut Live,
        socket_id: String,
        result: Result<SignIn, SubscriptionFailure>,
    ) -> Step {
        if socket_id != live.socket_id {
            return Ok(());
        }
        match result {
            Ok(s) => {
                live.send(ClientMessage::Signin {
                    auth: s.auth,
                    user_data: s.user_data,
                })
                .await?;
                self.signin.awaiting = Some(socket_id);
            }
            Err(f) => self
                .out
                .push(Item::Error(format!("sign-in failed: {}", f.message))),
        }
        Ok(())
    }

    /// `pusher:signin_success`: as pusher-js does, follow the user's own channel, but only
    /// in answer to this connection's own `pusher:signin`.
    pub(super) async fn on_signin_success(&mut self, live: &mut Live, user_data: String) -> Step {
        if self.signin.awaiting.as_deref() != Some(live.socket_id.as_str()) {
            self.out.push(Item::Error(
                "ignored a pusher:signin_success this connection did not ask for".into(),
            ));
            return Ok(());
        }
        self.signin.awaiting = None;
        let id = serde_json::from_str::<serde_json::Value>(&user_data)
            .ok()
            .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)));
        self.out.push(Item::SignedIn { user_data });
        let Some(id) = id else { return Ok(()) };
        let channel = format!("{SERVER_TO_USER_PREFIX}{id}");
        if validate_channel(&channel, true).is_err() {
            return Ok(());
        }
        self.signin.channel = Some(channel.clone());
        if self.subs.add(&channel) {
            self.start_subscription(live, channel).await?;
        }
        Ok(())
    }
}
