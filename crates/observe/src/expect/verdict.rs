//! The verdict of `tickertape check`: a Nagios status per expectation and for the whole, with
//! the measures behind it as perfdata. Pure: built from the evaluator at the window's end.
//!
//! Each expectation is:
//! - OK when it held the whole window;
//! - its level (WARNING for `--warn`, CRITICAL for `--expect`) when it broke at any time in
//!   the window, or is broken at its end (`connected`: not connected at the end, or a
//!   spell down, flapping included, longer than its grace);
//! - CRITICAL, whatever its level, for `connected` when the server refused the connection
//!   or was never reached (never connected, or unreachable past the grace at the start);
//! - UNKNOWN when there was nothing to judge: the connection never came up (for the rules
//!   other than `connected`), no latency sample, no event with the value's field.
//!
//! The whole is the worst: CRITICAL, then WARNING, then UNKNOWN, then OK.

use std::time::{Duration, Instant};

use super::eval::{Evaluator, Rule, Track, p99, seconds};
use super::parse::{Kind, Level};

/// Nagios plugin return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// The worse of two: CRITICAL, then WARNING, then UNKNOWN, then OK.
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// How bad, for the worst of several.
    fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Critical => 3,
        }
    }

    fn of(level: Level) -> Status {
        match level {
            Level::Warning => Status::Warning,
            Level::Critical => Status::Critical,
        }
    }
}

/// One measure: `'label'=value[unit];warn;crit;min;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    pub label: String,
    pub value: f64,
    /// `s`, `c` (a count) or empty.
    pub unit: &'static str,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
}

/// One expectation's part of the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub expectation: String,
    pub level: Level,
    pub status: Status,
    pub detail: String,
    pub perf: Vec<Perf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub window: Duration,
    /// Application events received in the window.
    pub events: u64,
    pub outcomes: Vec<Outcome>,
}

impl Verdict {
    /// One more part of the verdict (judged outside the evaluator: the subscriptions); the
    /// whole is the worst, as ever.
    pub fn add(&mut self, outcome: Outcome) {
        self.status = self.status.worst(outcome.status);
        self.outcomes.push(outcome);
    }

    /// A check that could not run at all (the connection refused, say).
    pub fn unknown(why: String, window: Duration) -> Verdict {
        Verdict {
            status: Status::Unknown,
            window,
            events: 0,
            outcomes: vec![Outcome {
                expectation: "check".into(),
                level: Level::Critical,
                status: Status::Unknown,
                detail: why,
                perf: Vec::new(),
            }],
        }
    }
}

impl Evaluator {
    /// The verdict at `now` (run [`Evaluator::tick`] first, so that time has had its say).
    pub fn verdict(&self, now: Instant) -> Verdict {
        let outcomes: Vec<Outcome> = self.rules.iter().map(|r| self.outcome(r, now)).collect();
        let status = outcomes
            .iter()
            .map(|o| o.status)
            .max_by_key(|s| s.rank())
            .unwrap_or(Status::Ok);
        Verdict {
            status,
            window: now.saturating_duration_since(self.started),
            events: self.events,
            outcomes,
        }
    }

    fn outcome(&self, rule: &Rule, now: Instant) -> Outcome {
        let level = rule.exp.level;
        let bad = Status::of(level);
        // The limit goes in the slot of the rule's level.
        let limits = |limit: f64| match level {
            Level::Warning => (Some(limit), None),
            Level::Critical => (None, Some(limit)),
        };
        let perf = |label: String, value: f64, unit: &'static str, limit: f64| {
            let (warn, crit) = limits(limit);
            Perf {
                label,
                value,
                unit,
                warn,
                crit,
            }
        };
        let never = !self.ever_connected;
        let (status, detail, perfs) = match (&rule.exp.kind, &rule.track) {
            (
                Kind::Cadence { every, .. },
                Track::Cadence {
                    last,
                    events,
                    longest_gap,
                    broken,
                },
            ) => {
                let gap = (*longest_gap).max(now.saturating_duration_since(*last));
                let failed = rule.ever_broken || broken.is_some() || gap > *every;
                let status = match (failed, never) {
                    (_, true) => Status::Unknown,
                    (true, false) => bad,
                    (false, false) => Status::Ok,
                };
                let detail = if never {
                    "never connected".to_owned()
                } else {
                    format!(
                        "{events} events, longest gap {} (limit {})",
                        seconds(gap),
                        seconds(*every)
                    )
                };
                let label = rule.exp.text.split('<').next().unwrap_or("").trim();
                (
                    status,
                    detail,
                    vec![
                        perf(
                            format!("{label}_gap"),
                            gap.as_secs_f64(),
                            "s",
                            every.as_secs_f64(),
                        ),
                        Perf {
                            label: format!("{label}_events"),
                            value: *events as f64,
                            unit: "c",
                            warn: None,
                            crit: None,
                        },
                    ],
                )
            }
            (
                Kind::Latency { p99_under },
                Track::Latency {
                    samples,
                    total,
                    worst_p99,
                    broken,
                },
            ) => {
                let limit = p99_under.as_secs_f64();
                let now_p99 = p99(samples.iter().map(|(_, ms)| *ms));
                let worst = match (worst_p99, now_p99) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                match worst {
                    None => (
                        Status::Unknown,
                        if never {
                            "never connected".to_owned()
                        } else {
                            "no latency sample (are events stamped at --ts-field?)".to_owned()
                        },
                        Vec::new(),
                    ),
                    Some(ms) => {
                        let failed = rule.ever_broken || broken.is_some() || ms >= limit * 1000.0;
                        (
                            if failed { bad } else { Status::Ok },
                            format!(
                                "p99 {ms:.0}ms over {total} samples (limit {})",
                                seconds(*p99_under)
                            ),
                            vec![perf("latency_p99".into(), ms / 1000.0, "s", limit)],
                        )
                    }
                }
            }
            (
                Kind::Value { path, .. },
                Track::Value {
                    seen,
                    violations,
                    last_bad,
                    broken,
                },
            ) => {
                let status = if *seen == 0 {
                    Status::Unknown
                } else if *violations > 0 || !broken.is_empty() {
                    bad
                } else {
                    Status::Ok
                };
                let detail = match (never, *seen, last_bad) {
                    (true, _, _) => "never connected".to_owned(),
                    (false, 0, _) => format!("no event with {}", path.display()),
                    (false, n, Some(last)) => {
                        format!("{violations} of {n} values broke it, the last: {last}")
                    }
                    (false, n, None) => format!("{n} values kept it"),
                };
                let label = rule.exp.text.split([':']).next().unwrap_or("");
                (
                    status,
                    detail,
                    vec![perf(
                        format!("{label}:{}_violations", path.display()),
                        *violations as f64,
                        "c",
                        0.0,
                    )],
                )
            }
            (Kind::Connected { grace }, Track::Connected { conns }) => {
                // `check` has one connection; were there several, the worst of them.
                let down_now = conns
                    .iter()
                    .filter_map(|d| d.down_since.map(|t| now.saturating_duration_since(t)))
                    .max();
                let longest = conns
                    .iter()
                    .map(|d| d.longest_down)
                    .chain(down_now)
                    .max()
                    .unwrap_or_default();
                let drops: u64 = conns.iter().map(|d| d.drops).sum();
                let broken = conns.iter().any(|d| d.broken.is_some());
                // A spell outlasted the grace (a flapping connection's, too) even if no
                // tick saw it while it was down.
                let failed = rule.ever_broken || broken || down_now.is_some() || longest > *grace;
                let dropped = match drops {
                    0 => String::new(),
                    1 => ", dropped once".to_owned(),
                    n => format!(", dropped {n} times"),
                };
                // A server that refuses, or that was never reached, is CRITICAL whatever
                // the rule's level: the service is not there.
                let (status, detail) = match (&self.refused, never, down_now) {
                    (Some(why), _, _) => (Status::Critical, why.clone()),
                    (None, true, _) => (
                        Status::Critical,
                        format!("never connected in {}", seconds(longest)),
                    ),
                    (None, false, _) if self.unreachable => (
                        Status::Critical,
                        format!(
                            "unreachable past the grace ({}) before it first connected{dropped}",
                            seconds(*grace)
                        ),
                    ),
                    (None, false, Some(d)) => (
                        bad,
                        // A flapping spell says so (`dropping for 5.1s: 3 drops, …`).
                        match conns.iter().find_map(|c| c.broken.as_ref()) {
                            Some((_, why)) if why.starts_with("dropping") => why.clone(),
                            _ => format!("not connected: down for {}{dropped}", seconds(d)),
                        },
                    ),
                    (None, false, None) if failed => (
                        bad,
                        format!(
                            "was down for {} (grace {}){dropped}",
                            seconds(longest),
                            seconds(*grace)
                        ),
                    ),
                    (None, false, None) => (Status::Ok, format!("connected{dropped}")),
                };
                (
                    status,
                    detail,
                    vec![
                        perf(
                            "connection_down".into(),
                            longest.as_secs_f64(),
                            "s",
                            grace.as_secs_f64(),
                        ),
                        Perf {
                            label: "connection_drops".into(),
                            value: drops as f64,
                            unit: "c",
                            warn: None,
                            crit: None,
                        },
                    ],
                )
            }
            _ => (Status::Unknown, "not evaluated".to_owned(), Vec::new()),
        };
        Outcome {
            expectation: rule.exp.text.clone(),
            level,
            status,
            detail,
            perf: perfs,
        }
    }
}
