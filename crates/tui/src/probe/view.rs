//! The probe's screen, drawn: pure, from a [`Probe`] and the time. Top to bottom, between
//! the kit's status bar and key hints: the alert strip (at least one line, at most three,
//! so it stays on an 80×24 screen), the node table, the presence line (several nodes), and
//! the log. Text from the wire goes through the theme's `name` (cut, then
//! `terminal_safe`); with NO_COLOR an alert's row is reverse video and the states are bold.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::screen::{Action, Probe};
use crate::kit::{Chrome, Slot};
use crate::widgets::alerts;
use client::ConnectionState;
use observe::probe::report::{Kind, PresenceLine};
use protocol::safe_text::terminal_safe;

/// Fewest log lines kept on screen (with its border).
const MIN_LOG: u16 = 3;
/// Longest node name column.
const MAX_NAME: usize = 32;

const HEADER: [&str; 11] = [
    "NODE",
    "STATE",
    "SENT",
    "RECV",
    "LOST",
    "LATE",
    "ERRS",
    "P50",
    "P99",
    "MAX",
    "LAST ERROR",
];

pub(super) fn draw(
    frame: &mut Frame,
    screen: &Probe,
    area: Rect,
    chrome: &Chrome<'_, Action>,
    now: Instant,
) {
    let t = chrome.theme;
    let strip = screen.strip(now);
    let strip_h = strip.len().clamp(1, alerts::MAX_LINES) as u16;
    let presence = &screen.figures.presence;
    let presence_h = u16::from(presence.is_some());
    let fixed = strip_h + presence_h;
    let table_h = (screen.figures.rows.len() as u16 + 3)
        .min(area.height.saturating_sub(fixed + MIN_LOG))
        .max(3);
    let [strip_area, table, presence_area, log_area] = Layout::vertical([
        Constraint::Length(strip_h),
        Constraint::Length(table_h),
        Constraint::Length(presence_h),
        Constraint::Min(0),
    ])
    .areas(area);
    alerts::draw(frame, &strip, t, strip_area);
    nodes(frame, screen, chrome, table);
    if let Some(p) = presence {
        let (slot, text) = presence_text(p);
        let text = t.name(&text, usize::from(presence_area.width));
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.style(slot))),
            presence_area,
        );
    }
    log_pane(frame, screen, chrome, log_area);
}

fn state_slot(s: ConnectionState) -> Slot {
    match s {
        ConnectionState::Connected => Slot::Connected,
        ConnectionState::Connecting | ConnectionState::Initialized => Slot::Connecting,
        ConnectionState::Unavailable | ConnectionState::Disconnected | ConnectionState::Failed => {
            Slot::Disconnected
        }
    }
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

/// The node table: a row per node, red (reverse under NO_COLOR) while an alert concerns it.
fn nodes(frame: &mut Frame, screen: &Probe, chrome: &Chrome<'_, Action>, area: Rect) {
    let t = chrome.theme;
    let rows = &screen.figures.rows;
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            let (p50, p99, max) = match r.latency {
                Some(s) => (ms(s.p50), ms(s.p99), ms(r.max_ms)),
                None => ("-".into(), "-".into(), "-".into()),
            };
            [
                r.name.clone(),
                r.state.as_str().into(),
                r.sent.to_string(),
                r.received.to_string(),
                r.lost.to_string(),
                r.late.to_string(),
                r.publish_errors.to_string(),
                p50,
                p99,
                max,
                r.last_error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let inner = usize::from(area.width.saturating_sub(2));
    let fixed: usize = widths[1..10].iter().sum::<usize>() + HEADER.len() - 1;
    // The name first (up to MAX_NAME, cut in the middle to keep the port); the last error
    // gets the rest.
    widths[0] = widths[0]
        .min(MAX_NAME)
        .min(inner.saturating_sub(fixed))
        .max(8);
    widths[10] = inner.saturating_sub(fixed + widths[0]);
    let shown_rows: Vec<Row> = rows
        .iter()
        .zip(cells)
        .map(|(r, c)| {
            let line: Vec<Cell> =
                c.iter()
                    .enumerate()
                    .map(|(i, text)| {
                        let text = match i {
                            0 => terminal_safe(&clip_middle(text, widths[0], t.ellipsis()))
                                .into_owned(),
                            _ => t.name(text, widths[i]),
                        };
                        if i == 1 {
                            Cell::from(Span::styled(text, t.style(state_slot(r.state))))
                        } else {
                            Cell::from(text)
                        }
                    })
                    .collect();
            let row = Row::new(line);
            if r.alert {
                row.style(t.style(Slot::Alert))
            } else {
                row
            }
        })
        .collect();
    let shown = usize::from(area.height.saturating_sub(3));
    let hidden = rows.len().saturating_sub(shown);
    let dot = t.dot();
    let mut title = format!(" nodes {dot} latency in ms ");
    if hidden > 0 {
        title.push_str(&format!("{dot} {hidden} not shown "));
    }
    let header = Row::new(HEADER).style(t.style(Slot::Heading));
    let table = Table::new(
        shown_rows,
        widths.iter().map(|w| Constraint::Length(*w as u16)),
    )
    .header(header)
    .column_spacing(1)
    .block(t.pane(title, false));
    frame.render_widget(table, area);
}

/// `text` cut to `max` characters in the middle, so that both ends stay (`ws://10.0…:6001`).
pub(super) fn clip_middle(text: &str, max: usize, ellipsis: &str) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(ellipsis.chars().count());
    let head = keep / 2;
    let tail = keep - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}{ellipsis}{end}")
}

fn presence_text(p: &PresenceLine) -> (Slot, String) {
    match p {
        PresenceLine::Waiting { known, of } => (
            Slot::Dim,
            format!(" presence: {known} of {of} nodes have their member list"),
        ),
        PresenceLine::Agree(n) => (
            Slot::Connected,
            format!(" presence: the member lists agree ({n} members)"),
        ),
        PresenceLine::Differ {
            detail,
            alert: true,
        } => (Slot::Alert, format!(" presence DIFFERS: {detail}")),
        PresenceLine::Differ { detail, .. } => (
            Slot::Warning,
            format!(" presence differs (within --settle): {detail}"),
        ),
    }
}

fn log_pane(frame: &mut Frame, screen: &Probe, chrome: &Chrome<'_, Action>, area: Rect) {
    let t = chrome.theme;
    let follow = chrome.keymap.first(Action::Bottom, t.ascii);
    screen
        .log
        .draw(frame, area, t, &screen.epoch, follow, |kind| match kind {
            Kind::Received => None,
            Kind::Bad => Some(Slot::Warning),
            Kind::Alert => Some(Slot::Error),
            Kind::Recovered => Some(Slot::Connected),
            Kind::Note => Some(Slot::Dim),
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_state_colours() {
        use super::super::screen::clock;
        use std::time::Duration;
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(state_slot(ConnectionState::Failed), Slot::Disconnected);
        assert_eq!(state_slot(ConnectionState::Initialized), Slot::Connecting);
        assert_eq!(clip_middle("ws://127.0.0.1:7101", 12, "…"), "ws://…1:7101");
        assert_eq!(clip_middle("ws://a:1", 12, "…"), "ws://a:1");
    }
}
