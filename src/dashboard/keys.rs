//! The key table: one list that both dispatches keys and writes the help overlay, so the two
//! can never disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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

pub struct KeyBinding {
    pub keys: &'static str,
    pub help: &'static str,
    pub action: Action,
    matches: fn(&KeyEvent) -> bool,
}

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}

fn plain(k: &KeyEvent, c: char) -> bool {
    !k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}

pub const KEYS: &[KeyBinding] = &[
    KeyBinding {
        keys: "q  Ctrl-C",
        help: "quit",
        action: Action::Quit,
        matches: |k| plain(k, 'q') || ctrl(k, 'c'),
    },
    KeyBinding {
        keys: "?",
        help: "this help",
        action: Action::Help,
        matches: |k| plain(k, '?'),
    },
    KeyBinding {
        keys: "Space",
        help: "pause the view (data keeps coming), resume",
        action: Action::Pause,
        matches: |k| plain(k, ' '),
    },
    KeyBinding {
        keys: "Tab",
        help: "focus the next pane",
        action: Action::FocusNext,
        matches: |k| k.code == KeyCode::Tab,
    },
    KeyBinding {
        keys: "BackTab",
        help: "focus the previous pane",
        action: Action::FocusPrev,
        matches: |k| k.code == KeyCode::BackTab,
    },
    KeyBinding {
        keys: "j  ↓",
        help: "move down",
        action: Action::Down,
        matches: |k| plain(k, 'j') || k.code == KeyCode::Down,
    },
    KeyBinding {
        keys: "k  ↑",
        help: "move up",
        action: Action::Up,
        matches: |k| plain(k, 'k') || k.code == KeyCode::Up,
    },
    KeyBinding {
        keys: "g  Home",
        help: "go to the top",
        action: Action::Top,
        matches: |k| plain(k, 'g') || k.code == KeyCode::Home,
    },
    KeyBinding {
        keys: "G  End",
        help: "go to the bottom (the log follows again)",
        action: Action::Bottom,
        matches: |k| plain(k, 'G') || k.code == KeyCode::End,
    },
    KeyBinding {
        keys: "PgDn  Ctrl-d",
        help: "page down",
        action: Action::PageDown,
        matches: |k| k.code == KeyCode::PageDown || ctrl(k, 'd'),
    },
    KeyBinding {
        keys: "PgUp  Ctrl-u",
        help: "page up",
        action: Action::PageUp,
        matches: |k| k.code == KeyCode::PageUp || ctrl(k, 'u'),
    },
    KeyBinding {
        keys: "s",
        help: "sort the ticker: key, value, change, recency",
        action: Action::Sort,
        matches: |k| plain(k, 's'),
    },
    KeyBinding {
        keys: "c",
        help: "clear the ticker and the log",
        action: Action::Clear,
        matches: |k| plain(k, 'c'),
    },
    KeyBinding {
        keys: "/",
        help: "search the log (Enter confirms)",
        action: Action::Search,
        matches: |k| plain(k, '/'),
    },
    KeyBinding {
        keys: "n",
        help: "next search match (newer)",
        action: Action::SearchNext,
        matches: |k| plain(k, 'n'),
    },
    KeyBinding {
        keys: "N",
        help: "previous search match (older)",
        action: Action::SearchPrev,
        matches: |k| plain(k, 'N'),
    },
    KeyBinding {
        keys: "f",
        help: "filter: channel:X event:X field=value text",
        action: Action::Filter,
        matches: |k| plain(k, 'f'),
    },
    KeyBinding {
        keys: "Enter",
        help: "chart the ticker row, or inspect the log line",
        action: Action::Open,
        matches: |k| k.code == KeyCode::Enter,
    },
    KeyBinding {
        keys: "Esc",
        help: "close, clear the filter, go back",
        action: Action::Back,
        matches: |k| k.code == KeyCode::Esc,
    },
    KeyBinding {
        keys: "e",
        help: "export the log as shown to an NDJSON file",
        action: Action::Export,
        matches: |k| plain(k, 'e'),
    },
    KeyBinding {
        keys: "t",
        help: "trigger an event (client-* over the socket)",
        action: Action::Trigger,
        matches: |k| plain(k, 't'),
    },
];

/// The action for a key press, if any.
pub fn action(key: &KeyEvent) -> Option<Action> {
    KEYS.iter().find(|b| (b.matches)(key)).map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_key_and_keys_dispatch() {
        let k = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(action(&k('q')), Some(Action::Quit));
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action(&k('c')), Some(Action::Clear));
        assert_eq!(action(&k('?')), Some(Action::Help));
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(action(&k('x')), None);
    }
}
