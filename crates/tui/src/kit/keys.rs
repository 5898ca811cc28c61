//! Keys and the keymap. A screen names its actions in one table ([`Action::ALL`]: each
//! action's config name, default keys and help); the [`Keymap`] built from it dispatches key
//! presses and writes the help and the key hints, so the three can never disagree. The
//! config file's `[keys]` table rebinds actions by name, for every screen.
//!
//! A key is one character (`G`, `?`), `ctrl-X`, `alt-X`, `f1`–`f12` or a name (`space`,
//! `pgdn`, …). A binding no terminal can send (`ctrl-🙂`, `ctrl-i`, which arrives as Tab) is
//! refused when the table is read. Ctrl-C always quits: no table can take it away or give it
//! to another action.

use std::collections::BTreeMap;

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

/// Ctrl-C: it always quits, whatever the keymap says.
pub(crate) fn is_interrupt(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('C'))
}

/// The closest of `known` to `word`, if it is close enough to be a likely typo.
fn did_you_mean<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, k)| format!(" (did you mean {k:?}?)"))
}

/// Why a terminal cannot send this key, if it cannot: what a terminal sends for Ctrl is a
/// control byte, and only letters, space and 4 to 7 have one of their own (Ctrl-I is Tab,
/// Ctrl-M is Enter); Esc and Shift-Tab take no Alt.
fn unsendable(text: &str, code: KeyCode, ctrl: bool, alt: bool) -> Option<String> {
    let why = match code {
        KeyCode::Char('i') if ctrl => "it reaches tickertape as Tab: bind \"tab\"".to_owned(),
        KeyCode::Char('m') if ctrl => "it reaches tickertape as Enter: bind \"enter\"".to_owned(),
        KeyCode::Char(c) if ctrl && !(c.is_ascii_lowercase() || matches!(c, ' ' | '4'..='7')) => {
            "Ctrl goes with a letter, space, or 4 to 7".to_owned()
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Enter | KeyCode::Esc | KeyCode::Backspace
            if ctrl =>
        {
            "a terminal sends it without Ctrl".to_owned()
        }
        KeyCode::Esc | KeyCode::BackTab if alt => "a terminal sends it without Alt".to_owned(),
        _ => return None,
    };
    Some(format!("{text:?} cannot be sent by a terminal: {why}"))
}

impl Key {
    /// `q`, `G`, `?`, `ctrl-d`, `alt-x`, `space`, `pgdn`, `f5`, …; names ignore case. A key
    /// no terminal can send is refused, saying why.
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
        match unsendable(text.trim(), code, ctrl, alt) {
            Some(why) => Err(why),
            None => Ok(Key { code, ctrl, alt }),
        }
    }

    fn matches(&self, k: &KeyEvent) -> bool {
        let code = match (k.code, self.ctrl) {
            (KeyCode::Char(c), true) => KeyCode::Char(c.to_ascii_lowercase()),
            (code, _) => code,
        };
        code == self.code
            && k.modifiers.contains(KeyModifiers::CONTROL) == self.ctrl
            && k.modifiers.contains(KeyModifiers::ALT) == self.alt
    }

    fn is_interrupt(&self) -> bool {
        self.ctrl && !self.alt && self.code == KeyCode::Char('c')
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

/// What the kit itself does with an action, whichever screen it belongs to: quitting, the
/// help overlay, and moving in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Quit,
    Help,
    /// Opens the command palette (`:`). A screen without such an action still gets the
    /// palette on `:` when its keymap leaves `:` free.
    Palette,
    /// Closes what is open.
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

/// A screen's actions: one enum, one table.
pub trait Action: Copy + Eq + std::fmt::Debug + 'static {
    /// Every action, in the help's order.
    const ALL: &'static [ActionInfo<Self>];

    /// What the kit does with it, if anything (the screen never sees Quit and Help).
    fn role(self) -> Option<Role>;
}

/// One action: its name in `[keys]`, its default keys, and what the help says.
#[derive(Debug)]
pub struct ActionInfo<A: 'static> {
    pub action: A,
    pub name: &'static str,
    pub defaults: &'static [&'static str],
    pub help: &'static str,
}

impl<A> ActionInfo<A> {
    pub const fn new(
        action: A,
        name: &'static str,
        defaults: &'static [&'static str],
        help: &'static str,
    ) -> ActionInfo<A> {
        ActionInfo {
            action,
            name,
            defaults,
            help,
        }
    }
}

/// The keys of every action of one screen: the defaults, with what `[keys]` rebinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap<A> {
    /// In [`Action::ALL`]'s order.
    keys: Vec<(A, Vec<Key>)>,
}

impl<A: Action> Default for Keymap<A> {
    fn default() -> Keymap<A> {
        let keys = A::ALL
            .iter()
            .map(|a| {
                // The defaults are the screens' own, checked by their tests.
                let keys = a.defaults.iter().filter_map(|k| Key::parse(k).ok());
                (a.action, keys.collect())
            })
            .collect();
        Keymap { keys }
    }
}

impl<A: Action> Keymap<A> {
    /// The defaults with `[keys]` applied: each named action gets exactly the keys given (an
    /// empty list unbinds it), and a key given to an action leaves the action it had by
    /// default. An action this screen does not have is an error.
    pub fn with(table: &BTreeMap<String, Vec<String>>) -> Result<Keymap<A>, String> {
        if let Some(name) = table.keys().find(|n| !A::ALL.iter().any(|a| a.name == *n)) {
            return Err(unknown_action(name, A::ALL.iter().map(|a| a.name)));
        }
        Keymap::with_known(table)
    }

    /// As [`Keymap::with`], but names this screen does not have are left to the screens that
    /// do (the config file's one table serves them all).
    pub(crate) fn with_known(table: &BTreeMap<String, Vec<String>>) -> Result<Keymap<A>, String> {
        let mut map = Keymap::default();
        let mut given: Vec<(A, &str, Vec<Key>)> = Vec::new();
        for (name, keys) in table {
            let Some(info) = A::ALL.iter().find(|a| a.name == name) else {
                continue;
            };
            let keys = keys
                .iter()
                .map(|k| Key::parse(k).map_err(|e| format!("{name}: {e}")))
                .collect::<Result<Vec<Key>, String>>()?;
            let quit = info.action.role() == Some(Role::Quit);
            if keys.is_empty() && quit {
                return Err("quit needs at least one key".into());
            }
            if !quit && keys.iter().any(Key::is_interrupt) {
                return Err(format!(
                    "{name}: Ctrl-C always quits; it cannot be given to {name}"
                ));
            }
            given.push((info.action, info.name, keys));
        }
        for (i, (_, name, keys)) in given.iter().enumerate() {
            for (other, other_keys) in given[i + 1..].iter().map(|(_, n, k)| (n, k)) {
                if let Some(k) = keys.iter().find(|k| other_keys.contains(k)) {
                    return Err(format!(
                        "{} is bound to both {name} and {other}",
                        k.label(true)
                    ));
                }
            }
        }
        for (action, _, keys) in &given {
            for (a, have) in &mut map.keys {
                if a == action {
                    have.clone_from(keys);
                } else {
                    have.retain(|k| !keys.contains(k));
                }
            }
        }
        Ok(map)
    }

    /// The same keymap with `action` unbound (a screen that cannot do it now).
    pub fn without(mut self, action: A) -> Keymap<A> {
        for (a, keys) in &mut self.keys {
            if *a == action {
                keys.clear();
            }
        }
        self
    }

    fn quit(&self) -> Option<A> {
        A::ALL
            .iter()
            .map(|a| a.action)
            .find(|a| a.role() == Some(Role::Quit))
    }

    /// The action for a key press, if any. Ctrl-C is always the quit action.
    pub fn action(&self, key: &KeyEvent) -> Option<A> {
        if is_interrupt(key) {
            return self.quit();
        }
        self.keys
            .iter()
            .find(|(_, keys)| keys.iter().any(|k| k.matches(key)))
            .map(|(a, _)| *a)
    }

    /// The keys of one action as the help writes them (`q  Ctrl-C`); empty when unbound.
    /// Quitting always lists Ctrl-C.
    pub fn label(&self, action: A, ascii: bool) -> String {
        let Some((_, keys)) = self.keys.iter().find(|(a, _)| *a == action) else {
            return String::new();
        };
        let mut labels: Vec<String> = keys.iter().map(|k| k.label(ascii)).collect();
        if action.role() == Some(Role::Quit) && !keys.iter().any(Key::is_interrupt) {
            labels.push("Ctrl-C".into());
        }
        labels.join("  ")
    }

    /// The first key of an action, for the key hints; `None` when it is unbound.
    pub fn first(&self, action: A, ascii: bool) -> Option<String> {
        self.keys
            .iter()
            .find(|(a, _)| *a == action)
            .and_then(|(_, keys)| keys.first())
            .map(|k| k.label(ascii))
    }

    /// The help: each action's keys and what it does, in the table's order.
    pub fn help(&self, ascii: bool) -> Vec<(String, &'static str)> {
        A::ALL
            .iter()
            .map(|a| (self.label(a.action, ascii), a.help))
            .collect()
    }
}

/// "unknown action …; the actions are …".
pub(crate) fn unknown_action<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> String {
    format!(
        "unknown action {name:?}{}; the actions are {}",
        did_you_mean(name, known.clone()),
        known.collect::<Vec<_>>().join(", ")
    )
}

/// Pasted text as a single-line field takes it: each line break (`\r\n`, `\n`, `\r`)
/// and tab a space, every other control character dropped. A paste is text, never a key:
/// its line breaks never submit anything. Lazy: a field that is full stops reading a
/// paste of any size there, with no copy of it made.
pub fn pasted(text: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        loop {
            match chars.next()? {
                '\r' => {
                    chars.next_if_eq(&'\n');
                    return Some(' ');
                }
                '\n' | '\t' => return Some(' '),
                c if c.is_control() => {}
                c => return Some(c),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paste_is_one_line_of_text() {
        let got: String = pasted("a\r\nb\nc\rd\te\u{7}\u{9b}f\r\n\r\n").collect();
        assert_eq!(got, "a b c d ef  ");
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Act {
        Quit,
        Help,
        Sort,
        Clear,
    }

    impl Action for Act {
        const ALL: &'static [ActionInfo<Act>] = &[
            ActionInfo::new(Act::Quit, "quit", &["q", "ctrl-c"], "quit"),
            ActionInfo::new(Act::Help, "help", &["?"], "this help"),
            ActionInfo::new(Act::Sort, "sort", &["s"], "sort"),
            ActionInfo::new(Act::Clear, "clear", &["c"], "clear"),
        ];
        fn role(self) -> Option<Role> {
            match self {
                Act::Quit => Some(Role::Quit),
                Act::Help => Some(Role::Help),
                _ => None,
            }
        }
    }

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn table(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
            .collect()
    }

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
            ("ctrl-space", "Ctrl-Space"),
            ("alt-é", "Alt-É"),
            ("🙂", "🙂"),
        ] {
            assert_eq!(Key::parse(text).unwrap().label(true), label, "{text}");
        }
        let e = Key::parse("pgdown").unwrap_err();
        assert!(e.contains("(did you mean \"pagedown\"?); use"), "{e}");
        assert!(Key::parse("").is_err() && Key::parse("f13").is_err());
    }

    #[test]
    fn keys_no_terminal_can_send_are_refused() {
        for text in [
            "ctrl-🙂",
            "ctrl-é",
            "ctrl-1",
            "ctrl-.",
            "ctrl-tab",
            "ctrl-enter",
            "alt-esc",
        ] {
            let e = Key::parse(text).unwrap_err();
            assert!(e.contains("cannot be sent by a terminal"), "{text}: {e}");
        }
        let e = Key::parse("ctrl-i").unwrap_err();
        assert!(e.contains("as Tab"), "{e}");
        for text in [
            "ctrl-a",
            "ctrl-Z",
            "ctrl-4",
            "alt-enter",
            "ctrl-up",
            "alt-ctrl-x",
        ] {
            assert!(Key::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn the_table_rebinds_and_ctrl_c_always_quits() {
        let map = Keymap::<Act>::with(&table(&[("quit", &["x"]), ("clear", &["s"])])).unwrap();
        assert_eq!(map.action(&k('x')), Some(Act::Quit));
        assert_eq!(map.action(&k('q')), None);
        assert_eq!(
            map.action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Act::Quit),
            "Ctrl-C quits whatever the table says"
        );
        assert_eq!(map.label(Act::Quit, true), "x  Ctrl-C");
        assert_eq!(map.label(Act::Sort, true), "", "s left sort");
        let e = Keymap::<Act>::with(&table(&[("clear", &["ctrl-c"])])).unwrap_err();
        assert!(e.contains("Ctrl-C always quits"), "{e}");
        let e = Keymap::<Act>::with(&table(&[("serch", &["s"])])).unwrap_err();
        assert!(e.contains("unknown action \"serch\""), "{e}");
        let e = Keymap::<Act>::with(&table(&[("sort", &["x"]), ("clear", &["x"])])).unwrap_err();
        assert!(e.contains("x is bound to both clear and sort"), "{e}");
        let e = Keymap::<Act>::with(&table(&[("quit", &[])])).unwrap_err();
        assert!(e.contains("quit needs"), "{e}");
        // Another screen's action is that screen's business.
        assert!(Keymap::<Act>::with_known(&table(&[("trigger", &["t"])])).is_ok());
        let without = Keymap::<Act>::default().without(Act::Sort);
        assert_eq!(
            (without.action(&k('s')), without.first(Act::Sort, true)),
            (None, None)
        );
    }
}
