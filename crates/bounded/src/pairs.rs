//! [`PairCounts`]: sums under pairs of names (a channel and an event), kept in a
//! [`WeighedMap`], for counting every event of a flood. Events mostly come in runs under one
//! pair, and a reader that shares names between events hands the same `Arc`s for the same
//! names: so the pair counted last is remembered by its names' identity, and the run's sums
//! wait beside the map, to be added to its entry when another pair comes or the sums are
//! read. Counting an event of the run is then one pointer comparison, not a lookup.

use std::borrow::Cow;
use std::sync::Arc;

use crate::{Drops, Limits, NamePair, Weigh, WeighedMap};

/// A sum whose weight does not depend on what it holds: sums kept aside can be added to
/// the map's entry later without weighing it again.
pub trait Tally: Weigh + Default + Clone {
    fn add(&mut self, other: &Self);
}

impl Tally for u64 {
    fn add(&mut self, other: &u64) {
        *self = self.saturating_add(*other);
    }
}

/// How a name is kept as a key (cut to a length, say).
pub type Keep = for<'a> fn(&'a str) -> Cow<'a, str>;

/// Longest names (both together, in bytes) a run keeps alive: a run holds its names beyond
/// the event that brought them, unweighed, so a pair of longer names (from a stranger) is
/// counted with a lookup every time instead.
pub const RUN_NAMES_BYTES: usize = 1024;

/// A pair of names as kept.
type Kept<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The run being counted: its names (kept alive here, so their addresses cannot be
/// reused by other names), and the sums not yet in the map, `adds` of them.
#[derive(Debug)]
struct Run<V, S: ?Sized> {
    first: Option<Arc<S>>,
    second: Arc<S>,
    pending: V,
    adds: u64,
}

impl<V: Clone, S: ?Sized> Clone for Run<V, S> {
    fn clone(&self) -> Self {
        Run {
            first: self.first.clone(),
            second: self.second.clone(),
            pending: self.pending.clone(),
            adds: self.adds,
        }
    }
}

/// Sums under pairs of names shared as `Arc<S>` (`S` a `str`, or anything that holds one).
#[derive(Debug)]
pub struct PairCounts<V, S: ?Sized = str> {
    map: WeighedMap<(String, String), V>,
    keep: Keep,
    run: Option<Run<V, S>>,
}

impl<V: Clone, S: ?Sized> Clone for PairCounts<V, S> {
    fn clone(&self) -> Self {
        PairCounts {
            map: self.map.clone(),
            keep: self.keep,
            run: self.run.clone(),
        }
    }
}

impl<V: Tally, S: ?Sized + AsRef<str>> PairCounts<V, S> {
    /// Pairs kept under `(keep(first or ""), keep(second))`, within `limits`.
    pub fn new(limits: Limits, keep: Keep) -> PairCounts<V, S> {
        PairCounts {
            map: WeighedMap::new(limits),
            keep,
            run: None,
        }
    }

    /// Adds `sum` under the pair. False when the pair is new and past the caps: the sum is
    /// not counted here (the caller counts it as "other").
    pub fn count(&mut self, first: Option<&Arc<S>>, second: &Arc<S>, sum: &V) -> bool {
        if let Some(run) = &mut self.run
            && Arc::ptr_eq(&run.second, second)
            && match (&run.first, first) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        {
            run.pending.add(sum);
            run.adds += 1;
            return true;
        }
        self.settle();
        let keep = self.keep;
        let (first_name, second_name) = (first.map_or("", |a| (**a).as_ref()), (**second).as_ref());
        let key = (keep(first_name), keep(second_name));
        let counted = self
            .map
            .count_pair((&key.0, &key.1), V::default, |v| v.add(sum));
        // Only a pair in the map starts a run (its sums can always go in), and only short
        // names are kept alive for it.
        let short = first_name.len() + second_name.len() <= RUN_NAMES_BYTES;
        self.run = (counted && short).then(|| Run {
            first: first.cloned(),
            second: second.clone(),
            pending: V::default(),
            adds: 0,
        });
        counted
    }

    /// Adds the run's pending sums to its entry.
    fn settle(&mut self) {
        let Some(run) = self.run.take() else {
            return;
        };
        if run.adds == 0 {
            return;
        }
        let keep = self.keep;
        let key = (
            keep(run.first.as_deref().map_or("", AsRef::as_ref)),
            keep((*run.second).as_ref()),
        );
        let pair: &dyn NamePair = &(&*key.0, &*key.1);
        self.map.update(pair, |v| v.add(&run.pending));
    }

    /// The run's key and pending sums, when it has any.
    fn pending(&self) -> Option<(Kept<'_>, &V)> {
        let run = self.run.as_ref().filter(|r| r.adds > 0)?;
        let key = (
            (self.keep)(run.first.as_deref().map_or("", AsRef::as_ref)),
            (self.keep)((*run.second).as_ref()),
        );
        Some((key, &run.pending))
    }

    /// The sum under a pair of names as kept.
    pub fn get(&self, first: &str, second: &str) -> Option<V> {
        let pair: &dyn NamePair = &(first, second);
        let mut v = self.map.get(pair)?.clone();
        if let Some((key, pending)) = self.pending()
            && key.0 == first
            && key.1 == second
        {
            v.add(pending);
        }
        Some(v)
    }

    /// Every pair and its sum, sorted by the names as kept.
    pub fn iter(&self) -> impl Iterator<Item = (&(String, String), V)> + '_ {
        let pending = self.pending();
        self.map.iter().map(move |(k, v)| {
            let mut v = v.clone();
            if let Some((key, sum)) = &pending
                && key.0 == k.0.as_str()
                && key.1 == k.1.as_str()
            {
                v.add(sum);
            }
            (k, v)
        })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.map.bytes()
    }

    pub fn limits(&self) -> Limits {
        self.map.limits()
    }

    /// Pairs refused for the caps.
    pub fn drops(&self) -> Drops {
        self.map.drops()
    }
}

impl<V: Tally, S: ?Sized + AsRef<str>> Weigh for PairCounts<V, S> {
    fn weight(&self) -> usize {
        size_of::<Self>() + self.map.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(s: &str) -> Cow<'_, str> {
        if s.len() > 4 {
            Cow::Owned(format!("{}…", &s[..4]))
        } else {
            Cow::Borrowed(s)
        }
    }

    fn name(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    /// What a map counted one event at a time holds, with the names as kept.
    fn counted_one_by_one(events: &[(Option<&str>, &str)], cap: usize) -> Vec<(String, u64)> {
        let mut m = WeighedMap::new(Limits::new(cap, 1 << 20));
        for (a, b) in events {
            let _ = m.count_pair((&keep(a.unwrap_or("")), &keep(b)), || 0u64, |n| *n += 1);
        }
        m.iter()
            .map(|((a, b), n)| (format!("{a}/{b}"), *n))
            .collect()
    }

    fn listed(p: &PairCounts<u64>) -> Vec<(String, u64)> {
        p.iter()
            .map(|((a, b), n)| (format!("{a}/{b}"), n))
            .collect()
    }

    #[test]
    fn runs_shared_names_and_fresh_ones_count_as_a_lookup_per_event_does() {
        let (c, d) = (name("chan"), name("other-channel"));
        let (e, f) = (name("event"), name("update_event"));
        // A run, a change of pair, the same names in new `Arc`s, no channel, a long name.
        let events: Vec<(Option<Arc<str>>, Arc<str>)> = vec![
            (Some(c.clone()), e.clone()),
            (Some(c.clone()), e.clone()),
            (Some(c.clone()), e.clone()),
            (Some(d.clone()), f.clone()),
            (Some(name("chan")), name("event")),
            (Some(c), e.clone()),
            (None, e.clone()),
            (None, e),
            (Some(d.clone()), name("update_event_2")),
            (Some(d), f),
        ];
        let mut p = PairCounts::new(Limits::new(100, 1 << 20), keep);
        for (n, (a, b)) in events.iter().enumerate() {
            assert!(p.count(a.as_ref(), b, &1));
            // Read at every step: the pending sums are always in what is read.
            let so_far: Vec<(Option<&str>, &str)> = events[..=n]
                .iter()
                .map(|(a, b)| (a.as_deref(), &**b))
                .collect();
            assert_eq!(listed(&p), counted_one_by_one(&so_far, 100), "after {n}");
        }
        assert_eq!(p.get("chan", "even…"), Some(5));
        assert_eq!(p.get("othe…", "upda…"), Some(3));
        assert_eq!(p.get("", "even…"), Some(2));
        assert_eq!(p.get("nope", "even…"), None);
    }

    #[test]
    fn a_pair_past_the_caps_is_refused_every_time_and_starts_no_run() {
        let mut p = PairCounts::new(Limits::new(1, 1 << 20), keep);
        let (a, b, c) = (name("a"), name("b"), name("c"));
        assert!(p.count(Some(&a), &b, &1));
        assert!(!p.count(Some(&a), &c, &1));
        assert!(
            !p.count(Some(&a), &c, &1),
            "refused again, not counted in a run"
        );
        assert!(p.count(Some(&a), &b, &1));
        assert_eq!(listed(&p), vec![("a/b".to_owned(), 2)]);
        assert_eq!(p.drops().items, 2);
    }

    #[test]
    fn long_names_start_no_run_and_are_never_held() {
        let mut p = PairCounts::new(Limits::new(10, 1 << 20), |s: &str| Cow::Borrowed(s));
        let long = name(&"x".repeat(RUN_NAMES_BYTES));
        let (a, weak) = (name("a"), Arc::downgrade(&long));
        assert!(p.count(Some(&a), &long, &1));
        assert!(p.run.is_none(), "a run would keep the long name alive");
        drop(long);
        assert!(weak.upgrade().is_none());
        assert_eq!(p.get("a", &"x".repeat(RUN_NAMES_BYTES)), Some(1));
    }

    #[test]
    fn pending_sums_weigh_nothing_more() {
        let mut p = PairCounts::new(Limits::new(10, 1 << 20), keep);
        let (a, b) = (name("a"), name("b"));
        p.count(Some(&a), &b, &1);
        let bytes = p.bytes();
        for _ in 0..1000 {
            p.count(Some(&a), &b, &1);
        }
        assert_eq!(p.bytes(), bytes);
        assert_eq!(p.get("a", "b"), Some(1001));
    }
}
