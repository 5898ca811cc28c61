//! Several connections in one screen (`watch --profile eu --profile us`, or several
//! `--node`): each one's state for the status bar, and its label. Lines, rows, channels and
//! members carry their connection as a value; the label goes before their names only when
//! they are drawn ([`Connections::shown`]), so the same symbol from two environments stays
//! two rows. With one connection there are no labels, and the screen is exactly a single
//! one's.

use std::borrow::Cow;
use std::time::Instant;

use ratatui::text::Span;

use crate::kit::{Slot, Theme};
use client::{Conn, ConnectionState, Item, Labels};

/// Longest label shown in the status bar, in characters.
const MAX_LABEL: usize = 24;

/// One connection's state, as its last state change said.
#[derive(Debug, Clone)]
pub(super) struct One {
    state: ConnectionState,
    retry_at: Option<Instant>,
}

/// Every connection's state and label.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    labels: Labels,
    states: Vec<One>,
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
        }
    }

    /// The run's connections' labels (none with one).
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// More than one connection: lines, rows and the status bar are labelled.
    pub fn is_multi(&self) -> bool {
        self.labels.is_multi()
    }

    /// A connection's label; none with one connection.
    pub fn label(&self, conn: Option<Conn>) -> Option<&str> {
        self.labels.get(conn?)
    }

    /// Which connection has this label.
    pub fn index(&self, label: &str) -> Option<Conn> {
        self.labels.index(label)
    }

    /// A name as drawn: with its connection's label before it (`eu/stock_ticker`) when
    /// there are several.
    pub fn shown<'a>(&self, conn: Option<Conn>, name: &'a str) -> Cow<'a, str> {
        match self.label(conn) {
            Some(label) => Cow::Owned(format!("{label}/{name}")),
            None => Cow::Borrowed(name),
        }
    }

    /// Takes note of an item from the connection tagged `conn`, before the model applies
    /// it: its state change, and its drops, which the item then counts over every
    /// connection.
    pub fn note(&mut self, conn: Conn, item: Item, now: Instant) -> Item {
        if !self.is_multi() {
            return item;
        }
        if let (Item::Dropped { total, .. }, Some(d)) =
            (&item, self.dropped.get_mut(usize::from(conn)))
        {
            *d = *total;
        }
        if let (Item::State(c), Some(one)) = (&item, self.states.get_mut(usize::from(conn))) {
            one.state = c.current;
            one.retry_at = c.retry_in.map(|d| now + d);
        }
        match item {
            Item::Dropped { count, .. } => Item::Dropped {
                count,
                total: self.dropped.iter().fold(0u64, |s, n| s.saturating_add(*n)),
            },
            item => item,
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
    use client::StateChange;
    use std::time::Duration;

    fn state(current: ConnectionState, retry: Option<Duration>) -> Item {
        Item::State(Box::new(StateChange {
            previous: ConnectionState::Initialized,
            current,
            reason: None,
            retry_in: retry,
            socket_id: None,
            url: String::new(),
        }))
    }

    #[test]
    fn each_connection_keeps_its_own_state_and_one_has_no_label() {
        let now = Instant::now();
        let mut c = Connections::new(Labels::new(vec!["eu".into(), "us".into()]));
        c.note(0, state(ConnectionState::Connected, None), now);
        assert_eq!(c.shown(Some(0), "x"), "eu/x");
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
        assert_eq!(
            (one.label(Some(0)), one.shown(Some(0), "x")),
            (None, "x".into())
        );
        assert!(one.parts(&theme, false, now, false).is_empty());
    }

    #[test]
    fn dropped_events_are_counted_over_every_connection() {
        let now = Instant::now();
        let mut c = Connections::new(Labels::new(vec!["eu".into(), "us".into()]));
        let total = |item| match item {
            Item::Dropped { total, .. } => total,
            _ => 0,
        };
        c.note(0, Item::Dropped { count: 5, total: 5 }, now);
        c.note(1, Item::Dropped { count: 2, total: 2 }, now);
        let last = c.note(0, Item::Dropped { count: 1, total: 6 }, now);
        assert_eq!(total(last), 8);
    }
}
