//! Presence members of one channel (§3): ids, info and count, kept as the server reports them.
//!
//! The server decides when a user comes and goes (first and last socket); the client applies
//! what it is told. Everything here came from the server, so it is bounded whatever it sends:
//! each member's id is cut to [`protocol::limits::MAX_KEPT_NAME_CHARS`] characters and its
//! `user_info` to [`protocol::limits::MAX_MEMBER_INFO_BYTES`] ([`kept`]), a channel's list is
//! a [`WeighedMap`] of at most [`MAX_MEMBERS`] members and [`CHANNEL_BYTES`], and all the
//! presence channels of one connection share [`ALL_BYTES`] (the subscription table keeps that
//! sum). A member past a cap is not listed and is counted in [`Members::overflow`].

use bounded::{Limits, Weigh, WeighedMap};
use serde_json::Value;

use protocol::frame::Member;
use protocol::limits::{cut_member_info, cut_name};

/// Most members tracked per channel (Pusher allows 100; self-hosted servers may allow more).
pub const MAX_MEMBERS: usize = 10_000;
/// Most bytes one channel's members may take (ids and info, as weighed).
pub const CHANNEL_BYTES: usize = 4 << 20;
/// Most bytes the members of all the presence channels of one connection may take.
pub const ALL_BYTES: usize = 16 << 20;

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
    /// Members the caps kept out.
    pub overflow: u64,
}

impl Default for Members {
    fn default() -> Members {
        Members {
            members: WeighedMap::new(Limits::new(MAX_MEMBERS, CHANNEL_BYTES)),
            me: None,
            overflow: 0,
        }
    }
}

impl Members {
    /// Replaces the list with the one from `subscription_succeeded` (members already
    /// [`kept`]), as far as `room` bytes allow; returns the members listed.
    pub(crate) fn reset(
        &mut self,
        list: Vec<Member>,
        me: Option<String>,
        room: usize,
    ) -> Vec<Member> {
        self.members.clear();
        self.overflow = 0;
        let mut listed = Vec::new();
        for m in list {
            let spare = room.saturating_sub(self.members.bytes());
            if self.insert(&m, spare) {
                listed.push(m);
            }
        }
        self.me = me;
        listed
    }

    /// Adds or updates a member (already [`kept`]) if it fits in its channel's caps and in
    /// the `spare` bytes all channels have left. Returns true when the user id is new.
    pub(crate) fn add(&mut self, m: &Member, spare: usize) -> bool {
        let new = !self.members.contains_key(m.user_id.as_str());
        self.insert(m, spare) && new
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

    /// Removes a member. Returns true when it was there.
    pub fn remove(&mut self, user_id: &str) -> bool {
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

    #[test]
    fn capped_in_count_and_in_bytes() {
        let mut ms = Members::default();
        for n in 0..MAX_MEMBERS + 5 {
            ms.add(&m(&n.to_string(), Value::Null), ALL_BYTES);
        }
        assert_eq!(ms.count(), MAX_MEMBERS);
        assert_eq!(ms.overflow, 5);
        let mut ms = Members::default();
        let info = json!({ "bio": "x".repeat(1000) });
        for n in 0..10_000 {
            ms.add(&kept(m(&n.to_string(), info.clone())), ALL_BYTES);
        }
        assert!(ms.bytes() <= CHANNEL_BYTES, "{}", ms.bytes());
        assert!(ms.count() < 10_000 && ms.overflow > 0);
        // What all channels have left bounds this one too.
        let mut ms = Members::default();
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
