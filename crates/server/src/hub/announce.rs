//! A presence channel's announcements (`member_added`, `member_removed`), bounded per
//! channel: at most `per_second` a second (with as many again in a burst), whoever causes
//! them and from however many sockets. An announcement past the budget waits, and a
//! member's join and leave that both wait cancel out: the others never hear of either.
//! What waits is told as the budget refills ([`super::Hub::tick`]), oldest first. A new
//! subscriber's member list is the one the others were told, so that what is told later
//! makes it right for everyone.

use std::time::Instant;

use serde_json::Value;

use protocol::frame::Member;

/// A change not told yet.
#[derive(Debug, Clone)]
pub(super) enum Change {
    /// The member, and the socket that joined (it knows already).
    Added(Member, String),
    /// The member's id and the info the others were told.
    Removed(String, Value),
}

impl Change {
    fn user_id(&self) -> &str {
        match self {
            Change::Added(m, _) => &m.user_id,
            Change::Removed(id, _) => id,
        }
    }
}

#[derive(Debug)]
pub(super) struct Announcer {
    tokens: f64,
    at: Instant,
    /// Oldest first; at most one per user.
    pub(super) pending: Vec<Change>,
    /// Since the last report: changes that waited, and pairs that cancelled out.
    pub(super) deferred: u64,
    pub(super) coalesced: u64,
}

impl Announcer {
    pub(super) fn new(burst: f64, now: Instant) -> Announcer {
        Announcer {
            tokens: burst,
            at: now,
            pending: Vec::new(),
            deferred: 0,
            coalesced: 0,
        }
    }

    fn refill(&mut self, per_second: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(per_second.max(1.0));
        self.at = now;
    }

    /// A change to announce: `Some` when it is to be told now; else it waits (or cancels
    /// one that waits).
    pub(super) fn offer(
        &mut self,
        change: Change,
        per_second: f64,
        now: Instant,
    ) -> Option<Change> {
        if let Some(i) = self
            .pending
            .iter()
            .position(|c| c.user_id() == change.user_id())
        {
            // A join waiting and now a leave (or the reverse): the others never hear of
            // either.
            self.pending.remove(i);
            self.coalesced += 2;
            return None;
        }
        self.refill(per_second, now);
        if self.pending.is_empty() && self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Some(change);
        }
        self.deferred += 1;
        self.pending.push(change);
        None
    }

    /// The changes that may be told now, oldest first.
    pub(super) fn due(&mut self, per_second: f64, now: Instant) -> Vec<Change> {
        self.refill(per_second, now);
        let n = (self.tokens.floor() as usize).min(self.pending.len());
        self.tokens -= n as f64;
        self.pending.drain(..n).collect()
    }

    /// The member list as the others were told it, from the true one: members whose join
    /// waits are left out, members whose leave waits are still in.
    pub(super) fn told(&self, mut members: Vec<Member>) -> Vec<Member> {
        for change in &self.pending {
            match change {
                Change::Added(m, _) => members.retain(|x| x.user_id != m.user_id),
                Change::Removed(id, info) => members.push(Member {
                    user_id: id.clone(),
                    user_info: info.clone(),
                }),
            }
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> Member {
        Member {
            user_id: id.into(),
            user_info: Value::Null,
        }
    }

    #[test]
    fn past_the_budget_changes_wait_and_a_join_and_leave_cancel_out() {
        let t0 = Instant::now();
        let mut a = Announcer::new(2.0, t0);
        let added = |id: &str| Change::Added(member(id), "1.1".into());
        assert!(a.offer(added("a"), 2.0, t0).is_some());
        assert!(a.offer(added("b"), 2.0, t0).is_some());
        assert!(
            a.offer(added("c"), 2.0, t0).is_none(),
            "over the budget: it waits"
        );
        assert!(
            a.offer(Change::Removed("c".into(), Value::Null), 2.0, t0)
                .is_none()
        );
        assert!(
            a.pending.is_empty() && a.coalesced == 2,
            "c came and went unheard"
        );
        assert!(a.offer(added("d"), 2.0, t0).is_none());
        assert_eq!(
            a.told(vec![member("a"), member("d")])
                .iter()
                .map(|m| m.user_id.as_str())
                .collect::<Vec<_>>(),
            ["a"]
        );
        let later = t0 + std::time::Duration::from_secs(1);
        let due = a.due(2.0, later);
        assert_eq!(due.len(), 1);
        assert!(a.pending.is_empty());
    }
}
