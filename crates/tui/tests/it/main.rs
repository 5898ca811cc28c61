//! The dashboard and the probe's screen, driven and drawn without a terminal.

/// Snapshots of the whole dashboard at 80×24 and at 120×40. A macro, so that insta names
/// them after the calling test's module, as it did when each module had its own function.
macro_rules! snapshots {
    ($name:expr, $state:expr, $now:expr $(,)?) => {
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(
                format!("{}_{w}x{h}", $name),
                crate::support::dashboard::render($state, $now, w, h).backend()
            );
        }
    };
}

mod alerts;
mod bounded;
mod console_screen;
mod dashboard;
mod edges;
mod inspect;
mod navigation;
mod one_terminal;
mod panic_tmux;
mod payload;
mod probe_screen;
mod symbols;
mod tap_screen;

mod support {
    pub(crate) use tui::testing as dashboard;
}
