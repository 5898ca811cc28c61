//! The dashboard and the probe's screen, driven and drawn without a terminal.

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
