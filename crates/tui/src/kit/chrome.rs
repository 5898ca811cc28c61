//! What every screen has around its own panes: the status bar at the top (built from the
//! parts the screen supplies, the least important dropped first when the terminal is
//! narrow), the key hints at the foot and the help overlay, both written from the screen's
//! keymap, and the note that the terminal is too small.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::keys::{Action, Keymap};
use super::theme::{Slot, Theme};

/// One part of the status bar. Parts of a higher `priority` number go first when the line
/// does not fit; the first part always stays.
#[derive(Debug, Clone)]
pub struct Part {
    pub priority: u8,
    pub span: Span<'static>,
}

impl Part {
    pub fn new(priority: u8, span: Span<'static>) -> Part {
        Part { priority, span }
    }

    pub fn raw(priority: u8, text: String) -> Part {
        Part::new(priority, Span::raw(text))
    }
}

/// The status bar: the parts that fit in `width`, in the order given, between bars.
pub(crate) fn status_bar(mut parts: Vec<Part>, width: u16, theme: &Theme) -> Line<'static> {
    let fits = |parts: &[Part]| {
        parts.iter().map(|p| p.span.width() + 3).sum::<usize>() <= usize::from(width)
    };
    while !fits(&parts) && parts.len() > 1 {
        let worst = parts
            .iter()
            .enumerate()
            .max_by_key(|(i, p)| (p.priority, *i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        parts.remove(worst);
    }
    let mut spans = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(theme.bar()));
        }
        spans.push(p.span);
    }
    Line::from(spans)
}

/// What the key hints say: each action's first key and a word, then a text (what is being
/// typed, a page's URL), joined by the theme's dot.
#[derive(Debug, Clone)]
pub struct HintLine<A> {
    pub keys: Vec<(A, &'static str)>,
    pub text: Option<String>,
}

impl<A> HintLine<A> {
    pub fn keys(keys: Vec<(A, &'static str)>) -> HintLine<A> {
        HintLine { keys, text: None }
    }

    /// Only a text (made terminal-safe by whoever made it).
    pub fn text(text: String) -> HintLine<A> {
        HintLine {
            keys: Vec::new(),
            text: Some(text),
        }
    }

    pub fn with_text(mut self, text: String) -> HintLine<A> {
        self.text = Some(text);
        self
    }
}

pub(crate) fn hint_line<A: Action>(hints: &HintLine<A>, keymap: &Keymap<A>, t: &Theme) -> String {
    let keys: Vec<String> = hints
        .keys
        .iter()
        .filter_map(|(action, word)| {
            let key = keymap.first(*action, t.ascii)?;
            Some(format!("{key} {word}"))
        })
        .collect();
    let mut parts = Vec::new();
    if !keys.is_empty() {
        parts.push(keys.join(&format!(" {} ", t.dot())));
    }
    parts.extend(hints.text.clone());
    format!(" {}", parts.join(&format!(" {} ", t.dot())))
}

/// The note shown instead of the screen below its smallest size, with the key that quits.
pub(crate) fn too_small<A: Action>(
    frame: &mut Frame,
    (width, height): (u16, u16),
    keymap: &Keymap<A>,
    t: &Theme,
) {
    let area = frame.area();
    let by = t.by();
    let quit = A::ALL
        .iter()
        .find(|a| a.action.role() == Some(super::keys::Role::Quit))
        .and_then(|a| keymap.first(a.action, t.ascii))
        .map_or(String::new(), |k| format!("; {k} quits"));
    let msg = format!(
        "terminal too small: {}{by}{} (need {width}{by}{height}){quit}",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
}

/// Between the keys and their help, and between the two columns.
const GAP: usize = 2;

/// The help overlay: the keymap's entries (two columns when the terminal is wide enough),
/// what the screen says about itself, and where keys are set; scrolled, with a "more" mark
/// in the border, when it is not tall enough.
pub(crate) struct Help<'a, A> {
    pub keymap: &'a Keymap<A>,
    pub theme: &'a Theme,
    pub about: &'a [&'static str],
}

/// Where the help goes in an area, and how it is cut.
struct Placement {
    two: bool,
    col_w: usize,
    rows: usize,
    inner_h: usize,
    rect: Rect,
}

impl<A: Action> Help<'_, A> {
    fn keys_width(entries: &[(String, &str)]) -> usize {
        entries
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(5, 20)
    }

    fn footer(&self) -> String {
        let dot = self.theme.dot();
        format!("Rebind keys in the config file's [keys] table {dot} manual")
    }

    /// The entries' lines for one column `width` wide.
    fn lines(&self, width: usize) -> Vec<Line<'static>> {
        let t = self.theme;
        let entries = self.keymap.help(t.ascii);
        let keys_w = Self::keys_width(&entries);
        let help_w = width.saturating_sub(keys_w + GAP);
        entries
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
            .collect()
    }

    fn place(&self, area: Rect) -> Placement {
        let entries = self.keymap.help(self.theme.ascii);
        let n = entries.len();
        let column = Self::keys_width(&entries)
            + GAP
            + entries
                .iter()
                .map(|(_, h)| h.chars().count())
                .max()
                .unwrap_or(0);
        let want = column.max(self.footer().chars().count());
        let about_w = self.about.iter().map(|l| l.chars().count()).max();
        // Two columns side by side when both fit, else one as wide as fits; the screen's own
        // lines go below, as wide as the whole.
        let two = usize::from(area.width) >= 2 * want + GAP + 2 && about_w.is_none();
        let want = want.max(about_w.unwrap_or(0));
        let col_w = if two {
            want
        } else {
            want.min(usize::from(area.width).saturating_sub(2))
        };
        let per_column = if two { n.div_ceil(2) } else { n };
        // Below the entries: a blank line and the screen's lines, a blank line and where keys
        // are set.
        let about = if self.about.is_empty() {
            0
        } else {
            self.about.len() + 1
        };
        let rows = per_column + about + 2;
        let inner_h = rows.min(usize::from(area.height).saturating_sub(2));
        let width = if two { 2 * col_w + GAP } else { col_w } + 2;
        let rect = Rect {
            x: area.x + (area.width.saturating_sub(width as u16)) / 2,
            y: area.y + (area.height.saturating_sub(inner_h as u16 + 2)) / 2,
            width: (width as u16).min(area.width),
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
    pub(crate) fn most(&self, area: Rect) -> u16 {
        let p = self.place(area);
        p.rows.saturating_sub(p.inner_h).min(usize::from(u16::MAX)) as u16
    }

    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, scroll: u16) {
        let t = self.theme;
        let dot = t.dot();
        let footer = self.footer();
        let Placement {
            two,
            col_w,
            rows,
            inner_h,
            rect,
        } = self.place(area);
        let entries = self.lines(col_w);
        let n = entries.len();
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
        let room = usize::from(rect.width).saturating_sub(2);
        if !self.about.is_empty() {
            all.push(Line::raw(""));
            all.extend(
                self.about
                    .iter()
                    .map(|l| Line::raw(t.clip(l, room).into_owned())),
            );
        }
        all.push(Line::raw(""));
        all.push(Line::styled(
            t.clip(&footer, room).into_owned(),
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
}
