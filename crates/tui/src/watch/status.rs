//! What the status bar reports: the connection, the channels, and the counters and rates.
//! Plain data, updated by the model as items arrive.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bounded::{Limits, Weigh, WeighedMap};
use client::{Conn, ConnectionState, SubscriptionStatus};

/// Most channels followed, and the bytes their names and statuses take.
const MAX_CHANNELS: Limits = Limits::new(4096, 4 << 20);

/// A subscription's status, weighed (a failure carries the server's text).
#[derive(Debug, Clone, PartialEq)]
pub struct Sub(pub SubscriptionStatus);

impl Weigh for Sub {
    fn weight(&self) -> usize {
        size_of::<Sub>()
            + match &self.0 {
                SubscriptionStatus::Failed(f) => {
                    f.message.len() + f.string_to_sign.as_ref().map_or(0, String::len)
                }
                _ => 0,
            }
    }
}

/// What the status bar shows.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: ConnectionState,
    pub reason: Option<String>,
    pub retry_at: Option<Instant>,
    pub url: String,
    pub socket_id: Option<String>,
    /// Each connection's channels (names cut) and how their subscriptions stand.
    pub channels: WeighedMap<(Conn, String), Sub>,
    pub total: u64,
    pub rtt: Option<Duration>,
    pub dropped: u64,
    pub unbound: u64,
    /// Events per second over the last complete seconds.
    recent: VecDeque<(u64, u64)>,
    started: Instant,
}

impl Status {
    pub(super) fn new(now: Instant) -> Status {
        Status {
            state: ConnectionState::Initialized,
            reason: None,
            retry_at: None,
            url: String::new(),
            socket_id: None,
            channels: WeighedMap::new(MAX_CHANNELS),
            total: 0,
            rtt: None,
            dropped: 0,
            unbound: 0,
            recent: VecDeque::new(),
            started: now,
        }
    }

    /// The channels' names, each once however many connections follow it, in order.
    pub fn channel_names(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<&String> =
            self.channels.keys().map(|(_, name)| name).collect();
        names.into_iter().cloned().collect()
    }

    pub(super) fn count(&mut self, now: Instant) {
        self.total += 1;
        let second = now.saturating_duration_since(self.started).as_secs();
        match self.recent.back_mut() {
            Some((s, n)) if *s == second => *n += 1,
            _ => {
                self.recent.push_back((second, 1));
                while self.recent.len() > 6 {
                    self.recent.pop_front();
                }
            }
        }
    }

    /// Messages per second, averaged over the last five complete seconds.
    pub fn rate(&self, now: Instant) -> f64 {
        let current = now.saturating_duration_since(self.started).as_secs();
        let sum: u64 = self
            .recent
            .iter()
            .filter(|(s, _)| *s < current && *s + 5 >= current)
            .map(|(_, n)| n)
            .sum();
        sum as f64 / 5f64.min(current.max(1) as f64)
    }
}
