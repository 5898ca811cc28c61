//! Who is subscribed where: joining and leaving channels, with every limit checked before
//! anything changes, and presence members announced to the others.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;

use super::announce::{Announcer, Change};
use super::channel::Channel;
use super::{AppState, Conn, Counters, Hub, HubLimits};
use crate::log::Log;
use crate::queue::Refused;
use crate::webhooks::AppHooks;
use protocol::Close;
use protocol::frame::Member;
use protocol::limits::MAX_PRESENCE_MEMBERS;
use protocol::webhook::{Kind, WebhookEvent};
use protocol::{ServerMessage, channel::classify};

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
    /// The socket's address is on its share of the app's channels.
    TooManyChannelsForAddress(usize),
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
            SubscribeError::TooManyChannelsForAddress(n) => write!(
                f,
                "Your address is on too many channels of this app (the limit is {n} per address)"
            ),
        }
    }
}

impl Hub {
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

    /// Subscribes a socket, checking every limit before anything changes, and queues its
    /// welcome: `pusher_internal:subscription_succeeded` (with the members, on presence
    /// channels), then a cache channel's last event or `pusher:cache_miss`. They are queued
    /// before the lock is let go, so nothing sent on the channel (a member announced late,
    /// an event) can reach the socket before them.
    pub fn subscribe(
        &self,
        app: &str,
        socket_id: &str,
        channel: &str,
        member: Option<Member>,
    ) -> Result<(), SubscribeError> {
        let limits = self.limits;
        let hooks = self.webhooks.app(app);
        self.with_app(app, |s| {
            check(s, limits, socket_id, channel)?;
            if let (Some(m), Some(ch)) = (&member, s.channels.get(channel))
                && !ch.users.contains_key(&m.user_id)
                && ch.users.len() >= MAX_PRESENCE_MEMBERS
            {
                return Err(SubscribeError::PresenceFull(MAX_PRESENCE_MEMBERS));
            }
            if !s.channels.contains_key(channel) {
                hooks.emit(Kind::ChannelOccupied, || {
                    WebhookEvent::channel(Kind::ChannelOccupied, channel)
                });
                log_channel(&self.log, "CHANNEL OCCUPIED", app, channel);
            }
            let ip = s.conns.get(socket_id).map_or(super::NO_ADDRESS, |c| c.ip);
            let joiner = member.clone();
            let ch = s.channels.entry(channel.to_owned()).or_default();
            let announce = member.as_ref().and_then(|m| ch.add_member(m));
            ch.subs
                .insert(socket_id.to_owned(), member.map(|m| m.user_id));
            let on = ch.ips.entry(ip).or_insert(0);
            *on += 1;
            if *on == 1 && ip != super::NO_ADDRESS {
                *s.ip_channels.entry(ip).or_insert(0) += 1;
            }
            let cached = classify(channel)
                .cache
                .then(|| s.cache.get(limits.cache, channel, Instant::now()));
            if matches!(cached, Some(None)) {
                hooks.emit(Kind::CacheMiss, || {
                    WebhookEvent::channel(Kind::CacheMiss, channel)
                });
            }
            if let Some(m) = announce {
                hooks.emit(Kind::MemberAdded, || {
                    WebhookEvent::member(Kind::MemberAdded, channel, &m.user_id)
                });
                let change = Change::Added(m, socket_id.to_owned());
                if announce_change(ch, &s.conns, &self.counters, limits, channel, change) {
                    s.dirty.insert(channel.to_owned());
                }
            }
            let presence = joiner.map(|me| told_members(ch, me));
            if let Some(conn) = s.conns.get_mut(socket_id) {
                conn.channels.insert(channel.to_owned());
                welcome(conn, &self.counters, channel, presence, cached);
            }
            // After the welcome: the new subscriber hears its channel's count too.
            count_changed(s, &self.counters, channel);
            Ok(())
        })
    }

    /// Unsubscribes a socket; false when it was not subscribed.
    pub fn unsubscribe(&self, app: &str, socket_id: &str, channel: &str) -> bool {
        let hooks = self.webhooks.app(app);
        self.with_app(app, |s| {
            let Some(conn) = s.conns.get_mut(socket_id) else {
                return false;
            };
            if !conn.channels.remove(channel) {
                return false;
            }
            let ip = conn.ip;
            leave(
                s,
                &self.counters,
                (self.limits, &self.log, app),
                hooks,
                channel,
                socket_id,
                ip,
            );
            true
        })
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
    let on_it = s
        .channels
        .get(channel)
        .is_some_and(|ch| ch.ips.contains_key(&conn.ip));
    if conn.ip != super::NO_ADDRESS
        && !on_it
        && s.ip_channels.get(&conn.ip).copied().unwrap_or(0) >= limits.max_channels_per_ip
    {
        return Err(SubscribeError::TooManyChannelsForAddress(
            limits.max_channels_per_ip,
        ));
    }
    Ok(())
}

/// Removes a socket from a channel; announces a presence user's last socket leaving, and
/// reports it and the channel's last subscriber leaving to the webhooks.
#[allow(clippy::too_many_arguments)]
pub(super) fn leave(
    s: &mut AppState,
    counters: &Counters,
    (limits, log, app): (HubLimits, &Log, &str),
    hooks: &AppHooks,
    channel: &str,
    socket_id: &str,
    ip: std::net::IpAddr,
) {
    let Some(ch) = s.channels.get_mut(channel) else {
        return;
    };
    let Some(user) = ch.subs.remove(socket_id) else {
        return;
    };
    if let Some(on) = ch.ips.get_mut(&ip) {
        *on = on.saturating_sub(1);
        if *on == 0 {
            ch.ips.remove(&ip);
            if let Some(n) = s.ip_channels.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    s.ip_channels.remove(&ip);
                }
            }
        }
    }
    if let Some((user_id, info)) = user.and_then(|u| ch.remove_member(u)) {
        hooks.emit(Kind::MemberRemoved, || {
            WebhookEvent::member(Kind::MemberRemoved, channel, &user_id)
        });
        let change = Change::Removed(user_id, info);
        if announce_change(ch, &s.conns, counters, limits, channel, change) {
            s.dirty.insert(channel.to_owned());
        }
    }
    if ch.is_empty() {
        s.channels.remove(channel);
        s.counts_waiting.remove(channel);
        hooks.emit(Kind::ChannelVacated, || {
            WebhookEvent::channel(Kind::ChannelVacated, channel)
        });
        log_channel(log, "CHANNEL VACATED", app, channel);
    } else {
        count_changed(s, counters, channel);
    }
}

/// `CHANNEL OCCUPIED app=1 channel=…` (or VACATED): as it happens, not after the
/// webhooks' 3 s; nothing when the log is off.
fn log_channel(log: &Log, kind: &str, app: &str, channel: &str) {
    if log.enabled() {
        log.event(kind, &[("app", app.into()), ("channel", channel.into())]);
    }
}

/// A channel's subscriber count changed: its subscribers hear it now, or at the tick when
/// its channel's wait is over (see [`super::counts`]).
fn count_changed(s: &mut AppState, counters: &Counters, channel: &str) {
    if !s.counts || !super::counts::counted(channel) {
        return;
    }
    let Some(ch) = s.channels.get_mut(channel) else {
        return;
    };
    if !super::counts::changed(ch, &s.conns, counters, channel, Instant::now()) {
        s.counts_waiting.insert(channel.to_owned());
    }
}

/// Offers a presence change to the channel's announcement budget, and tells it at once if
/// it fits. Whether something now waits (the channel is to be ticked).
pub(super) fn announce_change(
    ch: &mut Channel,
    conns: &HashMap<String, Conn>,
    counters: &Counters,
    limits: HubLimits,
    channel: &str,
    change: Change,
) -> bool {
    let now = Instant::now();
    let per_second = f64::from(limits.presence_announcements.max(1));
    let announcer = ch
        .announcer
        .get_or_insert_with(|| Announcer::new(per_second, now));
    let now_told = announcer.offer(change, per_second, now);
    let waits = !announcer.pending.is_empty() || announcer.deferred > 0 || announcer.coalesced > 0;
    if let Some(change) = now_told {
        tell(ch, conns, counters, channel, change);
    }
    waits
}

/// Sends one presence change to the channel's subscribers.
pub(super) fn tell(
    ch: &Channel,
    conns: &HashMap<String, Conn>,
    counters: &Counters,
    channel: &str,
    change: Change,
) {
    let channel = channel.to_owned();
    let (message, exclude) = match change {
        Change::Added(member, joiner) => {
            (ServerMessage::MemberAdded { channel, member }, Some(joiner))
        }
        Change::Removed(user_id, _) => (ServerMessage::MemberRemoved { channel, user_id }, None),
    };
    let frame: Utf8Bytes = message.encode().into();
    ch.fan_out(conns, counters, &frame, exclude.as_deref());
}

/// Queues a new subscriber's welcome (see [`Hub::subscribe`]); a socket with no room for
/// it is too slow, and closed.
fn welcome(
    conn: &Conn,
    counters: &Counters,
    channel: &str,
    presence: Option<Vec<Member>>,
    cached: Option<Option<Utf8Bytes>>,
) {
    let succeeded = ServerMessage::SubscriptionSucceeded {
        channel: channel.to_owned(),
        presence,
    };
    let last = match cached {
        Some(Some(frame)) => Some(frame),
        Some(None) => Some(
            ServerMessage::CacheMiss {
                channel: channel.to_owned(),
            }
            .encode()
            .into(),
        ),
        None => None,
    };
    for frame in std::iter::once(succeeded.encode().into()).chain(last) {
        if conn.handle.frames.offer(frame) == Err(Refused::Full) {
            counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
            conn.handle.close(Close::TOO_SLOW);
            return;
        }
    }
}

/// The member list a new subscriber gets: the one the others were told, with itself in it.
fn told_members(ch: &Channel, me: Member) -> Vec<Member> {
    let mut members = match &ch.announcer {
        Some(a) => a.told(ch.members()),
        None => ch.members(),
    };
    let mut seen = std::collections::HashSet::new();
    members.retain(|m| seen.insert(m.user_id.clone()));
    if !members.iter().any(|m| m.user_id == me.user_id) {
        members.push(me);
    }
    members
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use crate::hub::ConnHandle;
    use crate::queue::{QueueLimits, QueueRx, send_queue};

    fn socket(hub: &Hub, socket_id: &str) -> QueueRx {
        let (frames, rx) = send_queue(QueueLimits {
            frames: 64,
            bytes: 1 << 20,
        });
        let (kick, _) = tokio::sync::mpsc::channel(1);
        hub.register("app", socket_id, ConnHandle { frames, kick });
        rx
    }

    fn join(hub: &Hub, socket_id: &str, user_id: &str) {
        let member = Member {
            user_id: user_id.into(),
            user_info: Value::Null,
        };
        hub.subscribe("app", socket_id, "presence-room", Some(member))
            .expect("room to join");
    }

    /// Making room closes each connection once: a second newcomer never gets the place of
    /// one already told to close (the total would grow past its cap by as many as ask).
    #[test]
    fn room_is_made_once_per_connection() {
        let hub = Hub::new(["app"], HubLimits::default());
        let ip = std::net::IpAddr::from([127, 0, 0, 2]);
        let mut kicks = Vec::new();
        for id in ["1.1", "1.2"] {
            let (frames, _rx) = send_queue(QueueLimits {
                frames: 4,
                bytes: 1 << 10,
            });
            let (kick, kicked) = tokio::sync::mpsc::channel(1);
            hub.register_from("app", id, ConnHandle { frames, kick }, ip);
            kicks.push(kicked);
        }
        let made: Vec<bool> = (0..3)
            .map(|_| hub.close_one_from(ip, Close::MADE_ROOM))
            .collect();
        assert_eq!(made, [true, true, false]);
        for kicked in &mut kicks {
            assert_eq!(kicked.try_recv().ok(), Some(Close::MADE_ROOM));
        }
    }

    /// A join announced late (its channel over its announcement budget) is told to everyone
    /// on the channel, the members who joined since included: each of them has its
    /// `subscription_succeeded` first, as the subscription itself queued it, never the late
    /// `member_added` before it (which a client would then lose, resetting its members).
    #[test]
    fn a_new_subscriber_hears_its_welcome_before_anything_told_on_the_channel() {
        let limits = HubLimits {
            presence_announcements: 1,
            ..HubLimits::default()
        };
        let hub = Hub::new(["app"], limits);
        let _first = socket(&hub, "1.1");
        join(&hub, "1.1", "ann");
        let _second = socket(&hub, "1.2");
        join(&hub, "1.2", "bob");
        // ann's join took the budget's token; bob's waits for the next one, a second on.
        std::thread::sleep(Duration::from_millis(1100));
        let mut late = socket(&hub, "1.3");
        join(&hub, "1.3", "cy");
        hub.tick(false);
        let first = late
            .try_recv()
            .expect("the welcome, queued by the subscription");
        assert!(
            first.contains("pusher_internal:subscription_succeeded"),
            "{first}"
        );
        let second = late.try_recv().expect("bob's join, told by the tick");
        assert!(
            second.contains("pusher_internal:member_added") && second.contains("bob"),
            "{second}"
        );
    }
}
