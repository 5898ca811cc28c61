//! Presence members as the dashboard keeps them: user id → info as JSON text, both cut to a
//! bounded length, and at most [`MAX_MEMBERS_SHOWN`] per channel.

use std::collections::BTreeMap;

use super::incoming;
use client::MemberChange;

/// Most members listed per presence channel (the server may allow more than Pusher's 100).
pub(super) const MAX_MEMBERS_SHOWN: usize = 1000;

/// Applies one change to a channel's list.
pub(super) fn apply(list: &mut BTreeMap<String, String>, change: MemberChange, ellipsis: &str) {
    // Ids and info come from strangers: kept cut, the info as text.
    let info = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        v => incoming::name(&v.to_string(), ellipsis),
    };
    match change {
        MemberChange::Snapshot { members, .. } => {
            list.clear();
            for m in members.iter().take(MAX_MEMBERS_SHOWN) {
                list.insert(incoming::name(&m.user_id, ellipsis), info(&m.user_info));
            }
        }
        MemberChange::Added(m) if list.len() < MAX_MEMBERS_SHOWN => {
            list.insert(incoming::name(&m.user_id, ellipsis), info(&m.user_info));
        }
        MemberChange::Added(_) => {}
        MemberChange::Removed(id) => {
            list.remove(&incoming::name(&id, ellipsis));
        }
    }
}
