//! The tap's screen: its state, and what each item from the source does to it. Plain data,
//! no terminal. The model is the tap's own (`observe::backplane::Tap`), every map of it
//! bounded; the log is the shared log pane's ring, bounded in lines and bytes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use ratatui::Frame;
use ratatui::crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::kit::{ActionInfo, Areas, Chrome, Effect, HintLine, Part, Role, Screen, Slot, Theme};
use crate::widgets::epoch::Epoch;
use crate::widgets::followed::{Followed, TimedLine};
use observe::backplane::Lost;
use observe::backplane::metrics::Metrics;
use observe::backplane::{Filter, Seen, Tap as Model, TapItem};
use protocol::backplane::{BackplaneMessage, Server};
use protocol::safe_text::terminal_safe;

use super::view;

/// What a key does on the tap's screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    /// Switches the middle panes.
    FocusNext,
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
        ActionInfo::new(
            Action::FocusNext,
            "focus_next",
            &["tab"],
            "switch the middle panes: traffic (broadcasts, requests) or presence",
        ),
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
            Action::FocusNext => return None,
        })
    }
}

/// What the middle of the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Middle {
    /// Broadcasts by channel and event, beside the latest requests.
    #[default]
    Traffic,
    /// Presence replication by channel: members by node, and the ghosts of gone nodes.
    Presence,
}

/// Lines the log keeps.
pub const LOG_LINES: usize = 2000;
/// Bytes the log's lines weigh at most.
pub const LOG_BYTES: usize = 2 << 20;
/// Longest log line kept, in characters.
const MAX_LINE_CHARS: usize = 512;

/// What a log line is about, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Broadcast,
    Request,
    Response,
    Notice,
    Warning,
    State,
}

/// A line of the tap's log.
pub type Line = TimedLine<LineKind>;

const ABOUT: &[&str] = &[
    "The tap reads the backplane with PSUBSCRIBE only: the cluster never",
    "counts it (PUBSUB NUMSUB), so its cross-node queries never wait for it.",
    "On NATS sockudo counts no subscribers, and there is no count to read.",
    "NODES: each node seen, its heartbeats and what it sent; the title has",
    "the cluster's own count (NUMSUB) beside the nodes alive by heartbeat:",
    "a difference is red. BROADCASTS: by channel and event, with the rate",
    "per second over the last 10 whole seconds (/S) and the count. REQUESTS: the",
    "latest, with how many nodes answered of how many expected.",
    "PRESENCE (tab): members by the node they joined through; GHOSTS are",
    "members of a node declared dead or silent that never left: the live",
    "nodes still list them, no node has them.",
    "Heartbeats are counted, not logged.",
];

/// Everything the tap's screen shows.
#[derive(Debug)]
pub struct Tap {
    pub model: Model,
    pub log: Followed<LineKind>,
    /// The backplane, as shown (no credentials).
    pub url: String,
    pub up: Option<bool>,
    /// The backplane was reached at some point.
    pub ever_up: bool,
    pub messages: u64,
    /// What the middle panes show (tab switches).
    pub middle: Middle,
    lost: Option<Arc<Lost>>,
    /// `--metrics`: fed what the screen sees, and ticked with it.
    metrics: Option<Metrics>,
    /// The cluster computes a node count the tap reads (`PUBSUB NUMSUB`); not on NATS.
    pub cluster_count: bool,
    pub started: Instant,
    /// The wall-clock time at `started`, to show instants as times of day.
    pub(super) epoch: Epoch,
}

impl Tap {
    pub fn new(url: String, server: Server, filter: Filter, started: Instant) -> Tap {
        Tap {
            model: Model::new(server, filter),
            log: Followed::new(LOG_LINES, LOG_BYTES, MAX_LINE_CHARS),
            url,
            up: None,
            ever_up: false,
            messages: 0,
            middle: Middle::Traffic,
            lost: None,
            metrics: None,
            cluster_count: true,
            started,
            epoch: Epoch::new(started, SystemTime::now()),
        }
    }

    /// The source's counts of what it could not hand over, for the status bar.
    pub fn with_lost(mut self, lost: Arc<Lost>) -> Tap {
        self.lost = Some(lost);
        self
    }

    /// Serves the same counts to Prometheus while the screen runs (`--metrics`).
    pub fn with_metrics(mut self, metrics: Metrics) -> Tap {
        self.metrics = Some(metrics);
        self
    }

    /// For a backplane whose cluster computes no node count the tap can read (NATS).
    pub fn without_cluster_count(mut self) -> Tap {
        self.cluster_count = false;
        self
    }

    /// Shows `started` as `wall` (tests pin the clock).
    pub fn set_wall(&mut self, wall: SystemTime) {
        self.epoch = Epoch::new(self.started, wall);
    }

    /// Messages the source dropped (the screen fell behind) and refused (too big).
    pub fn lost(&self) -> (u64, u64) {
        self.lost.as_ref().map_or((0, 0), |l| {
            (
                l.dropped.load(Ordering::Relaxed) + l.slow.load(Ordering::Relaxed),
                l.oversize.load(Ordering::Relaxed),
            )
        })
    }

    fn line(&mut self, kind: LineKind, text: &str, now: Instant) {
        self.log.push(kind, text, now);
    }

    fn seen(&mut self, seen: Seen, now: Instant) {
        if let Some(m) = &self.metrics {
            m.seen(&seen);
        }
        match seen {
            Seen::Message {
                message,
                round_trip,
                ..
            } => {
                self.messages += 1;
                let (kind, text) = match &message {
                    BackplaneMessage::Broadcast(b) => {
                        let mut t = format!(
                            "broadcast {} {} {} B",
                            b.channels.join(","),
                            b.event.as_deref().unwrap_or("?"),
                            b.bytes
                        );
                        if let Some(n) = &b.node {
                            t.push_str(&format!(" from {}", short(n)));
                        }
                        if let Some(x) = &b.except_socket {
                            t.push_str(&format!(" except {x}"));
                        }
                        if let Some(l) = observe::backplane::model::latency_ms(
                            b.sent_at_ms,
                            self.epoch.wall(now),
                        ) {
                            t.push_str(&format!(" {l:.1} ms"));
                        }
                        t.push_str(&format!(" {}", b.data_preview));
                        (LineKind::Broadcast, t)
                    }
                    // Heartbeats are counted in the nodes' table, not logged.
                    BackplaneMessage::Request(r) if r.request_type == "Heartbeat" => return,
                    BackplaneMessage::Request(r) => {
                        let mut t = format!("request {} {}", r.request_type, short(&r.id));
                        if let Some(n) = &r.node {
                            t.push_str(&format!(" from {}", short(n)));
                        }
                        if let Some(c) = &r.channel {
                            t.push_str(&format!(" {c}"));
                        }
                        if let Some(u) = &r.user_id {
                            t.push_str(&format!(" user {u}"));
                        }
                        (LineKind::Request, t)
                    }
                    BackplaneMessage::Response(r) => {
                        let mut t = format!("answer {}", short(&r.id));
                        if let Some(n) = &r.node {
                            t.push_str(&format!(" from {}", short(n)));
                        }
                        if let Some(rt) = round_trip {
                            t.push_str(&format!(" {:.1} ms", rt.as_secs_f64() * 1000.0));
                        }
                        if r.complete == Some(false) {
                            t.push_str(" complete:false");
                        }
                        (LineKind::Response, t)
                    }
                    BackplaneMessage::Unknown { reason } => {
                        (LineKind::Warning, format!("unreadable message: {reason}"))
                    }
                };
                self.line(kind, &text, now);
            }
            Seen::Notice(n, _) => {
                let kind = match n {
                    observe::backplane::model::Notice::NodeSeen(_)
                    | observe::backplane::model::Notice::CountsAgree(_) => LineKind::Notice,
                    _ => LineKind::Warning,
                };
                self.line(kind, &n.text(), now);
            }
            Seen::State { up, detail } => {
                self.up = Some(up);
                self.ever_up |= up;
                let text = if up {
                    format!("up: {detail}")
                } else {
                    format!("down: {detail}")
                };
                self.line(LineKind::State, &text, now);
            }
            Seen::NumSub(_) => {}
        }
    }
}

/// A node or request id, shortened to its first 8 characters (uuids stay told apart).
pub(super) fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

impl Screen for Tap {
    type Input = TapItem;
    type Action = Action;
    type Done = ();

    const MIN_SIZE: (u16, u16) = (40, 12);

    fn apply(&mut self, item: TapItem, now: Instant) -> Option<Effect<()>> {
        for seen in self.model.take(item, now) {
            self.seen(seen, now);
        }
        None
    }

    fn act(&mut self, action: Action, _now: Instant) -> Option<Effect<()>> {
        if action == Action::FocusNext {
            self.middle = match self.middle {
                Middle::Traffic => Middle::Presence,
                Middle::Presence => Middle::Traffic,
            };
        } else if let Some(role) = crate::kit::Action::role(action) {
            // The rest but quitting and the help (the kit's) move in the log.
            self.log.navigate(role);
        }
        None
    }

    fn tick(&mut self, now: Instant) {
        let lost = self.lost();
        if let Some(m) = self.metrics.as_mut() {
            m.tick(&self.model.cluster, now, lost);
        }
        for seen in self.model.tick(now) {
            self.seen(seen, now);
        }
    }

    fn mouse(&mut self, event: MouseEvent, _body: Rect) {
        self.log.scroll(&event);
    }

    fn status(&self, t: &Theme, _now: Instant, _width: u16) -> Vec<Part> {
        let (slot, state) = match self.up {
            Some(true) => (Slot::Connected, "up"),
            Some(false) => (Slot::Disconnected, "down"),
            None => (Slot::Connecting, "connecting"),
        };
        let mut parts = vec![
            Part::raw(0, terminal_safe(&self.url).into_owned()),
            Part::new(0, Span::styled(state.to_owned(), t.style(slot))),
            Part::raw(2, self.model.server.as_str().to_owned()),
            Part::raw(1, format!("{} messages", self.messages)),
        ];
        let (dropped, oversize) = self.lost();
        if dropped + oversize > 0 {
            parts.push(Part::new(
                1,
                Span::styled(
                    format!("{} dropped", dropped + oversize),
                    t.style(Slot::Warning),
                ),
            ));
        }
        parts
    }

    fn hints(&self) -> HintLine<Action> {
        let other = match self.middle {
            Middle::Traffic => "presence",
            Middle::Presence => "traffic",
        };
        let mut keys = vec![
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::FocusNext, other),
        ];
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
