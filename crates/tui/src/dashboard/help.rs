//! The help overlay, written from the key table: two columns when the terminal is wide
//! enough, and scrolled (with a "more" mark in the border) when it is not tall enough.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::state::State;
use super::theme::Slot;

/// Between the keys and their help, and between the two columns.
const GAP: usize = 2;

/// The help's lines for one column `width` wide: the entries, then where keys are set.
fn lines(state: &State, width: usize) -> (Vec<Line<'static>>, usize) {
    let t = &state.theme;
    let entries = state.options.keys.help(t.ascii);
    let keys_w = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 20);
    let help_w = width.saturating_sub(keys_w + GAP);
    let lines = entries
        .iter()
        .map(|(keys, help)| {
            let keys = t.clip(keys, keys_w);
            Line::from(vec![
                Span::styled(
                    format!("{keys:<keys_w$}{:GAP$}", ""),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(t.clip(help, help_w).into_owned()),
            ])
        })
        .collect();
    (lines, entries.len())
}

/// The widest line one column needs.
fn column_width(state: &State) -> usize {
    let entries = state.options.keys.help(state.theme.ascii);
    let keys_w = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 20);
    let help_w = entries
        .iter()
        .map(|(_, h)| h.chars().count())
        .max()
        .unwrap_or(0);
    keys_w + GAP + help_w
}

/// Where the help goes in `area`, and how it is cut.
struct Placement {
    two: bool,
    col_w: usize,
    rows: usize,
    inner_h: usize,
    rect: Rect,
}

fn footer(state: &State) -> String {
    let dot = state.theme.dot();
    format!("Rebind keys in the config file's [keys] table {dot} README")
}

fn place(state: &State, area: Rect) -> Placement {
    let n = state.options.keys.help(state.theme.ascii).len();
    let want = column_width(state).max(footer(state).chars().count());
    // Two columns side by side when both fit, else one as wide as fits.
    let two = usize::from(area.width) >= 2 * want + GAP + 2;
    let col_w = if two {
        want
    } else {
        want.min(usize::from(area.width).saturating_sub(2))
    };
    let per_column = if two { n.div_ceil(2) } else { n };
    // Below the entries: a blank line and where keys are set.
    let rows = per_column + 2;
    let inner_h = rows.min(usize::from(area.height).saturating_sub(2));
    let width = if two { 2 * col_w + GAP } else { col_w } + 2;
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width as u16)) / 2,
        y: area.y + (area.height.saturating_sub(inner_h as u16 + 2)) / 2,
        width: width as u16,
        height: inner_h as u16 + 2,
    };
    Placement {
        two,
        col_w,
        rows,
        inner_h,
        rect,
    }
}

/// The most the help's scroll can usefully be in `area`: past it the view stops moving.
pub(super) fn most(state: &State, area: Rect) -> u16 {
    let p = place(state, area);
    p.rows.saturating_sub(p.inner_h).min(usize::from(u16::MAX)) as u16
}

pub(super) fn draw_help(frame: &mut Frame, state: &State, area: Rect, scroll: u16) {
    let t = &state.theme;
    let dot = t.dot();
    let footer = footer(state);
    let Placement {
        two,
        col_w,
        rows,
        inner_h,
        rect,
    } = place(state, area);
    let (entries, n) = lines(state, col_w);
    let per_column = if two { n.div_ceil(2) } else { n };
    let most = rows.saturating_sub(inner_h);
    let top = usize::from(scroll).min(most);
    let mut title = format!(" keys {dot} Esc closes ");
    if most > 0 {
        title = format!(" keys {dot} j/k PgUp/PgDn scroll {dot} Esc closes ");
    }
    let mut block = t.pane(title, true);
    let more = match (top > 0, top < most) {
        (_, true) => Some(format!(" more below ({}/{rows}) ", top + inner_h)),
        (true, false) => Some(" more above ".to_owned()),
        (false, false) => None,
    };
    if let Some(more) = more {
        block = block.title_bottom(Line::styled(more, t.style(Slot::Warning)).right_aligned());
    }
    // The rows, each the left entry and, in two columns, the right one.
    let mut all: Vec<Line> = Vec::with_capacity(rows);
    let mut entries = entries.into_iter();
    let left: Vec<Line> = entries.by_ref().take(per_column).collect();
    let right: Vec<Line> = entries.collect();
    for (i, l) in left.into_iter().enumerate() {
        let mut spans = l.spans;
        if let Some(r) = right.get(i) {
            let used: usize = spans.iter().map(|s| s.width()).sum();
            spans.push(Span::raw(" ".repeat(col_w + GAP - used.min(col_w))));
            spans.extend(r.spans.iter().cloned());
        }
        all.push(Line::from(spans));
    }
    all.push(Line::raw(""));
    all.push(Line::styled(
        t.clip(&footer, usize::from(rect.width).saturating_sub(2))
            .into_owned(),
        t.style(Slot::Dim),
    ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(all)
            .block(block)
            .scroll((top.min(usize::from(u16::MAX)) as u16, 0)),
        rect,
    );
}
