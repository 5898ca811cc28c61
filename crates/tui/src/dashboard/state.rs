//! The dashboard's state and its update functions: plain structs, no terminal. One task owns
//! it; engine items and keys change it; the view only reads it.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use super::effects::{Done, Effect};
use super::incoming;
use super::keys::Keymap;
pub use super::logview::LogLine;
use super::logview::{self, Filter, LOG_BYTES, LOG_CAPACITY, MAX_LOG_TEXT, Ring};
pub use super::overlay::{InputKind, Overlay};
pub use super::status::Status;
use super::theme::Theme;
use super::ticker::{HISTORY, MAX_ROWS, Sort, Ticker};
use client::{Conn, ConnectionState, Item, ReceivedEvent, SubscriptionStatus};
use observe::binding::{Bindings, FieldPath, View};
use observe::latency::{self, Summary, Window};

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
    /// Where events carry their publish time, for latency.
    pub ts_field: Option<FieldPath>,
    /// Quit after this many application events (`--count`).
    pub stop_after: Option<u64>,
    /// The items are a recording's (`replay`): the status bar says so.
    pub replayed: bool,
    /// What the items come from when it is not a connection (`webhooks on http://…`): the
    /// status bar shows it in the connection's place.
    pub receiving: Option<String>,
    /// The keys, with the config file's `[keys]` applied.
    pub keys: Keymap,
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
            ts_field: None,
            stop_after: None,
            replayed: false,
            receiving: None,
            keys: Keymap::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Ticker,
    Log,
}

/// How many events of one type came, and when the last did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub count: u64,
    pub last: Instant,
}

/// The view frozen by Space: what it showed, and how much came since.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub ticker: Ticker,
    pub log: Ring,
    pub since: u64,
}

pub struct State {
    pub options: Options,
    bindings: Bindings,
    pub ticker: Ticker,
    pub log: Ring,
    /// Every event type seen: (channel, event) → how many, and when the last came.
    pub counts: BTreeMap<(String, String), Seen>,
    /// Events of pairs past [`MAX_COUNTS`], not in `counts`.
    pub uncounted: u64,
    /// Some binding is a `count`: the events pane is always shown.
    pub counting: bool,
    pub status: Status,
    pub focus: Focus,
    pub sort: Sort,
    pub selected: usize,
    /// The selected log line's `seq`; `None` follows new lines.
    pub log_selected: Option<u64>,
    pub filter: Option<Filter>,
    /// The last search, lowercase.
    pub search: Option<String>,
    /// What is open over the main screen.
    pub overlay: Option<Overlay>,
    /// Latency windows per (channel, event), when `ts_field` is set.
    latency: BTreeMap<(String, String), Window>,
    /// A line kept in the key hints (the demo's page URL).
    pub banner: Option<String>,
    /// Presence channels' members: channel → user id → info as JSON text, each cut.
    pub members: BTreeMap<String, BTreeMap<String, String>>,
    pub paused: Option<Frozen>,
    /// Wall-clock time at `started`, to stamp tickertape's own log lines from an `Instant`.
    pub epoch: SystemTime,
    started: Instant,
    /// How things look, from the options.
    pub theme: Theme,
    /// `--expect`: what is broken, for the alert strip and the red rows.
    pub alerts: super::alerts::Alerts,
    /// With several connections: each one's state, and the labels of lines and rows.
    pub connections: super::connections::Connections,
    /// "Did you mean" for the unbound events, found once per name.
    pub hints: observe::hints::Hints,
    /// How long each subscribed channel has gone without an event.
    pub silence: super::silence::Silence,
    /// Why the connection ended, while it stays down (a 4001 refusal, say).
    refused: Option<String>,
}

/// Most distinct `count` pairs kept (names come from the wire).
const MAX_COUNTS: usize = 1000;

impl State {
    pub fn new(options: Options, bindings: Bindings, now: Instant) -> State {
        State {
            ticker: Ticker::new(options.history, options.max_rows)
                .with_ellipsis(Theme::new(options.color, options.ascii).ellipsis()),
            log: Ring::new(options.log_capacity, options.log_bytes),
            counts: BTreeMap::new(),
            uncounted: 0,
            counting: false,
            status: Status::new(now),
            // Received webhooks have no ticker: the log has the keys.
            focus: match options.receiving {
                Some(_) => Focus::Log,
                None => Focus::Ticker,
            },
            sort: Sort::Key,
            selected: 0,
            log_selected: None,
            filter: None,
            search: None,
            overlay: None,
            members: BTreeMap::new(),
            banner: None,
            latency: BTreeMap::new(),
            paused: None,
            epoch: SystemTime::now(),
            started: now,
            theme: Theme::new(options.color, options.ascii),
            alerts: Default::default(),
            connections: Default::default(),
            hints: Default::default(),
            silence: Default::default(),
            refused: None,
            options,
            bindings,
        }
    }

    /// Applies one engine item. Quits once `stop_after` events came.
    pub fn apply(&mut self, item: Item, now: Instant) -> Option<Effect> {
        self.alerts
            .apply(self.connections.current().unwrap_or(0), &item, now);
        let said = matches!(item, Item::State(_))
            .then(|| observe::output::lines::status_line(&item))
            .flatten();
        match item {
            Item::Event(ev) => {
                self.event(ev, now);
                if self
                    .options
                    .stop_after
                    .is_some_and(|n| self.status.total >= n)
                {
                    return Some(Effect::Quit);
                }
            }
            Item::State(c) => {
                // Every change goes to the log, with its reason, readable at any width.
                if let Some(text) = said {
                    self.push_notice("connection", text, now);
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
                let channel = incoming::name(&channel, self.theme.ellipsis());
                let channel = self.connections.labelled(channel);
                if let SubscriptionStatus::Failed(f) = &status {
                    // Say why, with the string that was signed, for whoever debugs the auth endpoint.
                    let mut text = format!("{channel}: {}", f.message);
                    if let Some(sts) = &f.string_to_sign {
                        text.push_str(&format!(" {} string to sign: {sts:?}", self.theme.dot()));
                    }
                    self.push_notice("subscription failed", text, now);
                }
                match status {
                    SubscriptionStatus::Subscribed => self.silence.subscribed(&channel, now),
                    SubscriptionStatus::Pending => {}
                    _ => self.silence.gone(&channel),
                }
                if status == SubscriptionStatus::Unsubscribed {
                    self.members.remove(&channel);
                    self.status.channels.remove(&channel);
                } else {
                    self.status.channels.insert(channel, status);
                }
            }
            Item::Pong { rtt } => self.status.rtt = Some(rtt),
            Item::Dropped { total, .. } => self.status.dropped = total,
            Item::Error(e) => self.push_notice("error", e, now),
            Item::Notice(text) => self.push_notice("notice", text, now),
            Item::Members {
                channel, change, ..
            } => {
                let ellipsis = self.theme.ellipsis();
                let channel = self
                    .connections
                    .labelled(incoming::name(&channel, ellipsis));
                let list = self.members.entry(channel).or_default();
                super::members::apply(list, change, ellipsis);
            }
            Item::SubscriptionCount { .. } | Item::SignedIn { .. } => {}
        }
        None
    }

    /// Applies an item from the connection tagged `conn`: labelled when there are several
    /// (see [`super::connections`]), else as [`State::apply`].
    pub fn apply_from(&mut self, conn: Conn, item: Item, now: Instant) -> Option<Effect> {
        let item = self.connections.note(conn, item, now);
        let effect = self.apply(item, now);
        self.connections.applied();
        effect
    }

    /// What an effect came to, noted in the log.
    pub fn done(&mut self, done: Done, now: Instant) {
        match done {
            Done::Exported(Ok((path, n))) => {
                self.note("exported", format!("{n} lines to {}", path.display()), now)
            }
            Done::Exported(Err(e)) => self.note("export failed", e, now),
            Done::Triggered(said) => self.note("trigger", said, now),
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
        // The names from here on are cut: they come from strangers.
        let ellipsis = self.theme.ellipsis();
        let channel = incoming::name(ev.channel.as_deref().unwrap_or("-"), ellipsis);
        let event = incoming::name(&ev.event, ellipsis);
        // The events pane is by channel as subscribed: labelled, with several connections.
        let shown = self.connections.labelled(channel.clone());
        self.silence.event(&shown, now);
        let pair = (shown, event.clone());
        if self.counts.len() < MAX_COUNTS || self.counts.contains_key(&pair) {
            let seen = self.counts.entry(pair).or_insert(Seen {
                count: 0,
                last: now,
            });
            seen.count += 1;
            seen.last = now;
        } else {
            self.uncounted += 1;
        }
        let k = (channel.clone(), event.clone());
        let latency =
            self.options.ts_field.as_ref().and_then(|p| {
                latency::latency_ms(&incoming::value(&ev), p.pointer(), ev.received_at)
            });
        if let Some(ms) = latency
            && (self.latency.len() < MAX_COUNTS || self.latency.contains_key(&k))
        {
            self.latency.entry(k).or_default().push(ms);
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
                let data = incoming::value(&ev);
                let labelled = self.connections.key(key.get(&data));
                let key = labelled.as_ref().or(key.get(&data));
                self.ticker.update(key, value.get(&data), now);
                self.log_event(&ev, (channel, event), false, latency);
            }
            Some(View::Count) => {
                self.counting = true;
                self.log_event(&ev, (channel, event), false, latency);
            }
            Some(View::Ignore) => {}
            Some(View::Log) => self.log_event(&ev, (channel, event), false, latency),
            None => {
                self.status.unbound += 1;
                self.hints.note(&self.bindings, &channel, &event);
                self.log_event(&ev, (channel, event), true, latency);
            }
        }
    }

    fn log_event(
        &mut self,
        ev: &ReceivedEvent,
        (channel, event): (String, String),
        unbound: bool,
        latency_ms: Option<f64>,
    ) {
        let (data, text, raw) = incoming::for_log(ev, self.theme.ellipsis());
        self.push_log(LogLine {
            seq: 0,
            time: ev.received_at,
            channel,
            event,
            text,
            data,
            raw,
            unbound,
            latency_ms,
            notice: false,
        });
    }

    /// Notes something in the log on tickertape's own behalf (an export's path, say).
    pub fn note(&mut self, what: &str, text: String, now: Instant) {
        self.push_notice(what, text, now);
    }

    /// A line from tickertape itself (errors, failed subscriptions), not an event.
    fn push_notice(&mut self, what: &str, text: String, now: Instant) {
        self.push_log(LogLine {
            seq: 0,
            time: self.epoch + now.saturating_duration_since(self.started),
            channel: "tickertape".into(),
            event: what.into(),
            text: incoming::bounded(&text, MAX_LOG_TEXT, self.theme.ellipsis()),
            data: None,
            raw: String::new(),
            unbound: false,
            latency_ms: None,
            notice: true,
        });
    }

    fn push_log(&mut self, mut line: LogLine) {
        line.channel = self.connections.labelled(line.channel);
        self.log.push(line);
    }

    /// What the view shows: the frozen copy while paused.
    pub fn visible(&self) -> (&Ticker, &Ring) {
        match &self.paused {
            Some(f) => (&f.ticker, &f.log),
            None => (&self.ticker, &self.log),
        }
    }

    /// Ring positions of the log lines the filter lets through, oldest first.
    pub fn log_positions(&self) -> Vec<usize> {
        logview::visible(self.visible().1.iter(), self.filter.as_ref())
    }

    /// Index into `positions` of the selected line: the newest while following.
    pub fn selected_index(&self, positions: &[usize]) -> Option<usize> {
        let log = self.visible().1;
        let last = positions.len().checked_sub(1)?;
        match self.log_selected {
            None => Some(last),
            Some(seq) => Some(positions.partition_point(|&p| log[p].seq < seq).min(last)),
        }
    }

    /// The latency of the busiest event type (the one with the most samples).
    pub fn latency_summary(&self) -> Option<(&(String, String), Summary)> {
        self.latency
            .iter()
            .filter_map(|(k, w)| w.summary().map(|s| (k, s)))
            .max_by_key(|(_, s)| s.samples)
    }

    /// Why the connection ended, while it is still down: a live run that ends so exits 1, as
    /// `--json` does. A recording's states are history, and never count.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// The refusal that decides the exit status: none when replaying.
    pub fn ended_refused(&self) -> Option<&str> {
        self.refused().filter(|_| !self.options.replayed)
    }

    /// The log line with this `seq`, if it is still kept.
    pub fn line(&self, seq: u64) -> Option<&LogLine> {
        self.visible().1.by_seq(seq)
    }
}
