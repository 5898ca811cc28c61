//! The watch screen: a live ticker table, a log pane and a status bar for a stream of
//! Pusher events, on the kit. `watch` on a terminal uses it, and so do `replay`, the demo
//! and the webhook receiver.
//!
//! - `model`: what came, bounded (ticker, log, counts, latency, members, silence, hints);
//! - `controls`: the UI (focus, selection, overlay, filter, search, pause), and `input`:
//!   what keys do to it;
//! - `screen`: the [`Watch`] screen (model, UI, source), and `app`: it as a kit screen;
//! - `view` and `overlays`: the drawing, pure.

mod actions;
mod alerts;
mod app;
mod connection;
mod connections;
mod controls;
mod copy;
mod diff;
mod effects;
pub mod export;
mod filter;
pub mod form;
mod input;
mod line;
mod members;
mod model;
mod names;
mod overlays;
mod palette;
mod saved;
mod screen;
mod silence;
mod status;
pub mod ticker;
mod values;
mod view;
mod views;

pub use actions::Action;
pub use alerts::Expectations;
pub use connections::Connections;
pub use controls::{Controls, Focus, Hidden, InputKind, Overlay, Pause};
pub use effects::{Done, Senders, perform, send};
pub use filter::{
    COUNT_LINES_PER_FRAME, COUNT_TIME_PER_FRAME, Count, Filter, contains_ci, find_ci,
};
pub use line::{Kind, LogLine, MAX_LOG_TEXT, MAX_RAW};
pub use members::{MAX_INFO_BYTES, Members};
pub use model::{EventType, LOG_BYTES, LOG_CAPACITY, Model, Options, Seen, Weights};
pub use saved::{ExpectBuilder, ViewSpec, ViewStore, replace_table, valid_name};
pub use screen::{Source, Watch};
pub use silence::{SILENT_AFTER, Silence};
pub use status::{Status, Sub};
pub use ticker::Sort;
pub use view::{MIN_HEIGHT, MIN_WIDTH, layout};
