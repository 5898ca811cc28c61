//! The hub: every app's connections and channels, shared by the WebSocket sessions and the
//! REST API. One mutex guards it; every critical section is short and never waits, because
//! fan-out uses `try_send` into each subscriber's bounded queue. An event is serialised once
//! per channel, and the same bytes are queued for every subscriber. A subscriber whose queue
//! is full is closed with 4100 and counted, so it never stalls the others or grows memory.
//!
//! The hub is the one owner of who is subscribed where: each connection's entry lists its own
//! channels, so a disconnect costs O(its channels), never a scan of the app.

mod announce;
mod budgets;
mod cache;
mod channel;
mod counts;
mod membership;
mod peek;
mod watchlist;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::queue::QueueTx;

use crate::webhooks::Webhooks;
use cache::Cache;
pub use cache::CacheLimits;
use channel::Channel;
pub(crate) use membership::SubscribeError;
use membership::leave;
pub use peek::{ChannelPeek, MembersPeek, Snapshot};
pub(crate) use watchlist::MAX_WATCHLIST;

use protocol::webhook::{Kind, WebhookEvent};
use protocol::{Close, channel::classify};

/// How many channels and subscriptions strangers may make the hub hold, and how fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubLimits {
    /// Channels one app keeps (occupied, or cache channels holding an event).
    pub max_channels: usize,
    /// Channels of one app that the sockets of one IP address may be on: one client with
    /// many sockets holds at most this share of `max_channels`.
    pub max_channels_per_ip: usize,
    /// Channels one connection may be subscribed to.
    pub max_subscriptions: usize,
    /// Subscribe requests per second from all the sockets of one address, after a burst
    /// of ten times `max_subscriptions` (refused requests count too).
    pub subscribes_per_ip: u32,
    /// Client events per second from all the sockets of one address, after a burst of as
    /// many (each socket has its own 10 a second too).
    pub client_events_per_ip: u32,
    /// Presence subscriptions per second of one user id (one app), on all its sockets,
    /// after a burst of ten times this.
    pub presence_joins_per_user: u32,
    /// Presence announcements (member_added, member_removed) per channel per second; past
    /// it they wait, and a join and a leave that both wait cancel out.
    pub presence_announcements: u32,
    /// Addresses and users whose budgets are kept; sized from the connection cap.
    pub max_budgets: usize,
    /// Cache channels' last events.
    pub cache: CacheLimits,
}

impl HubLimits {
    pub const DEFAULT_MAX_CHANNELS: usize = 100_000;
    pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1000;
    /// The share of the app's channels one address may hold: a tenth.
    pub const CHANNELS_PER_IP_SHARE: usize = 10;
    pub const DEFAULT_SUBSCRIBES_PER_IP: u32 = 1000;
    /// Ten sockets' worth of Pusher's 10 client events a second per socket.
    pub const DEFAULT_CLIENT_EVENTS_PER_IP: u32 = 100;
    pub const DEFAULT_PRESENCE_JOINS_PER_USER: u32 = 10;
    pub const DEFAULT_PRESENCE_ANNOUNCEMENTS: u32 = 50;
}

impl Default for HubLimits {
    fn default() -> HubLimits {
        HubLimits {
            max_channels: HubLimits::DEFAULT_MAX_CHANNELS,
            max_channels_per_ip: HubLimits::DEFAULT_MAX_CHANNELS / HubLimits::CHANNELS_PER_IP_SHARE,
            max_subscriptions: HubLimits::DEFAULT_MAX_SUBSCRIPTIONS,
            subscribes_per_ip: HubLimits::DEFAULT_SUBSCRIBES_PER_IP,
            client_events_per_ip: HubLimits::DEFAULT_CLIENT_EVENTS_PER_IP,
            presence_joins_per_user: HubLimits::DEFAULT_PRESENCE_JOINS_PER_USER,
            presence_announcements: HubLimits::DEFAULT_PRESENCE_ANNOUNCEMENTS,
            max_budgets: 65_536,
            cache: CacheLimits::default(),
        }
    }
}

/// The address of sockets made in-process (tests, fuzzing, benchmarks): not counted
/// against the per-address caps.
pub const NO_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

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
    /// Occupied channels only.
    channels: HashMap<String, Channel>,
    /// Per address, the channels its sockets are on (addresses with none are not kept, so
    /// this holds at most one entry per connection).
    ip_channels: HashMap<IpAddr, usize>,
    /// Presence channels with announcements waiting or counts to report (at most one entry
    /// per occupied channel).
    dirty: HashSet<String>,
    cache: Cache,
    /// Whether subscribers hear `pusher_internal:subscription_count`.
    counts: bool,
    /// Channels whose count changed while they waited to tell it (at most one entry per
    /// occupied channel).
    counts_waiting: HashSet<String>,
    /// Who watches whom, and who is online.
    watchlists: watchlist::Watchlists,
}

struct Conn {
    handle: ConnHandle,
    user_id: Option<String>,
    /// The address it came from ([`peer_key`](net::listen::peer_key)), or [`NO_ADDRESS`].
    ip: IpAddr,
    /// The channels this connection is subscribed to.
    channels: HashSet<String>,
    /// Told to close to make room for another address: never chosen twice.
    made_room: bool,
    /// The users it watches (signed in with a watchlist; at most [`MAX_WATCHLIST`]).
    watchlist: Vec<String>,
}

/// Counters for logs and tests.
#[derive(Default)]
pub struct Counters {
    pub connections: AtomicU64,
    /// Connections gone (unregistered).
    pub disconnections: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub api_messages: AtomicU64,
    /// Cache-channel events not kept because the cache was at its byte budget.
    pub cache_refused: AtomicU64,
    /// Watchers not kept: a watched user at its cap of watching sockets, or the table of
    /// watched users full.
    pub watchers_refused: AtomicU64,
}

pub struct Hub {
    apps: Mutex<HashMap<String, AppState>>,
    limits: HubLimits,
    /// Sessions still running, closing ones included: shutdown waits for them.
    live: AtomicUsize,
    /// Set by [`Hub::close_all`]: a connection that registers afterwards is closed at once.
    closing: Mutex<Option<Close>>,
    pub counters: Counters,
    /// Where channel, member, client and cache-miss events are reported (never waits).
    webhooks: Webhooks,
    /// Subscribe requests per address.
    subscribes: budgets::Buckets<IpAddr>,
    /// Presence joins per (app, user id).
    joins: budgets::Buckets<(String, String)>,
    /// Client events per address.
    client_events: budgets::Buckets<IpAddr>,
    /// Where channels occupied and vacated are logged (off unless `--log` or the console).
    log: super::log::Log,
}

/// One presence channel's announcements held back since the last report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceHeld {
    pub app: String,
    pub channel: String,
    /// Announcements that waited for the channel's budget.
    pub deferred: u64,
    /// Announcements never made: a join and a leave of one member that both waited.
    pub coalesced: u64,
}

/// Occupancy of one channel, for the REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy {
    pub subscription_count: usize,
    pub user_count: usize,
}

pub(crate) use super::log::Delivery;

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
            closing: Mutex::new(None),
            counters: Counters::default(),
            webhooks: Webhooks::default(),
            subscribes: budgets::Buckets::new(
                limits.max_subscriptions.saturating_mul(10),
                limits.subscribes_per_ip,
                limits.max_budgets,
            ),
            joins: budgets::Buckets::new(
                (limits.presence_joins_per_user as usize).saturating_mul(10),
                limits.presence_joins_per_user,
                limits.max_budgets,
            ),
            client_events: budgets::Buckets::new(
                limits.client_events_per_ip as usize,
                limits.client_events_per_ip,
                limits.max_budgets,
            ),
            log: super::log::Log::off(),
        }
    }

    /// The hub, logging channels occupied and vacated to `log`.
    pub fn with_log(self, log: super::log::Log) -> Hub {
        Hub { log, ..self }
    }

    /// Takes a client event's token from its address's budget (shared by all of its
    /// sockets); false when it is spent. In-process sockets ([`NO_ADDRESS`]) have none.
    pub fn take_client_event_token(&self, ip: IpAddr) -> bool {
        ip == NO_ADDRESS
            || self
                .client_events
                .take(&net::listen::peer_key(ip), Instant::now())
    }

    /// Takes a subscribe request's token from its address's budget (shared by all of its
    /// sockets); false when it is spent. In-process sockets ([`NO_ADDRESS`]) have none.
    pub fn take_subscribe_token(&self, ip: IpAddr) -> bool {
        ip == NO_ADDRESS
            || self
                .subscribes
                .take(&net::listen::peer_key(ip), Instant::now())
    }

    /// Takes a presence join's token from its user's budget (shared by all of the user's
    /// sockets); false when it is spent.
    pub fn take_join_token(&self, app: &str, user_id: &str) -> bool {
        self.joins
            .take(&(app.to_owned(), user_id.to_owned()), Instant::now())
    }

    /// The hub, reporting to these webhooks.
    pub fn with_webhooks(self, webhooks: Webhooks) -> Hub {
        Hub { webhooks, ..self }
    }

    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// A client event was sent to a channel: the `client_event` webhook.
    pub fn client_event_webhook(
        &self,
        app: &str,
        channel: &str,
        event: &str,
        data: impl FnOnce() -> String,
        socket_id: &str,
        user_id: Option<&str>,
    ) {
        self.webhooks
            .app(app)
            .emit(Kind::ClientEvent, || WebhookEvent {
                event: Some(event.to_owned()),
                data: Some(data()),
                socket_id: Some(socket_id.to_owned()),
                user_id: user_id.map(str::to_owned),
                ..WebhookEvent::channel(Kind::ClientEvent, channel)
            });
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

    /// Tells the presence announcements that waited for their channel's budget and may go
    /// now. With `report`, also hands back, per channel, how many waited and how many
    /// cancelled out since the last report. Called every 100 ms by the server.
    pub fn tick(&self, report: bool) -> Vec<PresenceHeld> {
        let now = Instant::now();
        let per_second = f64::from(self.limits.presence_announcements.max(1));
        let mut held = Vec::new();
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        for (app, s) in apps.iter_mut() {
            s.watchlists.tick(&s.conns, &self.counters);
            if !s.counts_waiting.is_empty() {
                let names: Vec<String> = s.counts_waiting.drain().collect();
                for name in names {
                    let Some(ch) = s.channels.get_mut(&name) else {
                        continue;
                    };
                    if !counts::tick(ch, &s.conns, &self.counters, &name, now) {
                        s.counts_waiting.insert(name);
                    }
                }
            }
            if s.dirty.is_empty() {
                continue;
            }
            let names: Vec<String> = s.dirty.drain().collect();
            for name in names {
                let Some(ch) = s.channels.get_mut(&name) else {
                    continue;
                };
                let Some(announcer) = ch.announcer.as_mut() else {
                    continue;
                };
                let due = announcer.due(per_second, now);
                if report && (announcer.deferred > 0 || announcer.coalesced > 0) {
                    held.push(PresenceHeld {
                        app: app.clone(),
                        channel: name.clone(),
                        deferred: std::mem::take(&mut announcer.deferred),
                        coalesced: std::mem::take(&mut announcer.coalesced),
                    });
                }
                let keep = !announcer.pending.is_empty()
                    || announcer.deferred > 0
                    || announcer.coalesced > 0;
                for change in due {
                    membership::tell(ch, &s.conns, &self.counters, &name, change);
                }
                if keep {
                    s.dirty.insert(name);
                }
            }
        }
        held
    }

    /// Registers a socket made in-process, with no address.
    #[cfg(any(test, feature = "testing"))]
    pub fn register(&self, app: &str, socket_id: &str, handle: ConnHandle) {
        self.register_from(app, socket_id, handle, NO_ADDRESS);
    }

    /// Registers a socket that came from `ip`.
    pub fn register_from(&self, app: &str, socket_id: &str, handle: ConnHandle, ip: IpAddr) {
        let ip = match ip {
            NO_ADDRESS => NO_ADDRESS,
            ip => net::listen::peer_key(ip),
        };
        self.counters.connections.fetch_add(1, Ordering::Relaxed);
        self.with_app(app, |s| {
            // Checked under the hub's lock, which close_all holds while it sets the flag and
            // closes everyone: a connection is either closed there or here, never missed.
            if let Some(close) = self
                .closing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                handle.close(close);
            }
            s.conns.insert(
                socket_id.to_owned(),
                Conn {
                    handle,
                    user_id: None,
                    ip,
                    channels: HashSet::new(),
                    made_room: false,
                    watchlist: Vec::new(),
                },
            );
        });
    }

    /// Removes a connection and its subscriptions, in O(its own channels).
    pub fn unregister(&self, app: &str, socket_id: &str) {
        let hooks = self.webhooks.app(app);
        self.with_app(app, |s| {
            let Some(conn) = s.conns.remove(socket_id) else {
                return;
            };
            self.counters.disconnections.fetch_add(1, Ordering::Relaxed);
            if let Some(user_id) = &conn.user_id {
                s.watchlists.sign_out(socket_id, user_id, &conn.watchlist);
            }
            for name in &conn.channels {
                leave(
                    s,
                    &self.counters,
                    (self.limits, &self.log, app),
                    hooks,
                    name,
                    socket_id,
                    conn.ip,
                );
            }
        });
    }

    /// A socket signed in as `user_id`, watching `watchlist` (cut to [`MAX_WATCHLIST`]
    /// ids). It hears at once which of them are online; its user's watchers hear it is
    /// online at the next tick. Signing in again as the same user changes nothing.
    pub fn set_user(&self, app: &str, socket_id: &str, user_id: &str, watchlist: &[String]) {
        let watchlist = &watchlist[..watchlist.len().min(MAX_WATCHLIST)];
        self.with_app(app, |s| {
            let Some(c) = s.conns.get_mut(socket_id) else {
                return;
            };
            if c.user_id.is_some() {
                return;
            }
            c.user_id = Some(user_id.to_owned());
            c.watchlist = watchlist.to_vec();
            let online = s
                .watchlists
                .sign_in(&self.counters, socket_id, user_id, watchlist);
            if let (false, Some(c)) = (online.is_empty(), s.conns.get(socket_id)) {
                watchlist::offer(c, &self.counters, &watchlist::frame("online", online));
            }
        });
    }

    /// Watched users refused since the start (the table of watched users full), plus
    /// watchers refused (a user's watchers full).
    pub fn watchers_refused(&self) -> u64 {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values().map(|s| s.watchlists.refused()).sum::<u64>()
            + self.counters.watchers_refused.load(Ordering::Relaxed)
    }

    /// Turns `pusher_internal:subscription_count` on or off for an app.
    pub fn set_subscription_count(&self, app: &str, on: bool) {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = apps.get_mut(app) {
            s.counts = on;
        }
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
    /// channels keep it for later subscribers, within the cache's byte budget. Returns what
    /// it reached.
    pub fn publish(
        &self,
        app: &str,
        channel: &str,
        frame: Utf8Bytes,
        exclude: Option<&str>,
    ) -> Delivery {
        self.publish_as(app, channel, frame, exclude, true)
    }

    /// Sends a client event to a channel's subscribers, except its sender. A cache channel
    /// does not keep it: Pusher caches only events triggered through its API ("we do not
    /// cache client events").
    pub fn publish_client_event(
        &self,
        app: &str,
        channel: &str,
        frame: Utf8Bytes,
        sender: &str,
    ) -> Delivery {
        self.publish_as(app, channel, frame, Some(sender), false)
    }

    fn publish_as(
        &self,
        app: &str,
        channel: &str,
        frame: Utf8Bytes,
        exclude: Option<&str>,
        cache: bool,
    ) -> Delivery {
        let limits = self.limits;
        self.with_app(app, |s| {
            if cache
                && classify(channel).cache
                && !s.cache.put(limits.cache, channel, &frame, Instant::now())
            {
                self.counters.cache_refused.fetch_add(1, Ordering::Relaxed);
            }
            s.channels.get(channel).map_or(Delivery::default(), |ch| {
                ch.fan_out(&s.conns, &self.counters, &frame, exclude)
            })
        })
    }

    /// Occupied channels (with at least one subscriber), optionally by prefix.
    pub fn channels(&self, app: &str, prefix: Option<&str>) -> Vec<(String, Occupancy)> {
        // Copied under the lock, sorted outside it: fan-out waits only for the copy.
        let mut list: Vec<(String, Occupancy)> = self.with_app(app, |s| {
            s.channels
                .iter()
                .filter(|(n, c)| !c.subs.is_empty() && listed(n, prefix))
                .map(|(n, c)| (n.clone(), occupancy(c)))
                .collect()
        });
        list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        list
    }

    /// Up to `keep` names of occupied channels that pass `filter`, looking at `scan` channels
    /// at most: a bounded copy under the lock, for "did you mean" on a publish to no one.
    pub fn occupied_names(
        &self,
        app: &str,
        scan: usize,
        keep: usize,
        filter: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        self.with_app(app, |s| {
            s.channels
                .iter()
                .take(scan)
                .filter(|(n, c)| !c.subs.is_empty() && filter(n))
                .take(keep)
                .map(|(n, _)| n.clone())
                .collect()
        })
    }

    /// How many channels of an app are occupied (for metrics: no copy of their names).
    pub fn channel_count(&self, app: &str) -> usize {
        self.with_app(app, |s| {
            s.channels.values().filter(|c| !c.subs.is_empty()).count()
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
        *self.closing.lock().unwrap_or_else(|e| e.into_inner()) = Some(close.clone());
        apps.values()
            .flat_map(|s| s.conns.values())
            .map(|c| c.handle.close(close.clone()))
            .count()
    }

    /// Asks one connection from `ip` (a [`peer_key`](net::listen::peer_key)) to close;
    /// false when it has none.
    /// One already told so is never chosen again (its place is given once).
    pub fn close_one_from(&self, ip: IpAddr, close: Close) -> bool {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values_mut()
            .flat_map(|s| s.conns.values_mut())
            .find(|c| c.ip == ip && !c.made_room)
            .map(|c| {
                c.made_room = true;
                c.handle.close(close);
            })
            .is_some()
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn connection_count(&self) -> usize {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.values().map(|s| s.conns.len()).sum()
    }
}

/// Whether a listing filtered by `prefix` shows `name`. Server-to-user channels are shown
/// only to a prefix that starts with `#`, as Pusher hides them from plain listings.
fn listed(name: &str, prefix: Option<&str>) -> bool {
    let asked = prefix.unwrap_or("");
    name.starts_with(asked) && (asked.starts_with('#') || !name.starts_with('#'))
}

fn occupancy(c: &Channel) -> Occupancy {
    Occupancy {
        subscription_count: c.subs.len(),
        user_count: c.users.len(),
    }
}

impl super::log::Occupied for Hub {
    fn occupied_names(
        &self,
        app: &str,
        scan: usize,
        keep: usize,
        filter: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        Hub::occupied_names(self, app, scan, keep, filter)
    }
}
