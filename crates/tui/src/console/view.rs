//! The console, drawn: pure, from a [`Console`] and the time. Between the kit's status bar
//! and key hints: the channel table (occupied channels, their subscribers and members,
//! sorted), then the log. An entry, a channel's detail or a prompt opens over them. Text
//! from the wire goes through the theme's `name` (cut, then `terminal_safe`).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table, Wrap};

use super::model::Entry;
use super::screen::{Action, Console, Overlay, Pane, PromptKind, RECENT};
use crate::kit::{Chrome, Part, Slot, Theme};
use crate::widgets::log;

/// Fields an entry's line leaves out (said elsewhere on it, or noise).
const QUIET: [&str; 6] = [
    "app",
    "channel",
    "event",
    "no_subscribers",
    "suggestions",
    "suggestions_skipped",
];

/// `12:04:05` (UTC).
pub(super) fn clock(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

pub(super) fn status(c: &Console, t: &Theme, now: Instant) -> Vec<Part> {
    let s = &c.snapshot;
    let mut parts = vec![Part::raw(0, t.name(&c.serving, 40))];
    // What a key just did (or why not) goes before the figures, and stays when narrow.
    if let Some((_, slot, text)) = &c.message {
        parts.push(Part::new(0, Span::styled(t.name(text, 60), t.style(*slot))));
    }
    parts.extend([
        Part::raw(
            1,
            format!(
                "{} connections (+{:.0}/s -{:.0}/s)",
                s.connections, c.rates.0, c.rates.1
            ),
        ),
        Part::raw(2, format!("{} channels", s.channels_total)),
    ]);
    if c.paused.is_some() {
        parts.push(Part::new(0, Span::styled("PAUSED", t.style(Slot::Paused))));
    }
    if c.readonly {
        parts.push(Part::raw(3, "read-only".into()));
    }
    if let Some(p) = &c.filter.0 {
        parts.push(Part::new(
            1,
            Span::styled(
                format!("filter: {}", t.name(&p.describe(), 30)),
                t.style(Slot::Match),
            ),
        ));
    }
    let _ = now;
    parts
}

pub(super) fn draw(
    frame: &mut Frame,
    c: &Console,
    areas: crate::kit::Areas,
    chrome: &Chrome<'_, Action>,
    now: Instant,
) {
    let t = chrome.theme;
    let area = areas.body;
    let prompt_h = u16::from(c.prompt.is_some());
    let rows = c.channels.len().max(1) as u16 + 3;
    let table_h = rows.min(area.height.saturating_sub(prompt_h) / 3).max(4);
    let [table, log_area, prompt] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Min(0),
        Constraint::Length(prompt_h),
    ])
    .areas(area);
    channels(frame, c, t, table);
    log_pane(frame, c, t, log_area);
    if let Some(p) = &c.prompt {
        let label = match p.kind {
            PromptKind::Filter => "filter: ".to_owned(),
            PromptKind::Trigger => format!(
                "trigger on {} (EVENT DATA): ",
                t.name(p.target.as_ref().map_or("", |(_, n)| n.as_str()), 40)
            ),
        };
        let text = t.name(&p.text, usize::from(prompt.width));
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(label, t.style(Slot::Heading)),
                Span::raw(text),
                Span::raw(t.cursor()),
            ])),
            prompt,
        );
    }
    match &c.overlay {
        Some(Overlay::Inspect(seq)) => inspect(frame, c, t, *seq, areas.above),
        Some(Overlay::Channel(app, name)) => channel_detail(frame, c, t, app, name, areas.above),
        None => {}
    }
    let _ = now;
}

fn channels(frame: &mut Frame, c: &Console, t: &Theme, area: Rect) {
    let focused = c.pane == Pane::Channels;
    let shown = c.channels.len();
    let total = c.snapshot.channels_total as usize;
    let dot = t.dot();
    let mut title = format!(
        " channels {dot} {total} occupied {dot} by {} ",
        c.sort.label()
    );
    if total > shown {
        title.push_str(&format!("{dot} {shown} shown "));
    }
    let height = usize::from(area.height.saturating_sub(3));
    let window = log::window(shown, Some(c.channel_selected), height);
    let name_w = usize::from(area.width.saturating_sub(24)).max(8);
    let rows: Vec<Row> = c.channels[window.clone()]
        .iter()
        .enumerate()
        .map(|(i, ch)| {
            let style = if focused && window.start + i == c.channel_selected {
                t.style(Slot::Selected)
            } else {
                t.style(Slot::Channel)
            };
            Row::new(vec![
                Cell::from(t.name(&ch.name, name_w)),
                Cell::from(ch.subscribers.to_string()),
                Cell::from(ch.members.map_or_else(|| "-".to_owned(), |m| m.to_string())),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(8),
            Constraint::Length(11),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(vec!["CHANNEL", "SUBSCRIBERS", "MEMBERS"]).style(t.style(Slot::Heading)))
    .block(t.pane(title, focused));
    frame.render_widget(table, area);
}

/// One entry's line: time, kind, channel, event, the other fields, and its note.
fn entry_line(e: &Entry, t: &Theme, width: usize, selected: bool) -> Line<'static> {
    let nobody = e.to_nobody();
    let kind_slot = if nobody {
        Slot::Error
    } else if e.kind.contains("FAIL") || e.kind.contains("REFUSED") || e.kind.contains("DROP") {
        Slot::Warning
    } else {
        Slot::Heading
    };
    let mut spans = vec![
        Span::styled(format!("{} ", clock(e.time)), t.style(Slot::Dim)),
        Span::styled(t.name(&e.kind, 24), t.style(kind_slot)),
    ];
    if let Some(ch) = e.channel() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(t.name(ch, 60), t.style(Slot::Channel)));
    }
    if let Some(ev) = e.event() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(t.name(ev, 40), t.style(Slot::Event)));
    }
    // A publish to no one says so first, with its "did you mean".
    if let (true, Some(note)) = (nobody, &e.note) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(t.name(note, width), t.style(Slot::Error)));
    }
    let rest: Vec<String> = e
        .fields
        .iter()
        .filter(|(k, v)| {
            let zero_slow = k == "too_slow" && v == "0";
            !(QUIET.contains(&k.as_str()) || v.is_empty() || zero_slow)
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !rest.is_empty() {
        spans.push(Span::raw(" "));
        spans.push(Span::raw(t.name(&rest.join(" "), width)));
    }
    if let (false, Some(note)) = (nobody, &e.note) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(t.name(note, width), t.style(Slot::Warning)));
    }
    let line = Line::from(spans);
    if selected {
        line.style(t.style(Slot::Selected))
    } else {
        line
    }
}

fn log_pane(frame: &mut Frame, c: &Console, t: &Theme, area: Rect) {
    let shown = c.shown();
    let rows = usize::from(area.height.saturating_sub(2));
    let focused = c.pane == Pane::Log;
    let selected = log::selected_index(&c.log, &shown, c.selected);
    let window = log::window(shown.len(), selected, rows);
    let width = usize::from(area.width);
    let lines: Vec<Line> = shown[window.clone()]
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let is_sel = focused && c.selected.is_some() && Some(window.start + i) == selected;
            entry_line(&c.log[p].line, t, width, is_sel)
        })
        .collect();
    let mut extra = Vec::new();
    if let Some(p) = &c.filter.0 {
        extra.push(format!("filter {}", t.name(&p.describe(), 30)));
    }
    if shown.len() != c.log.len() {
        extra.push(format!("{} shown", shown.len()));
    }
    if let Some(p) = c.paused {
        let waiting = c.log.next_seq().saturating_sub(p);
        extra.push(format!("paused, {waiting} new"));
    }
    let title = log::title(t, c.log.len(), c.log.dropped(), &extra);
    log::draw(frame, area, t, title, lines, focused);
}

/// A box over most of `area`.
fn boxed(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    }
}

fn inspect(frame: &mut Frame, c: &Console, t: &Theme, seq: u64, area: Rect) {
    let area = boxed(area);
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = Vec::new();
    match c.log.by_seq(seq) {
        Some(l) => {
            let e = &l.line;
            lines.push(Line::styled(
                format!("{} UTC  {}", clock(e.time), t.name(&e.kind, 40)),
                t.style(Slot::Heading),
            ));
            for (k, v) in &e.fields {
                lines.push(Line::from(vec![
                    Span::styled(format!("{}: ", t.name(k, 30)), t.style(Slot::Dim)),
                    Span::raw(t.name(v, width * 8)),
                ]));
            }
            if let Some(n) = &e.note {
                let slot = if e.to_nobody() {
                    Slot::Error
                } else {
                    Slot::Warning
                };
                lines.push(Line::styled(t.name(n, width * 8), t.style(slot)));
            }
        }
        None => lines.push(Line::styled(
            "this entry has left the log (it keeps its newest entries)",
            t.style(Slot::Dim),
        )),
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(t.pane(" entry ".into(), true)),
        area,
    );
}

fn channel_detail(frame: &mut Frame, c: &Console, t: &Theme, app: &str, name: &str, area: Rect) {
    let area = boxed(area);
    let width = usize::from(area.width.saturating_sub(2));
    let row = c.channels.iter().find(|r| r.app == app && r.name == name);
    let mut lines = vec![Line::styled(
        format!(
            "{} (app {})  {}",
            t.name(name, width.saturating_sub(30)),
            t.name(app, 12),
            match row {
                Some(r) => format!(
                    "{} subscribers{}",
                    r.subscribers,
                    r.members
                        .map(|m| format!(", {m} members"))
                        .unwrap_or_default()
                ),
                None => "not occupied now".to_owned(),
            }
        ),
        t.style(Slot::Heading),
    )];
    if let Some(m) = c
        .snapshot
        .members
        .as_ref()
        .filter(|m| m.app == app && m.channel == name)
    {
        let ids: Vec<String> = m.user_ids.iter().map(|u| t.name(u, 40)).collect();
        let more = (m.total as usize).saturating_sub(ids.len());
        let mut text = format!("members: {}", ids.join(", "));
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        lines.push(Line::raw(t.clip(&text, width * 3).into_owned()));
    }
    lines.push(Line::styled("recent events:", t.style(Slot::Dim)));
    let recent: Vec<&Entry> = c
        .log
        .iter()
        .rev()
        .map(|l| &l.line)
        .filter(|e| e.channel() == Some(name) && e.field("app").is_none_or(|a| a == app))
        .take(RECENT)
        .collect();
    if recent.is_empty() {
        lines.push(Line::styled("  none in the log", t.style(Slot::Dim)));
    }
    for e in recent.into_iter().rev() {
        lines.push(entry_line(e, t, width, false));
    }
    // The newest at the bottom: keep the last lines that fit.
    let room = usize::from(area.height.saturating_sub(2));
    if lines.len() > room {
        let head: Vec<Line> = lines.drain(..2.min(lines.len())).collect();
        let keep = room.saturating_sub(head.len());
        let tail = lines.split_off(lines.len().saturating_sub(keep));
        lines = head.into_iter().chain(tail).collect();
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(t.pane(" channel ".into(), true)),
        area,
    );
}
