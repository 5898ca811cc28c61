//! The watch screen's UI: what has the focus, what is selected, what is open over the main
//! screen, the filter and the search, and the pause. Plain data; `input.rs` says what keys
//! do to it.

use super::filter::{Count, Filter};
use super::form::Form;
use super::ticker::{RowKey, Sort, Ticker};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Ticker,
    Log,
}

/// What is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Search,
    Filter,
}

/// What opens over the main screen: one at a time, so one enum. (The help is the kit's.)
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// Text being typed after `/` or `f`, shown in the key hints.
    Input(InputKind, String),
    /// A ticker row's history as a chart.
    Chart(RowKey),
    /// The log line numbered `seq` in full, how far the diff is scrolled, and the value
    /// the cursor is on (the line of the pretty-printed data; `y` copies it, `p` its path).
    Inspect {
        seq: u64,
        scroll: u16,
        cursor: usize,
    },
    /// The trigger form.
    Form(Form),
}

/// The view paused by Space: the log shows the lines before `mark` (nothing is copied),
/// the ticker a copy of itself as it was; events still come, and are counted.
#[derive(Debug, Clone)]
pub struct Pause {
    pub ticker: Ticker,
    /// The first log line not shown.
    pub mark: u64,
    /// The events counted when it paused.
    pub total: u64,
}

/// Focus, selection, overlay, filter, search and pause.
#[derive(Debug, Clone)]
pub struct Controls {
    pub focus: Focus,
    pub sort: Sort,
    /// The selected ticker row.
    pub selected: usize,
    /// The selected log line's number; `None` follows new lines.
    pub log_selected: Option<u64>,
    pub filter: Option<Filter>,
    /// The last search, lowercase.
    pub search: Option<String>,
    pub overlay: Option<Overlay>,
    pub paused: Option<Pause>,
    /// While a jq filter is typed: its error.
    pub preview: Option<String>,
    /// While a valid jq filter is typed: how many lines it matches, counted a slice per
    /// frame.
    pub counting: Option<Count>,
    /// A short word in the status bar until the next key (`copied 312 B`).
    pub flash: Option<String>,
    /// Inspect shows the diff against the previous event instead of the event.
    pub diff: bool,
    /// What is hidden (`1`, `2`, `3`, `C`, or the palette's `toggle_…`).
    pub hidden: Hidden,
}

/// The panes and columns hidden. The ticker and the log are never both hidden: the one
/// shown takes the other's room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden {
    pub ticker: bool,
    pub log: bool,
    /// The side column: presence members and the events by channel.
    pub side: bool,
    /// The ticker's CHANGED column (shown by default where there is room).
    pub changed: bool,
}

impl Controls {
    pub(super) fn new(focus: Focus) -> Controls {
        Controls {
            focus,
            sort: Sort::Key,
            selected: 0,
            log_selected: None,
            filter: None,
            search: None,
            overlay: None,
            paused: None,
            preview: None,
            counting: None,
            flash: None,
            diff: false,
            hidden: Hidden::default(),
        }
    }
}
