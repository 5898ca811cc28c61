//! The console's state, its actions, and what each input does to it. Plain data, no
//! terminal.
//!
//! The log is the shared log pane's ring, bounded in lines and bytes ([`LOG_LINES`],
//! [`LOG_BYTES`]); an entry's fields are cut to [`MAX_FIELD_CHARS`] as they come. Pausing
//! freezes what the log shows (entries still come, and the ring keeps its caps); the
//! channel table is the last snapshot's, at most [`CHANNELS_SHOWN`] rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Backend, ChannelRow, Entry, Filter, Input, JqFilter, Snapshot, TextFilter};
use super::view;
use crate::kit::theme::clip;
use crate::kit::{
    ActionInfo, Areas, Captured, Chrome, Effect, HintLine, Part, Role, Screen, Slot, Task, Theme,
};
use crate::widgets::log::{self, Log};

/// Entries the log keeps.
pub const LOG_LINES: usize = 5000;
/// Bytes they weigh at most.
pub const LOG_BYTES: usize = 4 << 20;
/// Longest field value kept, in characters.
pub const MAX_FIELD_CHARS: usize = 512;
/// Channel rows kept from a snapshot.
pub const CHANNELS_SHOWN: usize = 1000;
/// Longest text typed into a prompt.
const MAX_PROMPT: usize = 1024;
/// How long a message stays in the status bar.
const MESSAGE_FOR: Duration = Duration::from_secs(5);
/// Recent entries shown in a channel's detail.
pub(super) const RECENT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Pause,
    FocusNext,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Sort,
    Filter,
    Open,
    Back,
    Trigger,
    Clear,
}

const fn info(
    action: Action,
    name: &'static str,
    defaults: &'static [&'static str],
    help: &'static str,
) -> ActionInfo<Action> {
    ActionInfo::new(action, name, defaults, help)
}

const ACTIONS: &[ActionInfo<Action>] = &[
    info(
        Action::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit (the server stops)",
    ),
    info(Action::Help, "help", &["?"], "this help"),
    info(
        Action::Pause,
        "pause",
        &["space"],
        "pause the log (entries still come), resume",
    ),
    info(
        Action::FocusNext,
        "focus_next",
        &["tab"],
        "focus the channels or the log",
    ),
    info(Action::Down, "down", &["j", "down"], "move down"),
    info(Action::Up, "up", &["k", "up"], "move up"),
    info(Action::Top, "top", &["g", "home"], "go to the top"),
    info(
        Action::Bottom,
        "bottom",
        &["G", "end"],
        "go to the bottom (the log follows)",
    ),
    info(
        Action::PageDown,
        "page_down",
        &["pgdn", "ctrl-d"],
        "page down",
    ),
    info(Action::PageUp, "page_up", &["pgup", "ctrl-u"], "page up"),
    info(
        Action::Sort,
        "sort",
        &["s"],
        "sort channels: subscribers, members, name",
    ),
    info(
        Action::Filter,
        "filter",
        &["f", "/"],
        "filter the log: type:api channel:X event:X text",
    ),
    info(
        Action::Open,
        "open",
        &["enter"],
        "inspect a log entry, open a channel (members, recent events)",
    ),
    info(
        Action::Back,
        "back",
        &["esc"],
        "close, clear the filter, go back",
    ),
    info(
        Action::Trigger,
        "trigger",
        &["t"],
        "trigger a test event on the selected channel",
    ),
    info(Action::Clear, "clear", &["c"], "clear the log"),
];

impl crate::kit::Action for Action {
    const ALL: &'static [ActionInfo<Action>] = ACTIONS;

    fn role(self) -> Option<Role> {
        match self {
            Action::Quit => Some(Role::Quit),
            Action::Help => Some(Role::Help),
            Action::Back => Some(Role::Back),
            Action::Up => Some(Role::Up),
            Action::Down => Some(Role::Down),
            Action::PageUp => Some(Role::PageUp),
            Action::PageDown => Some(Role::PageDown),
            Action::Top => Some(Role::Top),
            Action::Bottom => Some(Role::Bottom),
            _ => None,
        }
    }
}

const ABOUT: &[&str] = &[
    "The server's Debug Console: connections, occupied channels and every log entry.",
    "API MESSAGE entries say their recipients; a publish to no subscriber is marked",
    "NO SUBSCRIBERS, with the occupied channels it was probably meant for.",
    "Filter words all match: type:api type:client type:webhook channel:X event:X text.",
    "Enter on a channel shows its members and recent events; t triggers a test event",
    "there through the server's REST API (refused with serve --readonly).",
];

/// Which pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Channels,
    Log,
}

/// How the channel table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Subscribers,
    Members,
    Name,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Subscribers => Sort::Members,
            Sort::Members => Sort::Name,
            Sort::Name => Sort::Subscribers,
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Sort::Subscribers => "subscribers",
            Sort::Members => "members",
            Sort::Name => "name",
        }
    }
}

/// What opens over the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Overlay {
    /// A log entry, by number.
    Inspect(u64),
    /// A channel: (app, name).
    Channel(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PromptKind {
    Filter,
    /// `EVENT DATA` for the selected channel.
    Trigger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prompt {
    pub(super) kind: PromptKind,
    pub(super) text: String,
    /// The channel a trigger goes to: (app, name).
    pub(super) target: Option<(String, String)>,
}

/// What the console's effects come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// A test event's answer, or why it was not sent.
    Triggered(Result<String, String>),
}

/// Everything the console shows.
pub struct Console {
    pub(super) log: Log<Entry>,
    /// The selected entry; `None` follows.
    pub(super) selected: Option<u64>,
    /// Paused: entries numbered from this on are not shown yet.
    pub(super) paused: Option<u64>,
    pub(super) filter: Filter,
    pub(super) snapshot: Snapshot,
    /// Opened and closed a second, from the last two snapshots.
    pub(super) rates: (f64, f64),
    last: Option<(Instant, u64, u64)>,
    pub(super) channels: Vec<ChannelRow>,
    pub(super) sort: Sort,
    pub(super) channel_selected: usize,
    pub(super) pane: Pane,
    pub(super) overlay: Option<Overlay>,
    pub(super) prompt: Option<Prompt>,
    pub(super) readonly: bool,
    backend: Arc<dyn Backend>,
    pub(super) message: Option<(Instant, Slot, String)>,
    /// Where the server listens, for the status bar.
    pub(super) serving: String,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("entries", &self.log.len())
            .field("channels", &self.channels.len())
            .finish()
    }
}

fn cut_entry(mut e: Entry) -> Entry {
    for (_, v) in &mut e.fields {
        if v.chars().nth(MAX_FIELD_CHARS).is_some() {
            *v = clip(v, MAX_FIELD_CHARS, "…").into_owned();
        }
    }
    e.fields.truncate(64);
    if let Some(n) = &mut e.note
        && n.chars().nth(MAX_FIELD_CHARS * 4).is_some()
    {
        *n = clip(n, MAX_FIELD_CHARS * 4, "…").into_owned();
    }
    e
}

impl Console {
    pub fn new(serving: String, readonly: bool, backend: Arc<dyn Backend>) -> Console {
        Console {
            log: Log::new(LOG_LINES, LOG_BYTES),
            selected: None,
            paused: None,
            filter: Filter::default(),
            snapshot: Snapshot::default(),
            rates: (0.0, 0.0),
            last: None,
            channels: Vec::new(),
            sort: Sort::Subscribers,
            channel_selected: 0,
            pane: Pane::Log,
            overlay: None,
            prompt: None,
            readonly,
            backend,
            message: None,
            serving,
        }
    }

    /// Sets the log's filter (any predicate; the typed one is a [`TextFilter`]).
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.selected = None;
    }

    /// Ring positions of the entries the log shows, oldest first.
    pub(super) fn shown(&self) -> Vec<usize> {
        (0..self.log.len())
            .filter(|&i| {
                let l = &self.log[i];
                self.paused.is_none_or(|p| l.seq < p) && self.filter.matches(&l.line)
            })
            .collect()
    }

    /// The selected channel row.
    pub fn selected_channel(&self) -> Option<&ChannelRow> {
        self.channels.get(self.channel_selected)
    }

    fn sort_channels(&mut self) {
        let key = self
            .selected_channel()
            .map(|c| (c.app.clone(), c.name.clone()));
        match self.sort {
            Sort::Subscribers => self.channels.sort_by(|a, b| {
                b.subscribers
                    .cmp(&a.subscribers)
                    .then_with(|| a.name.cmp(&b.name))
            }),
            Sort::Members => self.channels.sort_by(|a, b| {
                b.members
                    .cmp(&a.members)
                    .then_with(|| b.subscribers.cmp(&a.subscribers))
                    .then_with(|| a.name.cmp(&b.name))
            }),
            Sort::Name => self
                .channels
                .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.app.cmp(&b.app))),
        }
        // The selection stays on its channel while it is there.
        if let Some((app, name)) = key
            && let Some(i) = self
                .channels
                .iter()
                .position(|c| c.app == app && c.name == name)
        {
            self.channel_selected = i;
        }
        self.channel_selected = self
            .channel_selected
            .min(self.channels.len().saturating_sub(1));
    }

    fn snapshot(&mut self, snap: Snapshot, now: Instant) {
        if let Some((at, opened, closed)) = self.last {
            let secs = now.saturating_duration_since(at).as_secs_f64();
            if secs > 0.0 {
                self.rates = (
                    snap.opened.saturating_sub(opened) as f64 / secs,
                    snap.closed.saturating_sub(closed) as f64 / secs,
                );
            }
        }
        self.last = Some((now, snap.opened, snap.closed));
        let mut channels = snap.channels.clone();
        channels.truncate(CHANNELS_SHOWN);
        self.channels = channels;
        self.snapshot = snap;
        self.sort_channels();
    }

    fn say(&mut self, slot: Slot, text: String, now: Instant) {
        self.message = Some((now, slot, text));
    }

    fn step_log(&mut self, by: isize) {
        let shown = self.shown();
        self.selected = log::step(&self.log, &shown, self.selected, by);
    }

    fn step_channels(&mut self, by: isize) {
        let last = self.channels.len().saturating_sub(1);
        self.channel_selected = self.channel_selected.saturating_add_signed(by).min(last);
    }

    fn step(&mut self, by: isize) {
        match self.pane {
            Pane::Channels => self.step_channels(by),
            Pane::Log => self.step_log(by),
        }
    }

    fn open(&mut self) {
        match self.pane {
            Pane::Channels => {
                if let Some(c) = self.selected_channel() {
                    let (app, name) = (c.app.clone(), c.name.clone());
                    self.backend.focus(Some((app.clone(), name.clone())));
                    self.overlay = Some(Overlay::Channel(app, name));
                }
            }
            Pane::Log => {
                let shown = self.shown();
                if let Some(i) = log::selected_index(&self.log, &shown, self.selected) {
                    self.overlay = Some(Overlay::Inspect(self.log[shown[i]].seq));
                }
            }
        }
    }

    fn close_overlay(&mut self) {
        if let Some(Overlay::Channel(..)) = self.overlay {
            self.backend.focus(None);
        }
        self.overlay = None;
    }

    /// The channel a trigger goes to: the open one, else the selected row.
    fn target(&self) -> Option<(String, String)> {
        match &self.overlay {
            Some(Overlay::Channel(app, name)) => Some((app.clone(), name.clone())),
            _ => self
                .selected_channel()
                .map(|c| (c.app.clone(), c.name.clone())),
        }
    }

    fn submit(&mut self, prompt: Prompt, now: Instant) -> Option<Effect<Done>> {
        match prompt.kind {
            PromptKind::Filter if observe::jq::looks_like_jq(&prompt.text) => {
                match observe::jq::Jq::parse(prompt.text.trim()) {
                    Ok(jq) => self.set_filter(Filter(Some(Box::new(JqFilter::new(jq))))),
                    Err(e) => self.say(Slot::Error, format!("jq: {e}"), now),
                }
                None
            }
            PromptKind::Filter => {
                let f = TextFilter::parse(&prompt.text);
                self.set_filter(if f.is_empty() {
                    Filter(None)
                } else {
                    Filter(Some(Box::new(f)))
                });
                None
            }
            PromptKind::Trigger => {
                let (app, channel) = prompt.target?;
                let text = prompt.text.trim();
                let (event, data) = match text.split_once(char::is_whitespace) {
                    Some((e, d)) => (e.to_owned(), d.trim().to_owned()),
                    None => (text.to_owned(), "{}".to_owned()),
                };
                if event.is_empty() {
                    self.say(Slot::Warning, "no event name: nothing sent".into(), now);
                    return None;
                }
                let what = format!("trigger {event} on {channel}");
                let run = self.backend.trigger(app, channel, event, data);
                Some(Effect::Task(Task::new(
                    what,
                    async move { Done::Triggered(run.await) },
                    Done::Triggered(Err("too many triggers at once; try again".into())),
                )))
            }
        }
    }
}

impl Screen for Console {
    type Input = Input;
    type Action = Action;
    type Done = Done;

    const MIN_SIZE: (u16, u16) = (60, 12);

    fn apply(&mut self, input: Input, now: Instant) -> Option<Effect<Done>> {
        match input {
            Input::Entry(e) => {
                self.log.push(cut_entry(e));
            }
            Input::Snapshot(s) => self.snapshot(s, now),
        }
        None
    }

    fn act(&mut self, action: Action, now: Instant) -> Option<Effect<Done>> {
        match action {
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(10),
            Action::PageUp => self.step(-10),
            Action::Top => match self.pane {
                Pane::Channels => self.channel_selected = 0,
                Pane::Log => self.step_log(isize::MIN / 2),
            },
            Action::Bottom => match self.pane {
                Pane::Channels => self.step_channels(isize::MAX / 2),
                Pane::Log => self.selected = None,
            },
            Action::FocusNext => {
                self.pane = match self.pane {
                    Pane::Channels => Pane::Log,
                    Pane::Log => Pane::Channels,
                }
            }
            Action::Sort => {
                self.sort = self.sort.next();
                self.sort_channels();
            }
            Action::Pause => {
                self.paused = match self.paused {
                    Some(_) => None,
                    None => Some(self.log.next_seq()),
                };
            }
            Action::Filter => {
                let text = self
                    .filter
                    .0
                    .as_ref()
                    .map(|p| p.describe())
                    .unwrap_or_default();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    text,
                    target: None,
                });
            }
            Action::Open => self.open(),
            Action::Back => {
                if self.overlay.is_some() {
                    self.close_overlay();
                } else if self.filter.0.is_some() {
                    self.set_filter(Filter(None));
                } else {
                    self.selected = None;
                }
            }
            Action::Trigger => {
                if self.readonly {
                    self.say(
                        Slot::Warning,
                        "read-only (serve --readonly): no test events".into(),
                        now,
                    );
                } else if let Some(target) = self.target() {
                    self.prompt = Some(Prompt {
                        kind: PromptKind::Trigger,
                        text: String::new(),
                        target: Some(target),
                    });
                } else {
                    self.say(
                        Slot::Warning,
                        "no channel selected (tab, then j/k)".into(),
                        now,
                    );
                }
            }
            Action::Clear => {
                self.log.clear();
                self.selected = None;
            }
            Action::Quit | Action::Help => {}
        }
        None
    }

    fn capture(&mut self, key: &KeyEvent, now: Instant) -> Captured<Done> {
        let Some(prompt) = &mut self.prompt else {
            return Captured::No;
        };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Enter => {
                let prompt = self.prompt.take();
                return Captured::Yes(prompt.and_then(|p| self.submit(p, now)));
            }
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char(_) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Captured::No;
            }
            KeyCode::Char(c) if prompt.text.len() < MAX_PROMPT && !c.is_control() => {
                prompt.text.push(c);
            }
            _ => {}
        }
        Captured::Yes(None)
    }

    /// Pasted text into the open prompt, as typed: its line breaks are spaces and never
    /// submit it.
    fn paste(&mut self, text: &str, _now: Instant) {
        let Some(prompt) = &mut self.prompt else {
            return;
        };
        for c in crate::kit::pasted(text) {
            if prompt.text.len() >= MAX_PROMPT {
                break;
            }
            prompt.text.push(c);
        }
    }

    fn done(&mut self, done: Done, now: Instant) {
        match done {
            Done::Triggered(Ok(said)) => self.say(Slot::Connected, said, now),
            Done::Triggered(Err(why)) => self.say(Slot::Error, why, now),
        }
    }

    fn tick(&mut self, now: Instant) {
        if self
            .message
            .as_ref()
            .is_some_and(|(at, _, _)| now.saturating_duration_since(*at) > MESSAGE_FOR)
        {
            self.message = None;
        }
    }

    fn status(&self, t: &Theme, now: Instant, _width: u16) -> Vec<Part> {
        view::status(self, t, now)
    }

    fn hints(&self) -> HintLine<Action> {
        if let Some(p) = &self.prompt {
            return HintLine::text(match p.kind {
                PromptKind::Filter => "Enter filters, Esc cancels".into(),
                PromptKind::Trigger => "EVENT DATA, then Enter sends; Esc cancels".into(),
            });
        }
        let mut keys = vec![
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::FocusNext, "pane"),
            (Action::Filter, "filter"),
            (
                Action::Pause,
                if self.paused.is_some() {
                    "resume"
                } else {
                    "pause"
                },
            ),
            (Action::Open, "open"),
        ];
        if !self.readonly {
            keys.push((Action::Trigger, "trigger"));
        }
        keys.push((Action::Sort, "sort"));
        HintLine::keys(keys)
    }

    fn about(&self) -> &'static [&'static str] {
        ABOUT
    }

    fn draw(&self, frame: &mut Frame, areas: Areas, chrome: &Chrome<'_, Action>, now: Instant) {
        view::draw(frame, self, areas, chrome, now);
    }
}
