//! `pusher_internal:subscription_count`: a channel's subscribers hear its count as it
//! changes, throttled per channel as Pusher does. Up to [`SMALL`] subscribers a change is
//! told at once, then at most every [`SMALL_EVERY`]; above that, at most every
//! [`LARGE_EVERY`]. A change inside the wait marks the channel (one entry per channel) and
//! the hub's 100 ms tick tells the latest count when its time comes, so churn costs each
//! subscriber at most ten frames a second, and a big channel one frame every 5 s. Never on
//! presence channels (their members say it) nor on server-to-user channels.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;

use super::channel::Channel;
use super::{Conn, Counters};
use protocol::ServerMessage;
use protocol::channel::{ChannelKind, classify};

/// Subscribers up to which a channel's count is told at most every [`SMALL_EVERY`].
pub(super) const SMALL: usize = 100;
pub(super) const SMALL_EVERY: Duration = Duration::from_millis(100);
/// Above [`SMALL`] subscribers, the count is told at most this often.
pub(super) const LARGE_EVERY: Duration = Duration::from_secs(5);

/// What a channel's subscribers were last told.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Told {
    at: Option<Instant>,
    count: usize,
}

/// Whether a channel's subscribers hear its count.
pub(super) fn counted(channel: &str) -> bool {
    !matches!(
        classify(channel).kind,
        ChannelKind::Presence | ChannelKind::ServerToUser
    )
}

/// The channel's count changed: tells it now if the channel's wait is over (true), else
/// leaves it for the tick (false: mark the channel).
pub(super) fn changed(
    ch: &mut Channel,
    conns: &HashMap<String, Conn>,
    counters: &Counters,
    channel: &str,
    now: Instant,
) -> bool {
    if !due(ch, now) {
        return false;
    }
    tell(ch, conns, counters, channel, now);
    true
}

/// The tick: tells the latest count if the wait is over and it differs from what was told.
/// Whether the channel is done (false: still waiting).
pub(super) fn tick(
    ch: &mut Channel,
    conns: &HashMap<String, Conn>,
    counters: &Counters,
    channel: &str,
    now: Instant,
) -> bool {
    if !due(ch, now) {
        return false;
    }
    if ch.told.count != ch.subs.len() {
        tell(ch, conns, counters, channel, now);
    }
    true
}

fn due(ch: &Channel, now: Instant) -> bool {
    let every = if ch.subs.len() > SMALL {
        LARGE_EVERY
    } else {
        SMALL_EVERY
    };
    ch.told
        .at
        .is_none_or(|at| now.saturating_duration_since(at) >= every)
}

fn tell(
    ch: &mut Channel,
    conns: &HashMap<String, Conn>,
    counters: &Counters,
    channel: &str,
    now: Instant,
) {
    let count = ch.subs.len();
    let frame: Utf8Bytes = ServerMessage::SubscriptionCount {
        channel: channel.to_owned(),
        count: count as u64,
    }
    .encode()
    .into();
    ch.fan_out(conns, counters, &frame, None);
    ch.told = Told {
        at: Some(now),
        count,
    };
}
