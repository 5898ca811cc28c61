//! The subscription table: each channel's phase, its encryption key and presence members.
//!
//! Pure state, no I/O: the engine asks it what to send. It settles pusher-js's races (§9):
//! unsubscribing while a subscription is pending marks it cancelled, and the engine
//! unsubscribes when the server confirms, so no subscription leaks.

use std::collections::BTreeMap;

use super::item::SubscriptionFailure;
use super::presence::{self, Members};
use protocol::channel::is_channel_char;
use protocol::crypto::KEY_LEN;
use protocol::frame::Member;

/// Where a subscription is in its lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phase {
    /// Wanted, but not sent on this connection yet.
    Waiting,
    /// Waiting for the auth endpoint.
    Authorizing,
    /// `pusher:subscribe` sent; no answer yet.
    Pending,
    Subscribed,
    /// Refused; retried on the next connection, as pusher-js does.
    Failed(SubscriptionFailure),
}

#[derive(Debug, Clone)]
struct Entry {
    phase: Phase,
    cancelled: bool,
    key: Option<[u8; KEY_LEN]>,
    members: Members,
}

/// What to do after an unsubscribe request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsubscribe {
    /// Send `pusher:unsubscribe` now: it was subscribed.
    Send,
    /// An answer is still due: unsubscribe when it comes.
    Deferred,
    /// Nothing was on the wire: it is gone.
    Removed,
    /// Not in the table.
    Unknown,
}

/// What to do after `subscription_succeeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Succeeded {
    /// Report it.
    Subscribed,
    /// It was cancelled while pending: send `pusher:unsubscribe`, report nothing.
    Cancelled,
    /// Not ours (or not pending); ignore.
    Unexpected,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    entries: BTreeMap<String, Entry>,
    /// What every channel's members weigh together, kept within [`presence::ALL_BYTES`].
    member_bytes: usize,
}

/// Channel counts by phase, for status lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub subscribed: usize,
    pub pending: usize,
    pub failed: usize,
}

impl Subscriptions {
    /// Adds a channel. Returns true when it must be started (it is new, or it was failed).
    pub(crate) fn add(&mut self, channel: &str) -> bool {
        match self.entries.get_mut(channel) {
            Some(e) => {
                e.cancelled = false;
                matches!(e.phase, Phase::Failed(_))
            }
            None => {
                self.entries.insert(
                    channel.to_owned(),
                    Entry {
                        phase: Phase::Waiting,
                        cancelled: false,
                        key: None,
                        members: Members::default(),
                    },
                );
                true
            }
        }
    }

    pub(crate) fn remove(&mut self, channel: &str) -> Unsubscribe {
        let Some(e) = self.entries.get_mut(channel) else {
            return Unsubscribe::Unknown;
        };
        match e.phase {
            Phase::Subscribed => {
                self.drop_entry(channel);
                Unsubscribe::Send
            }
            Phase::Pending | Phase::Authorizing => {
                e.cancelled = true;
                Unsubscribe::Deferred
            }
            Phase::Waiting | Phase::Failed(_) => {
                self.drop_entry(channel);
                Unsubscribe::Removed
            }
        }
    }

    /// On a new connection: everything goes back to waiting (members and keys are reset) and
    /// the channels to start are returned. Cancelled ones are dropped.
    pub(crate) fn reset_all(&mut self) -> Vec<String> {
        self.entries.retain(|_, e| !e.cancelled);
        for e in self.entries.values_mut() {
            e.phase = Phase::Waiting;
            e.key = None;
            e.members = Members::default();
        }
        self.member_bytes = 0;
        self.entries.keys().cloned().collect()
    }

    /// Removes a channel, and what its members weighed from the sum.
    fn drop_entry(&mut self, channel: &str) {
        if let Some(e) = self.entries.remove(channel) {
            self.member_bytes -= e.members.bytes();
        }
    }

    pub(crate) fn set_authorizing(&mut self, channel: &str) {
        if let Some(e) = self.entries.get_mut(channel) {
            e.phase = Phase::Authorizing;
        }
    }

    /// Marks the subscribe frame as sent, with the channel's decryption key if any.
    pub(crate) fn set_pending(&mut self, channel: &str, key: Option<[u8; KEY_LEN]>) {
        if let Some(e) = self.entries.get_mut(channel) {
            e.phase = Phase::Pending;
            e.key = key;
        }
    }

    pub(crate) fn succeeded(&mut self, channel: &str) -> Succeeded {
        match self.entries.get_mut(channel) {
            Some(e) if e.phase == Phase::Pending => {
                if e.cancelled {
                    self.drop_entry(channel);
                    Succeeded::Cancelled
                } else {
                    e.phase = Phase::Subscribed;
                    Succeeded::Subscribed
                }
            }
            _ => Succeeded::Unexpected,
        }
    }

    /// Records a failure. Returns false when it should not be reported (it was cancelled).
    pub(crate) fn failed(&mut self, channel: &str, failure: SubscriptionFailure) -> bool {
        match self.entries.get_mut(channel) {
            Some(e) if e.cancelled => {
                self.drop_entry(channel);
                false
            }
            Some(e) => {
                e.phase = Phase::Failed(failure);
                true
            }
            None => false,
        }
    }

    pub(crate) fn phase(&self, channel: &str) -> Option<&Phase> {
        self.entries.get(channel).map(|e| &e.phase)
    }

    /// Removes a cancelled subscription whose answer came. Returns true when it was removed.
    pub(crate) fn drop_if_cancelled(&mut self, channel: &str) -> bool {
        let cancelled = self.is_cancelled(channel);
        if cancelled {
            self.drop_entry(channel);
        }
        cancelled
    }

    pub(crate) fn is_cancelled(&self, channel: &str) -> bool {
        self.entries.get(channel).is_some_and(|e| e.cancelled)
    }

    pub(crate) fn key(&self, channel: &str) -> Option<&[u8; KEY_LEN]> {
        self.entries.get(channel).and_then(|e| e.key.as_ref())
    }

    /// Runs `f` on a channel's members with the bytes all channels have left, and keeps the
    /// sum of what they weigh. `None` when the channel is not in the table.
    fn with_members<T>(
        &mut self,
        channel: &str,
        f: impl FnOnce(&mut Members, usize) -> T,
    ) -> Option<T> {
        let e = self.entries.get_mut(channel)?;
        let before = e.members.bytes();
        let spare = presence::ALL_BYTES.saturating_sub(self.member_bytes);
        let out = f(&mut e.members, spare);
        self.member_bytes = self.member_bytes - before + e.members.bytes();
        Some(out)
    }

    /// A presence channel's list from `subscription_succeeded` (members already kept): the
    /// members listed, within the caps, and our own id. `None` when the channel is unknown.
    pub(crate) fn reset_members(
        &mut self,
        channel: &str,
        list: Vec<Member>,
    ) -> Option<(Vec<Member>, Option<String>)> {
        self.with_members(channel, |ms, spare| {
            let me = ms.me.clone();
            // The old list's bytes are free again for the new one.
            let room = spare + ms.bytes();
            (ms.reset(list, me.clone(), room), me)
        })
    }

    /// `member_added` (a member already kept): true when the id is new and listed.
    pub(crate) fn add_member(&mut self, channel: &str, m: &Member) -> bool {
        self.with_members(channel, |ms, spare| ms.add(m, spare))
            .unwrap_or(false)
    }

    /// `member_removed`: true when it was listed.
    pub(crate) fn remove_member(&mut self, channel: &str, user_id: &str) -> bool {
        self.with_members(channel, |ms, _| ms.remove(user_id))
            .unwrap_or(false)
    }

    /// Our own user id on a presence channel, from the grant's `channel_data`.
    pub(crate) fn set_me(&mut self, channel: &str, me: Option<String>) {
        if let Some(e) = self.entries.get_mut(channel) {
            e.members.me = me;
        }
    }

    /// How many members a channel lists.
    pub(crate) fn member_count(&self, channel: &str) -> usize {
        self.entries.get(channel).map_or(0, |e| e.members.count())
    }

    /// What all channels' members weigh together.
    #[cfg(test)]
    pub(crate) fn member_bytes(&self) -> usize {
        self.member_bytes
    }

    pub(crate) fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in self.entries.values() {
            match e.phase {
                Phase::Subscribed => c.subscribed += 1,
                Phase::Failed(_) => c.failed += 1,
                _ => c.pending += 1,
            }
        }
        c
    }

    /// The awaiting channel that an error message names, for servers that send subscription
    /// errors as `pusher:error` without a `channel` (Pusher: "Auth info required to subscribe
    /// to private-x"). The longest name wins, so `private-a` does not claim `private-ab`.
    pub(crate) fn awaiting_named_in(&self, message: &str) -> Option<String> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e.phase, Phase::Pending | Phase::Authorizing))
            .map(|(name, _)| name)
            .filter(|name| names_whole(message, name))
            .max_by_key(|name| name.len())
            .cloned()
    }
}

/// Whether `message` contains `name` as a whole channel name. `,` `.` `;` may appear in names,
/// but followed by a space or the end they are the sentence's punctuation.
fn names_whole(message: &str, name: &str) -> bool {
    message.match_indices(name).any(|(at, _)| {
        let before_ok = !message[..at]
            .chars()
            .next_back()
            .is_some_and(is_channel_char);
        let mut after = message[at + name.len()..].chars();
        let after_ok = match after.next() {
            None => true,
            Some(',' | '.' | ';') => after.next().is_none_or(char::is_whitespace),
            Some(c) => !is_channel_char(c),
        };
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> SubscriptionFailure {
        SubscriptionFailure {
            message: "no".into(),
            status: None,
            string_to_sign: None,
            auth: false,
        }
    }

    #[test]
    fn lifecycle() {
        let mut s = Subscriptions::default();
        assert!(s.add("a"));
        assert!(!s.add("a"));
        assert_eq!(s.reset_all(), vec!["a".to_owned()]);
        s.set_pending("a", None);
        assert_eq!(s.succeeded("a"), Succeeded::Subscribed);
        assert_eq!(s.succeeded("a"), Succeeded::Unexpected);
        assert_eq!(s.counts().subscribed, 1);
        assert_eq!(s.remove("a"), Unsubscribe::Send);
        assert_eq!(s.remove("a"), Unsubscribe::Unknown);
    }

    #[test]
    fn unsubscribe_while_pending_does_not_leak() {
        let mut s = Subscriptions::default();
        s.add("a");
        s.set_pending("a", None);
        assert_eq!(s.remove("a"), Unsubscribe::Deferred);
        assert!(s.is_cancelled("a"));
        assert_eq!(s.succeeded("a"), Succeeded::Cancelled);
        assert_eq!(s.phase("a"), None);

        // Cancelled, then the subscription fails: nothing to report, nothing left.
        s.add("b");
        s.set_authorizing("b");
        assert_eq!(s.remove("b"), Unsubscribe::Deferred);
        assert!(!s.failed("b", failure()));
        assert_eq!(s.phase("b"), None);

        // Cancelled, then wanted again before the answer: it stays.
        s.add("c");
        s.set_pending("c", None);
        s.remove("c");
        s.add("c");
        assert_eq!(s.succeeded("c"), Succeeded::Subscribed);

        // Cancelled while pending, then the connection drops: not resubscribed.
        s.add("d");
        s.set_pending("d", None);
        s.remove("d");
        assert!(!s.reset_all().contains(&"d".to_owned()));
    }

    #[test]
    fn failed_channels_are_retried_on_reconnect() {
        let mut s = Subscriptions::default();
        s.add("private-a");
        s.set_pending("private-a", Some([1; KEY_LEN]));
        assert!(s.failed("private-a", failure()));
        assert_eq!(s.counts().failed, 1);
        assert!(s.add("private-a"), "re-adding a failed channel restarts it");
        assert_eq!(s.reset_all(), vec!["private-a".to_owned()]);
        assert_eq!(s.phase("private-a"), Some(&Phase::Waiting));
        assert_eq!(s.key("private-a"), None);
    }

    #[test]
    fn all_channels_members_share_one_budget() {
        let mut s = Subscriptions::default();
        let info = serde_json::json!({ "bio": "x".repeat(1900) });
        let mut listed = 0;
        for c in 0..20 {
            let channel = format!("presence-{c}");
            s.add(&channel);
            s.reset_members(&channel, Vec::new());
            for n in 0..1000 {
                let m = presence::kept(Member {
                    user_id: format!("{n}"),
                    user_info: info.clone(),
                });
                listed += usize::from(s.add_member(&channel, &m));
            }
        }
        assert!(
            s.member_bytes() <= presence::ALL_BYTES,
            "{}",
            s.member_bytes()
        );
        assert!(listed < 20_000 && listed > 5000, "{listed}");
        s.remove("presence-0");
        assert!(
            s.add_member(
                "presence-19",
                &presence::kept(Member {
                    user_id: "new".into(),
                    user_info: info,
                })
            ),
            "a channel gone gives its bytes back"
        );
        s.reset_all();
        assert_eq!(s.member_bytes(), 0);
    }

    #[test]
    fn attributes_errors_by_name() {
        let mut s = Subscriptions::default();
        for c in ["private-a", "private-ab", "presence-x"] {
            s.add(c);
            s.set_pending(c, None);
        }
        assert_eq!(
            s.awaiting_named_in("Auth info required to subscribe to private-ab"),
            Some("private-ab".into())
        );
        assert_eq!(
            s.awaiting_named_in("Existing subscription to channel private-a"),
            Some("private-a".into())
        );
        assert_eq!(
            s.awaiting_named_in(
                "Invalid signature: Expected HMAC SHA256 hex digest of 1.1:presence-x:{}, but got x"
            ),
            Some("presence-x".into())
        );
        assert_eq!(s.awaiting_named_in("something else"), None);
        assert_eq!(s.awaiting_named_in("no such channel xprivate-a"), None);
        assert_eq!(
            s.awaiting_named_in("Subscription to private-a."),
            Some("private-a".into())
        );
        s.succeeded("private-a");
        assert_eq!(
            s.awaiting_named_in("Existing subscription to channel private-a"),
            None
        );
    }
}
