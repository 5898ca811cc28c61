//! The alert strip: what `--expect` found broken (and what recovered lately), between the
//! status bar and the ticker. `Alerts` is the state's part (the evaluator, fed by the state's
//! items and the clock's tick); `draw` is the strip, pure. The strip takes a line per entry,
//! at most three, so it stays on an 80×24 screen; ticker rows a value rule broke turn red
//! (reverse video under NO_COLOR).

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::theme::{Slot, Theme, age};
use client::Conn;
use client::Item;
use observe::expect::{Change, Evaluator, Transition};
use observe::output::alerts::named;
use observe::output::lines::clock;

/// Most strip lines.
const MAX_LINES: usize = 3;
/// How long a recovery stays in the strip.
const RECOVERY_SHOWN: Duration = Duration::from_secs(10);
/// Recoveries kept for the strip.
const MAX_RECOVERED: usize = 16;

#[derive(Default)]
pub struct Alerts {
    eval: Option<Evaluator>,
    /// Recoveries, newest last, with when they came.
    recovered: VecDeque<(Transition, Instant)>,
    bell: bool,
    ring: bool,
    /// An instant and the wall-clock time then, to show instants as times of day.
    epoch: Option<(Instant, SystemTime)>,
}

impl Alerts {
    pub fn new(eval: Evaluator, bell: bool, now: Instant, wall: SystemTime) -> Alerts {
        Alerts {
            eval: Some(eval),
            bell,
            epoch: Some((now, wall)),
            ..Alerts::default()
        }
    }

    /// Takes in an item from the connection tagged `conn`.
    pub fn apply(&mut self, conn: Conn, item: &Item, now: Instant) {
        if let Some(eval) = &mut self.eval {
            let t = eval.apply_from(conn, item, now);
            self.note(t, now);
        }
    }

    /// Gives time its say (the dashboard's one-second clock).
    pub fn tick(&mut self, now: Instant) {
        if let Some(eval) = &mut self.eval {
            let t = eval.tick(now);
            self.note(t, now);
        }
    }

    fn note(&mut self, transitions: Vec<Transition>, now: Instant) {
        for t in transitions {
            match t.change {
                Change::Alert => self.ring |= self.bell,
                Change::Recovery => {
                    if self.recovered.len() == MAX_RECOVERED {
                        self.recovered.pop_front();
                    }
                    self.recovered.push_back((t, now));
                }
            }
        }
    }

    /// Whether to ring the bell now (once per batch of alerts, with `--bell`).
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.ring)
    }

    /// Ticker keys a value rule finds broken.
    pub fn red_keys(&self) -> BTreeSet<String> {
        let Some(eval) = &self.eval else {
            return BTreeSet::new();
        };
        eval.active()
            .into_iter()
            .filter_map(|a| a.subject)
            .collect()
    }

    fn wall(&self, at: Instant) -> SystemTime {
        match self.epoch {
            Some((i, w)) => match at.checked_duration_since(i) {
                Some(d) => w + d,
                None => w - i.saturating_duration_since(at),
            },
            None => SystemTime::UNIX_EPOCH,
        }
    }

    /// The strip's lines, most pressing first: the broken, then the recent recoveries.
    fn entries(&self, now: Instant) -> Vec<(Slot, String)> {
        let Some(eval) = &self.eval else {
            return Vec::new();
        };
        let mut out: Vec<(Slot, String)> = eval
            .active()
            .into_iter()
            .map(|a| {
                let subject = a.subject.map_or(String::new(), |s| format!(" [{s}]"));
                let text = format!(
                    " ALERT since {} ({}) {}{subject}: {}",
                    time_of_day(self.wall(a.since)),
                    age(now.saturating_duration_since(a.since)),
                    a.expectation,
                    named(a.connection.as_deref(), &a.detail),
                );
                (Slot::Alert, text)
            })
            .collect();
        out.extend(
            self.recovered
                .iter()
                .rev()
                .filter(|(_, at)| now.saturating_duration_since(*at) < RECOVERY_SHOWN)
                .map(|(t, at)| {
                    let subject = t
                        .subject
                        .as_ref()
                        .map_or(String::new(), |s| format!(" [{s}]"));
                    let text = format!(
                        " RECOVERED {}-{} {}{subject}: {}",
                        time_of_day(self.wall(t.since)),
                        time_of_day(self.wall(*at)),
                        t.expectation,
                        named(t.connection.as_deref(), &t.detail),
                    );
                    (Slot::Connected, text)
                }),
        );
        out
    }
}

/// `10:00:03`: the log's clock to the second.
pub fn time_of_day(t: SystemTime) -> String {
    clock(t).chars().take(8).collect()
}

/// The ticker band less the strip's lines: (strip, ticker). No strip when all is well.
pub fn split(alerts: &Alerts, ticker: Rect, now: Instant) -> (Option<Rect>, Rect) {
    let n = alerts.entries(now).len().min(MAX_LINES) as u16;
    if n == 0 || ticker.height < n + 4 {
        return (None, ticker);
    }
    let [strip, rest] = Layout::vertical([Constraint::Length(n), Constraint::Min(0)]).areas(ticker);
    (Some(strip), rest)
}

pub fn draw(frame: &mut Frame, alerts: &Alerts, t: &Theme, area: Rect, now: Instant) {
    draw_entries(frame, &alerts.entries(now), t, area);
}

/// Strip lines, one per entry, each cut to the width and made safe for the terminal; when
/// they do not all fit, the last line says how many more there are. Also `probe`'s strip.
pub fn draw_entries(frame: &mut Frame, entries: &[(Slot, String)], t: &Theme, area: Rect) {
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
