//! `watch --all`: the protocol has no wildcard subscribe, so follow what the REST API says is
//! occupied. Every `--discover-interval` one signed `GET /channels` (with
//! `info=subscription_count`) lists the occupied channels; new ones are subscribed, and a
//! channel where this watcher is the only subscriber left is reported vacated. Private and
//! presence channels are signed locally; encrypted ones are opened with the master key.
//! Presence channels are joined under the plan's user id (an observer's, by default), or
//! skipped with `--no-presence`. Channels not followed (past the cap, refused names, skipped
//! presence channels) are never reported: this watcher knows nothing of them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::plan::DiscoverPlan;
use bounded::{Limits, WeighedMap};
use client::{Client, ClientError, FeedTx, Item};
use protocol::channel::{ChannelKind, classify};
use protocol::limits::{MAX_KEPT_NAME_CHARS, cut_name};

/// Most channels followed; a server listing more is not followed past this (and says so once).
pub const MAX_FOLLOWED: usize = 10_000;
/// The bytes the followed names may take, and the refused ones (each at most
/// `MAX_KEPT_NAME_CHARS` characters: a longer name is refused, and kept cut).
pub const NAMES_BYTES: usize = 4 << 20;
/// Notices of one kind said one by one per look at the listing; past it, one line counts the
/// rest ("… and 4812 more channels vacated").
pub const NOTICES_PER_KIND: usize = 10;

/// What a look at the listing asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A new channel: subscribe, then say so (or [`Tracker::refused`] it).
    Follow(String),
    /// A followed channel lost its other subscribers.
    Vacated(String),
    /// A followed channel has other subscribers again.
    Occupied(String),
    Say(String),
}

/// What discovery knows: the channels it follows, and those it will not follow. Pure. Both
/// are weighed maps of names from the REST listing, capped in count and bytes.
#[derive(Debug)]
pub struct Tracker {
    /// Followed channel → occupied by someone other than us, as last seen.
    known: WeighedMap<String, bool>,
    /// Names the client refused to subscribe to, cut: not followed, not retried.
    refused: WeighedMap<String, ()>,
    cap: usize,
    presence: bool,
    full: bool,
}

impl Tracker {
    /// Follows at most `cap` channels; presence ones only when `presence`.
    pub fn new(cap: usize, presence: bool) -> Tracker {
        Tracker {
            known: WeighedMap::new(Limits::new(cap, NAMES_BYTES)),
            refused: WeighedMap::new(Limits::new(cap, NAMES_BYTES)),
            cap,
            presence,
            full: false,
        }
    }

    /// One listing: channel → its subscription count, when the server gave one.
    pub fn look(&mut self, listed: &BTreeMap<String, Option<u64>>) -> Vec<Step> {
        let mut steps = Vec::new();
        for (name, count) in listed {
            let cut = cut_name(name);
            if self.refused.contains_key(cut.as_ref())
                || (!self.presence && classify(name).kind == ChannelKind::Presence)
            {
                continue;
            }
            if cut.len() != name.len() {
                // No channel has such a name: the server's listing is not to be trusted.
                steps.push(Step::Say(format!(
                    "cannot follow {cut}: a channel name has at most {MAX_KEPT_NAME_CHARS} characters"
                )));
                self.refused(name);
                continue;
            }
            // Once we are subscribed we count too; without counts, listed means occupied.
            let ours = self.known.contains_key(name.as_str());
            let occupied = count.is_none_or(|c| c > u64::from(ours));
            if !ours && self.known.len() >= self.cap {
                self.say_full(&mut steps);
                continue;
            }
            let before = self.known.get(name.as_str()).copied();
            if self.known.insert(name.clone(), occupied).is_err() {
                self.say_full(&mut steps);
                continue;
            }
            match before {
                None => steps.push(Step::Follow(name.clone())),
                Some(before) if before != occupied => steps.push(if occupied {
                    Step::Occupied(name.clone())
                } else {
                    Step::Vacated(name.clone())
                }),
                Some(_) => {}
            }
        }
        let gone: Vec<String> = self
            .known
            .iter()
            .filter(|(name, occupied)| **occupied && !listed.contains_key(name.as_str()))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.known.update(name.as_str(), |o| *o = false);
            steps.push(Step::Vacated(name));
        }
        steps
    }

    fn say_full(&mut self, steps: &mut Vec<Step>) {
        if !self.full {
            self.full = true;
            steps.push(Step::Say(format!(
                "following {} channels, the most --all follows; the rest are skipped",
                self.cap
            )));
        }
    }

    /// The client would not subscribe to `name`: it is not followed, nor looked at again.
    pub fn refused(&mut self, name: &str) {
        self.known.remove(name);
        let _ = self.refused.insert(cut_name(name).into_owned(), ());
    }
}

/// One look's notices, said one by one up to [`NOTICES_PER_KIND`] of each kind, then counted:
/// channels that flap make thousands a poll, and the watcher's stderr is read by people.
#[derive(Debug, Default)]
struct Notices {
    said: Vec<String>,
    /// Per kind ("discovered", "vacated", …): how many were said, and how many more there were.
    kinds: BTreeMap<&'static str, (usize, usize)>,
}

impl Notices {
    fn note(&mut self, kind: &'static str, text: impl FnOnce() -> String) {
        let (said, more) = self.kinds.entry(kind).or_default();
        if *said < NOTICES_PER_KIND {
            *said += 1;
            self.said.push(text());
        } else {
            *more += 1;
        }
    }

    fn into_lines(self) -> Vec<String> {
        let mut lines = self.said;
        for (kind, (_, more)) in self.kinds {
            if more > 0 {
                let what = if more == 1 { "channel" } else { "channels" };
                lines.push(format!(
                    "… and {more} more {what} {kind} in this look at the listing"
                ));
            }
        }
        lines
    }
}

/// Polls until the front end goes away, sending what it notices as items.
pub async fn run(plan: DiscoverPlan, client: Client, tx: FeedTx) {
    let mut tracker = Tracker::new(MAX_FOLLOWED, plan.presence);
    let mut ticker = tokio::time::interval(plan.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_error: Option<String> = None;
    loop {
        ticker.tick().await;
        let listing = match plan
            .rest
            .channels(plan.prefix.as_deref(), Some("subscription_count"))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Say it once, not every interval.
                let e = format!("discovery: {e}");
                if last_error.as_ref() != Some(&e) && tx.send(Item::Error(e.clone())).await.is_err()
                {
                    return;
                }
                last_error = Some(e);
                continue;
            }
        };
        last_error = None;
        let mut notices = Notices::default();
        for step in tracker.look(&listed(&listing)) {
            match step {
                Step::Say(note) => notices.note("said", || note),
                Step::Vacated(name) => notices.note("vacated", || format!("{name} vacated")),
                Step::Occupied(name) => {
                    notices.note("occupied again", || format!("{name} occupied again"))
                }
                Step::Follow(name) => match client.subscribe(&name).await {
                    Ok(()) => notices.note("discovered", || format!("discovered {name}")),
                    Err(ClientError::Stopped) => return,
                    // A name the client may not subscribe to (#server-to-user-…) is skipped.
                    Err(e) => {
                        tracker.refused(&name);
                        notices.note("not followed", || format!("cannot follow {name}: {e}"));
                    }
                },
            }
        }
        for note in notices.into_lines() {
            if tx.send(Item::Notice(note)).await.is_err() {
                return;
            }
        }
    }
}

/// The listing's channels and their subscription counts.
fn listed(listing: &Value) -> BTreeMap<String, Option<u64>> {
    listing
        .get("channels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, attrs)| {
                    (
                        name.clone(),
                        attrs.get("subscription_count").and_then(Value::as_u64),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
