//! The watch screen's actions: one enum, and one table of each action's config name,
//! default keys and help, from which the kit's keymap dispatches keys and writes the help
//! and the key hints.

use crate::kit::{ActionInfo, Role};

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
    Palette,
    Copy,
    CopyCommand,
    CopyPath,
    Diff,
    ToggleTicker,
    ToggleLog,
    ToggleSide,
    ToggleChanged,
}

const fn info(
    action: Action,
    name: &'static str,
    defaults: &'static [&'static str],
    help: &'static str,
) -> ActionInfo<Action> {
    ActionInfo::new(action, name, defaults, help)
}

/// Every action, in the help's order.
const ACTIONS: &[ActionInfo<Action>] = &[
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
        "filter: channel:X event:X field=value text, or jq (.data.x > 1)",
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
    info(
        Action::Copy,
        "copy",
        &["y"],
        "copy the selected event as JSON; in inspect, the selected value (OSC 52: works over SSH and tmux)",
    ),
    info(
        Action::CopyPath,
        "copy_path",
        &["p"],
        "in inspect: copy the selected value's jq path (.data.price)",
    ),
    info(
        Action::CopyCommand,
        "copy_command",
        &["Y"],
        "copy a tickertape trigger command that sends the event again (no secret)",
    ),
    info(
        Action::Diff,
        "diff",
        &["d"],
        "in inspect: the event, or what changed since the previous one",
    ),
    info(
        Action::ToggleTicker,
        "toggle_ticker",
        &["1"],
        "hide or show the ticker pane (the log takes its room)",
    ),
    info(
        Action::ToggleLog,
        "toggle_log",
        &["2"],
        "hide or show the log pane (the ticker takes its room)",
    ),
    info(
        Action::ToggleSide,
        "toggle_side",
        &["3"],
        "hide or show the side panes (members, events by channel)",
    ),
    info(
        Action::ToggleChanged,
        "toggle_changed",
        &["C"],
        "hide or show the ticker's CHANGED column (what changed since the key's last update)",
    ),
    info(
        Action::Palette,
        "palette",
        &[":"],
        "command palette: every action, and subscribe, channel, sort, view, theme",
    ),
];

impl crate::kit::Action for Action {
    const ALL: &'static [ActionInfo<Action>] = ACTIONS;

    fn role(self) -> Option<Role> {
        match self {
            Action::Quit => Some(Role::Quit),
            Action::Help => Some(Role::Help),
            Action::Back => Some(Role::Back),
            Action::Up => Some(Role::Up),
            Action::Down => Some(Role::Down),
            Action::PageUp => Some(Role::PageUp),
            Action::PageDown => Some(Role::PageDown),
            Action::Top => Some(Role::Top),
            Action::Bottom => Some(Role::Bottom),
            Action::Palette => Some(Role::Palette),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::Keymap;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn every_action_has_a_key_and_keys_dispatch() {
        let map = Keymap::<Action>::default();
        for a in ACTIONS {
            for key in a.defaults {
                assert!(crate::kit::Key::parse(key).is_ok(), "{key}");
            }
            assert!(!map.label(a.action, true).is_empty(), "{}", a.name);
        }
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
    }
}
