//! Several connections in one dashboard (`watch --profile eu --profile us`, or several
//! `--node`): each one's state for the status bar, and the label that the log's lines and
//! the ticker's rows carry, so that the same symbol from two environments stays two rows.
//! With one connection all of this is off, and the dashboard is exactly a single one's.

use std::time::Instant;

use ratatui::text::Span;

use super::theme::{Slot, Theme};
use client::{Conn, ConnectionState, Item, Labels};

/// Longest label shown in the status bar, in characters.
const MAX_LABEL: usize = 24;

/// One connection's state, as its last state change said.
#[derive(Debug, Clone)]
pub struct One {
    pub state: ConnectionState,
    pub retry_at: Option<Instant>,
}

/// Every connection's state, and the connection of the item being applied.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    labels: Labels,
    states: Vec<One>,
    current: Option<Conn>,
    /// Each connection's count of dropped events (each engine counts its own).
    dropped: Vec<u64>,
}

impl Connections {
    pub fn new(labels: Labels) -> Connections {
        let states = vec![
            One {
                state: ConnectionState::Initialized,
                retry_at: None,
            };
            labels.len()
        ];
        Connections {
            dropped: vec![0; labels.len()],
            labels,
            states,
            current: None,
        }
    }

    /// More than one connection: lines, rows and the status bar are labelled.
    pub fn is_multi(&self) -> bool {
        self.labels.is_multi()
    }

    /// The tag of the item being applied (none with one connection, or between items).
    pub fn current(&self) -> Option<Conn> {
        self.current
    }

    /// The label of the item being applied (none with one connection, or between items).
    pub fn label(&self) -> Option<&str> {
        self.labels.get(self.current?)
    }

    /// `text` with the current item's label before it (`eu/stock_ticker`), or as it is.
    pub fn labelled(&self, text: String) -> String {
        match self.label() {
            Some(label) => format!("{label}/{text}"),
            None => text,
        }
    }

    /// A channel name without the label [`Connections::labelled`] put before it (a
    /// channel's name has no `/`), for what acts on the channel itself.
    pub fn unlabelled<'a>(&self, text: &'a str) -> &'a str {
        match text.split_once('/') {
            Some((_, rest)) if self.is_multi() => rest,
            _ => text,
        }
    }

    /// Which connection a labelled name (`eu/stock_ticker`) came from, with its label, and
    /// the name itself: connection 0, unlabelled, when there is one connection.
    pub fn target<'a>(&self, text: &'a str) -> (Conn, Option<String>, &'a str) {
        if !self.is_multi() {
            return (0, None, text);
        }
        let label = |conn: Conn| self.labels.get(conn).map(str::to_owned);
        match text
            .split_once('/')
            .and_then(|(l, rest)| Some((self.labels.index(l)?, rest)))
        {
            Some((conn, rest)) => (conn, label(conn), rest),
            None => (0, label(0), text),
        }
    }

    /// A ticker key with the current item's label before it: the same key from two
    /// connections is two rows.
    pub fn key(&self, key: Option<&serde_json::Value>) -> Option<serde_json::Value> {
        let label = self.label()?;
        let text = match key? {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(serde_json::Value::String(format!("{label}/{text}")))
    }

    /// Takes note of an item from the connection tagged `conn`, before the state applies
    /// it: its state change, and its drops, which the item then counts over every
    /// connection. Until [`Connections::applied`], lines and rows get `conn`'s label.
    pub fn note(&mut self, conn: Conn, item: Item, now: Instant) -> Item {
        if !self.is_multi() {
            return item;
        }
        self.record(conn, &item, now);
        match item {
            Item::Dropped { count, .. } => Item::Dropped {
                count,
                total: self.dropped.iter().fold(0u64, |s, n| s.saturating_add(*n)),
            },
            item => item,
        }
    }

    /// The item is applied: what comes next (an effect's note) is no connection's.
    pub fn applied(&mut self) {
        self.current = None;
    }

    fn record(&mut self, conn: Conn, item: &Item, now: Instant) {
        self.current = Some(conn);
        if let (Item::Dropped { total, .. }, Some(d)) =
            (item, self.dropped.get_mut(usize::from(conn)))
        {
            *d = *total;
        }
        if let (Item::State(c), Some(one)) = (item, self.states.get_mut(usize::from(conn))) {
            one.state = c.current;
            one.retry_at = c.retry_in.map(|d| now + d);
        }
    }

    /// The status bar's parts, one per connection: `eu ● connected`, `us ○ reconnecting 3s`.
    /// With `compact`, only the label and its mark (`eu●`).
    pub fn parts(
        &self,
        theme: &Theme,
        ascii: bool,
        now: Instant,
        compact: bool,
    ) -> Vec<Span<'static>> {
        self.labels
            .iter()
            .zip(&self.states)
            .map(|(label, one)| {
                let up = one.state == ConnectionState::Connected;
                let mark = match (up, ascii) {
                    (true, false) => "●",
                    (false, false) => "○",
                    (true, true) => "*",
                    (false, true) => "o",
                };
                let slot = match one.state {
                    ConnectionState::Connected => Slot::Connected,
                    ConnectionState::Connecting | ConnectionState::Initialized => Slot::Connecting,
                    _ => Slot::Disconnected,
                };
                let label = theme.name(label, MAX_LABEL);
                let text = if compact {
                    format!("{label}{mark}")
                } else {
                    format!("{label} {mark} {}", state_text(one, now))
                };
                Span::styled(text, theme.style(slot))
            })
            .collect()
    }
}

/// A connection's state in a few words: a retry scheduled reads "reconnecting 3s".
fn state_text(one: &One, now: Instant) -> String {
    match one.retry_at.filter(|at| *at > now) {
        Some(at) => format!("reconnecting {:.0}s", (at - now).as_secs_f32().ceil()),
        None if one.state == ConnectionState::Unavailable => "reconnecting".into(),
        None => one.state.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::State;
    use client::StateChange;
    use std::time::Duration;

    fn state(current: ConnectionState, retry: Option<Duration>) -> Item {
        Item::State(StateChange {
            previous: ConnectionState::Initialized,
            current,
            reason: None,
            retry_in: retry,
            socket_id: None,
            url: String::new(),
        })
    }

    #[test]
    fn each_connection_keeps_its_own_state_and_one_has_no_label() {
        let now = Instant::now();
        let mut c = Connections::new(Labels::new(vec!["eu".into(), "us".into()]));
        c.note(0, state(ConnectionState::Connected, None), now);
        assert_eq!(c.labelled("x".into()), "eu/x");
        c.note(
            1,
            state(ConnectionState::Unavailable, Some(Duration::from_secs(3))),
            now,
        );
        let theme = Theme::new(false, false);
        let text: Vec<String> = c
            .parts(&theme, false, now, false)
            .iter()
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(text, ["eu ● connected", "us ○ reconnecting 3s"]);
        let mut one = Connections::new(Labels::new(vec!["eu".into()]));
        one.note(0, state(ConnectionState::Connected, None), now);
        assert_eq!((one.label(), one.labelled("x".into())), (None, "x".into()));
        assert!(one.parts(&theme, false, now, false).is_empty());
    }

    #[test]
    fn dropped_events_are_counted_over_every_connection() {
        let now = Instant::now();
        let mut s = State::new(Default::default(), Default::default(), now);
        s.connections = Connections::new(Labels::new(vec!["eu".into(), "us".into()]));
        s.apply_from(0, Item::Dropped { count: 5, total: 5 }, now);
        s.apply_from(1, Item::Dropped { count: 2, total: 2 }, now);
        s.apply_from(0, Item::Dropped { count: 1, total: 6 }, now);
        assert_eq!(s.status.dropped, 8);
    }
}
