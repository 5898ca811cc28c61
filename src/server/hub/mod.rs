//! The hub: every app's connections and channels, shared by the WebSocket handlers and the
//! REST API. One mutex guards it; every critical section is short and never waits, because
//! fan-out uses `try_send` into each subscriber's bounded queue. An event is serialised once
//! per channel, and the same bytes are queued for every subscriber. A subscriber whose queue
//! is full is closed with 4100 and counted, so it never stalls the others or grows memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::protocol::ServerMessage;
use crate::protocol::channel::classify;
use crate::protocol::frame::Member;
use crate::protocol::limits::MAX_PRESENCE_MEMBERS;

/// Most channels an app keeps (occupied, or cache channels holding an event).
pub const MAX_CHANNELS: usize = 100_000;

/// How a connection is reached: its send queue, and a slot to ask it to close.
#[derive(Clone)]
pub struct ConnHandle {
    pub frames: mpsc::Sender<Utf8Bytes>,
    pub kick: mpsc::Sender<(u16, String)>,
}

impl ConnHandle {
    /// Asks the connection to close; a second request while one is pending is ignored.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.kick.try_send((code, reason.to_owned()));
    }
}

#[derive(Default)]
struct Channel {
    /// Subscribed sockets, with their presence user id.
    subs: HashMap<String, Option<String>>,
    /// Presence: user id → (info, number of sockets).
    users: HashMap<String, (Value, usize)>,
    /// Cache channels: the last event's frame.
    cached: Option<Utf8Bytes>,
}

#[derive(Default)]
struct AppState {
    conns: HashMap<String, Conn>,
    channels: HashMap<String, Channel>,
}

struct Conn {
    handle: ConnHandle,
    user_id: Option<String>,
}

/// Counters for logs and tests.
#[derive(Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub api_messages: AtomicU64,
}

#[derive(Default)]
pub struct Hub {
    apps: Mutex<HashMap<String, AppState>>,
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

impl Hub {
    fn with_app<R>(&self, app: &str, f: impl FnOnce(&mut AppState) -> R) -> R {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        f(apps.entry(app.to_owned()).or_default())
    }

    pub fn register(&self, app: &str, socket_id: &str, handle: ConnHandle) {
        self.counters.connections.fetch_add(1, Ordering::Relaxed);
        self.with_app(app, |s| {
            s.conns.insert(
                socket_id.to_owned(),
                Conn {
                    handle,
                    user_id: None,
                },
            );
        });
    }

    /// Removes a connection and all its subscriptions.
    pub fn unregister(&self, app: &str, socket_id: &str) {
        self.with_app(app, |s| {
            s.conns.remove(socket_id);
            let names: Vec<String> = s
                .channels
                .iter()
                .filter(|(_, c)| c.subs.contains_key(socket_id))
                .map(|(n, _)| n.clone())
                .collect();
            for name in names {
                leave(s, &self.counters, &name, socket_id);
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

    /// Subscribes a socket. Presence members past the limit are refused with `Err`.
    pub fn subscribe(
        &self,
        app: &str,
        socket_id: &str,
        channel: &str,
        member: Option<Member>,
    ) -> Result<Joined, String> {
        self.with_app(app, |s| {
            let ch = s.channels.entry(channel.to_owned()).or_default();
            let mut announce = None;
            if let Some(m) = &member {
                match ch.users.get_mut(&m.user_id) {
                    Some(entry) if !ch.subs.contains_key(socket_id) => entry.1 += 1,
                    Some(_) => {}
                    None => {
                        if ch.users.len() >= MAX_PRESENCE_MEMBERS {
                            if ch.subs.is_empty() {
                                s.channels.remove(channel);
                            }
                            return Err(format!("presence channel {channel} is full ({MAX_PRESENCE_MEMBERS} members)"));
                        }
                        ch.users.insert(m.user_id.clone(), (m.user_info.clone(), 1));
                        announce = Some(m.clone());
                    }
                }
            }
            ch.subs.insert(socket_id.to_owned(), member.as_ref().map(|m| m.user_id.clone()));
            let presence = member.is_some().then(|| {
                ch.users
                    .iter()
                    .map(|(id, (info, _))| Member {
                        user_id: id.clone(),
                        user_info: info.clone(),
                    })
                    .collect()
            });
            let cached = classify(channel).cache.then(|| ch.cached.clone());
            if let Some(m) = announce {
                let frame = ServerMessage::MemberAdded {
                    channel: channel.to_owned(),
                    member: m,
                }
                .encode();
                fan_out(s, &self.counters, channel, frame.into(), Some(socket_id));
            }
            Ok(Joined { presence, cached })
        })
    }

    pub fn unsubscribe(&self, app: &str, socket_id: &str, channel: &str) {
        self.with_app(app, |s| leave(s, &self.counters, channel, socket_id));
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
        self.with_app(app, |s| {
            // Cache channels keep their last event, even unoccupied; the number of channels
            // kept without subscribers is capped, since trigger names are unbounded.
            if classify(channel).cache
                && (s.channels.contains_key(channel) || s.channels.len() < MAX_CHANNELS)
            {
                s.channels.entry(channel.to_owned()).or_default().cached = Some(frame.clone());
            }
            fan_out(s, &self.counters, channel, frame, exclude)
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
            let mut n = 0;
            for c in s
                .conns
                .values()
                .filter(|c| c.user_id.as_deref() == Some(user_id))
            {
                c.handle.close(4009, "Connection terminated by the server");
                n += 1;
            }
            n
        })
    }

    /// Asks every connection of every app to close (4200 on shutdown: clients reconnect).
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values()
            .flat_map(|s| s.conns.values())
            .map(|c| c.handle.close(code, reason))
            .count()
    }

    pub fn connection_count(&self) -> usize {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values().map(|s| s.conns.len()).sum()
    }
}

fn occupancy(c: &Channel) -> Occupancy {
    Occupancy {
        subscription_count: c.subs.len(),
        user_count: c.users.len(),
    }
}

fn fan_out(
    s: &AppState,
    counters: &Counters,
    channel: &str,
    frame: Utf8Bytes,
    exclude: Option<&str>,
) -> usize {
    let Some(ch) = s.channels.get(channel) else {
        return 0;
    };
    let mut delivered = 0;
    for socket_id in ch.subs.keys().filter(|id| Some(id.as_str()) != exclude) {
        let Some(conn) = s.conns.get(socket_id) else {
            continue;
        };
        match conn.handle.frames.try_send(frame.clone()) {
            Ok(()) => delivered += 1,
            Err(TrySendError::Full(_)) => {
                counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                conn.handle.close(4100, "Client too slow: send queue full");
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }
    delivered
}

/// Removes a socket from a channel; announces a presence user's last socket leaving.
fn leave(s: &mut AppState, counters: &Counters, channel: &str, socket_id: &str) {
    let Some(ch) = s.channels.get_mut(channel) else {
        return;
    };
    let Some(user) = ch.subs.remove(socket_id) else {
        return;
    };
    let mut gone = None;
    if let Some(user_id) = user
        && let Some(entry) = ch.users.get_mut(&user_id)
    {
        entry.1 -= 1;
        if entry.1 == 0 {
            ch.users.remove(&user_id);
            gone = Some(user_id);
        }
    }
    let empty = ch.subs.is_empty() && ch.cached.is_none();
    if let Some(user_id) = gone {
        let frame = ServerMessage::MemberRemoved {
            channel: channel.to_owned(),
            user_id,
        }
        .encode();
        fan_out(s, counters, channel, frame.into(), None);
    }
    if empty {
        s.channels.remove(channel);
    }
}
