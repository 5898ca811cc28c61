//! [`WeighedMap`]: a sorted map for keys that come from the wire (channel, event and user
//! names), capped in entries and bytes. Keys and values are weighed together; a value
//! changed in place is weighed again. A new key that does not fit is refused and counted,
//! so the first keys stay and the rest are "other": whatever a stranger sends, the map
//! holds at most its caps. Cut long names before they become keys: a key is weighed whole.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use crate::{Cause, Drops, Limits, Weigh};

#[derive(Debug, Clone)]
struct Entry<V> {
    value: V,
    key_weight: usize,
    /// The key's weight and the value's, when last weighed.
    weight: usize,
}

#[derive(Debug, Clone)]
pub struct WeighedMap<K, V> {
    map: BTreeMap<K, Entry<V>>,
    bytes: usize,
    limits: Limits,
    drops: Drops,
}

impl<K: Ord + Weigh, V: Weigh> WeighedMap<K, V> {
    pub fn new(limits: Limits) -> WeighedMap<K, V> {
        WeighedMap {
            map: BTreeMap::new(),
            bytes: 0,
            limits: Limits::new(limits.items, limits.bytes),
            drops: Drops::default(),
        }
    }

    fn lacks_room(&self, weight: usize) -> Option<Cause> {
        if weight > self.limits.bytes {
            Some(Cause::Oversize)
        } else if self.map.len() >= self.limits.items {
            Some(Cause::Items)
        } else if self.bytes + weight > self.limits.bytes {
            Some(Cause::Bytes)
        } else {
            None
        }
    }

    /// Inserts or replaces. A new key that does not fit is refused (and counted); a
    /// replacement that no longer fits removes the old entry too, and is counted.
    pub fn insert(&mut self, key: K, value: V) -> Result<(), Cause> {
        let key_weight = key.weight();
        let weight = key_weight + value.weight();
        if let Some(old) = self.map.remove(&key) {
            self.bytes -= old.weight;
        }
        if let Some(cause) = self.lacks_room(weight) {
            self.drops.count(cause);
            return Err(cause);
        }
        self.bytes += weight;
        self.map.insert(
            key,
            Entry {
                value,
                key_weight,
                weight,
            },
        );
        Ok(())
    }

    /// Changes the value under `key`, making it with `new` first if the key is new and
    /// fits. The value is weighed again after `f`; if it then no longer fits, it is
    /// removed and counted. Whether the value is in the map afterwards.
    pub fn upsert(&mut self, key: K, new: impl FnOnce() -> V, f: impl FnOnce(&mut V)) -> bool {
        let f = match self.try_update(&key, f) {
            Ok(there) => return there,
            Err(f) => f,
        };
        let mut value = new();
        f(&mut value);
        self.insert(key, value).is_ok()
    }

    /// Changes an existing value, weighed again as [`WeighedMap::upsert`] does. Whether
    /// the key is (still) there.
    pub fn update<Q>(&mut self, key: &Q, f: impl FnOnce(&mut V)) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.try_update(key, f).unwrap_or(false)
    }

    /// [`WeighedMap::update`], giving `f` back when the key is not there: one lookup for
    /// a caller that inserts then.
    fn try_update<Q, F>(&mut self, key: &Q, f: F) -> Result<bool, F>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        F: FnOnce(&mut V),
    {
        let Some(entry) = self.map.get_mut(key) else {
            return Err(f);
        };
        f(&mut entry.value);
        let now = entry.key_weight + entry.value.weight();
        self.bytes = self.bytes - entry.weight + now;
        entry.weight = now;
        if self.bytes > self.limits.bytes {
            self.remove(key);
            self.drops.count(Cause::Bytes);
            return Ok(false);
        }
        Ok(true)
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.get(key).map(|e| &e.value)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.contains_key(key)
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let entry = self.map.remove(key)?;
        self.bytes -= entry.weight;
        Some(entry.value)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let mut freed = 0;
        self.map.retain(|k, e| {
            let kept = keep(k, &e.value);
            if !kept {
                freed += e.weight;
            }
            kept
        });
        self.bytes -= freed;
    }

    /// Sorted by key.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + Clone {
        self.map.iter().map(|(k, e)| (k, &e.value))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + Clone {
        self.map.keys()
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + Clone {
        self.map.values().map(|e| &e.value)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// New keys refused, and values that outgrew the cap.
    pub fn drops(&self) -> Drops {
        self.drops
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

/// A key of two names (a channel and an event), looked up by borrowed names: counting
/// under a pair that is already there copies neither name ([`WeighedMap::count_pair`]).
pub trait NamePair {
    fn names(&self) -> (&str, &str);
}

impl NamePair for (String, String) {
    fn names(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl NamePair for (&str, &str) {
    fn names(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

// Ordered as the owned tuple is: its strings in turn, so the map finds it by either form.
impl PartialEq for dyn NamePair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for dyn NamePair + '_ {}

impl PartialOrd for dyn NamePair + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn NamePair + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.names().cmp(&other.names())
    }
}

impl<'a> Borrow<dyn NamePair + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn NamePair + 'a) {
        self
    }
}

impl<V: Weigh> WeighedMap<(String, String), V> {
    /// [`WeighedMap::upsert`] under the pair `(a, b)`, which is copied into a key only when
    /// it is new.
    pub fn count_pair(
        &mut self,
        (a, b): (&str, &str),
        new: impl FnOnce() -> V,
        f: impl FnOnce(&mut V),
    ) -> bool {
        let pair: &dyn NamePair = &(a, b);
        let f = match self.try_update(pair, f) {
            Ok(there) => return there,
            Err(f) => f,
        };
        let mut value = new();
        f(&mut value);
        self.insert((a.to_owned(), b.to_owned()), value).is_ok()
    }
}

impl<K: Ord + Weigh, V: Weigh> Weigh for WeighedMap<K, V> {
    fn weight(&self) -> usize {
        size_of::<Self>() + self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: usize = size_of::<String>();

    #[test]
    fn new_keys_past_the_caps_are_refused_and_counted() {
        let mut m = WeighedMap::new(Limits::new(2, 1 << 20));
        m.insert("a".to_owned(), 1u64).unwrap();
        m.insert("b".to_owned(), 1u64).unwrap();
        assert_eq!(m.insert("c".to_owned(), 1u64), Err(Cause::Items));
        m.insert("a".to_owned(), 2u64).unwrap();
        assert_eq!((m.len(), m.get("a"), m.drops().items), (2, Some(&2), 1));
        let mut m = WeighedMap::new(Limits::new(100, 3 * (S + 8 + 100)));
        for n in 0..10 {
            let _ = m.insert(format!("{n:0>100}"), 0u64);
        }
        assert_eq!((m.len(), m.drops().bytes), (3, 7));
        assert_eq!(
            m.insert("x".repeat(10_000), 0u64),
            Err(Cause::Oversize),
            "one huge key is never stored"
        );
    }

    #[test]
    fn a_value_changed_in_place_is_weighed_again() {
        let mut m: WeighedMap<String, String> = WeighedMap::new(Limits::new(10, 1000));
        assert!(m.upsert("k".into(), String::new, |v| v.push_str("abc")));
        let before = m.bytes();
        assert!(m.update("k", |v| v.push_str(&"d".repeat(100))));
        assert_eq!(m.bytes(), before + 100);
        m.update("k", |v| v.push_str(&"d".repeat(2000)));
        assert!(m.is_empty(), "a value that outgrew the cap goes");
        assert_eq!((m.bytes(), m.drops().bytes), (0, 1));
        m.upsert("a".into(), String::new, |_| {});
        m.upsert("b".into(), String::new, |_| {});
        m.retain(|k, _| k == "a");
        assert_eq!(m.bytes(), S + 1 + S);
    }

    #[test]
    fn pairs_are_found_by_borrowed_names_in_the_owned_order() {
        let mut m: WeighedMap<(String, String), u64> = WeighedMap::new(Limits::new(3, 1 << 20));
        for (a, b) in [
            ("b", "x"),
            ("a", "y"),
            ("b", "x"),
            ("a", "x"),
            ("b", "x"),
            ("c", "z"),
        ] {
            let _ = m.count_pair((a, b), || 0, |n| *n += 1);
        }
        let seen: Vec<_> = m
            .iter()
            .map(|((a, b), n)| (a.as_str(), b.as_str(), *n))
            .collect();
        assert_eq!(seen, [("a", "x", 1), ("a", "y", 1), ("b", "x", 3)]);
        assert!(!m.count_pair(("c", "z"), || 0, |n| *n += 1), "past the cap");
        assert!(
            m.count_pair(("b", "x"), || 0, |n| *n += 1),
            "a known pair still counts"
        );
        assert_eq!(
            (m.get(&("b".to_owned(), "x".to_owned())), m.drops().items),
            (Some(&4), 2)
        );
    }

    proptest::proptest! {
        #[test]
        fn the_caps_hold_whatever_keys_come(
            keys in proptest::collection::vec((0usize..50, 0usize..2000), 0..300),
            items in 1usize..30,
            bytes in 1usize..20_000,
        ) {
            let mut m: WeighedMap<String, String> = WeighedMap::new(Limits::new(items, bytes));
            for (i, (k, n)) in keys.iter().enumerate() {
                let key = format!("{k}");
                match i % 3 {
                    0 => { let _ = m.insert(key, "v".repeat(*n)); }
                    1 => { m.upsert(key, String::new, |v| v.push_str(&"w".repeat(*n))); }
                    _ => { m.remove(&key); }
                }
                proptest::prop_assert!(m.len() <= items && m.bytes() <= bytes);
                let sum: usize = m.iter().map(|(k, v)| k.weight() + v.weight()).sum();
                proptest::prop_assert_eq!(m.bytes(), sum);
            }
        }
    }
}
