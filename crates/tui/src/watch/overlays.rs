//! What opens over the main screen (the inspect view, a ticker row's chart, the trigger
//! form), and the side panes (members, and the events by channel). Pure drawing, like
//! `view.rs`.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::actions::Action;
use super::form::{FIELDS, Form};
use super::screen::Watch;
use super::ticker::RowKey;
use super::values;
use crate::kit::theme::age;
use crate::kit::{Chrome, Slot, Theme};
use observe::output::lines::clock;
use protocol::safe_text::terminal_safe;

/// Presence members: id and info, per channel.
pub(super) fn draw_members(frame: &mut Frame, w: &Watch, t: &Theme, area: Rect) {
    let connections = &w.model.connections;
    let mut lines = Vec::new();
    let mut total = 0;
    for ((conn, channel), members) in w.model.members.iter() {
        total += members.len();
        let channel = connections.shown(Some(*conn), channel);
        let mut count = members.len().to_string();
        if members.dropped() > 0 {
            count.push_str(&format!(", {} not listed", members.dropped()));
        }
        lines.push(Line::styled(
            format!("{} ({count})", t.name(&channel, 20)),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (id, info) in members.iter() {
            lines.push(Line::raw(format!(
                " {} {}",
                t.name(id, 16),
                t.name(info, 40)
            )));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(t.pane(format!(" members {} {total} ", t.dot()), false)),
        area,
    );
}

/// A ticker row's history as a chart, with its recent raw values.
pub(super) fn draw_chart(
    frame: &mut Frame,
    w: &Watch,
    t: &Theme,
    area: Rect,
    key: &RowKey,
    now: Instant,
) {
    let dot = t.dot();
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let Some(row) = w.shown_ticker().get(key) else {
        return;
    };
    let shown = w.model.connections.shown(Some(key.0), &key.1);
    let points: Vec<(f64, f64)> = row
        .history
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, *v))
        .collect();
    let (min, max) = row
        .history
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let (min, max) = if min.is_finite() && max > min {
        (min, max)
    } else if min.is_finite() {
        (min - 1.0, min + 1.0)
    } else {
        (0.0, 1.0)
    };
    let [chart_area, values_area] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(16)]).areas(area);
    let title = format!(
        " {} {dot} {} values {dot} {} updates {dot} Esc closes ",
        t.name(&shown, 40),
        row.history.len(),
        row.updates
    );
    frame.render_widget(Clear, area);
    let block = t.pane(title, true);
    if t.ascii {
        // ratatui's markers and axes are not ASCII: plot with `*`, `|` and `-`.
        let inner = block.inner(chart_area);
        let values: Vec<f64> = row.history.iter().copied().collect();
        let plot = ascii_plot(&values, (min, max), inner.width, inner.height);
        let plot = plot.into_iter().map(Line::raw).collect::<Vec<_>>();
        frame.render_widget(
            Paragraph::new(plot)
                .style(t.style(Slot::Chart))
                .block(block),
            chart_area,
        );
    } else {
        let dataset = Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.style(Slot::Chart))
            .data(&points);
        let chart = Chart::new(vec![dataset])
            .block(block)
            .x_axis(Axis::default().bounds([0.0, (points.len().max(2) - 1) as f64]))
            .y_axis(
                Axis::default()
                    .bounds([min, max])
                    .labels([format!("{min:.2}"), format!("{max:.2}")]),
            );
        frame.render_widget(chart, chart_area);
    }
    let recent: Vec<Line> = row
        .history
        .iter()
        .rev()
        .take(values_area.height as usize)
        .map(|v| Line::raw(format!("{v:.2}")))
        .collect();
    let age = age(now.duration_since(row.updated_at));
    frame.render_widget(
        Paragraph::new(recent).block(t.pane(format!(" last {dot} {age} "), false)),
        values_area,
    );
}

/// `values` as lines of ASCII `width` by `height`: the max and min labels left of a `|`
/// axis, a `-` axis below, and a `*` where the line through the values crosses each column.
fn ascii_plot(values: &[f64], (min, max): (f64, f64), width: u16, height: u16) -> Vec<String> {
    let (top, bottom) = (format!("{max:.2}"), format!("{min:.2}"));
    let label_w = top.len().max(bottom.len());
    let plot_w = usize::from(width).saturating_sub(label_w + 1);
    let plot_h = usize::from(height).saturating_sub(1);
    if plot_w == 0 || plot_h == 0 {
        return Vec::new();
    }
    let mut grid = vec![vec![' '; plot_w]; plot_h];
    let last = values.len().saturating_sub(1);
    for (x, column) in (0..plot_w).map(|x| (x, x as f64 / (plot_w.max(2) - 1) as f64)) {
        // The value where the line between the two nearest values crosses this column.
        let at = column * last as f64;
        let (i, frac) = (at.floor() as usize, at.fract());
        let Some(&a) = values.get(i) else { continue };
        let v = values.get(i + 1).map_or(a, |&b| a + (b - a) * frac);
        let level = ((max - v) / (max - min) * (plot_h - 1) as f64).round();
        let y = (level.max(0.0) as usize).min(plot_h - 1);
        grid[y][x] = '*';
    }
    let mut lines: Vec<String> = grid
        .into_iter()
        .enumerate()
        .map(|(y, row)| {
            let label = match y {
                0 => top.as_str(),
                y if y == plot_h - 1 => bottom.as_str(),
                _ => "",
            };
            format!("{label:>label_w$}|{}", row.into_iter().collect::<String>())
        })
        .collect();
    lines.push(format!("{:label_w$}+{}", "", "-".repeat(plot_w)));
    lines
}

/// The selected log line in full: when, where and how late it came, each on its own line,
/// then the data pretty-printed (wrapped, so long text is not cut) with the value cursor on
/// one of its values, and the raw frame. The view follows the cursor; the diff (`d`)
/// scrolls by `scroll`.
pub(super) fn draw_inspect(
    frame: &mut Frame,
    w: &Watch,
    chrome: &Chrome<'_, Action>,
    area: Rect,
    seq: u64,
    (scroll, cursor): (u16, usize),
) {
    let t = chrome.theme;
    let dot = t.dot();
    let Some(line) = w.line(seq) else { return };
    let channel = w.model.connections.shown(line.conn, &line.channel);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    // The keys as the keymap has them now.
    let key = |a: Action| chrome.keymap.first(a, t.ascii).unwrap_or_default();
    let view = if w.ui.diff { "event" } else { "diff" };
    let mut block = t.pane(
        format!(
            " event {dot} {} {view} {dot} {} copy {dot} Esc closes ",
            key(Action::Diff),
            key(Action::Copy)
        ),
        true,
    );
    let inner = block.inner(left);
    let room = usize::from(inner.width).saturating_sub(9);
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<9}"), t.style(Slot::Dim)),
            Span::raw(value),
        ])
    };
    let mut head = vec![
        field("time", clock(line.time)),
        field("channel", t.name(&channel, room)),
        field("event", t.name(&line.event, room)),
    ];
    if let Some(ms) = line.latency_ms() {
        head.push(field("latency", format!("{ms:.1} ms")));
    }
    // An unbound event says so, with its hint in full (wrapped).
    let mut head_rows = head.len() + 1;
    if line.is_unbound() {
        let text = match w.model.hints.get(&line.channel, &line.event) {
            Some(h) => format!("unbound {} {}", t.dash(), terminal_safe(&h.text)),
            None => "unbound: no binding matches".into(),
        };
        head_rows += (9 + text.chars().count()).div_ceil(usize::from(inner.width.max(1)));
        head.push(Line::from(vec![
            Span::styled(format!("{:<9}", "binding"), t.style(Slot::Dim)),
            Span::styled(text, t.style(Slot::Unbound)),
        ]));
    }
    head.push(Line::raw(""));
    let head_rows = (head_rows as u16).min(inner.height / 2 + 1);
    let [head_area, data_area] =
        Layout::vertical([Constraint::Length(head_rows), Constraint::Min(0)]).areas(inner);
    let mut value_path = None;
    let (text, scroll) = match (w.ui.diff, line.inspectable()) {
        (true, _) => (diff_lines(w, t, seq), scroll),
        (false, Some(data)) => {
            let shown = values::lines(data);
            let stops = values::stops(&shown);
            let at = stops.get(cursor.min(stops.len().saturating_sub(1)));
            if let Some((_, (path, _))) = at {
                value_path = Some(format!(
                    " {} {dot} {} path ",
                    terminal_safe(path),
                    key(Action::CopyPath)
                ));
            }
            let selected = at.map(|(i, _)| *i);
            // Rows each line takes, wrapped: the cursor's line is kept in view, mid-pane.
            let width = usize::from(data_area.width.max(1));
            let rows = |l: &values::ValueLine| l.text.chars().count().div_ceil(width).max(1);
            let above: usize = shown.iter().take(selected.unwrap_or(0)).map(rows).sum();
            let follow = above.saturating_sub(usize::from(data_area.height / 2));
            let lines = shown
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let text = Line::raw(terminal_safe(&l.text).into_owned());
                    match Some(i) == selected {
                        true => text.style(t.style(Slot::Selected)),
                        false => text,
                    }
                })
                .collect();
            (lines, u16::try_from(follow).unwrap_or(u16::MAX))
        }
        (false, None) => (
            line.pretty()
                .lines()
                .map(|l| Line::raw(terminal_safe(l).into_owned()))
                .collect(),
            scroll,
        ),
    };
    // What a key just did (inspect covers the status bar), else the cursor's path.
    let said = match &w.ui.flash {
        Some(flash) => Some(format!(" {} ", terminal_safe(flash))),
        None => value_path,
    };
    if let Some(said) = said {
        let room = usize::from(left.width.saturating_sub(4));
        block = block.title_bottom(Line::styled(
            t.clip(&said, room).into_owned(),
            t.style(Slot::Heading),
        ));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(block, left);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        data_area,
    );
    let raw = super::names::bounded(line.raw(), super::line::MAX_RAW, t.ellipsis());
    let raw = Paragraph::new(terminal_safe(&raw).into_owned())
        .wrap(Wrap { trim: false })
        .block(t.pane(" raw frame ".into(), false))
        .scroll((scroll, 0));
    frame.render_widget(raw, right);
}

/// The diff against the previous event: `~ path before → after`, `+ path value`, `- path
/// value`, coloured when colour is on; the marks say it without.
fn diff_lines(w: &Watch, t: &Theme, seq: u64) -> Vec<Line<'static>> {
    use super::diff::Against;
    use observe::diff::Kind;
    match w.diff_of(seq) {
        Against::Nothing(why) => vec![Line::styled(why, t.style(Slot::Dim))],
        Against::Previous(prev, changes, more) => {
            let when = w.line(prev).map_or(String::new(), |l| clock(l.time));
            let mut lines = vec![Line::styled(
                format!(
                    "against the previous one, {when} ({} lines earlier)",
                    seq.saturating_sub(prev)
                ),
                t.style(Slot::Dim),
            )];
            if changes.is_empty() {
                lines.push(Line::raw("no change"));
            }
            let arrow = if t.ascii { "->" } else { "→" };
            for c in changes {
                let slot = match c.kind {
                    Kind::Added => Slot::Rise,
                    Kind::Removed => Slot::Fall,
                    Kind::Changed => Slot::Warning,
                };
                let value = match (&c.before, &c.after) {
                    (Some(b), Some(a)) => format!("{b} {arrow} {a}"),
                    (Some(v), None) | (None, Some(v)) => v.clone(),
                    (None, None) => String::new(),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{} ", c.kind.mark()), t.style(slot)),
                    Span::styled(terminal_safe(&c.path).into_owned(), t.style(slot)),
                    Span::raw(format!(" {}", terminal_safe(&value))),
                ]));
            }
            if more > 0 {
                lines.push(Line::styled(
                    format!("{more} more changes not listed"),
                    t.style(Slot::Dim),
                ));
            }
            lines
        }
    }
}

/// The trigger form (`t`): three fields, the focused one reversed, the error under them.
pub(super) fn draw_form(frame: &mut Frame, t: &Theme, area: Rect, form: &Form) {
    let width = 70.min(area.width);
    let height = 9.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let mut lines = Vec::new();
    for (i, name) in FIELDS.iter().enumerate() {
        let mut value = terminal_safe(&form.values[i]).into_owned();
        let style = if i == form.focus {
            value.push_str(t.cursor());
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{name:>8} "),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(value, style),
        ]));
    }
    lines.push(Line::raw(""));
    match &form.error {
        Some(e) => lines.push(Line::styled(
            terminal_safe(e).into_owned(),
            t.style(Slot::Error),
        )),
        None => lines.push(Line::styled(
            "client-* events go over the socket; others through the REST API",
            Style::new().add_modifier(Modifier::DIM),
        )),
    }
    let dot = t.dot();
    let block = t.pane(
        match &form.via {
            Some(label) => format!(
                " trigger via {} {dot} Tab next field {dot} Enter send {dot} Esc cancel ",
                t.name(label, 24)
            ),
            None => format!(" trigger {dot} Tab next field {dot} Enter send {dot} Esc cancel "),
        },
        true,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// Every event type seen, by connection and channel: how many, and how long since the last
/// one.
pub(super) fn draw_events(frame: &mut Frame, w: &Watch, t: &Theme, area: Rect, now: Instant) {
    let model = &w.model;
    let connections = &model.connections;
    let mut lines = Vec::new();
    let room = usize::from(area.width.saturating_sub(2));
    // Names get half the width, or what a side column gives them.
    let (channel_width, event_width) = (16.max(room / 2), 14.max(room / 2));
    let silent = |c: &str, d| {
        Line::styled(
            format!(
                "{}: silent {}",
                t.name(c, event_width),
                super::silence::length(d)
            ),
            t.style(Slot::Warning),
        )
    };
    // Events of types past the cap first: the pane does not show everything.
    let uncounted = model.uncounted();
    if uncounted > 0 {
        lines.push(Line::styled(
            format!("{uncounted} not counted (too many names)"),
            t.style(Slot::Warning),
        ));
    }
    // Subscribed channels with no event yet, then the others, each with its events.
    for ((conn, c), d) in model.silence.silent(now) {
        if !model
            .counts
            .keys()
            .any(|k| k.conn == *conn && k.channel == *c)
        {
            lines.push(silent(&connections.shown(Some(*conn), c), d));
        }
    }
    // Each channel's latest event, in one pass.
    let mut latest: std::collections::BTreeMap<(u8, &str), Instant> = Default::default();
    for (k, seen) in model.counts.iter() {
        let at = latest
            .entry((k.conn, k.channel.as_str()))
            .or_insert(seen.last);
        *at = (*at).max(seen.last);
    }
    let mut current: Option<(u8, &str)> = None;
    for (kind, seen) in model.counts.iter() {
        let here = (kind.conn, kind.channel.as_str());
        let shown = connections.shown(Some(kind.conn), &kind.channel);
        if current != Some(here) {
            current = Some(here);
            let key = (kind.conn, kind.channel.clone());
            if let Some(d) = model.silence.silent_for(&key, now) {
                lines.push(silent(&shown, d));
            } else {
                let ago = latest
                    .get(&here)
                    .map(|l| age(now.saturating_duration_since(*l)))
                    .unwrap_or_default();
                lines.push(Line::styled(
                    format!("{} {} {ago} ago", t.name(&shown, channel_width), t.dot()),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
            }
        }
        lines.push(Line::raw(format!(
            " {} {} {} {}",
            t.name(&kind.event, event_width),
            seen.count,
            t.dot(),
            age(now.saturating_duration_since(seen.last))
        )));
        if let Some(h) = model.hints.get(&kind.channel, &kind.event) {
            lines.push(Line::styled(
                format!(" {} {}", t.dash(), t.name(&h.pane, room.saturating_sub(3))),
                t.style(Slot::Unbound),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(t.pane(
            format!(" events {} {} ", t.dot(), model.counts.len()),
            false,
        )),
        area,
    );
}
