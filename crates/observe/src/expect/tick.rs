//! What time alone breaks: a silence past its cadence, the latency window's p99, a
//! connection down past its grace; and a connection coming back. Part of the evaluator
//! ([`super::eval`]).

use std::time::{Duration, Instant};

use super::connected;
use super::eval::{Change, Rule, Track, Transition, p99, seconds, transition};
use super::parse::Kind;
use client::Labels;

impl Rule {
    pub(super) fn tick(
        &mut self,
        i: usize,
        now: Instant,
        window: Duration,
        labels: &Labels,
        out: &mut Vec<Transition>,
    ) {
        match (&self.exp.kind, &mut self.track) {
            (
                Kind::Cadence { every, .. },
                Track::Cadence {
                    last,
                    longest_gap,
                    broken,
                    ..
                },
            ) => {
                let gap = now.saturating_duration_since(*last);
                *longest_gap = (*longest_gap).max(gap);
                if gap > *every && broken.is_none() {
                    let detail = format!("no event for {}", seconds(gap));
                    *broken = Some((*last, detail.clone()));
                    self.ever_broken = true;
                    out.push(transition(&self.exp, i, Change::Alert, None, *last, detail));
                }
            }
            (
                Kind::Latency { p99_under },
                Track::Latency {
                    samples,
                    worst_p99,
                    broken,
                    ..
                },
            ) => {
                while samples
                    .front()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) > window)
                {
                    samples.pop_front();
                }
                let Some(p99) = p99(samples.iter().map(|(_, ms)| *ms)) else {
                    return;
                };
                *worst_p99 = Some(worst_p99.map_or(p99, |w| w.max(p99)));
                let limit = p99_under.as_secs_f64() * 1000.0;
                let detail = format!("p99 {p99:.0}ms (under {limit:.0}ms)");
                match broken.take() {
                    None if p99 >= limit => {
                        *broken = Some((now, detail.clone()));
                        self.ever_broken = true;
                        out.push(transition(&self.exp, i, Change::Alert, None, now, detail));
                    }
                    Some((since, _)) if p99 < limit => {
                        out.push(transition(
                            &self.exp,
                            i,
                            Change::Recovery,
                            None,
                            since,
                            detail,
                        ));
                    }
                    kept => *broken = kept.map(|(since, _)| (since, detail)),
                }
            }
            (Kind::Connected { grace }, Track::Connected { .. }) => {
                let grace = *grace;
                self.connected_tick(i, grace, now, labels, out);
            }
            _ => {}
        }
    }
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
        let (Kind::Connected { grace }, Track::Connected { conns }) =
            (&self.exp.kind, &mut self.track)
        else {
            return;
        };
        let grace = *grace;
        if let Some((since, detail)) = conns.get_mut(conn).and_then(|d| d.changed(up, grace, now)) {
            out.push(Transition {
                connection: connected::label(labels, conn),
                ..transition(&self.exp, i, Change::Recovery, None, since, detail)
            });
        }
    }

    /// Each connection down past `grace` breaks the rule, once per spell; one that flapped
    /// recovers once it stays up for `grace`.
    fn connected_tick(
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
            if let Some((since, detail)) = down.past_grace(grace, now) {
                self.ever_broken = true;
                out.push(Transition {
                    connection: connected::label(labels, conn),
                    ..transition(&self.exp, i, Change::Alert, None, since, detail)
                });
            }
            if let Some((since, detail)) = down.stable(grace, now) {
                out.push(Transition {
                    connection: connected::label(labels, conn),
                    ..transition(&self.exp, i, Change::Recovery, None, since, detail)
                });
            }
        }
    }
}
