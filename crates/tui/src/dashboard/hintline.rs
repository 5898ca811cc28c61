//! The key hints at the foot of the screen: the main keys, or what the input being typed
//! takes, or how to resume a paused view. Each key is the first one bound to its action.

use super::keys::Action;
use super::overlay::{InputKind, Overlay};
use super::state::State;
use protocol::safe_text::terminal_safe;

/// `key word` pairs for the key hints, each with the action's first key (unbound ones left
/// out), joined by the theme's dot.
fn hints(state: &State, pairs: &[(Action, &str)]) -> String {
    let t = &state.theme;
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(action, word)| {
            let key = state.options.keys.first(*action, t.ascii)?;
            Some(format!("{key} {word}"))
        })
        .collect();
    parts.join(&format!(" {} ", t.dot()))
}

/// The key hints' line.
pub(super) fn hint_line(state: &State) -> String {
    let t = &state.theme;
    let (dot, cursor) = (t.dot(), t.cursor());
    let input = match &state.overlay {
        Some(Overlay::Input(kind, text)) => Some((kind, text)),
        _ => None,
    };
    let basic = [
        (Action::Quit, "quit"),
        (Action::Help, "help"),
        (Action::Pause, "pause"),
    ];
    if let (Some(banner), None, None) = (&state.banner, input, &state.paused) {
        return format!(" {} {dot} {}", hints(state, &basic), terminal_safe(banner));
    }
    match (input, &state.paused) {
        (Some((InputKind::Search, text)), _) => {
            format!(" search: {}{cursor} (Enter, Esc)", terminal_safe(text))
        }
        (Some((InputKind::Filter, text)), _) => format!(
            " filter: {}{cursor} (channel:X event:X field=value text; Enter, Esc)",
            terminal_safe(text)
        ),
        (None, Some(_)) => format!(
            " {}",
            hints(
                state,
                &[
                    (Action::Pause, "resume"),
                    (Action::Quit, "quit"),
                    (Action::Help, "help")
                ]
            )
        ),
        (None, None) => format!(
            " {} {dot} {}",
            hints(state, &basic),
            hints(
                state,
                &[
                    (Action::FocusNext, "focus"),
                    (Action::Search, "search"),
                    (Action::Filter, "filter"),
                    (Action::Open, "inspect"),
                ]
            )
        ),
    }
}
