//! The probe's screen: its state, its actions, and what each [`Report`] does to it. Plain
//! data, no terminal.
//!
//! The log is the shared log pane's ring, bounded in lines and in bytes ([`LOG_LINES`],
//! [`LOG_BYTES`]), its lines in characters ([`MAX_LINE_CHARS`]); what it drops is counted
//! and shown in its title. The alerts are the shared strip's.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Frame;
use ratatui::crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::kit::{ActionInfo, Areas, Chrome, Effect, HintLine, Part, Role, Screen, Slot, Theme};
use crate::widgets::alerts::{AlertId, AlertKind, Alerts, ProbeAlert};
use crate::widgets::epoch::Epoch;
use crate::widgets::followed::{Followed, TimedLine};
use client::ConnectionState;
use observe::probe::report::{Figures, Kind, Report};
use observe::probe::state::Change;
use protocol::safe_text::terminal_safe;

use super::view;

/// Lines the log keeps.
pub const LOG_LINES: usize = 1000;
/// Bytes the log's lines weigh at most.
pub const LOG_BYTES: usize = 1 << 20;
/// Longest log line kept, in characters.
pub const MAX_LINE_CHARS: usize = 1024;
/// How long a recovery stays in the strip.
pub const RECOVERY_SHOWN: Duration = Duration::from_secs(30);

/// A line of the probe's log.
pub type Line = TimedLine<Kind>;

/// What the probe's keys do: quitting, the help, and moving in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Back,
}

impl crate::kit::Action for Action {
    const ALL: &'static [ActionInfo<Action>] = &[
        ActionInfo::new(Action::Quit, "quit", &["q", "ctrl-c"], "quit"),
        ActionInfo::new(Action::Help, "help", &["?"], "this help"),
        ActionInfo::new(Action::Down, "down", &["j", "down"], "move down in the log"),
        ActionInfo::new(Action::Up, "up", &["k", "up"], "move up in the log"),
        ActionInfo::new(Action::Top, "top", &["g", "home"], "go to the oldest line"),
        ActionInfo::new(
            Action::Bottom,
            "bottom",
            &["G", "end"],
            "go to the newest line (the log follows)",
        ),
        ActionInfo::new(
            Action::PageDown,
            "page_down",
            &["pgdn", "ctrl-d"],
            "page down",
        ),
        ActionInfo::new(Action::PageUp, "page_up", &["pgup", "ctrl-u"], "page up"),
        ActionInfo::new(
            Action::Back,
            "back",
            &["esc"],
            "close, go back (the log follows)",
        ),
    ];

    fn role(self) -> Option<Role> {
        Some(match self {
            Action::Quit => Role::Quit,
            Action::Help => Role::Help,
            Action::Down => Role::Down,
            Action::Up => Role::Up,
            Action::Top => Role::Top,
            Action::Bottom => Role::Bottom,
            Action::PageDown => Role::PageDown,
            Action::PageUp => Role::PageUp,
            Action::Back => Role::Back,
        })
    }
}

const ABOUT: &[&str] = &[
    "With --for, quitting prints the verdict so far, with its status.",
    "The table has a row per node: SENT canaries published via it,",
    "RECV, LOST and LATE on it, ERRS publishes via it that failed,",
    "latency p50, p99 and max in ms, and its last publish error.",
    "A red row (reverse without colour): an alert concerns the node.",
    "The strip says what broke and since when, and what recovered.",
];

/// Everything the probe's screen shows.
#[derive(Debug)]
pub struct Probe {
    pub figures: Figures,
    pub alerts: Alerts,
    pub log: Followed<Kind>,
    /// The canary channel.
    pub channel: String,
    pub interval: Duration,
    /// `--for`.
    pub window: Option<Duration>,
    pub started: Instant,
    /// The wall-clock time at `started`, to show instants as times of day.
    pub(super) epoch: Epoch,
}

impl Probe {
    pub fn new(
        channel: String,
        interval: Duration,
        window: Option<Duration>,
        started: Instant,
    ) -> Probe {
        let wall = SystemTime::now();
        Probe {
            figures: Figures {
                rows: Vec::new(),
                presence: None,
            },
            alerts: Alerts::new(RECOVERY_SHOWN, false, started, wall),
            log: Followed::new(LOG_LINES, LOG_BYTES, MAX_LINE_CHARS),
            channel,
            interval,
            window,
            started,
            epoch: Epoch::new(started, wall),
        }
    }

    /// Shows `started` as `wall` (tests pin the clock).
    pub fn set_wall(&mut self, wall: SystemTime) {
        self.epoch = Epoch::new(self.started, wall);
        self.alerts.set_epoch(self.epoch);
    }

    /// The node whose row the open presence alert names, if one is open.
    pub fn presence_node(&self) -> Option<usize> {
        self.alerts
            .open()
            .into_iter()
            .find(|a| a.id.kind == AlertKind::Probe(ProbeAlert::PresenceMismatch))
            .and_then(|a| a.node)
    }

    /// The strip's lines, or that there are none.
    pub(super) fn strip(&self, now: Instant) -> Vec<(Slot, String)> {
        let lines = self.alerts.lines(now, |a| match (a.id.kind, a.node) {
            // The node it concerns, as the dashboard's strip names a ticker key.
            (AlertKind::Probe(ProbeAlert::CanaryMissing), Some(n)) => {
                self.figures.rows.get(n).map(|r| r.name.clone())
            }
            _ => None,
        });
        if lines.is_empty() {
            return vec![(Slot::Dim, " no alerts".into())];
        }
        lines
    }
}

/// `1:05`, `1:02:03`.
pub(super) fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=3599 => format!("{}:{:02}", s / 60, s % 60),
        _ => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    }
}

impl Screen for Probe {
    type Input = Report;
    type Action = Action;
    type Done = ();

    const MIN_SIZE: (u16, u16) = (40, 10);

    fn apply(&mut self, report: Report, now: Instant) -> Option<Effect<()>> {
        match report {
            Report::Line { kind, text } => self.log.push(kind, &text, now),
            Report::Alert { alert, text } => {
                let kind = match alert.change {
                    Change::Raised => Kind::Alert,
                    Change::Recovered => Kind::Recovered,
                };
                self.log.push(kind, &text, now);
                // A presence recovery names no node: one presence alert at a time.
                let node = match alert.kind {
                    ProbeAlert::PresenceMismatch => None,
                    _ => alert.node,
                };
                let id = AlertId {
                    node,
                    ..AlertId::new(AlertKind::Probe(alert.kind))
                };
                match alert.change {
                    Change::Raised => self.alerts.raise(
                        id,
                        (alert.kind.as_str().to_owned(), alert.detail),
                        alert.node,
                        now,
                        None,
                    ),
                    Change::Recovered => self.alerts.recover(&id, alert.detail, now),
                }
            }
            Report::Figures(f) => self.figures = f,
        }
        None
    }

    fn act(&mut self, action: Action, _now: Instant) -> Option<Effect<()>> {
        // Every action but quitting and the help (the kit's) moves in the log.
        if let Some(role) = crate::kit::Action::role(action) {
            self.log.navigate(role);
        }
        None
    }

    fn tick(&mut self, now: Instant) {
        self.alerts.tick(now);
    }

    fn mouse(&mut self, event: MouseEvent, _body: Rect) {
        self.log.scroll(&event);
    }

    fn status(&self, t: &Theme, now: Instant, _width: u16) -> Vec<Part> {
        let elapsed = now.saturating_duration_since(self.started);
        let time = match self.window {
            Some(w) => format!(
                "{} of {}, {} left",
                clock(elapsed),
                clock(w),
                clock(w.saturating_sub(elapsed))
            ),
            None => format!("{} elapsed", clock(elapsed)),
        };
        // The channel is cut in the middle, to keep its random end.
        let channel = view::clip_middle(&self.channel, 36, t.ellipsis());
        let mut parts = vec![
            Part::raw(0, terminal_safe(&channel).into_owned()),
            Part::raw(
                1,
                format!("every {}", humantime::format_duration(self.interval)),
            ),
            Part::raw(0, time),
        ];
        let rows = &self.figures.rows;
        if !rows.is_empty() {
            let up = rows
                .iter()
                .filter(|r| r.state == ConnectionState::Connected)
                .count();
            let slot = if up == rows.len() {
                Slot::Connected
            } else {
                Slot::Disconnected
            };
            let text = format!("{up}/{} connected", rows.len());
            parts.push(Part::new(2, Span::styled(text, t.style(slot))));
        }
        parts
    }

    fn hints(&self) -> HintLine<Action> {
        let mut keys = vec![(Action::Quit, "quit"), (Action::Help, "help")];
        if !self.log.is_following() {
            keys.push((Action::Bottom, "follow"));
        }
        HintLine::keys(keys)
    }

    fn about(&self) -> &'static [&'static str] {
        ABOUT
    }

    fn draw(&self, frame: &mut Frame, areas: Areas, chrome: &Chrome<'_, Action>, now: Instant) {
        view::draw(frame, self, areas.body, chrome, now);
    }
}
