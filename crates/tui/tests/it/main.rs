//! The dashboard and the probe's screen, driven and drawn without a terminal.

mod alerts;
mod bounded;
mod dashboard;
mod edges;
mod inspect;
mod one_terminal;
mod panic_tmux;
mod payload;
mod probe_screen;
mod symbols;

mod support {
    pub(crate) use tui::testing as dashboard;
}
