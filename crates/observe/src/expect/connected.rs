//! `connected` and `connected<GRACE`, kept per connection: with several (`watch --node eu=…
//! --node us=…`) each has its own down-since and grace, breaks and recovers on its own, and
//! its transitions name it; one connection's state changes never mask another's. With one
//! connection there is one track and no name, as before. The evaluator ([`super::eval`])
//! turns what these say into transitions.

use std::time::{Duration, Instant};

use super::value::seconds;
use client::{Conn, Labels};

/// One connection's downtime, for one `connected` rule.
#[derive(Debug, Clone)]
pub(super) struct Down {
    /// Since when it is not connected (from the start until it first connects).
    pub down_since: Option<Instant>,
    /// The longest spell down that ended.
    pub longest_down: Duration,
    /// Down past its grace: since when, and why.
    pub broken: Option<(Instant, String)>,
}

impl Down {
    pub(super) fn new(now: Instant) -> Down {
        Down {
            down_since: Some(now),
            longest_down: Duration::ZERO,
            broken: None,
        }
    }

    /// The connection went up or down. When it comes up from a spell that broke the rule:
    /// since when it was broken, and the recovery's detail.
    pub(super) fn changed(&mut self, up: bool, now: Instant) -> Option<(Instant, String)> {
        match (up, self.down_since) {
            (true, Some(since)) => {
                self.longest_down = self.longest_down.max(now.saturating_duration_since(since));
                self.down_since = None;
                let (since, _) = self.broken.take()?;
                let detail = format!(
                    "connected again after {}",
                    seconds(now.saturating_duration_since(since))
                );
                Some((since, detail))
            }
            (false, None) => {
                self.down_since = Some(now);
                None
            }
            _ => None,
        }
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
        let detail = format!("down for {} (grace {})", seconds(spell), seconds(grace));
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
