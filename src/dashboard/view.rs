//! The view: pure functions from the state to a ratatui `Frame`. Every string from the wire
//! goes through `terminal_safe`; with NO_COLOR the meaning stays in ▲▼, bold and reverse.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState};

use super::keys::KEYS;
use super::logview::contains_ci;
use super::state::{Focus, InputKind, LogLine, State};
use super::ticker::Row as TickerRow;
use crate::client::{ConnectionState, SubscriptionStatus};
use crate::output::lines::clock;
use crate::output::sanitize::terminal_safe;

/// Below this, widgets break: show a message instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

pub fn draw(frame: &mut Frame, state: &State, now: Instant) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small: {}×{} (need {MIN_WIDTH}×{MIN_HEIGHT}); q quits",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [status, ticker, log, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(55),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(status_bar(state, now, status.width), status);
    draw_ticker(frame, state, now, ticker);
    draw_log(frame, state, log);
    frame.render_widget(
        Paragraph::new(hint_line(state)).style(Style::new().add_modifier(Modifier::DIM)),
        hints,
    );
    if let Some((seq, scroll)) = state.inspect {
        draw_inspect(
            frame,
            state,
            Rect {
                height: area.height - 1,
                ..area
            },
            seq,
            scroll,
        );
    }
    if state.help {
        draw_help(frame, area);
    }
}

fn style(state: &State, color: Color) -> Style {
    if state.options.color {
        Style::new().fg(color)
    } else {
        Style::new()
    }
}

/// The status bar's parts, most important first; parts that do not fit are dropped.
fn status_bar(state: &State, now: Instant, width: u16) -> Line<'static> {
    let s = &state.status;
    let conn_color = match s.state {
        ConnectionState::Connected => Color::Green,
        ConnectionState::Connecting | ConnectionState::Initialized => Color::Yellow,
        _ => Color::Red,
    };
    let mut conn = s.state.to_string();
    if let Some(at) = s.retry_at.filter(|at| *at > now) {
        conn.push_str(&format!(
            " (retry in {:.0}s)",
            (at - now).as_secs_f32().ceil()
        ));
    }
    let mut parts: Vec<(u8, Span<'static>)> = vec![(
        0,
        Span::styled(conn, style(state, conn_color).add_modifier(Modifier::BOLD)),
    )];
    if let Some(f) = &state.paused {
        parts.push((
            0,
            Span::styled(
                format!("paused +{}", f.since),
                Style::new().add_modifier(Modifier::REVERSED),
            ),
        ));
    }
    let (mut sub, mut pend, mut fail) = (0, 0, 0);
    for st in s.channels.values() {
        match st {
            SubscriptionStatus::Subscribed => sub += 1,
            SubscriptionStatus::Failed(_) => fail += 1,
            _ => pend += 1,
        }
    }
    let mut channels = format!("{sub} sub");
    if pend > 0 {
        channels.push_str(&format!(" {pend} pend"));
    }
    if fail > 0 {
        channels.push_str(&format!(" {fail} FAILED"));
    }
    parts.push((
        1,
        Span::styled(
            channels,
            if fail > 0 {
                style(state, Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            },
        ),
    ));
    parts.push((1, Span::raw(format!("{:.1}/s", s.rate(now)))));
    parts.push((2, Span::raw(format!("{} msgs", s.total))));
    if s.unbound > 0 {
        parts.push((
            2,
            Span::styled(
                format!("{} unbound", s.unbound),
                style(state, Color::Yellow),
            ),
        ));
    }
    if s.dropped > 0 {
        parts.push((
            2,
            Span::styled(format!("{} dropped", s.dropped), style(state, Color::Red)),
        ));
    }
    if let Some(rtt) = s.rtt {
        parts.push((
            3,
            Span::raw(format!("rtt {:.0}ms", rtt.as_secs_f64() * 1e3)),
        ));
    }
    if let Some(id) = &s.socket_id {
        parts.push((4, Span::raw(format!("socket {}", terminal_safe(id)))));
    }
    let host = s.url.split('?').next().unwrap_or("").to_owned();
    if !host.is_empty() {
        parts.push((5, Span::raw(host)));
    }
    if let Some(r) = &s.reason {
        parts.push((1, Span::raw(terminal_safe(r).into_owned())));
    }
    // Drop the least important parts until the line fits.
    let fits = |parts: &[(u8, Span)]| {
        parts.iter().map(|(_, p)| p.width() + 3).sum::<usize>() <= width as usize
    };
    while !fits(&parts) && parts.len() > 1 {
        let worst = parts
            .iter()
            .enumerate()
            .max_by_key(|(i, (prio, _))| (*prio, *i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        parts.remove(worst);
    }
    let mut spans = Vec::new();
    for (i, (_, p)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" │ "));
        }
        spans.push(p);
    }
    Line::from(spans)
}

/// A bordered pane; the focused one has a bold border, the other a dim one.
fn pane(title: String, focused: bool) -> Block<'static> {
    let border = if focused {
        Modifier::BOLD
    } else {
        Modifier::DIM
    };
    Block::new()
        .borders(Borders::ALL)
        .title(title)
        .border_style(Style::new().add_modifier(border))
}

fn sparkline(values: impl Iterator<Item = f64> + Clone, width: usize, ascii: bool) -> String {
    let levels: &[char] = if ascii {
        &[' ', '.', ':', '-', '=', '+', '*', '#']
    } else {
        &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
    };
    let all: Vec<f64> = values.collect();
    let tail = &all[all.len().saturating_sub(width)..];
    let (min, max) = tail
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    tail.iter()
        .map(|v| {
            let t = if max > min {
                (v - min) / (max - min)
            } else {
                0.5
            };
            levels[((t * (levels.len() - 1) as f64).round() as usize).min(levels.len() - 1)]
        })
        .collect()
}

fn age(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

fn draw_ticker(frame: &mut Frame, state: &State, now: Instant, area: Rect) {
    let (ticker, _) = state.visible();
    let focused = state.focus == Focus::Ticker;
    let mut title = format!(
        " ticker · {} keys · sort {} ",
        ticker.len(),
        state.sort.label()
    );
    if ticker.evicted > 0 {
        title.push_str(&format!("· {} evicted ", ticker.evicted));
    }
    if ticker.missing > 0 {
        title.push_str(&format!("· {} missing field ", ticker.missing));
    }
    let block = pane(title, focused);
    // Columns by priority: the narrow terminal keeps the first ones.
    let wide = area.width >= 100;
    let spark_w = if wide { 24 } else { 12 };
    let (up, down) = if state.options.ascii {
        ("^", "v")
    } else {
        ("▲", "▼")
    };
    let rows: Vec<Row> = ticker
        .sorted(state.sort)
        .into_iter()
        .map(|r: &TickerRow| {
            let stale = now.duration_since(r.updated_at).as_secs() >= 30;
            let (arrow, chg, pct, color) = match r.change() {
                Some((a, p)) if a > 0.0 => {
                    (up, format!("{a:+.2}"), format!("{p:+.2}%"), Color::Green)
                }
                Some((a, p)) if a < 0.0 => {
                    (down, format!("{a:+.2}"), format!("{p:+.2}%"), Color::Red)
                }
                Some(_) => ("=", "0.00".into(), "0.00%".into(), Color::Reset),
                None => (" ", String::new(), String::new(), Color::Reset),
            };
            let mut cells = vec![
                Cell::from(terminal_safe(&r.key).into_owned()),
                Cell::from(terminal_safe(&r.text).into_owned()),
                Cell::from(format!("{arrow} {chg}")).style(style(state, color)),
                Cell::from(pct).style(style(state, color)),
                Cell::from(sparkline(
                    r.history.iter().copied(),
                    spark_w,
                    state.options.ascii,
                )),
                Cell::from(r.updates.to_string()),
                Cell::from(age(now.duration_since(r.updated_at))),
            ];
            if wide {
                let since = r
                    .change_since_first()
                    .map_or(String::new(), |(_, p)| format!("{p:+.2}%"));
                cells.push(Cell::from(since));
            }
            let row = Row::new(cells);
            if stale {
                row.style(Style::new().add_modifier(Modifier::DIM))
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(8),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(spark_w as u16),
        Constraint::Length(6),
        Constraint::Length(4),
    ];
    let mut header = vec!["KEY", "VALUE", "CHANGE", "%", "RECENT", "N", "AGE"];
    if wide {
        widths.push(Constraint::Length(9));
        header.push("SINCE 1ST");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
        .block(block)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut ts = TableState::default();
    if focused && !ticker.is_empty() {
        ts.select(Some(state.selected.min(ticker.len() - 1)));
    }
    frame.render_stateful_widget(table, area, &mut ts);
}

fn log_line(state: &State, l: &LogLine) -> Line<'static> {
    let mut spans = vec![
        Span::styled(clock(l.time), Style::new().add_modifier(Modifier::DIM)),
        Span::raw(" "),
        Span::styled(
            terminal_safe(&l.channel).into_owned(),
            style(state, Color::Cyan),
        ),
        Span::raw(" "),
        Span::styled(
            terminal_safe(&l.event).into_owned(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
    ];
    if l.unbound {
        spans.push(Span::styled(
            "[unbound] ",
            style(state, Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::raw(terminal_safe(&l.text).into_owned()));
    let line = Line::from(spans);
    match &state.search {
        Some(needle) if contains_ci(l, needle) => {
            line.style(Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD))
        }
        _ => line,
    }
}

fn draw_log(frame: &mut Frame, state: &State, area: Rect) {
    let log = state.visible().1;
    let focused = state.focus == Focus::Log;
    let positions = state.log_positions();
    let selected = state.selected_index(&positions);
    let inner_h = area.height.saturating_sub(2) as usize;
    // The window ends at the selection (the newest line while following).
    let end = selected
        .map_or(0, |i| i + 1)
        .max(inner_h.min(positions.len()));
    let start = end.saturating_sub(inner_h);
    let lines: Vec<Line> = positions[start..end.min(positions.len())]
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let line = log_line(state, &log[p]);
            if focused && Some(start + k) == selected && state.log_selected.is_some() {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    let mut title = format!(" log · {} lines ", log.len());
    if let Some(f) = &state.filter {
        title.push_str(&format!(
            "· filter: {} ({} shown) · Esc clears ",
            terminal_safe(&f.text),
            positions.len()
        ));
    }
    if let Some(s) = &state.search {
        title.push_str(&format!("· /{} ", terminal_safe(s)));
    }
    if state.log_selected.is_some() {
        title.push_str("· G follows ");
    }
    let block = pane(title, focused);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn hint_line(state: &State) -> String {
    match (&state.input, &state.paused) {
        (Some((InputKind::Search, text)), _) => {
            format!(" search: {}▏ (Enter, Esc)", terminal_safe(text))
        }
        (Some((InputKind::Filter, text)), _) => format!(
            " filter: {}▏ (channel:X event:X field=value text; Enter, Esc)",
            terminal_safe(text)
        ),
        (None, Some(_)) => " Space resume · q quit · ? help".into(),
        (None, None) => {
            " q quit · ? help · Space pause · Tab focus · / search · f filter · Enter inspect"
                .into()
        }
    }
}

/// The selected log line in full: the data pretty-printed, and the raw frame.
fn draw_inspect(frame: &mut Frame, state: &State, area: Rect, seq: u64, scroll: u16) {
    let Some(line) = state.line(seq) else { return };
    let pretty = match &line.data {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => line.text.clone(),
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let title = format!(
        " {} · {} · {} · Esc closes ",
        clock(line.time),
        terminal_safe(&line.channel),
        terminal_safe(&line.event)
    );
    let text: Vec<Line> = pretty
        .lines()
        .map(|l| Line::raw(terminal_safe(l).into_owned()))
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text)
            .block(pane(title, true))
            .scroll((scroll, 0)),
        left,
    );
    let raw = Paragraph::new(terminal_safe(&line.raw).into_owned())
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(pane(" raw frame ".into(), false))
        .scroll((scroll, 0));
    frame.render_widget(raw, right);
}

fn draw_help(frame: &mut Frame, area: Rect) {
    let height = (KEYS.len() as u16 + 4).min(area.height);
    let width = 64.min(area.width);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let rows: Vec<Row> = KEYS
        .iter()
        .map(|k| Row::new(vec![Cell::from(k.keys), Cell::from(k.help)]))
        .collect();
    let table = Table::new(rows, [Constraint::Length(14), Constraint::Min(10)]).block(
        Block::new()
            .borders(Borders::ALL)
            .title(" keys · Esc closes "),
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(table, rect);
}
