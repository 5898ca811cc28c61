//! Presence members as the watch screen keeps them: user id → info as JSON text, the id cut
//! to a name's length and the info to [`MAX_INFO_BYTES`], in a map capped in members and in
//! bytes (a channel's list), itself kept in a map capped in channels and bytes.

use bounded::{Limits, Weigh, WeighedMap};

use super::names::{json_text, name};
use client::MemberChange;

/// Longest member info kept, in bytes of its JSON text.
pub const MAX_INFO_BYTES: usize = 1024;
/// Most members listed per presence channel (the server may allow more than Pusher's 100),
/// and the bytes they take.
const MEMBERS: Limits = Limits::new(1000, 2 << 20);
/// Most presence channels followed, and the bytes their lists take in all.
pub(super) const CHANNELS: Limits = Limits::new(256, 8 << 20);

/// One presence channel's members.
#[derive(Debug, Clone)]
pub struct Members(WeighedMap<String, String>);

impl Default for Members {
    fn default() -> Members {
        Members(WeighedMap::new(MEMBERS))
    }
}

impl Weigh for Members {
    fn weight(&self) -> usize {
        size_of::<Members>() + self.0.bytes()
    }
}

impl Members {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each member's id and info, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// Members not listed (past the caps).
    pub fn dropped(&self) -> u64 {
        self.0.drops().total()
    }

    /// Applies one change.
    pub(super) fn apply(&mut self, change: MemberChange, ellipsis: &str) {
        // Ids and info come from strangers: kept cut, the info as text.
        let info = |v: &serde_json::Value| match v {
            serde_json::Value::Null => String::new(),
            v => json_text(v, MAX_INFO_BYTES, ellipsis),
        };
        match change {
            MemberChange::Snapshot { members, .. } => {
                self.0.clear();
                for m in members.iter().take(MEMBERS.items) {
                    let _ = self
                        .0
                        .insert(name(&m.user_id, ellipsis), info(&m.user_info));
                }
            }
            MemberChange::Added(m) => {
                let _ = self
                    .0
                    .insert(name(&m.user_id, ellipsis), info(&m.user_info));
            }
            MemberChange::Removed(id) => {
                self.0.remove(&name(&id, ellipsis));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::frame::Member;
    use serde_json::json;

    #[test]
    fn a_member_the_engine_cut_says_so_in_the_pane() {
        let mut m = Members::default();
        let member = client::kept_member(Member {
            user_id: "ann".into(),
            user_info: json!({ "bio": "x".repeat(40_000) }),
        });
        m.apply(MemberChange::Added(member), "…");
        let (_, info) = m.iter().next().unwrap();
        assert!(
            info.starts_with("\"[user_info of 40010 bytes, cut to 2048] {"),
            "{info}"
        );
        assert!(info.len() <= MAX_INFO_BYTES + "…".len());
    }

    #[test]
    fn ids_and_info_are_cut_and_the_list_is_capped() {
        let mut m = Members::default();
        let long = "x".repeat(5000);
        let members = (0..2000)
            .map(|n| Member {
                user_id: format!("{n}{long}"),
                user_info: json!({ "name": long }),
            })
            .collect();
        m.apply(MemberChange::Snapshot { members, me: None }, "…");
        assert!(
            m.len() <= MEMBERS.items && m.0.bytes() <= MEMBERS.bytes,
            "{}",
            m.len()
        );
        assert!(m.iter().all(|(id, info)| {
            id.chars().count() <= 200 && info.len() <= MAX_INFO_BYTES + "…".len()
        }));
    }
}
