//! The key table: one list of actions, each with its config name, default keys and help, that
//! both dispatches keys and writes the help overlay, so the two can never disagree. The
//! config file's `[keys]` table rebinds actions by name.

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyEvent;

pub use super::key::Key;
use super::key::did_you_mean;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Pause,
    FocusNext,
    FocusPrev,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Sort,
    Clear,
    Back,
    Search,
    SearchNext,
    SearchPrev,
    Filter,
    Open,
    Export,
    Trigger,
}

/// One action: its name in `[keys]`, its default keys, and what the help says.
pub struct ActionInfo {
    pub action: Action,
    pub name: &'static str,
    pub defaults: &'static [&'static str],
    pub help: &'static str,
}

const fn info(
    action: Action,
    name: &'static str,
    defaults: &'static [&'static str],
    help: &'static str,
) -> ActionInfo {
    ActionInfo {
        action,
        name,
        defaults,
        help,
    }
}

/// Every action, in the help's order.
pub const ACTIONS: &[ActionInfo] = &[
    info(Action::Quit, "quit", &["q", "ctrl-c"], "quit"),
    info(Action::Help, "help", &["?"], "this help"),
    info(
        Action::Pause,
        "pause",
        &["space"],
        "pause the view (data still comes), resume",
    ),
    info(
        Action::FocusNext,
        "focus_next",
        &["tab"],
        "focus the next pane",
    ),
    info(
        Action::FocusPrev,
        "focus_prev",
        &["backtab"],
        "focus the previous pane",
    ),
    info(Action::Down, "down", &["j", "down"], "move down"),
    info(Action::Up, "up", &["k", "up"], "move up"),
    info(Action::Top, "top", &["g", "home"], "go to the top"),
    info(
        Action::Bottom,
        "bottom",
        &["G", "end"],
        "go to the bottom (the log follows)",
    ),
    info(
        Action::PageDown,
        "page_down",
        &["pgdn", "ctrl-d"],
        "page down",
    ),
    info(Action::PageUp, "page_up", &["pgup", "ctrl-u"], "page up"),
    info(
        Action::Sort,
        "sort",
        &["s"],
        "sort: key, value, change, recency",
    ),
    info(
        Action::Clear,
        "clear",
        &["c"],
        "clear the ticker and the log",
    ),
    info(
        Action::Search,
        "search",
        &["/"],
        "search the log (Enter confirms)",
    ),
    info(
        Action::SearchNext,
        "search_next",
        &["n"],
        "next search match (newer)",
    ),
    info(
        Action::SearchPrev,
        "search_prev",
        &["N"],
        "previous search match (older)",
    ),
    info(
        Action::Filter,
        "filter",
        &["f"],
        "filter: channel:X event:X field=value text",
    ),
    info(
        Action::Open,
        "open",
        &["enter"],
        "chart a ticker row, inspect a log line",
    ),
    info(
        Action::Back,
        "back",
        &["esc"],
        "close, clear the filter, go back",
    ),
    info(
        Action::Export,
        "export",
        &["e"],
        "export the log as shown to NDJSON",
    ),
    info(
        Action::Trigger,
        "trigger",
        &["t"],
        "trigger an event (client-* on the socket)",
    ),
];

/// The keys of every action: the defaults, with what `[keys]` rebinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// In [`ACTIONS`]' order.
    keys: Vec<(Action, Vec<Key>)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let keys = ACTIONS
            .iter()
            .map(|a| {
                let keys = a
                    .defaults
                    .iter()
                    .map(|k| Key::parse(k).expect("a default key parses"));
                (a.action, keys.collect())
            })
            .collect();
        Keymap { keys }
    }
}

impl Keymap {
    /// The defaults with `[keys]` applied: each named action gets exactly the keys given (an
    /// empty list unbinds it), and a key given to an action leaves the action it had by
    /// default. The errors name what is wrong; no key is bound to two actions.
    pub fn with(table: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        let mut given: Vec<(Action, &str, Vec<Key>)> = Vec::new();
        for (name, keys) in table {
            let Some(info) = ACTIONS.iter().find(|a| a.name == name) else {
                return Err(format!(
                    "unknown action {name:?}{}; the actions are {}",
                    did_you_mean(name, ACTIONS.iter().map(|a| a.name)),
                    ACTIONS
                        .iter()
                        .map(|a| a.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            let keys = keys
                .iter()
                .map(|k| Key::parse(k).map_err(|e| format!("{name}: {e}")))
                .collect::<Result<Vec<Key>, String>>()?;
            if keys.is_empty() && info.action == Action::Quit {
                return Err("quit needs at least one key".into());
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
                    *have = keys.clone();
                } else {
                    have.retain(|k| !keys.contains(k));
                }
            }
        }
        Ok(map)
    }

    /// The action for a key press, if any.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        self.keys
            .iter()
            .find(|(_, keys)| keys.iter().any(|k| k.matches(key)))
            .map(|(a, _)| *a)
    }

    /// The keys of one action as the help writes them (`q  Ctrl-C`); empty when unbound.
    pub fn label(&self, action: Action, ascii: bool) -> String {
        self.keys
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, keys)| {
                let labels: Vec<String> = keys.iter().map(|k| k.label(ascii)).collect();
                labels.join("  ")
            })
            .unwrap_or_default()
    }

    /// The first key of an action, for the key hints; `None` when it is unbound.
    pub fn first(&self, action: Action, ascii: bool) -> Option<String> {
        self.keys
            .iter()
            .find(|(a, _)| *a == action)
            .and_then(|(_, keys)| keys.first())
            .map(|k| k.label(ascii))
    }

    /// The help: each action's keys and what it does, in the table's order.
    pub fn help(&self, ascii: bool) -> Vec<(String, &'static str)> {
        ACTIONS
            .iter()
            .map(|a| (self.label(a.action, ascii), a.help))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn every_action_has_a_key_and_keys_dispatch() {
        let map = Keymap::default();
        assert_eq!(map.action(&k('q')), Some(Action::Quit));
        assert_eq!(
            map.action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(map.action(&k('c')), Some(Action::Clear));
        assert_eq!(map.action(&k('?')), Some(Action::Help));
        assert_eq!(map.action(&k('/')), Some(Action::Search));
        assert_eq!(
            map.action(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(map.action(&k('x')), None);
        for a in ACTIONS {
            assert!(!map.label(a.action, true).is_empty(), "{}", a.name);
        }
    }

    #[test]
    fn the_table_rebinds_and_says_what_is_wrong() {
        let table = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
            pairs
                .iter()
                .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
                .collect()
        };
        let map = Keymap::with(&table(&[("search", &["s"]), ("down", &["J"])])).unwrap();
        assert_eq!(map.action(&k('s')), Some(Action::Search));
        assert_eq!(map.action(&k('/')), None);
        assert_eq!(map.action(&k('j')), None);
        assert_eq!(map.label(Action::Sort, true), "", "s left sort");
        assert_eq!(map.label(Action::Down, true), "J");
        let e = Keymap::with(&table(&[("serch", &["s"])])).unwrap_err();
        assert!(e.contains("did you mean \"search\""), "{e}");
        let e = Keymap::with(&table(&[("sort", &["x"]), ("clear", &["x"])])).unwrap_err();
        assert!(e.contains("x is bound to both clear and sort"), "{e}");
        let e = Keymap::with(&table(&[("quit", &[])])).unwrap_err();
        assert!(e.contains("quit needs"), "{e}");
        let e = Keymap::with(&table(&[("quit", &["ctrl-"])])).unwrap_err();
        assert!(e.starts_with("quit: unknown key"), "{e}");
    }
}
