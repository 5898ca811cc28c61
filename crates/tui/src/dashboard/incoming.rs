//! What the dashboard takes from an event, read in this one place: names cut to a bounded
//! length, the data as JSON, the data as text and the raw frame, each bounded. The rest of the
//! dashboard never looks into a `ReceivedEvent`'s data itself.

use std::borrow::Cow;

use serde_json::Value;

use super::logview::{MAX_LOG_TEXT, MAX_RAW};
use super::theme::clip;
use client::ReceivedEvent;
use protocol::Data;

/// Longest channel, event or member name kept, in characters. The protocol allows 164 for a
/// channel and 200 for an event; a longer one came from a stranger and is cut.
pub(super) const MAX_NAME: usize = protocol::limits::MAX_KEPT_NAME_CHARS;

/// A name from the wire, cut to [`MAX_NAME`] characters with `ellipsis`.
pub(super) fn name(text: &str, ellipsis: &str) -> String {
    clip(text, MAX_NAME, ellipsis).into_owned()
}

/// At most `max` bytes of `text`, cut on a character boundary and marked with `ellipsis`;
/// only what is kept is copied.
pub(super) fn bounded(text: &str, max: usize, ellipsis: &str) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}{ellipsis}", &text[..cut])
}

/// The data as JSON: borrowed when it is JSON already.
pub(super) fn value(ev: &ReceivedEvent) -> Cow<'_, Value> {
    ev.data().as_value()
}

/// The data for the log: as JSON when it is JSON and the frame was small enough to keep
/// whole (else the text stands for it), the compact text, and the raw frame, each bounded.
pub(super) fn for_log(ev: &ReceivedEvent, ellipsis: &str) -> (Option<Value>, String, String) {
    let raw = bounded(&ev.raw, MAX_RAW, ellipsis);
    let (data, text) = match ev.data() {
        Data::Absent => (None, String::new()),
        Data::Json(v) => {
            let full = v.to_string();
            // Kept whole only when small, so a line's size is bounded whatever the frame.
            let data = (ev.raw.len() < MAX_RAW && full.len() < MAX_RAW).then(|| v.clone());
            (data, bounded(&full, MAX_LOG_TEXT, ellipsis))
        }
        Data::Text(t) => (None, bounded(t, MAX_LOG_TEXT, ellipsis)),
    };
    (data, text, raw)
}
