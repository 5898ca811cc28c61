//! `watch --all`: the protocol has no wildcard subscribe, so follow what the REST API says is
//! occupied. Every `--discover-interval` one signed `GET /channels` (with
//! `info=subscription_count`) lists the occupied channels; new ones are subscribed, and a
//! channel where this watcher is the only subscriber left is reported vacated. Private and
//! presence channels are signed locally; encrypted ones are opened with the master key.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::client::{Client, ClientError, FeedTx, Item};
use crate::publish::RestClient;

/// Most channels followed; a server listing more is not followed past this (and says so once).
pub const MAX_FOLLOWED: usize = 10_000;

/// Polls until the front end goes away, sending what it notices as items.
pub async fn run(
    rest: RestClient,
    client: Client,
    prefix: Option<String>,
    every: Duration,
    tx: FeedTx,
) {
    // channel → occupied by someone other than us, as last seen.
    let mut known: BTreeMap<String, bool> = BTreeMap::new();
    let mut full = false;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_error: Option<String> = None;
    loop {
        ticker.tick().await;
        let listing = match rest
            .channels(prefix.as_deref(), Some("subscription_count"))
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
        let listed: BTreeMap<String, Option<u64>> = listing
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
            .unwrap_or_default();
        for (name, count) in &listed {
            // Once we are subscribed we count too; without counts, listed means occupied.
            let ours = known.contains_key(name);
            let occupied = count.is_none_or(|c| c > u64::from(ours));
            if !known.contains_key(name) && known.len() >= MAX_FOLLOWED {
                if !full {
                    full = true;
                    let note = format!(
                        "following {MAX_FOLLOWED} channels, the most --all follows; the rest are skipped"
                    );
                    if tx.send(Item::Notice(note)).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            match known.insert(name.clone(), occupied) {
                None => {
                    let note = match client.subscribe(name).await {
                        Ok(()) => format!("discovered {name}"),
                        Err(ClientError::Stopped) => return,
                        // A name the client may not subscribe to (#server-to-user-…) is skipped.
                        Err(e) => format!("cannot follow {name}: {e}"),
                    };
                    if tx.send(Item::Notice(note)).await.is_err() {
                        return;
                    }
                }
                Some(before) if before != occupied => {
                    let what = if occupied {
                        "occupied again"
                    } else {
                        "vacated"
                    };
                    if tx
                        .send(Item::Notice(format!("{name} {what}")))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Some(_) => {}
            }
        }
        for (name, occupied) in known.iter_mut() {
            if *occupied && !listed.contains_key(name) {
                *occupied = false;
                if tx
                    .send(Item::Notice(format!("{name} vacated")))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}
