//! The view: pure functions from the screen to a ratatui `Frame`, between the kit's status
//! bar and key hints; the status bar's parts; and where a mouse event lands. Every string
//! from the wire goes through `terminal_safe`; with NO_COLOR the meaning stays in ▲▼, bold
//! and reverse. Connection labels are put before names here, as they are drawn.

use std::time::Instant;

use ratatui::Frame;
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::actions::Action;
use super::controls::{Focus, Overlay};
use super::filter::{contains_ci, find_ci};
use super::line::LogLine;
use super::screen::{Source, Watch};
use super::ticker::{Changed, Row as TickerRow};
use super::{connection, overlays};
use crate::kit::theme::age;
use crate::kit::{Areas, Chrome, Part, Slot, Theme};
use crate::widgets::{alerts, log};
use client::{ConnectionState, SubscriptionStatus};
use observe::output::lines::clock;
use protocol::safe_text::terminal_safe;

/// Below this, widgets break: the kit shows a message instead.
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

/// The ticker band less the alert strip and the refusal: (strip, refusal, ticker).
fn bands(w: &Watch, ticker: Rect, now: Instant) -> (Option<Rect>, Option<Rect>, Rect) {
    let lines = strip_lines(w, now);
    let (strip, ticker) = alerts::split(lines.len(), ticker, 4);
    let (banner, ticker) = connection::split(w.model.refused(), ticker);
    (strip, banner, ticker)
}

fn strip_lines(w: &Watch, now: Instant) -> Vec<(Slot, String)> {
    w.model.alerts.strip.lines(now, |a| a.id.subject.clone())
}

/// The body: the alert strip, the refusal, the ticker (or the counts), the log and the
/// side panes; then what is open over them.
pub(super) fn draw(
    frame: &mut Frame,
    w: &Watch,
    areas: Areas,
    chrome: &Chrome<'_, Action>,
    now: Instant,
) {
    let t = chrome.theme;
    let [_, ticker, log, _] = layout(areas.full);
    let (ticker, log) = main_panes(w, ticker, log);
    let (strip, banner, ticker) = bands(w, ticker, now);
    // No ticker: the alert strip and the refusal go over the log; nothing bound, under
    // them, one line on how to bind.
    let log = if ticker.height == 0 {
        let (strip, rest) = alerts::split(strip_lines(w, now).len(), log, 4);
        if let Some(strip) = strip {
            alerts::draw(frame, &strip_lines(w, now), t, strip);
        }
        let (banner, rest) = connection::split(w.model.refused(), rest);
        if let (Some(banner), Some(text)) = (banner, w.model.refused()) {
            connection::draw(frame, text, t, banner);
        }
        if !w.log_only() {
            rest
        } else {
            let [hint, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(rest);
            frame.render_widget(
                ratatui::widgets::Paragraph::new(terminal_safe(&bind_hint(w, t)).into_owned())
                    .style(t.style(Slot::Dim)),
                hint,
            );
            rest
        }
    } else {
        log
    };
    if let Some(strip) = strip {
        alerts::draw(frame, &strip_lines(w, now), t, strip);
    }
    if let (Some(banner), Some(text)) = (banner, w.model.refused()) {
        connection::draw(frame, text, t, banner);
    }
    // Received webhooks have no ticker: their counts by channel take its place.
    let receiving = matches!(w.source, Source::Receiving(_));
    let model = &w.model;
    // A right-hand column for presence members and per-event counts, when there is something
    // to show there: members, a `count` binding, a wide terminal, or a silent channel. It
    // sits beside the log, or beside the ticker when the log is hidden; `3` hides it.
    let show_events = !receiving
        && ((!model.counts.is_empty() && (model.counting || areas.full.width >= 120))
            || model.silence.any_silent(now));
    let members = !model.members.is_empty();
    let side_by = |pane: Rect| {
        if (!members && !show_events) || w.ui.hidden.side || pane.height == 0 {
            (pane, None)
        } else {
            let [pane, side] =
                Layout::horizontal([Constraint::Min(30), Constraint::Length(28)]).areas(pane);
            (pane, Some(side))
        }
    };
    let (log, side) = side_by(log);
    let (ticker, side) = match side {
        Some(side) => (ticker, Some(side)),
        None if log.height == 0 => side_by(ticker),
        None => (ticker, None),
    };
    if ticker.height > 0 {
        if receiving {
            overlays::draw_events(frame, w, t, ticker, now);
        } else {
            draw_ticker(frame, w, t, now, ticker);
        }
    }
    if log.height > 0 {
        draw_log(frame, w, chrome, log);
    }
    if let Some(side) = side {
        match (members, show_events) {
            (true, true) => {
                let [members, events] =
                    Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
                        .areas(side);
                overlays::draw_members(frame, w, t, members);
                overlays::draw_events(frame, w, t, events, now);
            }
            (true, false) => overlays::draw_members(frame, w, t, side),
            (false, _) => overlays::draw_events(frame, w, t, side, now),
        }
    }
    // Overlays cover all but the key hints; the form floats in the middle.
    match &w.ui.overlay {
        Some(Overlay::Chart(key)) => overlays::draw_chart(frame, w, t, areas.above, key, now),
        Some(Overlay::Inspect {
            seq,
            scroll,
            cursor,
        }) => overlays::draw_inspect(frame, w, chrome, areas.above, *seq, (*scroll, *cursor)),
        Some(Overlay::Form(form)) => overlays::draw_form(frame, t, areas.full, form),
        Some(Overlay::Input(..)) | None => {}
    }
}

/// The ticker's band and the log's, as shown: nothing bound (or the ticker hidden), the log
/// takes the ticker's room; the log hidden, the ticker takes the log's. A hidden pane is an
/// empty rectangle.
fn main_panes(w: &Watch, ticker: Rect, log: Rect) -> (Rect, Rect) {
    let both = ticker.union(log);
    if w.log_only() || w.ui.hidden.ticker {
        (
            Rect {
                height: 0,
                ..ticker
            },
            both,
        )
    } else if w.ui.hidden.log {
        (
            both,
            Rect {
                y: both.bottom(),
                height: 0,
                ..log
            },
        )
    } else {
        (ticker, log)
    }
}

/// The line over the log when nothing is bound: how to bind, with a rule for the latest
/// event when its data has an obvious key (its first text field) and value (its first
/// number field).
fn bind_hint(w: &Watch, t: &Theme) -> String {
    let dot = t.dot();
    let latest = (0..w.model.log.len())
        .rev()
        .map(|i| &w.model.log[i].line)
        .find(|l| !l.is_notice());
    let suggestion = latest.and_then(|l| {
        let data = l.value()?.as_object()?;
        let key = data.iter().find(|(_, v)| v.is_string()).map(|(k, _)| k)?;
        let value = data.iter().find(|(_, v)| v.is_number()).map(|(k, _)| k)?;
        let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        (plain(&l.event) && plain(key) && plain(value))
            .then(|| format!("--bind '{}=ticker(key={key},value={value})'", l.event))
    });
    match suggestion {
        Some(rule) => format!(" no ticker: nothing is bound {dot} try {rule}"),
        None => {
            format!(" no ticker: nothing is bound {dot} --bind 'EVENT=ticker(key=PATH,value=PATH)'")
        }
    }
}

/// Turns a mouse event in the body into a wheel turn or a click on the pane under it.
pub(super) fn on_mouse(w: &mut Watch, m: MouseEvent, body: Rect) {
    let full = Rect {
        y: body.y.saturating_sub(1),
        height: body.height + 2,
        ..body
    };
    let [_, ticker, log, _] = layout(full);
    let (ticker, log) = main_panes(w, ticker, log);
    let (_, _, ticker) = bands(w, ticker, Instant::now());
    let inside = |r: Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    let pane = if inside(ticker) {
        Focus::Ticker
    } else if inside(log) {
        Focus::Log
    } else {
        return;
    };
    match m.kind {
        MouseEventKind::ScrollDown => w.wheel(pane, 3),
        MouseEventKind::ScrollUp => w.wheel(pane, -3),
        MouseEventKind::Down(MouseButton::Left) => {
            // Below the border and the header row.
            let row = (pane == Focus::Ticker && m.row >= ticker.y + 2)
                .then(|| (m.row - ticker.y - 2) as usize);
            w.click(pane, row);
        }
        _ => {}
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

fn draw_ticker(frame: &mut Frame, w: &Watch, t: &Theme, now: Instant, area: Rect) {
    let ticker = w.shown_ticker();
    let focused = w.ui.focus == Focus::Ticker;
    let dot = t.dot();
    let mut title = format!(
        " ticker {dot} {} keys {dot} sort {} ",
        ticker.len(),
        w.ui.sort.label()
    );
    if ticker.evicted > 0 {
        title.push_str(&format!("{dot} {} evicted ", ticker.evicted));
    }
    if ticker.missing > 0 {
        title.push_str(&format!("{dot} {} missing field ", ticker.missing));
    }
    let mut block = t.pane(title, focused);
    // Columns by priority: the narrow terminal keeps the first ones.
    let wide = area.width >= 100;
    // CHANGED is the first column dropped: narrower, the selected row's changes go in the
    // pane's bottom border instead.
    let changed = !w.ui.hidden.changed;
    let spark_w = if wide { 24 } else { 12 };
    let (up, down) = t.arrows();
    let sorted = ticker.sorted(w.ui.sort);
    let red = w.model.alerts.red_keys();
    let connections = &w.model.connections;
    let shown = |r: &TickerRow| connections.shown(Some(r.key.0), &r.key.1).into_owned();
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
    let longest = sorted
        .iter()
        .map(|r| shown(r).chars().count())
        .max()
        .unwrap_or(0);
    // CHANGED takes what the keys leave, when that is at least MIN_CHANGED.
    let changed_w = match changed && wide {
        true => Some(room.saturating_sub(longest.clamp(3, 24) as u16 + 1))
            .filter(|w| *w >= MIN_CHANGED)
            .map(|w| w.min(MAX_CHANGED_W)),
        false => None,
    };
    let key_room = room.saturating_sub(changed_w.map_or(0, |w| w + 1)).max(8);
    let key_w = longest.clamp(3, usize::from(key_room));
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
                Cell::from(t.name(&shown(r), key_w)),
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
            if let Some(width) = changed_w {
                cells.push(
                    Cell::from(changed_text(t, &r.changed, usize::from(width)))
                        .style(t.style(Slot::Dim)),
                );
            }
            let row = Row::new(cells);
            if red.contains(r.key.1.as_str()) {
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
    if let Some(width) = changed_w {
        widths.push(Constraint::Length(width));
        header.push("CHANGED");
    }
    let selected_row = w.ui.selected.min(ticker.len().saturating_sub(1));
    if changed && changed_w.is_none() && focused {
        let text = ticker
            .sorted(w.ui.sort)
            .get(selected_row)
            .map(|r| changed_text(t, &r.changed, usize::from(area.width.saturating_sub(16))))
            .unwrap_or_default();
        if !text.is_empty() {
            block = block.title_bottom(Line::styled(
                format!(" changed: {text} "),
                t.style(Slot::Dim),
            ));
        }
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.style(Slot::Heading)))
        .block(block)
        .row_highlight_style(t.style(Slot::Selected));
    let mut ts = TableState::default();
    if focused && !ticker.is_empty() {
        ts.select(Some(selected_row));
    }
    frame.render_stateful_widget(table, area, &mut ts);
}

/// Narrowest CHANGED column shown; below it the column is dropped.
const MIN_CHANGED: u16 = 12;
/// Widest CHANGED column.
const MAX_CHANGED_W: u16 = 40;

/// A row's changed paths, comma-separated, cut to `width` with the theme's ellipsis and
/// `+N` for the paths not listed; `?` when the data was too large to compare.
fn changed_text(t: &Theme, changed: &Changed, width: usize) -> String {
    let (paths, more) = match changed {
        Changed::Nothing => return String::new(),
        Changed::TooLarge => return "? (too large to compare)".to_owned(),
        Changed::Paths(paths, more) => (paths, *more),
    };
    let more = match more {
        0 => String::new(),
        n => format!(" +{n}"),
    };
    let list = terminal_safe(&paths.join(", ")).into_owned();
    let room = width.saturating_sub(more.chars().count());
    format!("{}{more}", t.clip(&list, room))
}

/// One log line. `width` is the pane's: the channel and the event share a third of it each.
fn log_line(w: &Watch, t: &Theme, l: &LogLine, width: u16) -> Line<'static> {
    let connections = &w.model.connections;
    let label = connections.label(l.conn);
    let shown = (usize::from(width).saturating_sub(14) / 3).clamp(MIN_SHOWN, MAX_SHOWN);
    let channel = connections.shown(l.conn, &l.channel);
    let mut spans = vec![
        Span::styled(clock(l.time), t.style(Slot::Dim)),
        Span::raw(" "),
        Span::styled(t.name(&channel, shown), t.style(Slot::Channel)),
        Span::raw(" "),
        Span::styled(t.name(&l.event, shown), t.style(Slot::Event)),
        Span::raw(" "),
    ];
    if l.is_unbound() {
        let mark = match w.model.hints.get(&l.channel, &l.event) {
            Some(h) => format!("[unbound {} {}] ", t.dash(), terminal_safe(&h.short)),
            None => "[unbound] ".into(),
        };
        spans.push(Span::styled(mark, t.style(Slot::Unbound)));
    }
    spans.extend(highlighted(w, t, &l.text));
    let line = Line::from(spans);
    match &w.ui.search {
        Some(needle) if contains_ci(l, label, needle) => line.style(t.style(Slot::Found)),
        _ => line,
    }
}

/// The text with what the search and the filter's words matched picked out.
fn highlighted(w: &Watch, t: &Theme, text: &str) -> Vec<Span<'static>> {
    let words = w.ui.search.as_deref().into_iter();
    let words = words.chain(w.ui.filter.iter().flat_map(|f| f.words()));
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
            t.style(Slot::Match),
        ));
        at = r.end;
    }
    if at < text.len() || spans.is_empty() {
        spans.push(Span::raw(terminal_safe(&text[at..]).into_owned()));
    }
    spans
}

fn draw_log(frame: &mut Frame, w: &Watch, chrome: &Chrome<'_, Action>, area: Rect) {
    let t = chrome.theme;
    let model = &w.model;
    let focused = w.ui.focus == Focus::Log;
    let positions = w.log_positions();
    let selected = w.selected_index(&positions);
    let rows = area.height.saturating_sub(2) as usize;
    let window = log::window(positions.len(), selected, rows);
    let start = window.start;
    let lines: Vec<Line> = positions[window]
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let line = log_line(w, t, &model.log[p].line, area.width.saturating_sub(2));
            if focused && Some(start + k) == selected && w.ui.log_selected.is_some() {
                line.style(t.style(Slot::Selected))
            } else {
                line
            }
        })
        .collect();
    let mut extra = Vec::new();
    if let Some(f) = &w.ui.filter {
        let errors = match f.errors() {
            (0, _) => String::new(),
            (n, _) => format!(", {n} errors"),
        };
        extra.push(format!(
            "filter: {} ({} shown{errors}) {} Esc clears",
            terminal_safe(&f.text),
            positions.len(),
            t.dot()
        ));
    }
    if let Some(s) = &w.ui.search {
        extra.push(format!("/{}", terminal_safe(s)));
    }
    if w.ui.log_selected.is_some()
        && let Some(key) = chrome.keymap.first(Action::Bottom, t.ascii)
    {
        extra.push(format!("{key} follows"));
    }
    let title = log::title(t, model.log.len(), model.log.dropped(), &extra);
    log::draw(frame, area, t, title, lines, focused);
}

/// The status bar's parts, most important first; the kit drops those that do not fit.
pub(super) fn status(w: &Watch, t: &Theme, now: Instant, width: u16) -> Vec<Part> {
    let model = &w.model;
    let s = &model.status;
    let connections = &model.connections;
    let ascii = t.ascii;
    let mut parts: Vec<Part> = Vec::new();
    // Read-only is said first of all, and never dropped for room.
    let readonly = w
        .readonly()
        .then(|| Part::new(0, Span::styled("READ-ONLY", t.style(Slot::Warning))));
    match &w.source {
        // Not a connection: what is received, and where.
        Source::Receiving(what) => parts.push(Part::new(
            0,
            Span::styled(what.clone(), t.style(Slot::Connected)),
        )),
        // A recording: its states are history, in no connection's colour, with no countdown.
        Source::Replay => {
            parts.push(Part::new(0, Span::styled("REPLAY", t.style(Slot::Paused))));
            if connections.is_multi() {
                let shown = connections.parts(t, ascii, now, true);
                parts.extend(shown.into_iter().map(|p| Part::new(0, p)));
            } else {
                parts.push(Part::raw(0, format!("recorded {}", s.state)));
            }
        }
        Source::Live if connections.is_multi() => {
            // Each connection's own state; compact (label and mark) when the full ones would
            // take more than half the line.
            let full = connections.parts(t, ascii, now, false);
            let wide: usize = full.iter().map(|p| p.width() + 3).sum();
            let shown = if wide * 2 > width as usize {
                connections.parts(t, ascii, now, true)
            } else {
                full
            };
            parts.extend(shown.into_iter().map(|p| Part::new(0, p)));
        }
        Source::Live => {
            let conn_style = t.style(match s.state {
                ConnectionState::Connected => Slot::Connected,
                ConnectionState::Connecting | ConnectionState::Initialized => Slot::Connecting,
                _ => Slot::Disconnected,
            });
            let mut conn = s.state.to_string();
            if let Some(at) = s.retry_at.filter(|at| *at > now) {
                conn.push_str(&format!(
                    " (retry in {:.0}s)",
                    (at - now).as_secs_f32().ceil()
                ));
            }
            parts.push(Part::new(0, Span::styled(conn, conn_style)));
        }
    }
    // The kit keeps the first part whatever the width.
    parts.splice(0..0, readonly);
    if let Some(flash) = &w.ui.flash {
        parts.insert(
            usize::from(w.readonly()),
            Part::new(0, Span::styled(flash.clone(), t.style(Slot::Heading))),
        );
    }
    if let Some(since) = w.paused_since() {
        parts.push(Part::new(
            0,
            Span::styled(format!("paused +{since}"), t.style(Slot::Paused)),
        ));
    }
    let (mut sub, mut pend, mut fail) = (0, 0, 0);
    for st in s.channels.values() {
        match st.0 {
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
    if !matches!(w.source, Source::Receiving(_)) {
        let style = if fail > 0 {
            t.style(Slot::Error)
        } else {
            Style::new()
        };
        parts.push(Part::new(1, Span::styled(channels, style)));
    }
    parts.push(Part::raw(1, format!("{:.1}/s", s.rate(now))));
    parts.push(Part::raw(2, format!("{} msgs", s.total)));
    if s.unbound > 0 {
        parts.push(Part::new(
            2,
            Span::styled(format!("{} unbound", s.unbound), t.style(Slot::Warning)),
        ));
    }
    if s.dropped > 0 {
        parts.push(Part::new(
            2,
            Span::styled(format!("{} dropped", s.dropped), t.style(Slot::Fall)),
        ));
    }
    let not_kept = model.names_not_kept();
    if not_kept > 0 {
        parts.push(Part::new(
            3,
            Span::styled(format!("{not_kept} names not kept"), t.style(Slot::Warning)),
        ));
    }
    if let Some((_, lat)) = model.latency_summary() {
        parts.push(Part::raw(
            2,
            format!(
                "lat p50 {:.0} p99 {:.0} max {:.0}ms",
                lat.p50, lat.p99, lat.max
            ),
        ));
    }
    if let Some(rtt) = s.rtt {
        parts.push(Part::raw(
            3,
            format!("rtt {:.0}ms", rtt.as_secs_f64() * 1e3),
        ));
    }
    // With several connections these are the last one's to speak: left to the log.
    let single = !connections.is_multi();
    if let Some(id) = s.socket_id.as_ref().filter(|_| single) {
        parts.push(Part::raw(4, format!("socket {}", t.name(id, 32))));
    }
    let host = s.url.split('?').next().unwrap_or("").to_owned();
    if !host.is_empty() && single {
        parts.push(Part::raw(5, terminal_safe(&host).into_owned()));
    }
    if let Some(r) = s.reason.as_ref().filter(|_| single) {
        parts.push(Part::raw(1, t.name(r, 60)));
    }
    parts
}
