//! What the status bar reports: the connection, the channels, and the counters and rates.
//! Plain data, updated by the state as items arrive.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use client::{ConnectionState, SubscriptionStatus};

/// What the status bar shows.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: ConnectionState,
    pub reason: Option<String>,
    pub retry_at: Option<Instant>,
    pub url: String,
    pub socket_id: Option<String>,
    pub channels: BTreeMap<String, SubscriptionStatus>,
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
            channels: BTreeMap::new(),
            total: 0,
            rtt: None,
            dropped: 0,
            unbound: 0,
            recent: VecDeque::new(),
            started: now,
        }
    }

    pub(super) fn count(&mut self, now: Instant) {
        self.total += 1;
        let second = now.duration_since(self.started).as_secs();
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
        let current = now.duration_since(self.started).as_secs();
        let sum: u64 = self
            .recent
            .iter()
            .filter(|(s, _)| *s < current && *s + 5 >= current)
            .map(|(_, n)| n)
            .sum();
        sum as f64 / 5f64.min(current.max(1) as f64)
    }
}
