//! `connected` and `connected<GRACE`, kept per connection: with several (`watch --node eu=…
//! --node us=…`) each has its own down-since and grace, breaks and recovers on its own, and
//! its transitions name it; one connection's state changes never mask another's. With one
//! connection there is one track and no name, as before. Part of the evaluator
//! ([`super::eval`]).

use std::time::{Duration, Instant};

use super::eval::{Change, Rule, Track, Transition, seconds, transition};
use crate::client::{Conn, Labels};

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
    pub fn new(now: Instant) -> Down {
        Down {
            down_since: Some(now),
            longest_down: Duration::ZERO,
            broken: None,
        }
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

impl Rule {
    /// The connection with track `conn` went up or down.
    pub(super) fn connection(
        &mut self,
        i: usize,
        conn: usize,
        up: bool,
        now: Instant,
        labels: &Labels,
        out: &mut Vec<Transition>,
    ) {
        let Track::Connected { conns } = &mut self.track else {
            return;
        };
        let Some(down) = conns.get_mut(conn) else {
            return;
        };
        match (up, down.down_since) {
            (true, Some(since)) => {
                down.longest_down = down.longest_down.max(now.saturating_duration_since(since));
                down.down_since = None;
                if let Some((since, _)) = down.broken.take() {
                    let detail = format!(
                        "connected again after {}",
                        seconds(now.saturating_duration_since(since))
                    );
                    out.push(Transition {
                        connection: label(labels, conn),
                        ..transition(&self.exp, i, Change::Recovery, None, since, detail)
                    });
                }
            }
            (false, None) => down.down_since = Some(now),
            _ => {}
        }
    }

    /// Each connection down past `grace` breaks the rule, once per spell.
    pub(super) fn connected_tick(
        &mut self,
        i: usize,
        grace: Duration,
        now: Instant,
        labels: &Labels,
        out: &mut Vec<Transition>,
    ) {
        let Track::Connected { conns } = &mut self.track else {
            return;
        };
        for (conn, down) in conns.iter_mut().enumerate() {
            let Some(since) = down.down_since else {
                continue;
            };
            let spell = now.saturating_duration_since(since);
            if spell > grace && down.broken.is_none() {
                let detail = format!("down for {} (grace {})", seconds(spell), seconds(grace));
                down.broken = Some((since, detail.clone()));
                self.ever_broken = true;
                out.push(Transition {
                    connection: label(labels, conn),
                    ..transition(&self.exp, i, Change::Alert, None, since, detail)
                });
            }
        }
    }
}
