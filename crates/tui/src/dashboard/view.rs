//! The view: pure functions from the state to a ratatui `Frame`. Every string from the wire
//! goes through `terminal_safe`; with NO_COLOR the meaning stays in ▲▼, bold and reverse.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::keys::Action;
use super::logview::LogLine;
use super::logview::{contains_ci, find_ci};
use super::overlay::Overlay;
use super::state::{Focus, State};
use super::theme::{Slot, age};
use super::ticker::Row as TickerRow;
use super::{help, overlays, statusbar};
use observe::output::lines::clock;
use protocol::safe_text::terminal_safe;

/// Below this, widgets break: show a message instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

/// Most characters of a channel or event name in a log line, whatever the width; longer ones
/// end in an ellipsis.
const MAX_SHOWN: usize = 32;

/// Fewest characters a name gets when the log pane is narrow.
const MIN_SHOWN: usize = 16;

/// The screen's four bands: status bar, ticker, log, key hints. Drawing and mouse clicks use
/// the same layout.
pub fn layout(area: Rect) -> [Rect; 4] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(55),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// Where overlays go: all but the key hints.
pub fn overlay_area(area: Rect) -> Rect {
    Rect {
        height: area.height.saturating_sub(1),
        ..area
    }
}

pub fn draw(frame: &mut Frame, state: &State, now: Instant) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let t = &state.theme;
        let by = t.by();
        let quit = state
            .options
            .keys
            .first(Action::Quit, t.ascii)
            .map_or(String::new(), |k| format!("; {k} quits"));
        let msg = format!(
            "terminal too small: {}{by}{} (need {MIN_WIDTH}{by}{MIN_HEIGHT}){quit}",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [status, ticker, log, hints] = layout(area);
    frame.render_widget(statusbar::status_bar(state, now, status.width), status);
    let (strip, ticker) = super::alerts::split(&state.alerts, ticker, now);
    strip.inspect(|&strip| super::alerts::draw(frame, &state.alerts, &state.theme, strip, now));
    let ticker = super::connection::draw_over(frame, state.refused(), &state.theme, ticker);
    // Received webhooks have no ticker: their counts by channel take its place.
    let receiving = state.options.receiving.is_some();
    if receiving {
        overlays::draw_events(frame, state, ticker, now);
    } else {
        draw_ticker(frame, state, now, ticker);
    }
    // A right-hand column for presence members and per-event counts, when there is something
    // to show there: members, a `count` binding, a wide terminal, or a silent channel.
    let show_events = !receiving
        && ((!state.counts.is_empty() && (state.counting || area.width >= 120))
            || state.silence.any_silent(now));
    if state.members.is_empty() && !show_events {
        draw_log(frame, state, log);
    } else {
        let [log, side] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(28)]).areas(log);
        draw_log(frame, state, log);
        match (state.members.is_empty(), show_events) {
            (false, true) => {
                let [members, events] =
                    Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
                        .areas(side);
                overlays::draw_members(frame, state, members);
                overlays::draw_events(frame, state, events, now);
            }
            (false, false) => overlays::draw_members(frame, state, side),
            (true, _) => overlays::draw_events(frame, state, side, now),
        }
    }
    frame.render_widget(
        Paragraph::new(super::hintline::hint_line(state)).style(state.theme.style(Slot::Dim)),
        hints,
    );
    // Overlays cover all but the key hints; the form and the help float in the middle.
    let above = overlay_area(area);
    match &state.overlay {
        Some(Overlay::Chart(key)) => overlays::draw_chart(frame, state, above, key, now),
        Some(Overlay::Inspect { seq, scroll }) => {
            overlays::draw_inspect(frame, state, above, *seq, *scroll)
        }
        Some(Overlay::Form(form)) => overlays::draw_form(frame, state, area, form),
        Some(Overlay::Help { scroll }) => help::draw_help(frame, state, above, *scroll),
        Some(Overlay::Input(..)) | None => {}
    }
}

/// Decimals in a number's text: `203.85` has 2, `41` none (at most 8).
fn decimals(text: &str) -> usize {
    let digits = text.trim().split(['e', 'E']).next().unwrap_or("");
    digits.split_once('.').map_or(0, |(_, f)| f.len()).min(8)
}

fn sparkline(values: impl Iterator<Item = f64> + Clone, width: usize, levels: &[char]) -> String {
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

fn draw_ticker(frame: &mut Frame, state: &State, now: Instant, area: Rect) {
    let (ticker, _) = state.visible();
    let focused = state.focus == Focus::Ticker;
    let t = &state.theme;
    let dot = t.dot();
    let mut title = format!(
        " ticker {dot} {} keys {dot} sort {} ",
        ticker.len(),
        state.sort.label()
    );
    if ticker.evicted > 0 {
        title.push_str(&format!("{dot} {} evicted ", ticker.evicted));
    }
    if ticker.missing > 0 {
        title.push_str(&format!("{dot} {} missing field ", ticker.missing));
    }
    let block = t.pane(title, focused);
    // Columns by priority: the narrow terminal keeps the first ones.
    let wide = area.width >= 100;
    let spark_w = if wide { 24 } else { 12 };
    let (up, down) = t.arrows();
    let sorted = ticker.sorted(state.sort);
    let red = state.alerts.red_keys();
    // Numbers line up: each shows as many decimals as the most precise in the column.
    let precision = sorted
        .iter()
        .filter(|r| r.value.is_some())
        .map(|r| decimals(&r.text))
        .max()
        .unwrap_or(0);
    // The key column is as wide as its longest key, within what the other columns leave.
    let fixed: u16 = 10 + 10 + 8 + spark_w as u16 + 6 + 4 + if wide { 9 } else { 0 };
    let columns: u16 = if wide { 8 } else { 7 };
    let room = area.width.saturating_sub(2 + fixed + columns - 1).max(8);
    let key_w = sorted
        .iter()
        .map(|r| r.key.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(3, usize::from(room));
    let rows: Vec<Row> = sorted
        .into_iter()
        .map(|r: &TickerRow| {
            let stale = now.duration_since(r.updated_at).as_secs() >= 30;
            let (arrow, chg, pct, color) = match r.change() {
                Some((a, p)) if a > 0.0 => (
                    up,
                    format!("{a:+.2}"),
                    format!("{p:+.2}%"),
                    Some(Slot::Rise),
                ),
                Some((a, p)) if a < 0.0 => (
                    down,
                    format!("{a:+.2}"),
                    format!("{p:+.2}%"),
                    Some(Slot::Fall),
                ),
                Some(_) => ("=", "0.00".into(), "0.00%".into(), None),
                None => (" ", String::new(), String::new(), None),
            };
            let color = color.map_or(Style::new(), |c| t.style(c));
            let mut cells = vec![
                Cell::from(t.name(&r.key, key_w)),
                Cell::from(match r.value {
                    Some(v) => format!("{v:.precision$}"),
                    None => terminal_safe(&r.text).into_owned(),
                }),
                Cell::from(format!("{arrow} {chg}")).style(color),
                Cell::from(pct).style(color),
                Cell::from(sparkline(r.history.iter().copied(), spark_w, t.levels())),
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
            if red.contains(&r.key) {
                row.style(t.style(Slot::Alert))
            } else if stale {
                row.style(t.style(Slot::Dim))
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(key_w as u16),
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
        .header(Row::new(header).style(t.style(Slot::Heading)))
        .block(block)
        .row_highlight_style(t.style(Slot::Selected));
    let mut ts = TableState::default();
    if focused && !ticker.is_empty() {
        ts.select(Some(state.selected.min(ticker.len() - 1)));
    }
    frame.render_stateful_widget(table, area, &mut ts);
}

/// One log line. `width` is the pane's: the channel and the event share a third of it each.
fn log_line(state: &State, l: &LogLine, width: u16) -> Line<'static> {
    let t = &state.theme;
    let shown = (usize::from(width).saturating_sub(14) / 3).clamp(MIN_SHOWN, MAX_SHOWN);
    let mut spans = vec![
        Span::styled(clock(l.time), t.style(Slot::Dim)),
        Span::raw(" "),
        Span::styled(t.name(&l.channel, shown), t.style(Slot::Channel)),
        Span::raw(" "),
        Span::styled(t.name(&l.event, shown), t.style(Slot::Event)),
        Span::raw(" "),
    ];
    if l.unbound {
        let mark = match state
            .hints
            .get(state.connections.unlabelled(&l.channel), &l.event)
        {
            Some(h) => format!("[unbound {} {}] ", t.dash(), terminal_safe(&h.short)),
            None => "[unbound] ".into(),
        };
        spans.push(Span::styled(mark, t.style(Slot::Unbound)));
    }
    spans.extend(highlighted(state, &l.text));
    let line = Line::from(spans);
    match &state.search {
        Some(needle) if contains_ci(l, needle) => line.style(state.theme.style(Slot::Found)),
        _ => line,
    }
}

/// The text with what the search and the filter's words matched picked out.
fn highlighted(state: &State, text: &str) -> Vec<Span<'static>> {
    let words = state.search.as_deref().into_iter();
    let words = words.chain(state.filter.iter().flat_map(|f| f.words()));
    let mut hits: Vec<std::ops::Range<usize>> = words.flat_map(|w| find_ci(text, w, 16)).collect();
    hits.sort_by_key(|r| r.start);
    let mut spans = Vec::new();
    let mut at = 0;
    for r in hits {
        if r.start < at {
            continue;
        }
        if r.start > at {
            spans.push(Span::raw(terminal_safe(&text[at..r.start]).into_owned()));
        }
        spans.push(Span::styled(
            terminal_safe(&text[r.clone()]).into_owned(),
            state.theme.style(Slot::Match),
        ));
        at = r.end;
    }
    if at < text.len() || spans.is_empty() {
        spans.push(Span::raw(terminal_safe(&text[at..]).into_owned()));
    }
    spans
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
            let line = log_line(state, &log[p], area.width.saturating_sub(2));
            if focused && Some(start + k) == selected && state.log_selected.is_some() {
                line.style(state.theme.style(Slot::Selected))
            } else {
                line
            }
        })
        .collect();
    let dot = state.theme.dot();
    let mut title = format!(" log {dot} {} lines ", log.len());
    if log.evicted > 0 {
        title.push_str(&format!("{dot} {} over --log-bytes ", log.evicted));
    }
    if let Some(f) = &state.filter {
        title.push_str(&format!(
            "{dot} filter: {} ({} shown) {dot} Esc clears ",
            terminal_safe(&f.text),
            positions.len()
        ));
    }
    if let Some(s) = &state.search {
        title.push_str(&format!("{dot} /{} ", terminal_safe(s)));
    }
    if state.log_selected.is_some() {
        title.push_str(&format!("{dot} G follows "));
    }
    let block = state.theme.pane(title, focused);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
