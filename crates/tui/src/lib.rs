//! The terminal kit and its screens.
//!
//! - [`kit`]: the terminal, the event loop, the keymap and the chrome every screen shares;
//! - [`widgets`]: the log pane and the alert strip, shared by the screens;
//! - [`watch`]: the watch screen (also `replay`, the demo and `webhooks`);
//! - [`probe`]: the probe's screen;
//! - [`console`]: `serve`'s Debug Console;
//! - [`keys`]: the config file's `[keys]` table, for every screen.

pub mod console;
pub mod keys;
pub mod kit;
pub mod probe;
pub mod tap;
pub mod watch;
pub mod widgets;

/// Hooks for tests and benchmarks: the screens driven and drawn without a terminal.
#[cfg(feature = "testing")]
pub mod testing;
