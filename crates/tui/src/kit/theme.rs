//! The looks, in one place: named style slots, filled by a built-in theme (`default`,
//! `light` for light backgrounds, `colorblind`: the Okabe-Ito palette, no red against
//! green) and the config file's `[theme]` (`name = "light"`, `rise = "blue bold"`); the pane
//! block, the symbols (Unicode or `--ascii`), and the small text helpers every drawing
//! module shares. Without colour (NO_COLOR) only the modifiers stay, whatever the theme. It
//! imports nothing from the rest of the kit.

use std::collections::BTreeMap;
use std::str::FromStr;

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

/// The slots' names in `[theme]`, in [`ALL`]'s order.
const NAMES: [&str; SLOTS] = [
    "rise",
    "fall",
    "channel",
    "event",
    "dim",
    "heading",
    "selected",
    "found",
    "match",
    "unbound",
    "warning",
    "error",
    "connected",
    "connecting",
    "disconnected",
    "paused",
    "chart",
    "alert",
];

/// The built-in themes.
pub const BUILT_IN: [&str; 3] = ["default", "light", "colorblind"];

/// For a light background: darker colours (256-colour indices), nothing white.
fn light_style(slot: Slot) -> Style {
    let s = Style::new();
    let dark_green = Color::Indexed(28);
    let dark_red = Color::Indexed(124);
    let dark_yellow = Color::Indexed(130);
    match slot {
        Slot::Rise => s.fg(dark_green),
        Slot::Fall => s.fg(dark_red),
        Slot::Channel | Slot::Chart => s.fg(Color::Indexed(25)),
        Slot::Unbound => s.fg(dark_yellow).add_modifier(Modifier::BOLD),
        Slot::Warning => s.fg(dark_yellow),
        Slot::Error | Slot::Disconnected => s.fg(dark_red).add_modifier(Modifier::BOLD),
        Slot::Connected => s.fg(dark_green).add_modifier(Modifier::BOLD),
        Slot::Connecting => s.fg(dark_yellow).add_modifier(Modifier::BOLD),
        Slot::Alert => s
            .fg(Color::Indexed(231))
            .bg(dark_red)
            .add_modifier(Modifier::BOLD),
        other => default_style(other),
    }
}

/// Okabe-Ito: up is blue, down is orange, trouble is vermillion; never red against green.
fn colorblind_style(slot: Slot) -> Style {
    let s = Style::new();
    let blue = Color::Indexed(32);
    let orange = Color::Indexed(214);
    let vermillion = Color::Indexed(166);
    let sky = Color::Indexed(74);
    let yellow = Color::Indexed(221);
    match slot {
        Slot::Rise => s.fg(blue),
        Slot::Fall => s.fg(orange),
        Slot::Channel | Slot::Chart => s.fg(sky),
        Slot::Unbound => s.fg(yellow).add_modifier(Modifier::BOLD),
        Slot::Warning => s.fg(yellow),
        Slot::Error | Slot::Disconnected => s.fg(vermillion).add_modifier(Modifier::BOLD),
        Slot::Connected => s.fg(blue).add_modifier(Modifier::BOLD),
        Slot::Connecting => s.fg(yellow).add_modifier(Modifier::BOLD),
        Slot::Alert => s
            .fg(Color::White)
            .bg(vermillion)
            .add_modifier(Modifier::BOLD),
        other => default_style(other),
    }
}

/// A style as `[theme]` writes it: a colour (a name, `#rrggbb` or 0-255), `on COLOUR` for
/// the background, and modifiers (`bold`, `dim`, `italic`, `underlined`, `reversed`), in any
/// order: `"blue bold"`, `"white on red bold"`, `"reversed"`.
pub fn parse_style(text: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = text.split_whitespace();
    let colour = |w: &str| {
        Color::from_str(w).map_err(|_| {
            format!("{w:?} is not a colour (a name like blue or lightred, #rrggbb, or 0-255)")
        })
    };
    while let Some(w) = words.next() {
        let lower = w.to_ascii_lowercase();
        let modifier = match lower.as_str() {
            "bold" => Some(Modifier::BOLD),
            "dim" => Some(Modifier::DIM),
            "italic" => Some(Modifier::ITALIC),
            "underlined" | "underline" => Some(Modifier::UNDERLINED),
            "reversed" | "reverse" => Some(Modifier::REVERSED),
            _ => None,
        };
        if let Some(m) = modifier {
            style = style.add_modifier(m);
        } else if lower == "on" {
            let bg = words.next().ok_or("`on` needs a colour after it")?;
            style = style.bg(colour(bg)?);
        } else {
            style = style.fg(colour(w)?);
        }
    }
    Ok(style)
}

/// A theme as the config file and `--theme` name it: a built-in one, and styles for some
/// slots over it. Checked by [`ThemeSpec::new`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThemeSpec {
    pub name: String,
    overrides: Vec<(Slot, Style)>,
}

impl ThemeSpec {
    /// `name` (a built-in theme; empty is the default) with `slots` (`[theme]`'s other keys)
    /// over it. An unknown theme, slot or style is an error that says what is known.
    pub fn new(name: &str, slots: &BTreeMap<String, String>) -> Result<ThemeSpec, String> {
        let name = if name.is_empty() { "default" } else { name };
        if !BUILT_IN.contains(&name) {
            return Err(format!(
                "unknown theme {name:?}; the themes are {}",
                BUILT_IN.join(", ")
            ));
        }
        let mut overrides = Vec::new();
        for (key, value) in slots {
            let Some(i) = NAMES.iter().position(|n| n == key) else {
                return Err(format!(
                    "unknown theme slot {key:?}; the slots are {}",
                    NAMES.join(", ")
                ));
            };
            let style = parse_style(value).map_err(|e| format!("theme slot {key}: {e}"))?;
            overrides.push((ALL[i], style));
        }
        Ok(ThemeSpec {
            name: name.to_owned(),
            overrides,
        })
    }
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
    color: bool,
}

impl Theme {
    pub fn new(color: bool, ascii: bool) -> Theme {
        Theme::with(&ThemeSpec::default(), color, ascii)
    }

    /// A theme of `spec`'s; without `color`, its modifiers only.
    pub fn with(spec: &ThemeSpec, color: bool, ascii: bool) -> Theme {
        let base: fn(Slot) -> Style = match spec.name.as_str() {
            "light" => light_style,
            "colorblind" => colorblind_style,
            _ => default_style,
        };
        let styles = ALL.map(|slot| {
            let s = spec
                .overrides
                .iter()
                .rev()
                .find(|(o, _)| *o == slot)
                .map_or_else(|| base(slot), |(_, s)| *s);
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
        Theme {
            styles,
            ascii,
            color,
        }
    }

    /// Whether colours are shown (not with NO_COLOR).
    pub fn color(&self) -> bool {
        self.color
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
    fn themes_and_styles() {
        assert_eq!(
            parse_style("white on red bold").unwrap(),
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            parse_style("#ff8800").unwrap(),
            Style::new().fg(Color::Rgb(255, 136, 0))
        );
        assert!(parse_style("blu").unwrap_err().contains("not a colour"));
        assert!(parse_style("on").is_err());
        let mut slots = BTreeMap::new();
        slots.insert("rise".to_owned(), "blue bold".to_owned());
        let spec = ThemeSpec::new("light", &slots).unwrap();
        let t = Theme::with(&spec, true, false);
        assert_eq!(
            t.style(Slot::Rise),
            Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.style(Slot::Fall), Style::new().fg(Color::Indexed(124)));
        // Without colour, a theme is its modifiers.
        let plain = Theme::with(&spec, false, false);
        assert_eq!(
            plain.style(Slot::Rise),
            Style::new().add_modifier(Modifier::BOLD)
        );
        let cb = Theme::with(
            &ThemeSpec::new("colorblind", &BTreeMap::new()).unwrap(),
            true,
            false,
        );
        assert_ne!(cb.style(Slot::Rise).fg, Some(Color::Green));
        slots.insert("rize".to_owned(), "red".to_owned());
        assert!(
            ThemeSpec::new("", &slots)
                .unwrap_err()
                .contains("unknown theme slot \"rize\"")
        );
        assert!(
            ThemeSpec::new("neon", &BTreeMap::new())
                .unwrap_err()
                .contains("light")
        );
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
