//! The alert strip, shared by the screens, over one alert model. An alert is raised (or, if
//! the same one is open already, counted again: a node's canaries can be missing via
//! several nodes at once) and recovered; the strip shows the open ones, most pressing
//! first, then the recoveries of the last while, newest first, a line each, at most three.
//! What an alert is, is an [`AlertKind`]: `--expect`'s rules and the probe's kinds.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::epoch::Epoch;
use crate::kit::theme::age;
use crate::kit::{Slot, Theme};
pub use observe::probe::state::AlertKind as ProbeAlert;

/// Most strip lines.
pub const MAX_LINES: usize = 3;
/// Most alerts kept, open and recovered; past it the oldest recovery goes, else the oldest
/// alert, and it is counted.
pub const MAX_ALERTS: usize = 64;

/// What broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// An `--expect` or `--warn` rule, by its place on the command line.
    Expectation {
        rule: usize,
    },
    Probe(ProbeAlert),
}

/// Which alert: its kind, and what it concerns. Raising the same one again while it is open
/// counts it again; recovering it ends it once every raise recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertId {
    pub kind: AlertKind,
    /// A probe's node.
    pub node: Option<usize>,
    /// A ticker key, for a value rule kept per key.
    pub subject: Option<String>,
    /// A connection's label, for `connected` with several connections.
    pub connection: Option<String>,
}

impl AlertId {
    pub fn new(kind: AlertKind) -> AlertId {
        AlertId {
            kind,
            node: None,
            subject: None,
            connection: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Alert {
    pub id: AlertId,
    /// What the strip names it by: the rule as written, or the probe's kind.
    pub title: String,
    /// The node it concerns, for the screen to show (a red row).
    pub node: Option<usize>,
    pub detail: String,
    pub since: Instant,
    open: u32,
    /// When it ended, and what its recovery said.
    pub recovered: Option<(Instant, String)>,
    /// Its place among the open ones (a rule's index; else the order raised).
    rank: u64,
}

/// The alerts, open and recently recovered.
#[derive(Debug, Clone)]
pub struct Alerts {
    entries: Vec<Alert>,
    /// How long a recovery stays in the strip.
    recovery_shown: Duration,
    raised: u64,
    dropped: u64,
    bell: bool,
    ring: bool,
    /// An instant and the wall-clock time then, to show instants as times of day.
    epoch: Epoch,
}

impl Alerts {
    /// Recoveries stay `recovery_shown`; with `bell`, a raise rings the bell.
    pub fn new(recovery_shown: Duration, bell: bool, now: Instant, wall: SystemTime) -> Alerts {
        Alerts {
            entries: Vec::new(),
            recovery_shown,
            raised: 0,
            dropped: 0,
            bell,
            ring: false,
            epoch: Epoch::new(now, wall),
        }
    }

    /// Shows `at` as `wall` (tests pin the clock).
    pub fn set_epoch(&mut self, epoch: Epoch) {
        self.epoch = epoch;
    }

    /// An alert raised, broken `since`; `rank` orders the open ones (lowest first), else
    /// they are in the order raised.
    pub fn raise(
        &mut self,
        id: AlertId,
        (title, detail): (String, String),
        node: Option<usize>,
        since: Instant,
        rank: Option<u64>,
    ) {
        self.raised += 1;
        self.ring |= self.bell;
        if let Some(open) = self
            .entries
            .iter_mut()
            .find(|a| a.recovered.is_none() && a.id == id)
        {
            open.open += 1;
            return;
        }
        if self.entries.len() >= MAX_ALERTS {
            // The oldest recovery first, else the oldest alert.
            let at = self.entries.iter().position(|a| a.recovered.is_some());
            self.entries.remove(at.unwrap_or(0));
            self.dropped += 1;
        }
        self.entries.push(Alert {
            id,
            title,
            node,
            detail,
            since,
            open: 1,
            recovered: None,
            rank: rank.unwrap_or(self.raised),
        });
    }

    /// The alert `id` recovered (one raise of it, if it was raised several times).
    pub fn recover(&mut self, id: &AlertId, detail: String, now: Instant) {
        if let Some(open) = self
            .entries
            .iter_mut()
            .find(|a| a.recovered.is_none() && a.id == *id)
        {
            open.open = open.open.saturating_sub(1);
            if open.open == 0 {
                open.recovered = Some((now, detail));
            }
        }
    }

    /// Forgets the recoveries no longer shown.
    pub fn tick(&mut self, now: Instant) {
        let shown = self.recovery_shown;
        self.entries.retain(|a| {
            a.recovered
                .as_ref()
                .is_none_or(|(at, _)| now.saturating_duration_since(*at) < shown)
        });
    }

    /// Whether to ring the bell now (once per batch of alerts).
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.ring)
    }

    /// The open alerts, most pressing first.
    pub fn open(&self) -> Vec<&Alert> {
        let mut open: Vec<&Alert> = self
            .entries
            .iter()
            .filter(|a| a.recovered.is_none())
            .collect();
        open.sort_by(|a, b| {
            (a.rank, &a.id.subject, &a.id.connection).cmp(&(
                b.rank,
                &b.id.subject,
                &b.id.connection,
            ))
        });
        open
    }

    /// Alerts not kept (past [`MAX_ALERTS`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The strip's lines: the open alerts, then the recoveries still shown, newest first.
    /// `subject` names what an alert concerns (` [HOOLI]`), if anything.
    pub fn lines(
        &self,
        now: Instant,
        subject: impl Fn(&Alert) -> Option<String>,
    ) -> Vec<(Slot, String)> {
        let named = |a: &Alert| subject(a).map_or(String::new(), |s| format!(" [{s}]"));
        let mut out: Vec<(Slot, String)> = self
            .open()
            .into_iter()
            .map(|a| {
                let text = format!(
                    " ALERT since {} ({}) {}{}: {}",
                    self.epoch.time_of_day(a.since),
                    age(now.saturating_duration_since(a.since)),
                    a.title,
                    named(a),
                    a.detail,
                );
                (Slot::Alert, text)
            })
            .collect();
        out.extend(self.entries.iter().rev().filter_map(|a| {
            let (at, detail) = a.recovered.as_ref()?;
            (now.saturating_duration_since(*at) < self.recovery_shown).then(|| {
                let text = format!(
                    " RECOVERED {}-{} {}{}: {detail}",
                    self.epoch.time_of_day(a.since),
                    self.epoch.time_of_day(*at),
                    a.title,
                    named(a),
                );
                (Slot::Connected, text)
            })
        }));
        if self.dropped > 0
            && let Some((_, last)) = out.last_mut()
        {
            last.push_str(&format!(" ({} more not kept)", self.dropped));
        }
        out
    }
}

/// The band less the strip's `lines` (at most [`MAX_LINES`]): (strip, rest). No strip when
/// there is nothing to show, or when the rest would be left with fewer than `keep` rows.
pub fn split(lines: usize, band: Rect, keep: u16) -> (Option<Rect>, Rect) {
    let n = lines.min(MAX_LINES) as u16;
    if n == 0 || band.height < n + keep {
        return (None, band);
    }
    let [strip, rest] = Layout::vertical([Constraint::Length(n), Constraint::Min(0)]).areas(band);
    (Some(strip), rest)
}

/// The strip: a line per entry, each cut to the width and made safe for the terminal; when
/// they do not all fit, the last line says how many more there are.
pub fn draw(frame: &mut Frame, entries: &[(Slot, String)], t: &Theme, area: Rect) {
    let rows = usize::from(area.height);
    let width = usize::from(area.width);
    let lines: Vec<Line> = entries
        .iter()
        .take(rows)
        .enumerate()
        .map(|(i, (slot, text))| {
            let more = entries.len() - rows.min(entries.len());
            let text = if i + 1 == rows && more > 0 {
                let tail = format!(" (+{more} more)");
                let room = width.saturating_sub(tail.chars().count());
                format!("{}{tail}", t.clip(text, room))
            } else {
                text.clone()
            };
            let text = t.name(&text, width);
            let pad = width.saturating_sub(text.chars().count());
            Line::styled(format!("{text}{}", " ".repeat(pad)), t.style(*slot))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: ProbeAlert, node: usize) -> AlertId {
        AlertId {
            node: Some(node),
            ..AlertId::new(AlertKind::Probe(kind))
        }
    }

    #[test]
    fn raised_twice_it_recovers_on_the_second_recovery_and_stays_a_while() {
        let t0 = Instant::now();
        let mut a = Alerts::new(Duration::from_secs(10), true, t0, SystemTime::UNIX_EPOCH);
        let lost = id(ProbeAlert::CanaryMissing, 1);
        let text = || ("canary_missing".to_owned(), "lost".to_owned());
        a.raise(lost.clone(), text(), Some(1), t0, None);
        a.raise(lost.clone(), text(), Some(1), t0, None);
        assert!(a.take_bell() && !a.take_bell());
        assert_eq!(a.open().len(), 1);
        a.recover(&lost, "back".into(), t0);
        assert_eq!(a.open().len(), 1, "one of two recovered");
        a.recover(&lost, "back".into(), t0);
        let lines = a.lines(t0 + Duration::from_secs(1), |_| None);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0]
                .1
                .starts_with(" RECOVERED 00:00:00-00:00:00 canary_missing: back")
        );
        a.tick(t0 + Duration::from_secs(11));
        assert!(a.lines(t0 + Duration::from_secs(11), |_| None).is_empty());
    }

    #[test]
    fn the_open_ones_come_by_rank_and_the_model_stays_bounded() {
        let t0 = Instant::now();
        let mut a = Alerts::new(Duration::from_secs(10), false, t0, SystemTime::UNIX_EPOCH);
        let rule = |r| AlertId::new(AlertKind::Expectation { rule: r });
        a.raise(rule(1), ("b".into(), "x".into()), None, t0, Some(1));
        a.raise(rule(0), ("a".into(), "x".into()), None, t0, Some(0));
        let titles: Vec<&str> = a.open().iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["a", "b"]);
        for n in 0..100 {
            let id = AlertId {
                subject: Some(n.to_string()),
                ..rule(2)
            };
            a.raise(id, ("c".into(), "x".into()), None, t0, Some(2));
        }
        assert_eq!(a.open().len(), MAX_ALERTS);
        assert_eq!(a.dropped(), 102 - MAX_ALERTS as u64);
        let lines = a.lines(t0, |_| None);
        assert!(lines.last().unwrap().1.ends_with("more not kept)"));
    }
}
