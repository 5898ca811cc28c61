//! One key as `[keys]` writes it (`q`, `ctrl-d`, `pgdn`): parsed, matched against a key
//! press, and written back for the help.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Key names `[keys]` accepts besides single characters, and what they stand for.
const NAMED: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
];

const ALIASES: &[(&str, &str)] = &[
    ("shift-tab", "backtab"),
    ("return", "enter"),
    ("escape", "esc"),
    ("del", "delete"),
    ("pageup", "pgup"),
    ("pagedown", "pgdn"),
];

/// One key: a code and the modifiers that must be held. Shift is part of the character
/// (`G`, `?`), so it is not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

/// The closest of `known` to `word`, if it is close enough to be a likely typo.
pub(super) fn did_you_mean<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, k)| format!(" (did you mean {k:?}?)"))
}

impl Key {
    /// `q`, `G`, `?`, `ctrl-d`, `alt-x`, `space`, `pgdn`, `f5`, …; names ignore case.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text.trim();
        let (mut ctrl, mut alt) = (false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            let cut = ["ctrl-", "ctrl+", "alt-", "alt+"]
                .into_iter()
                .find(|p| lower.starts_with(p) && rest.len() > p.len());
            match cut {
                Some(p) => {
                    if p.starts_with("ctrl") {
                        ctrl = true;
                    } else {
                        alt = true;
                    }
                    rest = &rest[p.len()..];
                }
                None => break,
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err("a key is empty".into()),
            (Some(c), None) if !c.is_control() => {
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            _ => {
                let lower = rest.to_ascii_lowercase();
                let name = ALIASES
                    .iter()
                    .find(|(a, _)| *a == lower)
                    .map_or(lower.as_str(), |(_, n)| n);
                let function = name
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n));
                match (NAMED.iter().find(|(n, _)| *n == name), function) {
                    (Some((_, code)), _) => *code,
                    (None, Some(n)) => KeyCode::F(n),
                    (None, None) => {
                        return Err(format!(
                            "unknown key {text:?}{}; use one character, ctrl-X, alt-X, f1 to f12 or one of {}",
                            did_you_mean(
                                &lower,
                                NAMED
                                    .iter()
                                    .map(|(n, _)| *n)
                                    .chain(ALIASES.iter().map(|(a, _)| *a))
                            ),
                            NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }

    pub(super) fn matches(&self, k: &KeyEvent) -> bool {
        let code = match (k.code, self.ctrl) {
            (KeyCode::Char(c), true) => KeyCode::Char(c.to_ascii_lowercase()),
            (code, _) => code,
        };
        code == self.code
            && k.modifiers.contains(KeyModifiers::CONTROL) == self.ctrl
            && k.modifiers.contains(KeyModifiers::ALT) == self.alt
    }

    /// How the help writes the key: `q`, `Ctrl-C`, `PgDn`, `↓` (`Down` in ASCII).
    pub fn label(&self, ascii: bool) -> String {
        let arrow = |unicode: &str, plain: &str| if ascii { plain } else { unicode }.to_owned();
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) if self.ctrl || self.alt => c.to_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => arrow("↑", "Up"),
            KeyCode::Down => arrow("↓", "Down"),
            KeyCode::Left => arrow("←", "Left"),
            KeyCode::Right => arrow("→", "Right"),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::BackTab => "BackTab".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let ctrl = if self.ctrl { "Ctrl-" } else { "" };
        let alt = if self.alt { "Alt-" } else { "" };
        format!("{ctrl}{alt}{base}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print() {
        for (text, label) in [
            ("q", "q"),
            ("G", "G"),
            ("Ctrl-C", "Ctrl-C"),
            ("ctrl+d", "Ctrl-D"),
            ("alt-x", "Alt-X"),
            ("SPACE", "Space"),
            ("PageDown", "PgDn"),
            ("shift-tab", "BackTab"),
            ("f5", "F5"),
            ("-", "-"),
            ("down", "Down"),
        ] {
            assert_eq!(Key::parse(text).unwrap().label(true), label, "{text}");
        }
        let e = Key::parse("pgdown").unwrap_err();
        assert!(e.contains("(did you mean \"pagedown\"?); use"), "{e}");
        assert!(Key::parse("").is_err() && Key::parse("f13").is_err());
    }
}
