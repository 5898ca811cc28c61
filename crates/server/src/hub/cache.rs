//! Cache channels' last events, kept apart from the channel table: bounded in bytes (each
//! entry counts its frame, its name and a fixed overhead), expired after a time to live as
//! Pusher's are, and never counted against the app's channel cap. A new entry that does not
//! fit is refused and counted; the channel then answers `pusher:cache_miss`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;

/// What one entry costs beside its frame and name: the map slot, the timestamp, the strings'
/// headers.
const ENTRY_OVERHEAD: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    pub bytes: usize,
    pub ttl: Duration,
}

impl CacheLimits {
    pub const DEFAULT_BYTES: usize = 64 * 1024 * 1024;
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
}

impl Default for CacheLimits {
    fn default() -> CacheLimits {
        CacheLimits {
            bytes: CacheLimits::DEFAULT_BYTES,
            ttl: CacheLimits::DEFAULT_TTL,
        }
    }
}

#[derive(Default)]
pub(super) struct Cache {
    entries: HashMap<String, (Utf8Bytes, Instant)>,
    bytes: usize,
}

fn cost(channel: &str, frame: &Utf8Bytes) -> usize {
    channel.len() + frame.len() + ENTRY_OVERHEAD
}

impl Cache {
    /// Keeps `frame` as the channel's last event; false when it does not fit the budget.
    pub(super) fn put(
        &mut self,
        limits: CacheLimits,
        channel: &str,
        frame: &Utf8Bytes,
        now: Instant,
    ) -> bool {
        let old = self
            .entries
            .get(channel)
            .map_or(0, |(f, _)| cost(channel, f));
        let new = cost(channel, frame);
        if self.bytes - old + new > limits.bytes {
            self.expire(limits, now);
            let old = self
                .entries
                .get(channel)
                .map_or(0, |(f, _)| cost(channel, f));
            if self.bytes - old + new > limits.bytes {
                return false;
            }
        }
        match self.entries.get_mut(channel) {
            Some(entry) => {
                self.bytes = self.bytes - old + new;
                *entry = (frame.clone(), now);
            }
            None => {
                self.bytes += new;
                self.entries
                    .insert(channel.to_owned(), (frame.clone(), now));
            }
        }
        true
    }

    /// The channel's last event, unless it is older than the time to live.
    pub(super) fn get(
        &mut self,
        limits: CacheLimits,
        channel: &str,
        now: Instant,
    ) -> Option<Utf8Bytes> {
        let (frame, at) = self.entries.get(channel)?;
        if now.saturating_duration_since(*at) <= limits.ttl {
            return Some(frame.clone());
        }
        let cost = cost(channel, frame);
        self.entries.remove(channel);
        self.bytes -= cost;
        None
    }

    /// Drops every expired entry (only when the budget is reached: O(entries)).
    fn expire(&mut self, limits: CacheLimits, now: Instant) {
        let mut freed = 0;
        self.entries.retain(|name, (frame, at)| {
            let keep = now.saturating_duration_since(*at) <= limits.ttl;
            if !keep {
                freed += cost(name, frame);
            }
            keep
        });
        self.bytes -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_new_entries_and_expiry_frees_them() {
        let limits = CacheLimits {
            bytes: 2 * (ENTRY_OVERHEAD + 10),
            ttl: Duration::from_secs(60),
        };
        let t0 = Instant::now();
        let mut c = Cache::default();
        let f: Utf8Bytes = "x".repeat(9).into();
        assert!(c.put(limits, "a", &f, t0));
        assert!(c.put(limits, "b", &f, t0));
        assert!(!c.put(limits, "c", &f, t0), "over the budget");
        assert!(c.put(limits, "a", &f, t0), "replacing an entry fits");
        assert_eq!(
            c.get(limits, "a", t0 + Duration::from_secs(30)),
            Some(f.clone())
        );
        let later = t0 + Duration::from_secs(61);
        assert!(c.put(limits, "c", &f, later), "expired entries make room");
        assert_eq!(c.get(limits, "a", later), None);
        assert_eq!(c.bytes, ENTRY_OVERHEAD + 10);
    }
}
