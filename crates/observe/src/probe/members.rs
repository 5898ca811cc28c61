//! Presence across nodes: every node joins the same presence channel, and in a healthy
//! cluster every node lists the same members. Pure: the caller feeds the member changes and
//! the time, and asks each interval whether the lists differ, and for how long.
//!
//! A difference must last `settle` to count (a member joining reaches the nodes one after
//! the other), and lists are compared only once every node has its list.

use std::time::{Duration, Instant};

use bounded::{Limits, WeighedMap};
use client::MemberChange;

/// Members kept per node (as the client's own cap).
pub const MAX_MEMBERS: usize = 10_000;
/// One node's list: its ids (cut by the engine to a name's length), in count and bytes.
pub const LIST: Limits = Limits::new(MAX_MEMBERS, 4 << 20);

/// One node's member ids, sorted: a [`WeighedMap`] capped at [`LIST`].
#[derive(Debug, Clone)]
pub struct List(WeighedMap<String, ()>);

impl Default for List {
    fn default() -> List {
        List(WeighedMap::new(LIST))
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.0.len() == other.0.len() && self.0.keys().eq(other.0.keys())
    }
}

impl List {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    /// The ids this list has that `other` lacks, sorted.
    pub fn difference<'a>(&'a self, other: &'a List) -> impl Iterator<Item = &'a String> + 'a {
        self.0
            .keys()
            .filter(|id| !other.0.contains_key(id.as_str()))
    }

    fn insert(&mut self, id: &str) {
        let _ = self
            .0
            .insert(protocol::limits::cut_name(id).into_owned(), ());
    }

    fn remove(&mut self, id: &str) {
        self.0.remove(protocol::limits::cut_name(id).as_ref());
    }
}

/// How two nodes' lists differ: members only the first has, members only the second has.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub a: usize,
    pub b: usize,
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    pub since: Instant,
}

impl Mismatch {
    /// `node 0 lists probe-0 that node 1 does not; node 1 lists probe-1 …` with `name` for nodes.
    pub fn describe(&self, name: impl Fn(usize) -> String) -> String {
        let list = |v: &[String]| {
            let mut text = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > 5 {
                text.push_str(&format!(" and {} more", v.len() - 5));
            }
            text
        };
        let mut parts = Vec::new();
        if !self.only_a.is_empty() {
            parts.push(format!(
                "{} lists {} that {} does not",
                name(self.a),
                list(&self.only_a),
                name(self.b)
            ));
        }
        if !self.only_b.is_empty() {
            parts.push(format!(
                "{} lists {} that {} does not",
                name(self.b),
                list(&self.only_b),
                name(self.a)
            ));
        }
        format!("presence members differ: {}", parts.join("; "))
    }
}

/// The member lists of every node.
#[derive(Debug)]
pub struct Presence {
    lists: Vec<Option<List>>,
    settle: Duration,
    /// When the current difference was first seen.
    differ_since: Option<Instant>,
}

impl Presence {
    pub fn new(nodes: usize, settle: Duration) -> Presence {
        Presence {
            lists: vec![None; nodes],
            settle,
            differ_since: None,
        }
    }

    /// A member change on `node`'s presence channel.
    pub fn apply(&mut self, node: usize, change: &MemberChange) {
        let Some(slot) = self.lists.get_mut(node) else {
            return;
        };
        match change {
            MemberChange::Snapshot { members, .. } => {
                let mut list = List::default();
                for m in members {
                    list.insert(&m.user_id);
                }
                *slot = Some(list);
            }
            MemberChange::Added(m) => {
                if let Some(list) = slot {
                    list.insert(&m.user_id);
                }
            }
            MemberChange::Removed(id) => {
                if let Some(list) = slot {
                    list.remove(id);
                }
            }
        }
    }

    /// `node` lost its subscription (disconnected): its list is unknown until the next one.
    pub fn forget(&mut self, node: usize) {
        if let Some(slot) = self.lists.get_mut(node) {
            *slot = None;
        }
    }

    /// The members `node` lists, when it has a list.
    pub fn list(&self, node: usize) -> Option<&List> {
        self.lists.get(node)?.as_ref()
    }

    /// The first difference that has lasted `settle`, if any (compare once per interval).
    pub fn check(&mut self, now: Instant) -> Option<Mismatch> {
        let Some(found) = self.first_difference() else {
            self.differ_since = None;
            return None;
        };
        let since = *self.differ_since.get_or_insert(now);
        (now.saturating_duration_since(since) >= self.settle).then_some(Mismatch { since, ..found })
    }

    fn first_difference(&self) -> Option<Mismatch> {
        let known: Vec<(usize, &List)> = self
            .lists
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, l.as_ref()?)))
            .collect();
        if known.len() < self.lists.len() {
            return None;
        }
        let (a, first) = *known.first()?;
        known.iter().skip(1).find_map(|&(b, other)| {
            (first != other).then(|| Mismatch {
                a,
                b,
                only_a: first.difference(other).cloned().collect(),
                only_b: other.difference(first).cloned().collect(),
                since: Instant::now(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::frame::Member;

    fn member(id: &str) -> Member {
        Member {
            user_id: id.into(),
            user_info: serde_json::Value::Null,
        }
    }

    fn snapshot(ids: &[&str]) -> MemberChange {
        MemberChange::Snapshot {
            members: ids.iter().map(|i| member(i)).collect(),
            me: None,
        }
    }

    const SETTLE: Duration = Duration::from_secs(3);

    #[test]
    fn equal_lists_never_differ() {
        let t0 = Instant::now();
        let mut p = Presence::new(2, SETTLE);
        p.apply(0, &snapshot(&["probe-0", "probe-1"]));
        assert_eq!(p.check(t0 + SETTLE * 2), None, "node 1 has no list yet");
        p.apply(1, &snapshot(&["probe-1", "probe-0"]));
        assert_eq!(p.check(t0), None);
        assert_eq!(p.check(t0 + SETTLE * 2), None);
    }

    #[test]
    fn a_difference_counts_only_once_it_has_lasted_the_settle_time() {
        let t0 = Instant::now();
        let mut p = Presence::new(2, SETTLE);
        p.apply(0, &snapshot(&["probe-0"]));
        p.apply(1, &snapshot(&["probe-1"]));
        assert_eq!(p.check(t0), None, "just seen");
        assert_eq!(p.check(t0 + Duration::from_secs(2)), None);
        let m = p.check(t0 + SETTLE).unwrap();
        assert_eq!((m.a, m.b), (0, 1));
        assert_eq!(
            (m.only_a.clone(), m.only_b.clone()),
            (vec!["probe-0".into()], vec!["probe-1".into()])
        );
        assert_eq!(m.since, t0);
        let text = m.describe(|n| format!("node {n}"));
        assert!(
            text.contains("node 0 lists probe-0 that node 1 does not"),
            "{text}"
        );
        // The member arrives: the difference ends, and a new one starts its settle again.
        p.apply(0, &MemberChange::Added(member("probe-1")));
        p.apply(1, &MemberChange::Added(member("probe-0")));
        assert_eq!(p.check(t0 + SETTLE * 2), None);
        p.apply(1, &MemberChange::Removed("probe-0".into()));
        assert_eq!(
            p.check(t0 + SETTLE * 3),
            None,
            "a new difference settles first"
        );
        assert!(p.check(t0 + SETTLE * 4).is_some());
    }

    #[test]
    fn a_node_that_lists_megabyte_ids_holds_its_caps() {
        let mut p = Presence::new(1, SETTLE);
        let long = "x".repeat(10_000);
        p.apply(0, &snapshot(&[]));
        for n in 0..MAX_MEMBERS + 10 {
            p.apply(0, &MemberChange::Added(member(&format!("{n}{long}"))));
        }
        let list = p.list(0).unwrap();
        assert!(list.len() <= MAX_MEMBERS && list.0.bytes() <= LIST.bytes);
        assert!(list.contains(&protocol::limits::cut_name(&format!("0{long}"))));
    }

    #[test]
    fn a_ghost_member_on_one_node_is_a_difference() {
        let t0 = Instant::now();
        let mut p = Presence::new(3, SETTLE);
        for n in 0..3 {
            p.apply(n, &snapshot(&["probe-0", "probe-1", "probe-2"]));
        }
        p.apply(2, &MemberChange::Removed("probe-1".into()));
        p.check(t0);
        let m = p.check(t0 + SETTLE).unwrap();
        assert_eq!((m.a, m.b, m.only_a), (0, 2, vec!["probe-1".into()]));
        p.forget(2);
        assert_eq!(
            p.check(t0 + SETTLE * 2),
            None,
            "an unknown list is not compared"
        );
        assert_eq!(p.list(2), None);
    }
}
