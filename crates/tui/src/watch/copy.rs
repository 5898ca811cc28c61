//! `y` and `Y`: a log line's event onto the clipboard, as `watch --json` writes it (the
//! terminal-safe formatter: nothing in it can drive a terminal when pasted), or as a
//! `tickertape trigger` command that sends it again. The command names no credentials: the
//! secret never leaves the config or the environment, where `trigger` finds it.

use super::screen::Watch;
use super::values;
use crate::kit::clipboard::{MAX_COPY, fit};
use client::{DataText, ReceivedEvent};
use observe::output::ndjson;
use protocol::safe_text::{is_unsafe, terminal_safe};

/// `text` in single quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The event as one JSON line, terminal-safe.
pub(super) fn event_json(ev: &ReceivedEvent, latency: Option<f64>, label: Option<&str>) -> String {
    let mut out = Vec::new();
    let _ = ndjson::write_event_from(&mut out, ev, latency, label);
    let text = String::from_utf8_lossy(&out);
    text.trim_end().to_owned()
}

/// A `tickertape trigger` command that sends `ev` again, or why not.
pub(super) fn trigger_command(ev: &ReceivedEvent) -> Result<String, String> {
    let channel = ev
        .channel
        .as_deref()
        .ok_or("this event came on no channel")?;
    if channel.chars().chain(ev.event.chars()).any(is_unsafe) {
        return Err("its names hold control characters: not copied as a command".into());
    }
    let (data, text) = match ev.data_text() {
        DataText::Absent => ("{}".to_owned(), false),
        DataText::Json(json) => {
            // Through the terminal-safe formatter: valid JSON, nothing raw.
            let mut out = Vec::new();
            let _ = observe::output::json_text::write_compact_safe(&mut out, &json);
            (String::from_utf8_lossy(&out).into_owned(), false)
        }
        DataText::Text(t) => {
            if t.chars().any(is_unsafe) {
                return Err("its data holds control characters: not copied as a command".into());
            }
            (t.into_owned(), true)
        }
    };
    let text = if text { " --text" } else { "" };
    Ok(format!(
        "tickertape trigger {} {} {}{text}",
        quote(channel),
        quote(&ev.event),
        quote(&data)
    ))
}

impl Watch {
    /// Copies the log line numbered `seq`: its event as JSON, or as a trigger command.
    pub(super) fn copy_line(&mut self, seq: u64, command: bool) {
        let Some(line) = self.line(seq) else {
            self.ui.flash = Some("that line is gone".into());
            return;
        };
        let Some(ev) = line.received() else {
            self.ui.flash = Some("not an event: nothing to copy".into());
            return;
        };
        let label = self.model.connections.label(line.conn);
        let text = if command {
            match trigger_command(ev) {
                Ok(c) => c,
                Err(why) => {
                    self.ui.flash = Some(why);
                    return;
                }
            }
        } else {
            event_json(ev, line.latency_ms(), label)
        };
        let what = if command { "trigger command" } else { "event" };
        self.put(what, &text);
    }

    /// Copies the value under inspect's cursor (`y`), as compact JSON through the
    /// terminal-safe formatter, or its jq path (`p`).
    pub(super) fn copy_value(&mut self, seq: u64, cursor: usize, path: bool) {
        let Some(data) = self.line(seq).and_then(|l| l.inspectable()) else {
            self.ui.flash = Some(if path {
                "the data is not JSON (or too large to show): no paths".into()
            } else {
                "the data is not JSON (or too large to show): nothing to copy".into()
            });
            return;
        };
        let shown = values::lines(data);
        let stops = values::stops(&shown);
        let Some((_, (at, value))) = stops.get(cursor.min(stops.len().saturating_sub(1))) else {
            return;
        };
        let (what, text) = if path {
            // From the wire: a key with a control character stays visible, never raw.
            (
                format!("path {}", terminal_safe(at)),
                terminal_safe(at).into_owned(),
            )
        } else {
            let json = observe::output::json_text::compact_safe(&value.to_string()).into_owned();
            (format!("value {}", terminal_safe(at)), json)
        };
        let what: String = what.chars().take(60).collect();
        self.put(&what, &text);
    }

    /// `text` onto the clipboard (cut to what terminals take), said in the status bar.
    fn put(&mut self, what: &str, text: &str) {
        let (fitted, cut) = fit(text);
        self.ui.flash = Some(if cut {
            format!(
                "copied {what}: first {MAX_COPY} of {} bytes (terminals take ~100 kB of OSC 52)",
                text.len()
            )
        } else {
            format!("copied {what} ({} bytes)", text.len())
        });
        self.clipboard = Some(fitted.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
