//! Presence members of one channel (§3): ids, info and count, kept as the server reports them.
//!
//! The server decides when a user comes and goes (first and last socket); the client applies
//! what it is told. The list is capped, because a hostile server could add members forever.

use std::collections::BTreeMap;

use serde_json::Value;

use protocol::frame::Member;

/// Most members tracked per channel (Pusher allows 100; self-hosted servers may allow more).
pub(crate) const MAX_MEMBERS: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members {
    members: BTreeMap<String, Value>,
    /// Our own user id on this channel.
    pub me: Option<String>,
    /// Members the cap kept out.
    pub overflow: u64,
}

impl Members {
    /// Replaces the list with the one from `subscription_succeeded`.
    pub fn reset(&mut self, list: &[Member], me: Option<String>) {
        self.members.clear();
        self.overflow = 0;
        for m in list {
            self.insert(m);
        }
        self.me = me;
    }

    /// Adds or updates a member. Returns true when the user id is new.
    pub fn add(&mut self, m: &Member) -> bool {
        let new = !self.members.contains_key(&m.user_id);
        self.insert(m) && new
    }

    fn insert(&mut self, m: &Member) -> bool {
        if !self.members.contains_key(&m.user_id) && self.members.len() >= MAX_MEMBERS {
            self.overflow += 1;
            return false;
        }
        self.members.insert(m.user_id.clone(), m.user_info.clone());
        true
    }

    /// Removes a member. Returns true when it was there.
    pub fn remove(&mut self, user_id: &str) -> bool {
        self.members.remove(user_id).is_some()
    }

    pub fn count(&self) -> usize {
        self.members.len()
    }

    pub fn get(&self, user_id: &str) -> Option<&Value> {
        self.members.get(user_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.members.iter()
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
            &[m("1", json!({"n": 1})), m("2", Value::Null)],
            Some("1".into()),
        );
        assert_eq!(ms.count(), 2);
        assert!(ms.add(&m("3", json!({}))));
        // A second socket of a known user updates the info and is not a new member.
        assert!(!ms.add(&m("3", json!({"n": 3}))));
        assert_eq!(ms.get("3"), Some(&json!({"n": 3})));
        assert_eq!(ms.count(), 3);
        assert!(ms.remove("2"));
        assert!(!ms.remove("2"));
        assert_eq!(ms.count(), 2);
        assert_eq!(ms.me.as_deref(), Some("1"));
    }

    #[test]
    fn capped() {
        let mut ms = Members::default();
        for n in 0..MAX_MEMBERS + 5 {
            ms.add(&m(&n.to_string(), Value::Null));
        }
        assert_eq!(ms.count(), MAX_MEMBERS);
        assert_eq!(ms.overflow, 5);
    }
}
