//! The dashboard's state and its update functions: plain structs, no terminal. One task owns
//! it; engine items and keys change it; the view only reads it.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use ratatui::crossterm::event::KeyEvent;

use super::binding::{Bindings, View};
use super::keys::{self, Action};
use super::ticker::{Sort, Ticker};
use crate::client::{ConnectionState, Item, ReceivedEvent, SubscriptionStatus};
use crate::output::lines::compact_data;

/// Limits and looks, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub log_capacity: usize,
    pub history: usize,
    pub max_rows: usize,
    pub ascii: bool,
    pub color: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            log_capacity: 10_000,
            history: 300,
            max_rows: 1_000,
            ascii: false,
            color: true,
        }
    }
}

/// Longest data text kept per log line (the full frame is for the inspect view to come).
pub const MAX_LOG_TEXT: usize = 2048;

#[derive(Debug, Clone)]
pub struct LogLine {
    pub time: SystemTime,
    pub channel: String,
    pub event: String,
    pub text: String,
    pub unbound: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Ticker,
    Log,
}

/// What the status bar shows.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: ConnectionState,
    pub reason: Option<String>,
    pub retry_at: Option<Instant>,
    pub url: String,
    pub socket_id: Option<String>,
    pub channels: BTreeMap<String, SubscriptionStatus>,
    pub total: u64,
    pub rtt: Option<Duration>,
    pub dropped: u64,
    pub unbound: u64,
    /// Events per second over the last complete seconds.
    recent: VecDeque<(u64, u64)>,
    started: Instant,
}

impl Status {
    fn new(now: Instant) -> Status {
        Status {
            state: ConnectionState::Initialized,
            reason: None,
            retry_at: None,
            url: String::new(),
            socket_id: None,
            channels: BTreeMap::new(),
            total: 0,
            rtt: None,
            dropped: 0,
            unbound: 0,
            recent: VecDeque::new(),
            started: now,
        }
    }

    fn count(&mut self, now: Instant) {
        self.total += 1;
        let second = now.duration_since(self.started).as_secs();
        match self.recent.back_mut() {
            Some((s, n)) if *s == second => *n += 1,
            _ => {
                self.recent.push_back((second, 1));
                while self.recent.len() > 6 {
                    self.recent.pop_front();
                }
            }
        }
    }

    /// Messages per second, averaged over the last five complete seconds.
    pub fn rate(&self, now: Instant) -> f64 {
        let current = now.duration_since(self.started).as_secs();
        let sum: u64 = self
            .recent
            .iter()
            .filter(|(s, _)| *s < current && *s + 5 >= current)
            .map(|(_, n)| n)
            .sum();
        sum as f64 / 5f64.min(current.max(1) as f64)
    }
}

/// The view frozen by Space: what it showed, and how much came since.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub ticker: Ticker,
    pub log: VecDeque<LogLine>,
    pub since: u64,
}

pub struct State {
    pub options: Options,
    pub bindings: Bindings,
    pub ticker: Ticker,
    pub log: VecDeque<LogLine>,
    /// `count` bindings: (channel, event) → events.
    pub counts: BTreeMap<(String, String), u64>,
    pub status: Status,
    pub focus: Focus,
    pub sort: Sort,
    pub selected: usize,
    /// Lines up from the newest; `None` follows new lines.
    pub log_scroll: Option<usize>,
    pub help: bool,
    pub paused: Option<Frozen>,
    pub quit: bool,
}

/// Most distinct `count` pairs kept (names come from the wire).
const MAX_COUNTS: usize = 1000;

impl State {
    pub fn new(options: Options, bindings: Bindings, now: Instant) -> State {
        State {
            ticker: Ticker::new(options.history, options.max_rows),
            log: VecDeque::new(),
            counts: BTreeMap::new(),
            status: Status::new(now),
            focus: Focus::Ticker,
            sort: Sort::Key,
            selected: 0,
            log_scroll: None,
            help: false,
            paused: None,
            quit: false,
            options,
            bindings,
        }
    }

    /// Applies one engine item.
    pub fn apply(&mut self, item: Item, now: Instant) {
        match item {
            Item::Event(ev) => self.event(ev, now),
            Item::State(c) => {
                self.status.state = c.current;
                self.status.reason = c.reason.map(|r| r.to_string());
                self.status.retry_at = c.retry_in.map(|d| now + d);
                self.status.url = c.url;
                if c.current == ConnectionState::Connected {
                    self.status.socket_id = c.socket_id;
                }
            }
            Item::Subscription { channel, status } => {
                if status == SubscriptionStatus::Unsubscribed {
                    self.status.channels.remove(&channel);
                } else {
                    self.status.channels.insert(channel, status);
                }
            }
            Item::Pong { rtt } => self.status.rtt = Some(rtt),
            Item::Dropped { total, .. } => self.status.dropped = total,
            Item::Error(e) => self.push_log(LogLine {
                time: SystemTime::now(),
                channel: "-".into(),
                event: "error".into(),
                text: e,
                unbound: false,
            }),
            Item::Members { .. } | Item::SubscriptionCount { .. } | Item::SignedIn { .. } => {}
        }
    }

    fn event(&mut self, ev: ReceivedEvent, now: Instant) {
        if !ev.is_application() {
            return;
        }
        self.status.count(now);
        if let Some(f) = &mut self.paused {
            f.since += 1;
        }
        let view = if self.bindings.is_empty() {
            Some(View::Log)
        } else {
            self.bindings
                .lookup(ev.channel.as_deref(), &ev.event)
                .map(|b| b.view.clone())
        };
        // Every event is logged but the ignored ones; the binding adds its own view.
        match view {
            Some(View::Ticker { key, value }) => {
                let data = ev.data.to_value();
                self.ticker.update(key.get(&data), value.get(&data), now);
                self.log_event(&ev, false);
            }
            Some(View::Count) => {
                let k = (ev.channel.clone().unwrap_or_default(), ev.event.clone());
                if self.counts.len() < MAX_COUNTS || self.counts.contains_key(&k) {
                    *self.counts.entry(k).or_default() += 1;
                }
                self.log_event(&ev, false);
            }
            Some(View::Ignore) => {}
            Some(View::Log) => self.log_event(&ev, false),
            None => {
                self.status.unbound += 1;
                self.log_event(&ev, true);
            }
        }
    }

    fn log_event(&mut self, ev: &ReceivedEvent, unbound: bool) {
        let mut text = compact_data(&ev.data);
        if text.len() > MAX_LOG_TEXT {
            let cut = (0..=MAX_LOG_TEXT)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        self.push_log(LogLine {
            time: ev.received_at,
            channel: ev.channel.clone().unwrap_or_else(|| "-".into()),
            event: ev.event.clone(),
            text,
            unbound,
        });
    }

    fn push_log(&mut self, line: LogLine) {
        if self.log.len() >= self.options.log_capacity.max(1) {
            self.log.pop_front();
        }
        self.log.push_back(line);
        // A reader scrolled up keeps their place.
        if let Some(s) = &mut self.log_scroll {
            *s = (*s + 1).min(self.log.len().saturating_sub(1));
        }
    }

    /// What the view shows: the frozen copy while paused.
    pub fn visible(&self) -> (&Ticker, &VecDeque<LogLine>) {
        match &self.paused {
            Some(f) => (&f.ticker, &f.log),
            None => (&self.ticker, &self.log),
        }
    }

    /// Handles a key press.
    pub fn key(&mut self, key: &KeyEvent) {
        let Some(action) = keys::action(key) else {
            return;
        };
        if self.help && !matches!(action, Action::Quit | Action::Help | Action::Back) {
            return;
        }
        let rows = self.visible().0.len();
        let lines = self.visible().1.len();
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = !self.help,
            Action::Back => self.help = false,
            Action::Pause => {
                self.paused = match self.paused.take() {
                    Some(_) => None,
                    None => Some(Frozen {
                        ticker: self.ticker.clone(),
                        log: self.log.clone(),
                        since: 0,
                    }),
                }
            }
            Action::FocusNext | Action::FocusPrev => {
                self.focus = match self.focus {
                    Focus::Ticker => Focus::Log,
                    Focus::Log => Focus::Ticker,
                }
            }
            Action::Sort => self.sort = self.sort.next(),
            Action::Clear => {
                self.ticker.clear();
                self.log.clear();
                self.counts.clear();
                self.selected = 0;
                self.log_scroll = None;
                self.paused = None;
            }
            Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp => {
                let step: isize = match action {
                    Action::Down => 1,
                    Action::Up => -1,
                    Action::PageDown => 10,
                    Action::PageUp => -10,
                    Action::Top => isize::MIN / 2,
                    _ => isize::MAX / 2,
                };
                match self.focus {
                    Focus::Ticker => {
                        self.selected = self
                            .selected
                            .saturating_add_signed(step)
                            .min(rows.saturating_sub(1))
                    }
                    Focus::Log => {
                        // The log scrolls from the bottom: down means newer.
                        let up = self
                            .log_scroll
                            .unwrap_or(0)
                            .saturating_add_signed(-step)
                            .min(lines.saturating_sub(1));
                        self.log_scroll = (up > 0).then_some(up);
                    }
                }
            }
        }
    }
}
