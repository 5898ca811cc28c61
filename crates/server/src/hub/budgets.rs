//! Token buckets shared by every socket of one key: an address's subscribe requests, a
//! presence user's joins. N sockets of one client share one budget, so opening more sockets
//! buys nothing. The map is bounded: past its cap, buckets that have refilled (which say
//! nothing any more) are forgotten first, then the fullest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per key: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub(crate) struct Buckets<K> {
    map: Mutex<HashMap<K, Bucket>>,
    burst: f64,
    per_second: f64,
    cap: usize,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub(crate) fn new(burst: usize, per_second: u32, cap: usize) -> Buckets<K> {
        Buckets {
            map: Mutex::new(HashMap::new()),
            burst: burst.max(1) as f64,
            per_second: f64::from(per_second.max(1)),
            cap: cap.max(1),
        }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.burst);
        b.at = now;
    }

    /// Takes a token of `key`'s bucket; false when it is empty.
    pub(crate) fn take(&self, key: &K, now: Instant) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.cap {
            self.make_room(&mut map, now);
        }
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        self.refill(b, now);
        if b.tokens < 1.0 {
            return false;
        }
        b.tokens -= 1.0;
        true
    }

    /// Forgets the buckets that are full again; if none is, the fullest one.
    fn make_room(&self, map: &mut HashMap<K, Bucket>, now: Instant) {
        for b in map.values_mut() {
            self.refill(b, now);
        }
        map.retain(|_, b| b.tokens < self.burst);
        if map.len() >= self.cap
            && let Some(key) = map
                .iter()
                .max_by(|a, b| a.1.tokens.total_cmp(&b.1.tokens))
                .map(|(k, _)| k.clone())
        {
            map.remove(&key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn keys_share_nothing_and_the_map_stays_within_its_cap() {
        let b: Buckets<u32> = Buckets::new(2, 1, 3);
        let t0 = Instant::now();
        assert!(b.take(&1, t0) && b.take(&1, t0));
        assert!(!b.take(&1, t0), "the burst is spent");
        assert!(b.take(&2, t0), "another key has its own");
        assert!(b.take(&1, t0 + Duration::from_secs(1)), "refilled");
        for k in 10..100 {
            b.take(&k, t0 + Duration::from_secs(2));
            assert!(b.len() <= 3);
        }
    }
}
