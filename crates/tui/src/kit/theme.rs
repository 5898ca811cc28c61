//! The looks, in one place: named style slots (so a `--theme` can fill them one day), the
//! pane block, the symbols (Unicode or `--ascii`), and the small text helpers every drawing
//! module shares. It imports nothing from the rest of the kit.

use std::borrow::Cow;
use std::time::Duration;

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::widgets::{Block, Borders};

use protocol::safe_text::terminal_safe;

/// What a piece of the screen means; the theme says how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A value that went up, and one that went down.
    Rise,
    Fall,
    Channel,
    Event,
    /// Times and other quiet text.
    Dim,
    Heading,
    Selected,
    /// A search hit, a whole line.
    Found,
    /// The part of a line a search or filter matched.
    Match,
    Unbound,
    Warning,
    Error,
    Connected,
    Connecting,
    Disconnected,
    Paused,
    Chart,
    /// A broken expectation: its strip line and its ticker row.
    Alert,
}

const SLOTS: usize = 18;

fn index(slot: Slot) -> usize {
    slot as usize
}

/// The default palette. With NO_COLOR the colours go and the modifiers stay, so the meaning
/// is still there in bold, reverse and the arrows.
fn default_style(slot: Slot) -> Style {
    let s = Style::new();
    match slot {
        Slot::Rise => s.fg(Color::Green),
        Slot::Fall => s.fg(Color::Red),
        Slot::Channel | Slot::Chart => s.fg(Color::Cyan),
        Slot::Event | Slot::Heading => s.add_modifier(Modifier::BOLD),
        Slot::Dim => s.add_modifier(Modifier::DIM),
        Slot::Selected | Slot::Paused => s.add_modifier(Modifier::REVERSED),
        Slot::Found => s.add_modifier(Modifier::UNDERLINED.union(Modifier::BOLD)),
        Slot::Match => s.add_modifier(Modifier::REVERSED),
        Slot::Unbound => s.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Slot::Warning => s.fg(Color::Yellow),
        Slot::Error => s.fg(Color::Red).add_modifier(Modifier::BOLD),
        Slot::Connected => s.fg(Color::Green).add_modifier(Modifier::BOLD),
        Slot::Connecting => s.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Slot::Disconnected => s.fg(Color::Red).add_modifier(Modifier::BOLD),
        Slot::Alert => s
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

const ALL: [Slot; SLOTS] = [
    Slot::Rise,
    Slot::Fall,
    Slot::Channel,
    Slot::Event,
    Slot::Dim,
    Slot::Heading,
    Slot::Selected,
    Slot::Found,
    Slot::Match,
    Slot::Unbound,
    Slot::Warning,
    Slot::Error,
    Slot::Connected,
    Slot::Connecting,
    Slot::Disconnected,
    Slot::Paused,
    Slot::Chart,
    Slot::Alert,
];

/// Characters a plain ASCII terminal shows.
const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

#[derive(Debug, Clone)]
pub struct Theme {
    styles: [Style; SLOTS],
    pub ascii: bool,
}

impl Theme {
    pub fn new(color: bool, ascii: bool) -> Theme {
        let styles = ALL.map(|slot| {
            let s = default_style(slot);
            if color {
                s
            } else if s.bg.is_some() {
                // A background colour means "look here": reverse video says the same.
                Style {
                    fg: None,
                    bg: None,
                    ..s
                }
                .add_modifier(Modifier::REVERSED)
            } else {
                Style {
                    fg: None,
                    bg: None,
                    ..s
                }
            }
        });
        Theme { styles, ascii }
    }

    pub fn style(&self, slot: Slot) -> Style {
        self.styles[index(slot)]
    }

    /// A bordered pane; the focused one has a bold border, the other a dim one.
    pub fn pane(&self, title: String, focused: bool) -> Block<'static> {
        let border = if focused {
            Modifier::BOLD
        } else {
            Modifier::DIM
        };
        let block = Block::new()
            .borders(Borders::ALL)
            .title(title)
            .border_style(Style::new().add_modifier(border));
        if self.ascii {
            block.border_set(ASCII_BORDER)
        } else {
            block
        }
    }

    /// Between the parts of a title or a hint line.
    pub fn dot(&self) -> &'static str {
        if self.ascii { "-" } else { "·" }
    }

    /// Between a mark and what it says (`unbound — did you mean …`).
    pub fn dash(&self) -> &'static str {
        if self.ascii { "-" } else { "—" }
    }

    /// Between a width and a height.
    pub fn by(&self) -> &'static str {
        if self.ascii { "x" } else { "×" }
    }

    /// Between the status bar's parts.
    pub fn bar(&self) -> &'static str {
        if self.ascii { " | " } else { " │ " }
    }

    pub fn ellipsis(&self) -> &'static str {
        if self.ascii { "..." } else { "…" }
    }

    /// The cursor at the end of a field being typed.
    pub fn cursor(&self) -> &'static str {
        if self.ascii { "_" } else { "▏" }
    }

    pub fn arrows(&self) -> (&'static str, &'static str) {
        if self.ascii {
            ("^", "v")
        } else {
            ("▲", "▼")
        }
    }

    /// Sparkline levels, lowest first. The ASCII ones sit ever higher in the cell, like the
    /// blocks, and a flat line shows as `-----`.
    pub fn levels(&self) -> &'static [char] {
        if self.ascii {
            &['_', '.', '-', '~', '^']
        } else {
            &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
        }
    }

    /// `text` cut to `max` characters, the cut marked with the ellipsis.
    pub fn clip<'a>(&self, text: &'a str, max: usize) -> Cow<'a, str> {
        clip(text, max, self.ellipsis())
    }

    /// A name from the wire for the screen: cut to `max` characters, then made safe.
    pub fn name(&self, text: &str, max: usize) -> String {
        terminal_safe(&self.clip(text, max)).into_owned()
    }
}

/// `text` cut to at most `max` characters, the last ones replaced by `ellipsis` when cut.
pub fn clip<'a>(text: &'a str, max: usize, ellipsis: &str) -> Cow<'a, str> {
    let Some((at, _)) = text.char_indices().nth(max) else {
        return Cow::Borrowed(text);
    };
    let keep = max.saturating_sub(ellipsis.chars().count());
    let end = text.char_indices().nth(keep).map_or(at, |(i, _)| i);
    Cow::Owned(format!("{}{ellipsis}", &text[..end]))
}

/// `12s`, `3m`, `2h`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abc", 3, "…"), "abc");
        assert_eq!(clip("abcdef", 4, "…"), "abc…");
        assert_eq!(clip("abcdef", 4, "..."), "a...");
        assert_eq!(clip("中文字符号", 3, "…"), "中文…");
    }

    #[test]
    fn no_color_keeps_modifiers_only() {
        let t = Theme::new(false, false);
        assert_eq!(t.style(Slot::Rise), Style::new());
        assert_eq!(
            t.style(Slot::Error),
            Style::new().add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            t.style(Slot::Alert),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            "an alert is reverse video without colour"
        );
        assert_eq!(
            Theme::new(true, false).style(Slot::Rise),
            Style::new().fg(Color::Green)
        );
    }
}
