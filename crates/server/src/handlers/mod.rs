//! What the server does with each frame a client sends. A [`Handler`] answers through the
//! connection's bounded send queue and asks to close through its kick slot, the same two
//! paths the hub uses; it performs no I/O itself, so it can be driven without a socket.

mod client_event;
mod subscribe;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;

use super::ServerConfig;
use super::apps::App;
use super::hub::{ConnHandle, Hub};
use super::log::{Field, Log};
use super::queue::QueueTx;
use protocol::frame::{Event, PusherError};
use protocol::{ClientMessage, Close, Data, ServerMessage, signature};
use subscribe::SubscribeBudget;

pub struct Handler {
    hub: Arc<Hub>,
    app: Arc<App>,
    cfg: Arc<ServerConfig>,
    log: Log,
    socket_id: String,
    handle: ConnHandle,
    /// Client events in the current one-second window.
    window: (Instant, u32),
    /// Subscribe requests this socket may still make now.
    budget: SubscribeBudget,
    /// The user this socket signed in as (`pusher:signin`).
    user: Option<String>,
    /// The address it came from, whose budgets it shares with the address's other sockets.
    ip: IpAddr,
}

fn new_socket_id() -> String {
    format!(
        "{}.{}",
        rand::random_range(1..10_000_000_000u64),
        rand::random_range(1..10_000_000_000u64)
    )
}

impl Handler {
    /// A handler for a socket made in-process, with no address.
    #[cfg(any(test, feature = "testing"))]
    pub fn new(
        hub: Arc<Hub>,
        app: Arc<App>,
        cfg: Arc<ServerConfig>,
        log: Log,
        handle: ConnHandle,
    ) -> Handler {
        Handler::new_from(hub, app, cfg, log, handle, crate::hub::NO_ADDRESS)
    }

    /// A handler for a socket that came from `ip`.
    pub fn new_from(
        hub: Arc<Hub>,
        app: Arc<App>,
        cfg: Arc<ServerConfig>,
        log: Log,
        handle: ConnHandle,
        ip: IpAddr,
    ) -> Handler {
        // A burst of every channel the socket may hold (a reconnect resubscribes them all)
        // and one second's worth more, for the refused requests that come with it.
        let budget = SubscribeBudget::new(
            hub.limits()
                .max_subscriptions
                .saturating_add(cfg.subscribes_per_second as usize),
            cfg.subscribes_per_second,
            Instant::now(),
        );
        Handler {
            socket_id: new_socket_id(),
            window: (Instant::now(), 0),
            budget,
            user: None,
            ip,
            hub,
            app,
            cfg,
            log,
            handle,
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn socket_id(&self) -> &str {
        &self.socket_id
    }

    pub fn cfg(&self) -> &Arc<ServerConfig> {
        &self.cfg
    }

    pub fn frames(&self) -> &QueueTx {
        &self.handle.frames
    }

    /// Joins the hub and greets the client.
    pub fn start(&mut self) {
        self.hub
            .register_from(&self.app.id, &self.socket_id, self.handle.clone(), self.ip);
        self.log_event("CONNECTION", &[]);
        self.send(&ServerMessage::ConnectionEstablished {
            socket_id: self.socket_id.clone(),
            activity_timeout: Some(self.cfg.activity_timeout.as_secs()),
        });
    }

    /// Leaves the hub: no more fan-out, and presence members are removed at once.
    pub fn leave(&mut self, why: &str) {
        self.hub.unregister(&self.app.id, &self.socket_id);
        self.log_event("DISCONNECTION", &[("why", why.into())]);
    }

    /// A log line about this connection: its app and socket id, then `fields`.
    fn log_event(&self, kind: &str, fields: &[(&str, Field<'_>)]) {
        if !self.log.enabled() {
            return;
        }
        let mut all = vec![
            ("app", Field::Str(&self.app.id)),
            ("socket_id", Field::Str(&self.socket_id)),
        ];
        all.extend_from_slice(fields);
        self.log.event(kind, &all);
    }

    /// Queues a frame for this client. A full queue means the client is too slow.
    pub fn send(&self, msg: &ServerMessage) {
        self.send_raw(msg.encode().into());
    }

    fn send_raw(&self, frame: Utf8Bytes) {
        if self.handle.frames.offer(frame).is_err() {
            self.handle.close(Close::TOO_SLOW);
        }
    }

    fn error(&self, code: Option<u16>, message: String, channel: Option<&str>) {
        self.send(&ServerMessage::Error(PusherError {
            code,
            message,
            channel: channel.map(str::to_owned),
        }));
    }

    /// Handles one text frame from the client.
    pub fn on_text(&mut self, text: &str) {
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
            ClientMessage::Unsubscribe { channel } => self.unsubscribe(&channel),
            ClientMessage::Signin { auth, user_data } => self.signin(&auth, &user_data),
            ClientMessage::Event(ev) => self.client_event(ev),
        }
    }

    fn signin(&mut self, auth: &str, user_data: &str) {
        let string = signature::user_string_to_sign(&self.socket_id, user_data);
        let parsed = serde_json::from_str::<Value>(user_data).ok();
        let id = parsed
            .as_ref()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .filter(|id| !id.is_empty());
        let (watchlist, over) = watchlist(parsed.as_ref());
        let verdict =
            signature::verify_auth(&self.app.key, self.app.secret.expose(), &string, auth)
                .map_err(|e| format!("Invalid sign-in: {e}"))
                .and_then(|()| {
                    id.ok_or_else(|| {
                        "Invalid sign-in: user_data needs a non-empty string id".to_owned()
                    })
                });
        match verdict {
            Ok(id) if self.user.as_ref().is_some_and(|u| *u != id) => self.error(
                None,
                format!("Already signed in as another user; sign-in as {id} ignored"),
                None,
            ),
            Ok(id) => {
                self.log_event("SIGNIN", &[("user_id", Field::Str(&id))]);
                self.send(&ServerMessage::SigninSuccess {
                    user_data: user_data.to_owned(),
                });
                if over {
                    self.error(
                        Some(4302),
                        format!(
                            "Watchlist limit exceeded: only the first {} ids are watched",
                            crate::hub::MAX_WATCHLIST
                        ),
                        None,
                    );
                }
                // After the success: the watched users online now are told after it.
                self.hub
                    .set_user(&self.app.id, &self.socket_id, &id, &watchlist);
                self.user = Some(id);
            }
            Err(message) => {
                // The error is queued ahead of the close, and the close path sends it first.
                self.error(Some(4009), message, None);
                self.handle.close(Close::UNAUTHORIZED);
            }
        }
    }
}

/// The distinct string ids of a user data's `watchlist`, the first
/// [`MAX_WATCHLIST`](crate::hub::MAX_WATCHLIST) of them, and whether there were more.
fn watchlist(user_data: Option<&Value>) -> (Vec<String>, bool) {
    let Some(list) = user_data
        .and_then(|v| v.get("watchlist"))
        .and_then(Value::as_array)
    else {
        return (Vec::new(), false);
    };
    let mut ids: Vec<String> = Vec::new();
    let mut over = false;
    for id in list
        .iter()
        .filter_map(Value::as_str)
        .filter(|id| !id.is_empty())
    {
        if ids.iter().any(|k| k == id) {
            continue;
        }
        if ids.len() == crate::hub::MAX_WATCHLIST {
            over = true;
            break;
        }
        ids.push(id.to_owned());
    }
    (ids, over)
}

/// The frame of an event triggered through the REST API.
pub(crate) fn event_frame(channel: &str, event: &str, data: &str) -> Utf8Bytes {
    ServerMessage::Event(Event {
        event: event.to_owned(),
        channel: Some(channel.to_owned()),
        data: Data::Text(data.to_owned()),
        user_id: None,
    })
    .encode()
    .into()
}
