//! Watchlist events (`pusher_internal:watchlist_events`): a socket signed in with a
//! `watchlist` in its user data hears `online` and `offline` as the users it watches get
//! their first connection and lose their last one.
//!
//! Bounded by construction: a watchlist keeps its first [`MAX_WATCHLIST`] ids (Pusher's
//! 100; the rest are refused with 4302), a watched user keeps [`MAX_WATCHERS_PER_USER`]
//! watching sockets, and the table of watched users is a [`WeighedMap`] capped in entries
//! and bytes; what does not fit is counted and never watched. Changes are not told as they
//! happen: a user whose state changes is marked (one entry per user) and the hub's 100 ms
//! tick tells its watchers if the state then differs from before, so a user who flaps costs
//! its watchers at most ten frames a second and a flap within a tick costs nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use axum::extract::ws::Utf8Bytes;
use bounded::{Limits, WeighedMap};

use super::{Conn, Counters};
use crate::queue::Refused;
use protocol::Close;
use protocol::ServerMessage;
use protocol::frame::WatchlistEvent;

/// Ids kept from one watchlist (Pusher's limit; past it, 4302).
pub(crate) const MAX_WATCHLIST: usize = 100;
/// Sockets that may watch one user.
pub(crate) const MAX_WATCHERS_PER_USER: usize = 1000;
/// Watched users per app, and the bytes their entries take.
pub(crate) const MAX_WATCHED_USERS: usize = 100_000;
pub(crate) const MAX_WATCHED_BYTES: usize = 64 * 1024 * 1024;
/// Users whose change one tick tells; the rest wait for the next tick (ten a second), so
/// the work under the hub's lock per tick is at most this many users' watchers.
const MAX_TOLD_PER_TICK: usize = 1000;

/// Sockets watching one user, weighed as their ids (kept as they change: weighing never
/// walks the set).
#[derive(Debug, Default, Clone)]
pub(super) struct Watchers(BTreeSet<String>, usize);

/// What one watcher's entry costs beside its id: the set's node share.
const WATCHER_OVERHEAD: usize = 32;

impl Watchers {
    fn insert(&mut self, socket_id: &str) {
        if self.0.insert(socket_id.to_owned()) {
            self.1 += socket_id.len() + WATCHER_OVERHEAD;
        }
    }

    fn remove(&mut self, socket_id: &str) {
        if self.0.remove(socket_id) {
            self.1 = self.1.saturating_sub(socket_id.len() + WATCHER_OVERHEAD);
        }
    }
}

impl bounded::Weigh for Watchers {
    fn weight(&self) -> usize {
        size_of::<Self>() + self.1
    }
}

/// An app's watchers and who is online.
pub(super) struct Watchlists {
    /// Watched user id → the sockets watching it.
    watchers: WeighedMap<String, Watchers>,
    /// Signed-in user id → its connections (at most one entry per connection).
    online: HashMap<String, u32>,
    /// Users whose state changed since the last tick, and whether they were online before
    /// (one entry per user).
    changed: HashMap<String, bool>,
}

impl Default for Watchlists {
    fn default() -> Watchlists {
        Watchlists {
            watchers: WeighedMap::new(Limits::new(MAX_WATCHED_USERS, MAX_WATCHED_BYTES)),
            online: HashMap::new(),
            changed: HashMap::new(),
        }
    }
}

impl Watchlists {
    /// A socket signed in as `user_id`, watching `watchlist` (already cut to
    /// [`MAX_WATCHLIST`]). Returns the watched users that are online now, to tell it.
    pub(super) fn sign_in(
        &mut self,
        counters: &Counters,
        socket_id: &str,
        user_id: &str,
        watchlist: &[String],
    ) -> Vec<String> {
        let n = self.online.entry(user_id.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.mark(user_id, false);
        }
        let mut online = Vec::new();
        for watched in watchlist {
            let kept = self
                .watchers
                .upsert(watched.clone(), Watchers::default, |w| {
                    if w.0.len() < MAX_WATCHERS_PER_USER {
                        w.insert(socket_id);
                    } else {
                        counters.watchers_refused.fetch_add(1, Ordering::Relaxed);
                    }
                });
            if !kept {
                counters.watchers_refused.fetch_add(1, Ordering::Relaxed);
            }
            if self.online.contains_key(watched) {
                online.push(watched.clone());
            }
        }
        online
    }

    /// A signed-in socket went away.
    pub(super) fn sign_out(&mut self, socket_id: &str, user_id: &str, watchlist: &[String]) {
        if let Some(n) = self.online.get_mut(user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.online.remove(user_id);
                self.mark(user_id, true);
            }
        }
        for watched in watchlist {
            let mut empty = false;
            self.watchers.update(watched.as_str(), |w| {
                w.remove(socket_id);
                empty = w.0.is_empty();
            });
            if empty {
                self.watchers.remove(watched.as_str());
            }
        }
    }

    fn mark(&mut self, user_id: &str, was_online: bool) {
        if self.watchers.contains_key(user_id) {
            self.changed.entry(user_id.to_owned()).or_insert(was_online);
        }
    }

    /// Users dropped from the table of watched users (full), since the start.
    pub(super) fn refused(&self) -> u64 {
        self.watchers.drops().total()
    }

    /// Tells each changed user's watchers its new state, if it differs from before.
    pub(super) fn tick(&mut self, conns: &HashMap<String, Conn>, counters: &Counters) {
        if self.changed.is_empty() {
            return;
        }
        let due: Vec<String> = self
            .changed
            .keys()
            .take(MAX_TOLD_PER_TICK)
            .cloned()
            .collect();
        for user_id in due {
            let Some(was_online) = self.changed.remove(&user_id) else {
                continue;
            };
            let online = self.online.contains_key(&user_id);
            if online == was_online {
                continue;
            }
            let Some(watchers) = self.watchers.get(user_id.as_str()) else {
                continue;
            };
            let frame = frame(if online { "online" } else { "offline" }, vec![user_id]);
            for socket_id in &watchers.0 {
                if let Some(conn) = conns.get(socket_id) {
                    offer(conn, counters, &frame);
                }
            }
        }
    }
}

/// One `pusher_internal:watchlist_events` frame.
pub(super) fn frame(name: &str, user_ids: Vec<String>) -> Utf8Bytes {
    ServerMessage::WatchlistEvents(vec![WatchlistEvent {
        name: name.to_owned(),
        user_ids,
    }])
    .encode()
    .into()
}

/// Queues a frame for one socket; a full queue closes it as too slow.
pub(super) fn offer(conn: &Conn, counters: &Counters, frame: &Utf8Bytes) {
    if conn.handle.frames.offer(frame.clone()) == Err(Refused::Full) {
        counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
        conn.handle.close(Close::TOO_SLOW);
    }
}

#[cfg(test)]
mod tests {
    use crate::hub::{ConnHandle, Hub, HubLimits};
    use crate::queue::{QueueLimits, QueueRx, send_queue};

    fn socket(hub: &Hub, socket_id: &str) -> QueueRx {
        let (frames, rx) = send_queue(QueueLimits {
            frames: 256,
            bytes: 1 << 20,
        });
        let (kick, _) = tokio::sync::mpsc::channel(1);
        hub.register("app", socket_id, ConnHandle { frames, kick });
        rx
    }

    #[test]
    fn a_watchlist_is_cut_and_its_users_told_at_the_tick() {
        let hub = Hub::new(["app"], HubLimits::default());
        let mut ann = socket(&hub, "1.1");
        let ids: Vec<String> = (0..150).map(|i| format!("u{i}")).collect();
        hub.set_user("app", "1.1", "ann", &ids);
        let _a = socket(&hub, "1.2");
        hub.set_user("app", "1.2", "u100", &[]);
        let _b = socket(&hub, "1.3");
        hub.set_user("app", "1.3", "u99", &[]);
        hub.tick(false);
        let told = ann.try_recv().expect("u99 is online");
        assert!(told.contains("u99") && !told.contains("u100"), "{told}");
        assert!(ann.try_recv().is_none());
    }

    /// A tick tells at most a thousand users' changes; the rest are told at the next.
    #[test]
    fn a_tick_tells_a_bounded_number_of_changes() {
        let hub = Hub::new(["app"], HubLimits::default());
        let mut watchers: Vec<QueueRx> = (0..15)
            .map(|w| {
                let id = format!("9.{w}");
                let rx = socket(&hub, &id);
                let list: Vec<String> = (0..100).map(|i| format!("u{}", w * 100 + i)).collect();
                hub.set_user("app", &id, &format!("watcher{w}"), &list);
                rx
            })
            .collect();
        let _users: Vec<QueueRx> = (0..1500)
            .map(|i| {
                let id = format!("1.{i}");
                let rx = socket(&hub, &id);
                hub.set_user("app", &id, &format!("u{i}"), &[]);
                rx
            })
            .collect();
        let told = |watchers: &mut Vec<QueueRx>| {
            watchers
                .iter_mut()
                .map(|w| std::iter::from_fn(|| w.try_recv()).count())
                .sum::<usize>()
        };
        hub.tick(false);
        assert_eq!(told(&mut watchers), super::MAX_TOLD_PER_TICK);
        hub.tick(false);
        assert_eq!(told(&mut watchers), 1500 - super::MAX_TOLD_PER_TICK);
    }
}
