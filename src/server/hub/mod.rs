//! The hub: every app's connections and channels, shared by the WebSocket sessions and the
//! REST API. One mutex guards it; every critical section is short and never waits, because
//! fan-out uses `try_send` into each subscriber's bounded queue. An event is serialised once
//! per channel, and the same bytes are queued for every subscriber. A subscriber whose queue
//! is full is closed with 4100 and counted, so it never stalls the others or grows memory.
//!
//! The hub is the one owner of who is subscribed where: each connection's entry lists its own
//! channels, so a disconnect costs O(its channels), never a scan of the app.

mod channel;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::queue::QueueTx;

use crate::protocol::frame::Member;
use crate::protocol::limits::MAX_PRESENCE_MEMBERS;
use crate::protocol::{Close, ServerMessage, channel::classify};
use channel::Channel;

/// How many channels and subscriptions strangers may make the hub hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubLimits {
    /// Channels one app keeps (occupied, or cache channels holding an event).
    pub max_channels: usize,
    /// Channels one connection may be subscribed to.
    pub max_subscriptions: usize,
}

impl Default for HubLimits {
    fn default() -> HubLimits {
        HubLimits {
            max_channels: 100_000,
            max_subscriptions: 1000,
        }
    }
}

/// How a connection is reached: its send queue, and a slot to ask it to close.
#[derive(Clone)]
pub struct ConnHandle {
    pub frames: QueueTx,
    pub kick: mpsc::Sender<Close>,
}

impl ConnHandle {
    /// Asks the connection to close; a second request while one is pending is ignored.
    pub fn close(&self, close: Close) {
        let _ = self.kick.try_send(close);
    }
}

#[derive(Default)]
struct AppState {
    conns: HashMap<String, Conn>,
    channels: HashMap<String, Channel>,
}

struct Conn {
    handle: ConnHandle,
    user_id: Option<String>,
    /// The channels this connection is subscribed to.
    channels: HashSet<String>,
}

/// Counters for logs and tests.
#[derive(Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub api_messages: AtomicU64,
}

/// Why a subscription was refused by the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeError {
    /// The socket is on the channel already (Pusher's "Existing subscription").
    Existing,
    /// The socket is no longer registered (it is closing).
    Gone,
    /// The socket is at its subscription limit.
    TooManySubscriptions(usize),
    /// The app is at its channel limit.
    TooManyChannels(usize),
    /// The presence channel has its maximum of distinct members.
    PresenceFull(usize),
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::Existing => f.write_str("Existing subscription to channel"),
            SubscribeError::Gone => f.write_str("The connection is closing"),
            SubscribeError::TooManySubscriptions(n) => write!(
                f,
                "Too many subscriptions on one connection (the limit is {n})"
            ),
            SubscribeError::TooManyChannels(n) => {
                write!(f, "The app has too many channels (the limit is {n})")
            }
            SubscribeError::PresenceFull(n) => write!(f, "presence channel is full ({n} members)"),
        }
    }
}

pub struct Hub {
    apps: Mutex<HashMap<String, AppState>>,
    limits: HubLimits,
    /// Sessions still running, closing ones included: shutdown waits for them.
    live: AtomicUsize,
    pub counters: Counters,
}

/// What a successful subscription sends back.
pub struct Joined {
    pub presence: Option<Vec<Member>>,
    /// Cache channels: the last event, or `None` for a cache miss.
    pub cached: Option<Option<Utf8Bytes>>,
}

/// Occupancy of one channel, for the REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy {
    pub subscription_count: usize,
    pub user_count: usize,
}

/// Counts a running session for as long as it is held.
pub struct LiveSession(Arc<Hub>);

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Hub {
    /// A hub for these apps (by id); calls naming other apps see an empty app.
    pub fn new<'a>(app_ids: impl IntoIterator<Item = &'a str>, limits: HubLimits) -> Hub {
        Hub {
            apps: Mutex::new(
                app_ids
                    .into_iter()
                    .map(|id| (id.to_owned(), AppState::default()))
                    .collect(),
            ),
            limits,
            live: AtomicUsize::new(0),
            counters: Counters::default(),
        }
    }

    pub fn limits(&self) -> HubLimits {
        self.limits
    }

    fn with_app<R>(&self, app: &str, f: impl FnOnce(&mut AppState) -> R) -> R {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        match apps.get_mut(app) {
            Some(state) => f(state),
            None => f(&mut AppState::default()),
        }
    }

    /// Counts a session until the guard drops.
    pub fn live_session(self: &Arc<Hub>) -> LiveSession {
        self.live.fetch_add(1, Ordering::Relaxed);
        LiveSession(self.clone())
    }

    /// Sessions still running (including ones sending their close).
    pub fn live_sessions(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn register(&self, app: &str, socket_id: &str, handle: ConnHandle) {
        self.counters.connections.fetch_add(1, Ordering::Relaxed);
        self.with_app(app, |s| {
            s.conns.insert(
                socket_id.to_owned(),
                Conn {
                    handle,
                    user_id: None,
                    channels: HashSet::new(),
                },
            );
        });
    }

    /// Removes a connection and its subscriptions, in O(its own channels).
    pub fn unregister(&self, app: &str, socket_id: &str) {
        self.with_app(app, |s| {
            let Some(conn) = s.conns.remove(socket_id) else {
                return;
            };
            for name in &conn.channels {
                leave(s, &self.counters, name, socket_id);
            }
        });
    }

    pub fn set_user(&self, app: &str, socket_id: &str, user_id: &str) {
        self.with_app(app, |s| {
            if let Some(c) = s.conns.get_mut(socket_id) {
                c.user_id = Some(user_id.to_owned());
            }
        });
    }

    /// Whether a subscription would be taken, by every limit that does not depend on the
    /// presence member. A socket's refused requests are answered without touching anything.
    pub fn check_subscribe(
        &self,
        app: &str,
        socket_id: &str,
        channel: &str,
    ) -> Result<(), SubscribeError> {
        let limits = self.limits;
        self.with_app(app, |s| check(s, limits, socket_id, channel))
    }

    /// Subscribes a socket, checking every limit before anything changes.
    pub fn subscribe(
        &self,
        app: &str,
        socket_id: &str,
        channel: &str,
        member: Option<Member>,
    ) -> Result<Joined, SubscribeError> {
        let limits = self.limits;
        self.with_app(app, |s| {
            check(s, limits, socket_id, channel)?;
            if let (Some(m), Some(ch)) = (&member, s.channels.get(channel))
                && !ch.users.contains_key(&m.user_id)
                && ch.users.len() >= MAX_PRESENCE_MEMBERS
            {
                return Err(SubscribeError::PresenceFull(MAX_PRESENCE_MEMBERS));
            }
            let is_presence = member.is_some();
            let ch = s.channels.entry(channel.to_owned()).or_default();
            let announce = member.as_ref().and_then(|m| ch.add_member(m));
            ch.subs
                .insert(socket_id.to_owned(), member.map(|m| m.user_id));
            let presence = is_presence.then(|| ch.members());
            let cached = classify(channel).cache.then(|| ch.cached.clone());
            if let Some(m) = announce {
                let frame: Utf8Bytes = ServerMessage::MemberAdded {
                    channel: channel.to_owned(),
                    member: m,
                }
                .encode()
                .into();
                ch.fan_out(&s.conns, &self.counters, &frame, Some(socket_id));
            }
            if let Some(conn) = s.conns.get_mut(socket_id) {
                conn.channels.insert(channel.to_owned());
            }
            Ok(Joined { presence, cached })
        })
    }

    /// Unsubscribes a socket; false when it was not subscribed.
    pub fn unsubscribe(&self, app: &str, socket_id: &str, channel: &str) -> bool {
        self.with_app(app, |s| {
            let Some(conn) = s.conns.get_mut(socket_id) else {
                return false;
            };
            if !conn.channels.remove(channel) {
                return false;
            }
            leave(s, &self.counters, channel, socket_id);
            true
        })
    }

    /// Whether a socket is subscribed, and its presence user id there.
    pub fn subscription(
        &self,
        app: &str,
        socket_id: &str,
        channel: &str,
    ) -> Option<Option<String>> {
        self.with_app(app, |s| {
            s.channels
                .get(channel)
                .and_then(|c| c.subs.get(socket_id).cloned())
        })
    }

    /// Sends an already-encoded frame to a channel's subscribers, except `exclude`. Cache
    /// channels keep it for later subscribers. Returns how many queues took it.
    pub fn publish(
        &self,
        app: &str,
        channel: &str,
        frame: Utf8Bytes,
        exclude: Option<&str>,
    ) -> usize {
        let max_channels = self.limits.max_channels;
        self.with_app(app, |s| {
            // Cache channels keep their last event, even unoccupied; the number of channels
            // is capped, since trigger names are unbounded.
            if classify(channel).cache
                && (s.channels.contains_key(channel) || s.channels.len() < max_channels)
            {
                s.channels.entry(channel.to_owned()).or_default().cached = Some(frame.clone());
            }
            s.channels.get(channel).map_or(0, |ch| {
                ch.fan_out(&s.conns, &self.counters, &frame, exclude)
            })
        })
    }

    /// Occupied channels (with at least one subscriber), optionally by prefix.
    pub fn channels(&self, app: &str, prefix: Option<&str>) -> Vec<(String, Occupancy)> {
        self.with_app(app, |s| {
            let mut list: Vec<(String, Occupancy)> = s
                .channels
                .iter()
                .filter(|(n, c)| !c.subs.is_empty() && prefix.is_none_or(|p| n.starts_with(p)))
                .map(|(n, c)| (n.clone(), occupancy(c)))
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            list
        })
    }

    pub fn channel(&self, app: &str, channel: &str) -> Occupancy {
        self.with_app(app, |s| {
            s.channels.get(channel).map_or(
                Occupancy {
                    subscription_count: 0,
                    user_count: 0,
                },
                occupancy,
            )
        })
    }

    pub fn users(&self, app: &str, channel: &str) -> Vec<String> {
        self.with_app(app, |s| {
            let mut ids: Vec<String> = s
                .channels
                .get(channel)
                .map(|c| c.users.keys().cloned().collect())
                .unwrap_or_default();
            ids.sort();
            ids
        })
    }

    /// Closes every connection signed in as `user_id`. Returns how many.
    pub fn terminate_user(&self, app: &str, user_id: &str) -> usize {
        self.with_app(app, |s| {
            s.conns
                .values()
                .filter(|c| c.user_id.as_deref() == Some(user_id))
                .map(|c| c.handle.close(Close::TERMINATED))
                .count()
        })
    }

    /// Asks every connection of every app to close (4200 on shutdown: clients reconnect).
    pub fn close_all(&self, close: Close) -> usize {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values()
            .flat_map(|s| s.conns.values())
            .map(|c| c.handle.close(close.clone()))
            .count()
    }

    pub fn connection_count(&self) -> usize {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values().map(|s| s.conns.len()).sum()
    }
}

/// The limits every subscription passes: a registered socket, not yet on the channel, under
/// its own cap, and a channel that exists or fits under the app's cap.
fn check(
    s: &AppState,
    limits: HubLimits,
    socket_id: &str,
    channel: &str,
) -> Result<(), SubscribeError> {
    let conn = s.conns.get(socket_id).ok_or(SubscribeError::Gone)?;
    if conn.channels.contains(channel) {
        return Err(SubscribeError::Existing);
    }
    if conn.channels.len() >= limits.max_subscriptions {
        return Err(SubscribeError::TooManySubscriptions(
            limits.max_subscriptions,
        ));
    }
    if !s.channels.contains_key(channel) && s.channels.len() >= limits.max_channels {
        return Err(SubscribeError::TooManyChannels(limits.max_channels));
    }
    Ok(())
}

fn occupancy(c: &Channel) -> Occupancy {
    Occupancy {
        subscription_count: c.subs.len(),
        user_count: c.users.len(),
    }
}

/// Removes a socket from a channel; announces a presence user's last socket leaving.
fn leave(s: &mut AppState, counters: &Counters, channel: &str, socket_id: &str) {
    let Some(ch) = s.channels.get_mut(channel) else {
        return;
    };
    let Some(user) = ch.subs.remove(socket_id) else {
        return;
    };
    if let Some(user_id) = user.and_then(|u| ch.remove_member(u)) {
        let frame: Utf8Bytes = ServerMessage::MemberRemoved {
            channel: channel.to_owned(),
            user_id,
        }
        .encode()
        .into();
        ch.fan_out(&s.conns, counters, &frame, None);
    }
    if ch.is_empty() {
        s.channels.remove(channel);
    }
}
