//! The probe's dashboard, its state: a row of figures per node, the presence comparison, the
//! alert strip and a log of the probe's own lines. Plain data and update functions, no
//! terminal: the shell feeds it lines and alerts as they happen, and copies the figures from
//! the [`Probe`] with [`Screen::sync`] before each frame; `view::draw` shows it.
//!
//! The log is bounded in lines and in bytes ([`LOG_LINES`], [`LOG_BYTES`]), its lines in
//! characters ([`MAX_LINE_CHARS`]); what it drops is counted and shown in its title.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::dashboard::theme::Theme;
pub use observe::probe::report::{Figures, Kind, PresenceLine, Row};
use observe::probe::state::{Alert, AlertKind, Change, Probe};

/// Lines the log keeps.
pub const LOG_LINES: usize = 1000;
/// Bytes the log's lines hold at most (their text).
pub const LOG_BYTES: usize = 1 << 20;
/// Longest log line kept, in characters.
pub const MAX_LINE_CHARS: usize = 1024;
/// Alerts the strip remembers (raised ones, then recoveries).
pub const MAX_ALERTS: usize = 32;
/// How long a recovery stays in the strip.
pub const RECOVERY_SHOWN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Instant,
    pub kind: Kind,
    pub text: String,
}

/// The log's lines, oldest first, bounded in count and bytes.
#[derive(Debug, Clone)]
pub struct Log {
    lines: VecDeque<LogLine>,
    max_lines: usize,
    max_bytes: usize,
    bytes: usize,
    /// Lines dropped to stay within the bounds.
    pub dropped: u64,
}

impl Log {
    pub fn new(max_lines: usize, max_bytes: usize) -> Log {
        Log {
            lines: VecDeque::new(),
            max_lines: max_lines.max(1),
            max_bytes,
            bytes: 0,
            dropped: 0,
        }
    }

    /// Adds a line (cut to [`MAX_LINE_CHARS`]); the oldest go while over either bound. The
    /// newest always stays.
    pub fn push(&mut self, at: Instant, kind: Kind, text: &str) {
        let text: String = text.chars().take(MAX_LINE_CHARS).collect();
        self.bytes += text.len();
        self.lines.push_back(LogLine { at, kind, text });
        while (self.lines.len() > self.max_lines || self.bytes > self.max_bytes)
            && self.lines.len() > 1
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len();
                self.dropped += 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The last `n` lines, oldest first.
    pub fn last(&self, n: usize) -> impl Iterator<Item = &LogLine> {
        self.lines.iter().skip(self.lines.len().saturating_sub(n))
    }
}

/// An alert in the strip: raised `since`, open while `open` > 0 (a node's canaries can be
/// missing via several nodes at once), then recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct StripAlert {
    pub kind: AlertKind,
    pub node: Option<usize>,
    pub detail: String,
    pub since: Instant,
    open: u32,
    /// When it ended, and what its recovery said.
    pub recovered: Option<(Instant, String)>,
}

/// What a key asks of the run loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
}

/// Everything the probe's screen shows.
#[derive(Debug)]
pub struct Screen {
    pub rows: Vec<Row>,
    pub presence: Option<PresenceLine>,
    pub alerts: Vec<StripAlert>,
    pub log: Log,
    pub help: bool,
    pub channel: String,
    pub interval: Duration,
    /// `--for`.
    pub window: Option<Duration>,
    pub started: Instant,
    /// The wall-clock time at `started`, to show instants as times of day.
    pub wall: SystemTime,
    pub theme: Theme,
    dirty: bool,
}

impl Screen {
    pub fn new(
        channel: String,
        interval: Duration,
        window: Option<Duration>,
        started: Instant,
        color: bool,
    ) -> Screen {
        Screen {
            rows: Vec::new(),
            presence: None,
            alerts: Vec::new(),
            log: Log::new(LOG_LINES, LOG_BYTES),
            help: false,
            channel,
            interval,
            window,
            started,
            wall: SystemTime::now(),
            theme: Theme::new(color, false),
            dirty: true,
        }
    }

    /// Something changed since the last frame.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// A frame shows it all now.
    pub fn drawn(&mut self) {
        self.dirty = false;
    }

    /// The clock moved: elapsed time and alert ages change.
    pub fn tick(&mut self) {
        self.dirty = true;
    }

    /// A line for the log (the text `lines.rs` made, or a state or error line).
    pub fn line(&mut self, kind: Kind, text: &str, now: Instant) {
        self.log.push(now, kind, text);
        self.dirty = true;
    }

    /// An alert or its recovery: to the strip and, as `text`, to the log.
    pub fn alert(&mut self, a: &Alert, text: &str, now: Instant) {
        let kind = match a.change {
            Change::Raised => Kind::Alert,
            Change::Recovered => Kind::Recovered,
        };
        self.line(kind, text, now);
        // A presence recovery names no node: one presence alert at a time.
        let same = |s: &StripAlert| {
            s.recovered.is_none()
                && s.kind == a.kind
                && (a.kind == AlertKind::PresenceMismatch || s.node == a.node)
        };
        match (a.change, self.alerts.iter_mut().find(|s| same(s))) {
            (Change::Raised, Some(open)) => open.open += 1,
            (Change::Raised, None) => {
                if self.alerts.len() >= MAX_ALERTS {
                    // The oldest recovery goes first, else the oldest alert.
                    let at = self.alerts.iter().position(|s| s.recovered.is_some());
                    self.alerts.remove(at.unwrap_or(0));
                }
                self.alerts.push(StripAlert {
                    kind: a.kind,
                    node: a.node,
                    detail: a.detail.clone(),
                    since: now,
                    open: 1,
                    recovered: None,
                });
            }
            (Change::Recovered, Some(open)) => {
                open.open = open.open.saturating_sub(1);
                if open.open == 0 {
                    open.recovered = Some((now, a.detail.clone()));
                }
            }
            (Change::Recovered, None) => {}
        }
    }

    /// A key: `q` or Ctrl-C quits, `?` opens or closes the help, Esc closes it.
    pub fn key(&mut self, k: &KeyEvent) -> Action {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char('c') if ctrl => return Action::Quit,
            KeyCode::Char('q') if !ctrl => return Action::Quit,
            KeyCode::Char('?') => self.help = !self.help,
            KeyCode::Esc => self.help = false,
            _ => return Action::None,
        }
        self.dirty = true;
        Action::None
    }

    /// The strip's entries now: open alerts first (oldest first), then the recoveries of the
    /// last [`RECOVERY_SHOWN`] (newest first).
    pub fn strip(&self, now: Instant) -> Vec<&StripAlert> {
        let mut out: Vec<&StripAlert> = self
            .alerts
            .iter()
            .filter(|s| s.recovered.is_none())
            .collect();
        out.extend(self.alerts.iter().rev().filter(|s| {
            s.recovered
                .as_ref()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) < RECOVERY_SHOWN)
        }));
        out
    }

    /// Copies the probe's figures for the next frame.
    pub fn sync(&mut self, probe: &Probe) {
        let presence_node = self
            .alerts
            .iter()
            .find(|s| s.recovered.is_none() && s.kind == AlertKind::PresenceMismatch)
            .and_then(|s| s.node);
        let figures = Figures::of(probe, presence_node);
        self.rows = figures.rows;
        self.presence = figures.presence;
    }
}

#[cfg(test)]
#[path = "screen_tests.rs"]
mod tests;
