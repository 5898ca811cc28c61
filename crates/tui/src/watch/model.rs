//! The watch screen's model: what came, kept bounded. The ticker, the log, the events pane's
//! counts, latency windows, presence members, silence, name hints, the connection's status
//! and the alerts. Every map keyed by names from the wire is a [`WeighedMap`] whose keys are
//! cut to [`protocol::limits::MAX_KEPT_NAME_CHARS`] before they are stored; what does not
//! fit is counted, and the panes say so. No terminal, no keys: [`Model::apply`] takes the
//! items, the view reads it.

use std::time::{Instant, SystemTime};

use bounded::{Limits, Weigh, WeighedMap};
use client::{Conn, ConnectionState, Item, ReceivedEvent, SubscriptionStatus};
use observe::binding::{Bindings, View};
use observe::hints::Hints;
use observe::latency::{Summary, Window};
use observe::pipeline::Observed;

use super::alerts::Expectations;
use super::connections::Connections;
use super::line::LogLine;
use super::members::{self, Members};
use super::names::name;
use super::silence::Silence;
use super::status::{Status, Sub};
use super::ticker::{HISTORY, MAX_ROWS, Ticker};
use crate::widgets::log::Log;

/// Lines the log keeps by default (`--log-capacity`).
pub const LOG_CAPACITY: usize = 10_000;
/// Bytes the log keeps by default (`--log-bytes`): 16 MiB.
pub const LOG_BYTES: usize = 16 << 20;

/// Most distinct (connection, channel, event) triples counted, and their bytes.
const COUNTS: Limits = Limits::new(1000, 1 << 20);
/// Most latency windows (one per channel and event), and their bytes.
const LATENCY: Limits = Limits::new(1000, 8 << 20);

/// Limits and looks, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub log_capacity: usize,
    /// Bytes the log may hold in all (`--log-bytes`).
    pub log_bytes: usize,
    pub history: usize,
    pub max_rows: usize,
    pub ascii: bool,
    pub color: bool,
    /// Quit after this many application events (`--count`).
    pub stop_after: Option<u64>,
    /// `--readonly`: nothing is sent to the server (no trigger form, no client events).
    pub readonly: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            log_capacity: LOG_CAPACITY,
            log_bytes: LOG_BYTES,
            history: HISTORY,
            max_rows: MAX_ROWS,
            ascii: false,
            color: true,
            stop_after: None,
            readonly: false,
        }
    }
}

/// An event type of a connection's channel: the events pane's row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventType {
    pub conn: Conn,
    pub channel: String,
    pub event: String,
}

impl Weigh for EventType {
    fn weight(&self) -> usize {
        size_of::<EventType>() + self.channel.len() + self.event.len()
    }
}

/// How many events of one type came, and when the last did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub count: u64,
    pub last: Instant,
}

impl Weigh for Seen {
    fn weight(&self) -> usize {
        size_of::<Seen>()
    }
}

/// One event type's latency samples.
#[derive(Debug, Clone, Default)]
struct Latency(Window);

impl Weigh for Latency {
    fn weight(&self) -> usize {
        // The window holds at most this many samples.
        size_of::<Latency>() + observe::latency::WINDOW * size_of::<f64>()
    }
}

/// What the model's parts weigh, in bytes, and what they refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub log: usize,
    pub ticker: usize,
    pub counts: usize,
    pub latency: usize,
    pub members: usize,
    pub hints: usize,
    pub silence: usize,
    pub channels: usize,
}

impl Weights {
    pub fn total(&self) -> usize {
        self.log
            + self.ticker
            + self.counts
            + self.latency
            + self.members
            + self.hints
            + self.silence
            + self.channels
    }
}

pub struct Model {
    bindings: Bindings,
    pub ticker: Ticker,
    pub log: Log<LogLine>,
    /// Every event type seen, by connection and channel: how many, and when the last came.
    pub counts: WeighedMap<EventType, Seen>,
    /// Some binding is a `count`: the events pane is always shown.
    pub counting: bool,
    pub status: Status,
    /// Latency windows per (channel, event).
    latency: WeighedMap<(String, String), Latency>,
    /// Presence channels' members, by connection and channel.
    pub members: WeighedMap<(Conn, String), Members>,
    /// Each connection's state, and its label.
    pub connections: Connections,
    pub hints: Hints,
    /// How long each subscribed channel has gone without an event.
    pub silence: Silence,
    /// `--expect`: what is broken, for the alert strip and the red rows.
    pub alerts: Expectations,
    /// Why the connection ended, while it stays down (a 4001 refusal, say).
    refused: Option<String>,
    /// Which connections ever came up, and why the others did not.
    pub reach: observe::reach::Reach,
    /// Wall-clock time at `started`, to stamp tickertape's own log lines from an `Instant`.
    pub epoch: SystemTime,
    started: Instant,
    /// What marks a cut name, and what stands between two things said (`--ascii`'s).
    ellipsis: &'static str,
    dot: &'static str,
}

impl Model {
    pub fn new(options: &Options, bindings: Bindings, now: Instant) -> Model {
        let theme = crate::kit::Theme::new(false, options.ascii);
        let ellipsis = theme.ellipsis();
        Model {
            ticker: Ticker::new(options.history, options.max_rows).with_ellipsis(ellipsis),
            log: Log::new(options.log_capacity, options.log_bytes),
            counts: WeighedMap::new(COUNTS),
            counting: false,
            status: Status::new(now),
            latency: WeighedMap::new(LATENCY),
            members: WeighedMap::new(members::CHANNELS),
            connections: Connections::default(),
            hints: Hints::default(),
            silence: Silence::default(),
            alerts: Expectations::default(),
            refused: None,
            reach: observe::reach::Reach::new(&client::Labels::default()),
            epoch: SystemTime::now(),
            started: now,
            ellipsis,
            dot: theme.dot(),
            bindings,
        }
    }

    /// Applies one item.
    pub fn apply(&mut self, observed: Observed, now: Instant) {
        self.alerts.apply(&observed, now);
        let Observed {
            conn,
            item,
            latency_ms,
        } = observed;
        let item = self.connections.note(conn, item, now);
        self.reach.note(conn, &item);
        let said = matches!(item, Item::State(_))
            .then(|| observe::output::lines::status_line(&item))
            .flatten();
        match item {
            Item::Event(ev) => self.event(conn, ev, latency_ms, now),
            Item::State(c) => {
                // Every change goes to the log, with its reason, readable at any width.
                if let Some(text) = said {
                    self.notice(Some(conn), "connection", &text, now);
                }
                self.refused = super::connection::after(self.refused.take(), &c);
                self.status.state = c.current;
                self.status.reason = c.reason.map(|r| r.to_string());
                self.status.retry_at = c.retry_in.map(|d| now + d);
                self.status.url = c.url;
                if c.current == ConnectionState::Connected {
                    self.status.socket_id = c.socket_id;
                }
            }
            Item::Subscription { channel, status } => {
                let channel = name(&channel, self.ellipsis);
                if let SubscriptionStatus::Failed(f) = &*status {
                    // Say why, with the string that was signed, for whoever debugs the auth
                    // endpoint.
                    let shown = self.connections.shown(Some(conn), &channel);
                    let mut text = format!("{shown}: {}", f.message);
                    if let Some(sts) = &f.string_to_sign {
                        text.push_str(&format!(" {} string to sign: {sts:?}", self.dot));
                    }
                    self.notice(Some(conn), "subscription failed", &text, now);
                }
                let key = (conn, channel);
                match *status {
                    SubscriptionStatus::Subscribed => self.silence.subscribed(key.clone(), now),
                    SubscriptionStatus::Pending => {}
                    _ => self.silence.gone(&key),
                }
                if *status == SubscriptionStatus::Unsubscribed {
                    self.members.remove(&key);
                    self.status.channels.remove(&key);
                } else {
                    let _ = self.status.channels.insert(key, Sub(*status));
                }
            }
            Item::Pong { rtt } => self.status.rtt = Some(rtt),
            Item::Dropped { total, .. } => self.status.dropped = total,
            Item::Error(e) => self.notice(Some(conn), "error", &e, now),
            Item::Notice(text) => self.notice(Some(conn), "notice", &text, now),
            Item::Members {
                channel, change, ..
            } => {
                let ellipsis = self.ellipsis;
                let key = (conn, name(&channel, ellipsis));
                self.members
                    .upsert(key, Members::default, |m| m.apply(*change, ellipsis));
            }
            Item::SubscriptionCount { .. } | Item::SignedIn { .. } => {}
        }
    }

    fn event(&mut self, conn: Conn, ev: ReceivedEvent, latency_ms: Option<f64>, now: Instant) {
        if !ev.is_application() {
            return;
        }
        self.status.count(now);
        // The names from here on are cut: they come from strangers.
        let channel = name(ev.channel.as_deref().unwrap_or("-"), self.ellipsis);
        let event = name(&ev.event, self.ellipsis);
        let here = (conn, channel);
        self.silence.event(&here, now);
        let (conn, channel) = here;
        let kind = EventType {
            conn,
            channel,
            event,
        };
        self.counts.upsert(
            kind.clone(),
            || Seen {
                count: 0,
                last: now,
            },
            |seen| {
                seen.count += 1;
                seen.last = now;
            },
        );
        let EventType { channel, event, .. } = kind;
        if let Some(ms) = latency_ms {
            self.latency
                .upsert((channel.clone(), event.clone()), Latency::default, |w| {
                    w.0.push(ms)
                });
        }
        let view = if self.bindings.is_empty() {
            Some(View::Log)
        } else {
            self.bindings
                .lookup(ev.channel.as_deref(), &ev.event)
                .map(|b| b.view.clone())
        };
        // Every event is logged but the ignored ones; the binding adds its own view.
        let unbound = match view {
            Some(View::Ticker { key, value }) => {
                let data = ev.data().as_value();
                let ellipsis = self.ellipsis;
                if let Some(row) = self
                    .ticker
                    .update(conn, key.get(&data), value.get(&data), now)
                {
                    row.note_data(&data, value.pointer(), ellipsis);
                }
                false
            }
            Some(View::Count) => {
                self.counting = true;
                false
            }
            Some(View::Ignore) => return,
            Some(View::Log) => false,
            None => {
                self.status.unbound += 1;
                // Worked out once per (channel, event); the lines show it from then on.
                let _ = self.hints.note(&self.bindings, &channel, &event);
                true
            }
        };
        let line = LogLine::event(Some(conn), ev, unbound, latency_ms, self.ellipsis);
        self.log.push(line);
    }

    /// Notes something in the log on tickertape's own behalf (an export's path, say).
    /// The bindings in force.
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    /// New bindings (a view loaded): events from now on are bound by them.
    pub fn set_bindings(&mut self, bindings: Bindings) {
        self.bindings = bindings;
    }

    /// The binding's view for a log line's event, if one binds it.
    pub(super) fn binding_view(&self, line: &LogLine) -> Option<View> {
        let ev = line.received()?;
        self.bindings
            .lookup(ev.channel.as_deref(), &ev.event)
            .map(|b| b.view.clone())
    }

    pub fn note(&mut self, what: &str, text: &str, now: Instant) {
        self.notice(None, what, text, now);
    }

    /// A line from tickertape itself (errors, failed subscriptions), not an event.
    fn notice(&mut self, conn: Option<Conn>, what: &str, text: &str, now: Instant) {
        let time = self.epoch + now.saturating_duration_since(self.started);
        let line = LogLine::notice(conn, time, what, text, self.ellipsis);
        self.log.push(line);
    }

    /// Empties the ticker, the log and the counts (`c`).
    pub fn clear(&mut self) {
        self.ticker.clear();
        self.log.clear();
        self.counts.clear();
    }

    /// Events of types past the counts' caps, not in [`Model::counts`].
    pub fn uncounted(&self) -> u64 {
        self.counts.drops().total()
    }

    /// Names from the wire not kept because a map was full (channels, members' channels,
    /// latency windows, silence, hints): said in the status bar.
    pub fn names_not_kept(&self) -> u64 {
        [
            self.status.channels.drops(),
            self.members.drops(),
            self.latency.drops(),
            self.hints.drops(),
        ]
        .iter()
        .map(bounded::Drops::total)
        .sum::<u64>()
            + self.silence.dropped()
    }

    /// A presence channel's members.
    pub fn members_of(&self, conn: Conn, channel: &str) -> Option<&Members> {
        self.members.get(&(conn, channel.to_owned()))
    }

    /// The latency of the busiest event type (the one with the most samples).
    pub fn latency_summary(&self) -> Option<(&(String, String), Summary)> {
        self.latency
            .iter()
            .filter_map(|(k, w)| w.0.summary().map(|s| (k, s)))
            .max_by_key(|(_, s)| s.samples)
    }

    /// Why the connection ended, while it is still down.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// What each part weighs now.
    pub fn weights(&self) -> Weights {
        Weights {
            log: self.log.bytes(),
            ticker: self.ticker.bytes(),
            counts: self.counts.bytes(),
            latency: self.latency.bytes(),
            members: self.members.bytes(),
            hints: self.hints.bytes(),
            silence: self.silence.bytes(),
            channels: self.status.channels.bytes(),
        }
    }
}
