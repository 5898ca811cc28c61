//! Presence members of one channel (§3): ids, info and count, kept as the server reports them.
//!
//! The server decides when a user comes and goes (first and last socket); the client applies
//! what it is told. Everything here came from the server, so it is bounded whatever it sends:
//! each member's id is cut to [`protocol::limits::MAX_KEPT_NAME_CHARS`] characters and its
//! `user_info` to [`protocol::limits::MAX_MEMBER_INFO_BYTES`] ([`kept`]), a channel's list is
//! a [`WeighedMap`] of at most [`MAX_MEMBERS`] members and [`CHANNEL_BYTES`], and all the
//! presence channels of one connection share [`ALL_BYTES`] (the subscription table keeps that
//! sum). A member past a cap is not listed and is counted in [`Members::overflow`].
//!
//! Changes may come before the list: a node of a cluster tells another node's join as soon
//! as it hears of it, which can be before the `subscription_succeeded` whose list was made
//! without that member (sockudo on Redis does this). Such early changes are kept, in order
//! and bounded ([`EARLY`]), and applied over the list when it comes, instead of being lost
//! under it.

use bounded::{Bounded, Limits, Overflow, Weigh, WeighedMap};
use serde_json::Value;

use protocol::frame::Member;
use protocol::limits::{cut_member_info, cut_name};

/// Most members tracked per channel (Pusher allows 100; self-hosted servers may allow more).
pub const MAX_MEMBERS: usize = 10_000;
/// Most bytes one channel's members may take (ids and info, as weighed).
pub const CHANNEL_BYTES: usize = 4 << 20;
/// Most bytes the members of all the presence channels of one connection may take.
pub const ALL_BYTES: usize = 16 << 20;

/// Changes kept per channel while its list has not come: at most this many and this many
/// bytes (a member's info is cut to 2 KiB); past it the oldest go, counted in
/// [`Members::overflow`].
pub(crate) const EARLY: Limits = Limits::new(64, 64 << 10);

/// A member change that came before the list.
#[derive(Debug, Clone)]
enum Early {
    Added(Member),
    Removed(String),
}

impl Weigh for Early {
    fn weight(&self) -> usize {
        match self {
            Early::Added(m) => member_weight(m),
            Early::Removed(id) => id.weight(),
        }
    }
}

/// A member's info as kept, weighed by what it holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Info(pub(crate) Value);

impl Weigh for Info {
    fn weight(&self) -> usize {
        value_weight(&self.0)
    }
}

/// Roughly the bytes a JSON value holds: its strings and keys, and a node's size for each value.
pub fn value_weight(v: &Value) -> usize {
    size_of::<Value>()
        + match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(s) => s.len(),
            Value::Array(a) => a.iter().map(value_weight).sum(),
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| size_of::<String>() + k.len() + value_weight(v))
                .sum(),
        }
}

/// What a member weighs in a list (and in an item that carries it).
pub fn member_weight(m: &Member) -> usize {
    m.user_id.weight() + value_weight(&m.user_info)
}

/// A member as observers keep it: the id cut to a name's length, the info cut to
/// [`protocol::limits::MAX_MEMBER_INFO_BYTES`] (see [`cut_member_info`]). Nothing is copied
/// when both fit.
pub fn kept(m: Member) -> Member {
    let user_id = match cut_name(&m.user_id) {
        std::borrow::Cow::Borrowed(_) => m.user_id,
        std::borrow::Cow::Owned(cut) => cut,
    };
    let user_info = cut_member_info(&m.user_info).unwrap_or(m.user_info);
    Member { user_id, user_info }
}

/// A member id as kept (see [`kept`]).
pub fn kept_id(id: String) -> String {
    match cut_name(&id) {
        std::borrow::Cow::Borrowed(_) => id,
        std::borrow::Cow::Owned(cut) => cut,
    }
}

#[derive(Debug, Clone)]
pub struct Members {
    members: WeighedMap<String, Info>,
    /// Our own user id on this channel.
    pub me: Option<String>,
    /// Members the caps kept out (and early changes that had no room).
    pub overflow: u64,
    /// Whether the list has come (`subscription_succeeded`).
    listed: bool,
    /// Changes that came before it, oldest first.
    early: Bounded<Early>,
}

impl Default for Members {
    fn default() -> Members {
        Members {
            members: WeighedMap::new(Limits::new(MAX_MEMBERS, CHANNEL_BYTES)),
            me: None,
            overflow: 0,
            listed: false,
            early: Bounded::new(EARLY, Overflow::DropOldest),
        }
    }
}

impl Members {
    /// Replaces the list with the one from `subscription_succeeded` (members already
    /// [`kept`]), as far as `room` bytes allow, then applies the changes that came before it;
    /// returns the members listed.
    pub(crate) fn reset(
        &mut self,
        list: Vec<Member>,
        me: Option<String>,
        room: usize,
    ) -> Vec<Member> {
        self.members.clear();
        self.overflow = self.early.drops().total();
        let mut listed = Vec::new();
        for m in list {
            let spare = room.saturating_sub(self.members.bytes());
            if self.insert(&m, spare) {
                listed.push(m);
            }
        }
        let early: Vec<Early> = self.early.drain().collect();
        self.early = Bounded::new(EARLY, Overflow::DropOldest);
        for change in early {
            match change {
                Early::Added(m) => {
                    let spare = room.saturating_sub(self.members.bytes());
                    if self.insert(&m, spare) {
                        listed.retain(|l| l.user_id != m.user_id);
                        listed.push(m);
                    }
                }
                Early::Removed(id) => {
                    self.members.remove(id.as_str());
                    listed.retain(|l| l.user_id != id);
                }
            }
        }
        self.listed = true;
        self.me = me;
        listed
    }

    /// Adds or updates a member (already [`kept`]) if it fits in its channel's caps and in
    /// the `spare` bytes all channels have left. Returns true when the user id is new. Before
    /// the list, the change is kept for it (and false returned).
    pub(crate) fn add(&mut self, m: &Member, spare: usize) -> bool {
        if !self.listed {
            self.keep_early(Early::Added(m.clone()));
            return false;
        }
        let new = !self.members.contains_key(m.user_id.as_str());
        self.insert(m, spare) && new
    }

    fn keep_early(&mut self, change: Early) {
        // Dropping the oldest never refuses one that fits the caps alone (each is cut).
        let _ = self.early.push(change);
    }

    fn insert(&mut self, m: &Member, spare: usize) -> bool {
        let old = self.members.get(m.user_id.as_str()).cloned();
        let now = old.as_ref().map_or(0, |i| m.user_id.weight() + i.weight());
        if member_weight(m).saturating_sub(now) > spare {
            self.overflow += 1;
            return false;
        }
        if self
            .members
            .insert(m.user_id.clone(), Info(m.user_info.clone()))
            .is_err()
        {
            // A known member whose new info does not fit keeps its old info (it fit before).
            if let Some(old) = old {
                let _ = self.members.insert(m.user_id.clone(), old);
            }
            self.overflow += 1;
            return false;
        }
        true
    }

    /// Removes a member. Returns true when it was there. Before the list, the change is
    /// kept for it (and false returned).
    pub fn remove(&mut self, user_id: &str) -> bool {
        if !self.listed {
            self.keep_early(Early::Removed(user_id.to_owned()));
            return false;
        }
        self.members.remove(user_id).is_some()
    }

    pub fn count(&self) -> usize {
        self.members.len()
    }

    /// The bytes the list holds, as weighed.
    pub fn bytes(&self) -> usize {
        self.members.bytes()
    }

    pub fn get(&self, user_id: &str) -> Option<&Value> {
        self.members.get(user_id).map(|i| &i.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.members.iter().map(|(k, i)| (k, &i.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(id: &str, info: Value) -> Member {
        Member {
            user_id: id.into(),
            user_info: info,
        }
    }

    /// A cluster node tells another node's join before the welcome whose list lacks it (and
    /// a leave of a member the list still has): both are applied over the list, in order.
    #[test]
    fn changes_before_the_list_are_applied_over_it() {
        let mut ms = Members::default();
        assert!(
            !ms.add(&m("bob", json!({"n": 2})), ALL_BYTES),
            "no list yet"
        );
        assert!(!ms.remove("cy"), "no list yet");
        let listed = ms.reset(
            vec![m("me", Value::Null), m("cy", Value::Null)],
            Some("me".into()),
            ALL_BYTES,
        );
        let ids: Vec<&str> = listed.iter().map(|m| m.user_id.as_str()).collect();
        assert_eq!(ids, ["me", "bob"]);
        assert_eq!((ms.count(), ms.get("bob")), (2, Some(&json!({"n": 2}))));
        // From now on, changes apply at once.
        assert!(ms.add(&m("dan", Value::Null), ALL_BYTES));
        assert_eq!(ms.count(), 3);
        // A join and its leave before the list cancel out; what had no room is counted.
        let mut ms = Members::default();
        ms.add(&m("eve", Value::Null), ALL_BYTES);
        ms.remove("eve");
        ms.reset(Vec::new(), None, ALL_BYTES);
        assert_eq!((ms.count(), ms.overflow), (0, 0));
        let mut ms = Members::default();
        for n in 0..EARLY.items + 3 {
            ms.add(&m(&format!("u{n}"), Value::Null), ALL_BYTES);
        }
        ms.reset(Vec::new(), None, ALL_BYTES);
        assert_eq!((ms.count(), ms.overflow), (EARLY.items, 3));
        assert_eq!(ms.get("u0"), None, "the oldest went");
    }

    #[test]
    fn add_remove_and_count() {
        let mut ms = Members::default();
        ms.reset(
            vec![m("1", json!({"n": 1})), m("2", Value::Null)],
            Some("1".into()),
            ALL_BYTES,
        );
        assert_eq!(ms.count(), 2);
        assert!(ms.add(&m("3", json!({})), ALL_BYTES));
        // A second socket of a known user updates the info and is not a new member.
        assert!(!ms.add(&m("3", json!({"n": 3})), ALL_BYTES));
        assert_eq!(ms.get("3"), Some(&json!({"n": 3})));
        assert_eq!(ms.count(), 3);
        assert!(ms.remove("2"));
        assert!(!ms.remove("2"));
        assert_eq!(ms.count(), 2);
        assert_eq!(ms.me.as_deref(), Some("1"));
    }

    /// Members whose (empty) list has come.
    fn listed() -> Members {
        let mut ms = Members::default();
        ms.reset(Vec::new(), None, ALL_BYTES);
        ms
    }

    #[test]
    fn capped_in_count_and_in_bytes() {
        let mut ms = listed();
        for n in 0..MAX_MEMBERS + 5 {
            ms.add(&m(&n.to_string(), Value::Null), ALL_BYTES);
        }
        assert_eq!(ms.count(), MAX_MEMBERS);
        assert_eq!(ms.overflow, 5);
        let mut ms = listed();
        let info = json!({ "bio": "x".repeat(1000) });
        for n in 0..10_000 {
            ms.add(&kept(m(&n.to_string(), info.clone())), ALL_BYTES);
        }
        assert!(ms.bytes() <= CHANNEL_BYTES, "{}", ms.bytes());
        assert!(ms.count() < 10_000 && ms.overflow > 0);
        // What all channels have left bounds this one too.
        let mut ms = listed();
        assert!(!ms.add(&m("a", info), 100));
        assert_eq!((ms.count(), ms.overflow), (0, 1));
    }

    #[test]
    fn ids_and_info_from_a_hostile_server_are_cut() {
        let big = kept(m(
            &"u".repeat(100_000),
            json!({ "name": "x".repeat(40_000) }),
        ));
        assert_eq!(
            big.user_id.chars().count(),
            protocol::limits::MAX_KEPT_NAME_CHARS + 1
        );
        let info = big.user_info.as_str().unwrap();
        assert!(
            info.starts_with("[user_info of 40011 bytes, cut to 2048] {"),
            "{info}"
        );
        assert!(member_weight(&big) < 3000, "{}", member_weight(&big));
        let small = m("1", json!({"name": "Ann"}));
        assert_eq!(kept(small.clone()), small);
    }
}
