//! `watch --all`: the protocol has no wildcard subscribe, so follow what the REST API says is
//! occupied. Every `--discover-interval` one signed `GET /channels` (with
//! `info=subscription_count`) lists the occupied channels; new ones are subscribed, and a
//! channel where this watcher is the only subscriber left is reported vacated. Private and
//! presence channels are signed locally; encrypted ones are opened with the master key.
//! Presence channels are joined under the plan's user id (an observer's, by default), or
//! skipped with `--no-presence`. Channels not followed (past the cap, refused names, skipped
//! presence channels) are never reported: this watcher knows nothing of them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::cli::plan::DiscoverPlan;
use client::{Client, ClientError, FeedTx, Item};
use protocol::channel::{ChannelKind, classify};

/// Most channels followed; a server listing more is not followed past this (and says so once).
pub const MAX_FOLLOWED: usize = 10_000;

/// What a look at the listing asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A new channel: subscribe, then say so (or [`Tracker::refused`] it).
    Follow(String),
    Say(String),
}

/// What discovery knows: the channels it follows, and those it will not follow. Pure.
#[derive(Debug)]
pub struct Tracker {
    /// Followed channel → occupied by someone other than us, as last seen.
    known: BTreeMap<String, bool>,
    /// Names the client refused to subscribe to; not followed, not retried. At most `cap`.
    refused: BTreeSet<String>,
    cap: usize,
    presence: bool,
    full: bool,
}

impl Tracker {
    /// Follows at most `cap` channels; presence ones only when `presence`.
    pub fn new(cap: usize, presence: bool) -> Tracker {
        Tracker {
            known: BTreeMap::new(),
            refused: BTreeSet::new(),
            cap,
            presence,
            full: false,
        }
    }

    /// One listing: channel → its subscription count, when the server gave one.
    pub fn look(&mut self, listed: &BTreeMap<String, Option<u64>>) -> Vec<Step> {
        let mut steps = Vec::new();
        for (name, count) in listed {
            if self.refused.contains(name)
                || (!self.presence && classify(name).kind == ChannelKind::Presence)
            {
                continue;
            }
            // Once we are subscribed we count too; without counts, listed means occupied.
            let ours = self.known.contains_key(name);
            let occupied = count.is_none_or(|c| c > u64::from(ours));
            if !ours && self.known.len() >= self.cap {
                if !self.full {
                    self.full = true;
                    steps.push(Step::Say(format!(
                        "following {} channels, the most --all follows; the rest are skipped",
                        self.cap
                    )));
                }
                continue;
            }
            match self.known.insert(name.clone(), occupied) {
                None => steps.push(Step::Follow(name.clone())),
                Some(before) if before != occupied => {
                    let what = if occupied {
                        "occupied again"
                    } else {
                        "vacated"
                    };
                    steps.push(Step::Say(format!("{name} {what}")));
                }
                Some(_) => {}
            }
        }
        for (name, occupied) in self.known.iter_mut() {
            if *occupied && !listed.contains_key(name) {
                *occupied = false;
                steps.push(Step::Say(format!("{name} vacated")));
            }
        }
        steps
    }

    /// The client would not subscribe to `name`: it is not followed, nor looked at again.
    pub fn refused(&mut self, name: &str) {
        self.known.remove(name);
        if self.refused.len() < self.cap {
            self.refused.insert(name.to_owned());
        }
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
        for step in tracker.look(&listed(&listing)) {
            let note = match step {
                Step::Say(note) => note,
                Step::Follow(name) => match client.subscribe(&name).await {
                    Ok(()) => format!("discovered {name}"),
                    Err(ClientError::Stopped) => return,
                    // A name the client may not subscribe to (#server-to-user-…) is skipped.
                    Err(e) => {
                        tracker.refused(&name);
                        format!("cannot follow {name}: {e}")
                    }
                },
            };
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
