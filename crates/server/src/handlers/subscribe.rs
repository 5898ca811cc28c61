//! `pusher:subscribe`: the channel name, the socket's rate budget, the signature and the
//! presence member are all checked before the hub is touched; the hub then checks its own
//! limits (an existing subscription, the socket's and the app's caps, a full presence channel)
//! before anything changes.

use std::time::Instant;

use serde_json::Value;

use super::Handler;
use crate::hub::SubscribeError;
use protocol::channel::{ChannelKind, SERVER_TO_USER_PREFIX, validate_channel};
use protocol::frame::{Member, PusherError, SubscriptionError};
use protocol::limits::MAX_USER_ID_LEN;
use protocol::{ServerMessage, signature};

/// A token bucket for subscribe requests: full enough for a client to resubscribe every
/// channel it may hold at once after a reconnect, refilled at a steady rate. Every request
/// takes a token, refused ones too. Every leave follows a join, so this bounds the presence
/// announcements one socket can cause.
pub(super) struct SubscribeBudget {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    at: Instant,
}

impl SubscribeBudget {
    pub(super) fn new(capacity: usize, per_second: u32, now: Instant) -> SubscribeBudget {
        let capacity = capacity.max(1) as f64;
        SubscribeBudget {
            tokens: capacity,
            capacity,
            per_second: f64::from(per_second.max(1)),
            at: now,
        }
    }

    pub(super) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

impl Handler {
    /// Refuses a subscription to this client only. The format is soketi's
    /// `pusher:subscription_error` on the channel, because pusher-js hands it to the
    /// channel's own `pusher:subscription_error` handler; the text is Pusher's wording, with
    /// the string that should have been signed.
    fn refuse_subscription(&self, channel: &str, kind: &str, status: u16, error: String) {
        self.log_event(
            "SUBSCRIPTION ERROR",
            &[
                ("channel", channel.into()),
                ("error", error.as_str().into()),
            ],
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

    /// `pusher:unsubscribe`: it takes its token from the same budgets as a subscribe (the
    /// socket's and its address's), since it takes the hub's lock as long: a flood of them,
    /// on channels the socket is not even on, would slow every publish. Past the budget it
    /// is not done, and the client is told.
    pub(super) fn unsubscribe(&mut self, channel: &str) {
        if !self.budget.take(Instant::now()) || !self.hub.take_subscribe_token(self.ip) {
            self.log_event(
                "UNSUBSCRIBE REFUSED",
                &[("channel", channel.into()), ("error", "rate limit".into())],
            );
            return self.error(
                Some(4301),
                format!(
                    "Too many subscribe and unsubscribe requests: the unsubscribe from \
                     {channel} was not done"
                ),
                Some(channel),
            );
        }
        if self.hub.unsubscribe(&self.app.id, &self.socket_id, channel) {
            self.log_event("UNSUBSCRIBED", &[("channel", channel.into())]);
        }
    }

    pub(super) fn subscribe(
        &mut self,
        channel: &str,
        auth: Option<&str>,
        channel_data: Option<&str>,
    ) {
        // Every request takes its token, refused or not: a stranger's refused requests cost
        // the server (and its log) as much as accepted ones.
        if !self.budget.take(Instant::now()) {
            return self.refuse_subscription(
                channel,
                "LimitReached",
                429,
                format!(
                    "Too many subscribe requests: over {} per second",
                    self.cfg.subscribes_per_second
                ),
            );
        }
        if !self.hub.take_subscribe_token(self.ip) {
            return self.refuse_subscription(
                channel,
                "LimitReached",
                429,
                format!(
                    "Too many subscribe requests from your address: over {} per second",
                    self.hub.limits().subscribes_per_ip
                ),
            );
        }
        let info = match validate_channel(channel, true) {
            Ok(info) => info,
            Err(e) => {
                return self.refuse_subscription(channel, "InvalidChannel", 400, e.to_string());
            }
        };
        if let Err(e) = self
            .hub
            .check_subscribe(&self.app.id, &self.socket_id, channel)
        {
            return self.hub_refused(channel, e);
        }
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
            // One user's joins, on all of its sockets, share one budget: a member with many
            // sockets cannot make the others hear of it more often than one socket could.
            if let Some(m) = &member
                && !self.hub.take_join_token(&self.app.id, &m.user_id)
            {
                return self.refuse_subscription(
                    channel,
                    "LimitReached",
                    429,
                    format!(
                        "Too many presence subscriptions for this user: over {} per second",
                        self.hub.limits().presence_joins_per_user
                    ),
                );
            }
        }
        match self
            .hub
            .subscribe(&self.app.id, &self.socket_id, channel, member)
        {
            // The hub queued the answer (and the cached event) itself.
            Ok(()) => self.log_event("SUBSCRIBED", &[("channel", channel.into())]),
            Err(e) => self.hub_refused(channel, e),
        }
    }

    /// Answers a subscription the hub refused. A second subscribe to the same channel gets
    /// Pusher's own answer, and the first subscription stands as it is.
    fn hub_refused(&self, channel: &str, e: SubscribeError) {
        match e {
            SubscribeError::Existing => {
                self.log_event(
                    "SUBSCRIPTION ERROR",
                    &[
                        ("channel", channel.into()),
                        ("error", "existing subscription".into()),
                    ],
                );
                self.send(&ServerMessage::Error(PusherError {
                    code: None,
                    message: format!("Existing subscription to channel {channel}"),
                    channel: None,
                }));
            }
            SubscribeError::Gone => {}
            e => self.refuse_subscription(channel, "LimitReached", 4100, e.to_string()),
        }
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
