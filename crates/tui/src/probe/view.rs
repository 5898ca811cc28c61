//! The probe's dashboard, drawn: pure, from a [`Screen`] and the time. Top to bottom: the
//! alert strip (at least one line, at most three, so it stays on an 80×24 screen), the node
//! table, the presence line (several nodes), the log, and the status and key hints. Text
//! from the wire goes through the theme's `name` (cut, then `terminal_safe`); with NO_COLOR
//! an alert's row is reverse video and the states are bold.

use std::time::{Duration, Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table};

use super::screen::{Kind, PresenceLine, Screen};
use crate::dashboard::alerts::{draw_entries, time_of_day};
use crate::dashboard::theme::{Slot, Theme, age};
use client::ConnectionState;
use observe::probe::state::AlertKind;
use protocol::safe_text::terminal_safe;

/// Most lines of the alert strip.
const MAX_STRIP: usize = 3;
/// Fewest log lines kept on screen (with its border).
const MIN_LOG: u16 = 3;
/// Below this the screen says it is too small.
const MIN_WIDTH: u16 = 40;
const MIN_HEIGHT: u16 = 10;
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

pub fn draw(frame: &mut Frame, screen: &Screen, now: Instant) {
    let area = frame.area();
    let t = &screen.theme;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}{}{}",
            area.width,
            t.by(),
            area.height
        );
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let strip = strip(screen, now);
    let strip_h = strip.len().clamp(1, MAX_STRIP) as u16;
    let presence_h = u16::from(screen.presence.is_some());
    let fixed = strip_h + presence_h + 1;
    let table_h = (screen.rows.len() as u16 + 3)
        .min(area.height.saturating_sub(fixed + MIN_LOG))
        .max(3);
    let [strip_area, table, presence, log, status] = Layout::vertical([
        Constraint::Length(strip_h),
        Constraint::Length(table_h),
        Constraint::Length(presence_h),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_entries(frame, &strip, t, strip_area);
    nodes(frame, screen, table);
    if let Some(p) = &screen.presence {
        let (slot, text) = presence_text(p);
        let text = t.name(&text, usize::from(presence.width));
        frame.render_widget(Paragraph::new(Line::styled(text, t.style(slot))), presence);
    }
    log_pane(frame, screen, log);
    status_line(frame, screen, status, now);
    if screen.help {
        help(frame, t, area);
    }
}

fn wall(screen: &Screen, at: Instant) -> SystemTime {
    match at.checked_duration_since(screen.started) {
        Some(d) => screen.wall + d,
        None => screen.wall - screen.started.saturating_duration_since(at),
    }
}

/// The strip's lines: what is broken and since when, then the recent recoveries.
fn strip(screen: &Screen, now: Instant) -> Vec<(Slot, String)> {
    let entries: Vec<(Slot, String)> = screen
        .strip(now)
        .into_iter()
        .map(|a| {
            // The node it concerns, as the dashboard's strip names a ticker key.
            let subject = match a.node.and_then(|n| screen.rows.get(n)) {
                Some(r) if a.kind == AlertKind::CanaryMissing => format!(" [{}]", r.name),
                _ => String::new(),
            };
            match &a.recovered {
                None => (
                    Slot::Alert,
                    format!(
                        " ALERT since {} ({}) {}{subject}: {}",
                        time_of_day(wall(screen, a.since)),
                        age(now.saturating_duration_since(a.since)),
                        a.kind,
                        a.detail
                    ),
                ),
                Some((at, detail)) => (
                    Slot::Connected,
                    format!(
                        " RECOVERED {}-{} {}{subject}: {detail}",
                        time_of_day(wall(screen, a.since)),
                        time_of_day(wall(screen, *at)),
                        a.kind
                    ),
                ),
            }
        })
        .collect();
    if entries.is_empty() {
        return vec![(Slot::Dim, " no alerts".into())];
    }
    entries
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
fn nodes(frame: &mut Frame, screen: &Screen, area: Rect) {
    let t = &screen.theme;
    let cells: Vec<[String; 11]> = screen
        .rows
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
    let rows: Vec<Row> = screen
        .rows
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
    let hidden = screen.rows.len().saturating_sub(shown);
    let dot = t.dot();
    let mut title = format!(" nodes {dot} latency in ms ");
    if hidden > 0 {
        title.push_str(&format!("{dot} {hidden} not shown "));
    }
    let header = Row::new(HEADER).style(t.style(Slot::Heading));
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w as u16)))
        .header(header)
        .column_spacing(1)
        .block(t.pane(title, false));
    frame.render_widget(table, area);
}

/// `text` cut to `max` characters in the middle, so that both ends stay (`ws://10.0…:6001`).
fn clip_middle(text: &str, max: usize, ellipsis: &str) -> String {
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

fn log_pane(frame: &mut Frame, screen: &Screen, area: Rect) {
    let t = &screen.theme;
    let dot = t.dot();
    let mut title = format!(" log {dot} {} lines ", screen.log.len());
    if screen.log.dropped > 0 {
        title.push_str(&format!("{dot} {} dropped ", screen.log.dropped));
    }
    let width = usize::from(area.width.saturating_sub(2));
    let room = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = screen
        .log
        .last(room)
        .map(|l| {
            let slot = match l.kind {
                Kind::Received => None,
                Kind::Bad => Some(Slot::Warning),
                Kind::Alert => Some(Slot::Error),
                Kind::Recovered => Some(Slot::Connected),
                Kind::Note => Some(Slot::Dim),
            };
            let text = format!("{} {}", time_of_day(wall(screen, l.at)), l.text);
            let text = t.name(&text, width);
            match slot {
                Some(s) => Line::styled(text, t.style(s)),
                None => Line::raw(text),
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(t.pane(title, false)), area);
}

/// `1:05`, `1:02:03`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=3599 => format!("{}:{:02}", s / 60, s % 60),
        _ => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    }
}

fn status_line(frame: &mut Frame, screen: &Screen, area: Rect, now: Instant) {
    let t = &screen.theme;
    let elapsed = now.saturating_duration_since(screen.started);
    let time = match screen.window {
        Some(w) => format!(
            "{} of {}, {} left",
            clock(elapsed),
            clock(w),
            clock(w.saturating_sub(elapsed))
        ),
        None => format!("{} elapsed", clock(elapsed)),
    };
    let hint = format!("q quit {} ? help ", t.dot());
    let bar = t.bar();
    let width = usize::from(area.width);
    // The clock and the interval stay whole; the channel takes what is left, cut in the
    // middle to keep its random end.
    let rest = format!(
        "{bar}every {}{bar}{time}",
        humantime::format_duration(screen.interval)
    );
    let room = width.saturating_sub(hint.chars().count() + rest.chars().count() + 2);
    let channel = clip_middle(&screen.channel, room, t.ellipsis());
    let left = format!(" {}{rest}", terminal_safe(&channel));
    let pad = width.saturating_sub(left.chars().count() + hint.chars().count());
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::styled(hint, t.style(Slot::Heading)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

const HELP: &[&str] = &[
    "q, Ctrl-C  quit; with --for, the verdict so far is printed",
    "           and its exit status is the run's",
    "?          this help        Esc  close it",
    "",
    "The table has a row per node: SENT canaries published via it,",
    "RECV, LOST and LATE on it, ERRS publishes via it that failed,",
    "latency p50, p99 and max in ms, and its last publish error.",
    "A red row (reverse without colour): an alert concerns the node.",
    "The strip says what broke and since when, and what recovered.",
];

fn help(frame: &mut Frame, t: &Theme, area: Rect) {
    let w = (HELP.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16 + 4)
        .min(area.width.saturating_sub(2));
    let h = (HELP.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let lines: Vec<Line> = HELP.iter().map(|l| Line::raw(format!(" {l}"))).collect();
    let title = format!(" help {} Esc closes ", t.dot());
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(t.pane(title, true)), rect);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_state_colours() {
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(state_slot(ConnectionState::Failed), Slot::Disconnected);
        assert_eq!(state_slot(ConnectionState::Initialized), Slot::Connecting);
        assert_eq!(clip_middle("ws://127.0.0.1:7101", 12, "…"), "ws://…1:7101");
        assert_eq!(clip_middle("ws://a:1", 12, "…"), "ws://a:1");
    }
}
