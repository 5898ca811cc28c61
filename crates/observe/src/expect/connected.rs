//! `connected` and `connected<GRACE`, kept per connection: with several (`watch --node eu=…
//! --node us=…`) each has its own down-since and grace, breaks and recovers on its own, and
//! its transitions name it; one connection's state changes never mask another's. With one
//! connection there is one track and no name, as before. The evaluator ([`super::eval`])
//! turns what these say into transitions.

use std::time::{Duration, Instant};

use super::value::seconds;
use client::{Conn, Labels};

/// One connection's downtime, for one `connected` rule.
///
/// A connection is only back once it stays up for the grace: one that drops again sooner
/// (a server that accepts, subscribes and drops every connection after a second) is still
/// in the same spell, which began with the first of those drops. So a flapping connection breaks
/// the rule once the spell outlasts the grace, however short each drop is.
#[derive(Debug, Clone)]
pub(super) struct Down {
    /// Since when it is not connected (from the start until it first connects), or since
    /// the spell began, when it dropped again within the grace of coming back.
    pub down_since: Option<Instant>,
    /// The longest spell down that ended.
    pub longest_down: Duration,
    /// Down past its grace: since when, and why.
    pub broken: Option<(Instant, String)>,
    /// Since when it is up, and when the spell it came back from began (none for the wait
    /// for the first connection, which is no drop).
    up: Option<(Instant, Option<Instant>)>,
    /// Times it went down after being up (the drops), in all and in this spell.
    pub drops: u64,
    spell_drops: u64,
}

impl Down {
    pub(super) fn new(now: Instant) -> Down {
        Down {
            down_since: Some(now),
            longest_down: Duration::ZERO,
            broken: None,
            up: None,
            drops: 0,
            spell_drops: 0,
        }
    }

    /// The connection went up or down. When it comes up from a spell that broke the rule:
    /// since when it was broken, and the recovery's detail; after a flapping spell, the
    /// recovery waits until it stays up for `grace` ([`Down::stable`]). Down again within
    /// `grace` of coming up, the spell it came back from goes on.
    pub(super) fn changed(
        &mut self,
        up: bool,
        grace: Duration,
        now: Instant,
    ) -> Option<(Instant, String)> {
        match (up, self.down_since) {
            (true, Some(since)) => {
                self.longest_down = self.longest_down.max(now.saturating_duration_since(since));
                self.down_since = None;
                self.up = Some((now, (self.drops > 0).then_some(since)));
                if self.spell_drops > 1 {
                    return None;
                }
                let (since, _) = self.broken.take()?;
                let detail = format!(
                    "connected again after {}",
                    seconds(now.saturating_duration_since(since))
                );
                Some((since, detail))
            }
            (false, None) => {
                self.drops += 1;
                self.down_since = Some(match self.up.take() {
                    Some((up_at, Some(spell))) if now.saturating_duration_since(up_at) < grace => {
                        self.spell_drops += 1;
                        spell
                    }
                    _ => {
                        self.spell_drops = 1;
                        now
                    }
                });
                None
            }
            _ => None,
        }
    }

    /// Up for `grace` after a flapping spell that broke the rule: since when it was broken,
    /// and the recovery's detail.
    pub(super) fn stable(&mut self, grace: Duration, now: Instant) -> Option<(Instant, String)> {
        let (up_at, _) = self.up?;
        if self.broken.is_none() || now.saturating_duration_since(up_at) < grace {
            return None;
        }
        let (since, _) = self.broken.take()?;
        let detail = format!(
            "up for {} again after {} drops",
            seconds(now.saturating_duration_since(up_at)),
            self.spell_drops
        );
        Some((since, detail))
    }

    /// Down past `grace` for the first time this spell: since when, and the alert's detail.
    pub(super) fn past_grace(
        &mut self,
        grace: Duration,
        now: Instant,
    ) -> Option<(Instant, String)> {
        let since = self.down_since?;
        let spell = now.saturating_duration_since(since);
        if spell <= grace || self.broken.is_some() {
            return None;
        }
        let detail = if self.spell_drops > 1 {
            format!(
                "dropping for {}: {} drops, never up for the grace ({})",
                seconds(spell),
                self.spell_drops,
                seconds(grace)
            )
        } else {
            format!("down for {} (grace {})", seconds(spell), seconds(grace))
        };
        self.broken = Some((since, detail.clone()));
        Some((since, detail))
    }
}

/// The tracks a `connected` rule keeps: one per connection of the run.
pub(super) fn tracks(labels: &Labels, now: Instant) -> Vec<Down> {
    vec![Down::new(now); labels.len().max(1)]
}

/// The track of the connection tagged `conn`: the only one with one connection; none for a
/// tag outside the run's table (a replayed recording's unknown label).
pub(super) fn index(labels: &Labels, conn: Conn) -> Option<usize> {
    if !labels.is_multi() {
        return Some(0);
    }
    let i = usize::from(conn);
    (i < labels.len()).then_some(i)
}

/// The label of the connection with track `i`; none with one connection.
pub(super) fn label(labels: &Labels, i: usize) -> Option<String> {
    let conn = Conn::try_from(i).ok()?;
    labels.get(conn).map(str::to_owned)
}
