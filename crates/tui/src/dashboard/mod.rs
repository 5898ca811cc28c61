//! The dashboard: a live ticker table, a log pane and a status bar for a stream of Pusher
//! events. `state` holds the data and its update functions (no terminal), `view` draws it
//! (pure), `terminal` runs the loop that owns the state.

pub mod alerts;
pub mod connection;
pub mod connections;
pub mod effects;
pub mod export;
pub mod form;
mod help;
mod hintline;
mod incoming;
mod input;
mod key;
pub mod keys;
pub mod logview;
mod members;
pub mod overlay;
mod overlays;
pub mod pacing;
pub mod silence;
pub mod state;
mod status;
mod statusbar;
pub mod terminal;
pub mod theme;
pub mod ticker;
pub mod view;

pub use state::{Options, State};
