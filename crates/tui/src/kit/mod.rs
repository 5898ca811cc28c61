//! The terminal kit: what every screen shares, and nothing screen-specific.
//!
//! - [`Screen`]: the contract a screen implements (its inputs, actions, effects, status
//!   parts, key hints and drawing); [`App`] is a screen with its keymap, theme and help;
//! - [`run`]: the one event loop, generic over the screen, which owns the terminal
//!   (`terminal.rs`, the only file that sets one up) and restores it on every way out;
//! - [`Keymap`]: one keymap over a screen's [`Action`] enum, rebound by `[keys]`;
//! - the chrome: the status bar from [`Part`]s, the key hints ([`HintLine`]) and the help,
//!   both written from the keymap;
//! - the command palette (`:`), also written from the keymap, with the screen's own
//!   [`Command`]s;
//! - [`Theme`]: the looks, and [`pacing`]: when to draw, and `--stats`.

mod chrome;
pub mod clipboard;
pub mod keys;
pub mod pacing;
mod palette;
mod run;
mod screen;
mod terminal;
pub mod theme;

pub use chrome::{HintLine, Part};
pub use keys::pasted;
pub use keys::{Action, ActionInfo, Key, Keymap, Role};
pub use palette::Command;
pub use run::{Ended, MAX_TASKS, RunOptions, run};
pub use screen::{App, Areas, Captured, Chrome, Effect, Screen, Task};
pub use theme::{Slot, Theme, ThemeSpec};
