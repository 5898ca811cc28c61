//! The inspect view's diff: the event against the previous one of the same connection,
//! channel and event, or, for a ticker binding, of the same key. The previous one is looked
//! for in the log (bounded already), so nothing more is kept per event.

use observe::binding::View;
use observe::diff::{self, Change};

use super::screen::Watch;

/// Most changes listed.
pub(super) const MAX_CHANGES: usize = 200;

/// What the diff view shows.
pub(super) enum Against {
    /// The previous event's line number, its changes and how many more there were.
    Previous(u64, Vec<Change>, usize),
    /// No earlier event of the kind in the log, or no JSON to compare.
    Nothing(String),
}

impl Watch {
    /// The log line before `seq` of the same connection, channel and event (and the same
    /// ticker key, when the event is bound to a ticker).
    pub(super) fn previous_of(&self, seq: u64) -> Option<u64> {
        let line = self.line(seq)?;
        let data = line.value();
        let key_path = match self.model.binding_view(line) {
            Some(View::Ticker { key, .. }) => Some(key),
            _ => None,
        };
        let key = key_path.as_ref().and_then(|k| data.and_then(|d| k.get(d)));
        let log = &self.model.log;
        let end = log.position(seq);
        (0..end).rev().map(|i| &log[i]).find_map(|l| {
            let same = l.line.conn == line.conn
                && l.line.channel == line.channel
                && l.line.event == line.event
                && !l.line.is_notice()
                && match (&key_path, key) {
                    (Some(path), Some(k)) => l.line.value().and_then(|d| path.get(d)) == Some(k),
                    _ => true,
                };
            same.then_some(l.seq)
        })
    }

    /// How many lines the diff view of `seq` shows: the line that says against what, the
    /// changes (or `no change`), and the count of the rest.
    pub(super) fn diff_len(&self, seq: u64) -> usize {
        match self.diff_of(seq) {
            Against::Nothing(_) => 1,
            Against::Previous(_, changes, more) => 1 + changes.len().max(1) + usize::from(more > 0),
        }
    }

    pub(super) fn diff_of(&self, seq: u64) -> Against {
        let Some(line) = self.line(seq) else {
            return Against::Nothing("the line is gone".into());
        };
        let Some(prev) = self.previous_of(seq) else {
            return Against::Nothing(
                "no earlier event of this channel and event (or ticker key) in the log".into(),
            );
        };
        let before = self.line(prev).and_then(|l| l.value());
        match (before, line.value()) {
            (Some(b), Some(a)) => {
                let (changes, more) = diff::diff(b, a, MAX_CHANGES);
                Against::Previous(prev, changes, more)
            }
            _ => Against::Nothing("not JSON: nothing to compare path by path".into()),
        }
    }
}
