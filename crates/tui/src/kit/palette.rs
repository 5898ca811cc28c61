//! The command palette (`:`): every action of the screen's keymap, named as in `[keys]`
//! with its help and keys, and the commands the screen adds ([`Command`]: `sort value`,
//! `channel orders`, `view prod`), narrowed as you type; Tab completes, Enter runs, Esc
//! closes. It is written from the keymap, as the help is, so it never drifts from the keys;
//! what it runs goes where a key's action goes, so what a screen refuses (read-only) it
//! refuses here too.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::keys::{Action, Keymap, Role};
use super::theme::{Slot, Theme};
use protocol::safe_text::terminal_safe;

/// Longest line typed into the palette.
const MAX_INPUT: usize = 200;

/// A command a screen offers in the palette besides its actions: the text to run (with its
/// argument, when it takes one) and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub text: String,
    pub help: String,
}

impl Command {
    pub fn new(text: impl Into<String>, help: impl Into<String>) -> Command {
        Command {
            text: text.into(),
            help: help.into(),
        }
    }
}

/// One line of the palette's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub text: String,
    pub help: String,
    /// The keys, for an action.
    pub keys: String,
}

/// Every entry: the actions (but the palette's own), then the screen's commands.
pub(crate) fn entries<A: Action>(
    keymap: &Keymap<A>,
    commands: Vec<Command>,
    ascii: bool,
) -> Vec<Entry> {
    let actions = A::ALL
        .iter()
        .filter(|a| a.action.role() != Some(Role::Palette))
        .map(|a| Entry {
            text: a.name.to_owned(),
            help: a.help.to_owned(),
            keys: keymap.label(a.action, ascii),
        });
    let commands = commands.into_iter().map(|c| Entry {
        text: c.text,
        help: c.help,
        keys: String::new(),
    });
    actions.chain(commands).collect()
}

/// The palette while it is open: what is typed, which match is selected, and what the last
/// run said (an unknown command, a refusal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Palette {
    pub input: String,
    pub selected: usize,
    pub said: Option<String>,
}

/// What a key does to the open palette.
pub(crate) enum Step {
    Open,
    Close,
    /// Run this line.
    Run(String),
}

/// The entries that match `input`: each word of it in the entry's text, without case; those
/// whose text starts with the input first.
pub(crate) fn matching<'a>(entries: &'a [Entry], input: &str) -> Vec<&'a Entry> {
    let input = input.trim().to_lowercase();
    let words: Vec<&str> = input.split_whitespace().collect();
    let mut found: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            let text = e.text.to_lowercase();
            words.iter().all(|w| text.contains(w))
                || (!words.is_empty() && input.starts_with(&format!("{text} ")))
        })
        .collect();
    found.sort_by_key(|e| !e.text.to_lowercase().starts_with(&input));
    found
}

impl Palette {
    /// A key while the palette is open.
    pub(crate) fn key(&mut self, key: &KeyEvent, entries: &[Entry]) -> Step {
        let found = matching(entries, &self.input);
        match key.code {
            KeyCode::Esc => return Step::Close,
            KeyCode::Enter => {
                let typed = self.input.trim();
                let exact = entries.iter().any(|e| e.text == typed);
                // What is typed runs as it is when it names an entry or carries an argument
                // past one; else the selected match runs.
                let takes_arg = entries
                    .iter()
                    .any(|e| typed.starts_with(&format!("{} ", e.text.trim_end())));
                // What is typed completes to the selected match when the match goes on from
                // it (`sort val` runs `sort value`).
                let line = match found.get(self.selected) {
                    Some(e) if !exact && e.text.starts_with(typed) => e.text.clone(),
                    Some(e) if !exact && !takes_arg => e.text.clone(),
                    _ => typed.to_owned(),
                };
                if line.is_empty() {
                    return Step::Close;
                }
                return Step::Run(line);
            }
            KeyCode::Tab => {
                if let Some(e) = found.get(self.selected) {
                    self.input.clone_from(&e.text);
                    self.selected = 0;
                }
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(found.len().saturating_sub(1));
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Backspace => {
                self.input.pop();
                self.selected = 0;
            }
            KeyCode::Char(c)
                if self.input.len() < MAX_INPUT
                    && !key.modifiers.contains(KeyModifiers::CONTROL)
                    && !c.is_control() =>
            {
                self.input.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        self.said = None;
        Step::Open
    }

    /// Pasted text, as typed (its line breaks spaces, its control characters dropped).
    pub(crate) fn paste(&mut self, text: &str) {
        for c in super::pasted(text) {
            if self.input.len() >= MAX_INPUT {
                break;
            }
            self.input.push(c);
        }
        self.selected = 0;
        self.said = None;
    }

    /// The palette over the foot of `area`: the line being typed, then as many matches as
    /// fit, the selected one kept in view.
    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, entries: &[Entry], t: &Theme) {
        let found = matching(entries, &self.input);
        let rows = usize::from(area.height.saturating_sub(4)).clamp(1, 12);
        let shown = found.len().min(rows).max(1);
        let height = (shown as u16 + 3).min(area.height);
        let rect = Rect {
            x: area.x,
            y: area.bottom().saturating_sub(height),
            width: area.width,
            height,
        };
        let top = self.selected.saturating_sub(rows.saturating_sub(1));
        let inner = usize::from(rect.width.saturating_sub(2));
        let text_w = found
            .iter()
            .map(|e| e.text.chars().count())
            .max()
            .unwrap_or(0)
            .min(inner / 2);
        let keys_w = found
            .iter()
            .map(|e| e.keys.chars().count())
            .max()
            .unwrap_or(0)
            .min(12);
        let mut lines = vec![Line::from(vec![
            Span::styled(":", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(terminal_safe(&self.input).into_owned()),
            Span::raw(t.cursor()),
        ])];
        if found.is_empty() {
            lines.push(Line::styled(
                "no action or command matches; Enter runs the line as typed",
                t.style(Slot::Dim),
            ));
        }
        for (i, e) in found.iter().enumerate().skip(top).take(rows) {
            let text = t.clip(&e.text, text_w);
            let keys = t.clip(&e.keys, keys_w);
            let help_w = inner.saturating_sub(text_w + keys_w + 4);
            let line = Line::from(vec![
                Span::styled(
                    format!("{:<text_w$}  ", terminal_safe(&text)),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{keys:<keys_w$}  "), t.style(Slot::Dim)),
                Span::raw(terminal_safe(&t.clip(&e.help, help_w)).into_owned()),
            ]);
            lines.push(if i == self.selected {
                line.style(t.style(Slot::Selected))
            } else {
                line
            });
        }
        let dot = t.dot();
        let mut title = format!(" palette {dot} Tab completes {dot} Enter runs {dot} Esc closes ");
        if let Some(said) = &self.said {
            title = format!(
                " {} ",
                terminal_safe(&t.clip(said, inner.saturating_sub(2)))
            );
        }
        let block = t.pane(title, true);
        let more = found.len().saturating_sub(top + rows);
        let block = if more > 0 {
            block.title_bottom(Line::styled(
                format!(" {more} more "),
                t.style(Slot::Warning),
            ))
        } else {
            block
        };
        frame.render_widget(Clear, rect);
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}
