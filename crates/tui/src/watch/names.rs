//! Names and text from the wire, cut before they are kept: a channel, event or member name
//! to [`MAX_NAME`] characters (it becomes a key of a bounded map, weighed whole), other text
//! to a number of bytes. Only what is kept is copied.

use std::io::Write;

use serde_json::Value;

use crate::kit::theme::clip;

/// Longest channel, event or member name kept, in characters. The protocol allows 164 for a
/// channel and 200 for an event; a longer one came from a stranger and is cut.
pub(super) const MAX_NAME: usize = protocol::limits::MAX_KEPT_NAME_CHARS;

/// A name from the wire, cut to [`MAX_NAME`] characters with `ellipsis`.
pub(super) fn name(text: &str, ellipsis: &str) -> String {
    clip(text, MAX_NAME, ellipsis).into_owned()
}

/// At most `max` bytes of `text`, cut on a character boundary and marked with `ellipsis`.
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

/// A writer that takes `max` bytes and then refuses, so that serializing a huge value to
/// show its start stops there.
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.max.saturating_sub(self.buf.len());
        if room == 0 {
            return Err(std::io::Error::other("full"));
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A JSON value as compact text, at most `max` bytes, cut as [`bounded`] cuts: only the
/// start of a huge value is written out.
pub(super) fn json_text(v: &Value, max: usize, ellipsis: &str) -> String {
    let mut out = Capped {
        buf: Vec::new(),
        max: max + 1,
    };
    let _ = serde_json::to_writer(&mut out, v);
    let text = String::from_utf8_lossy(&out.buf);
    bounded(&text, max, ellipsis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_start_of_a_huge_value_is_written() {
        let v = serde_json::json!({"a": "é".repeat(10_000)});
        let text = json_text(&v, 20, "…");
        assert!(
            text.len() <= 20 + "…".len() && text.starts_with("{\"a\":\"é"),
            "{text}"
        );
        assert_eq!(json_text(&serde_json::json!([1, 2]), 20, "…"), "[1,2]");
        assert_eq!(bounded("abcdef", 3, "…"), "abc…");
    }
}
