//! `serve`'s Debug Console on the kit: what the embedded server does, live. Its inputs are
//! plain types (this crate never knows the server's): the log's entries, each a kind and
//! its fields as the server's NDJSON log has them, and periodic bounded snapshots of the
//! hub (connections, occupied channels, one channel's members), which the binary makes from
//! the server's own and hands over on the screen's bounded queue. The console never reads
//! the server's state itself.
//!
//! - [`model`]: the inputs and the filter (pluggable: a [`Predicate`]);
//! - [`screen`]: the state, the actions and what each input does;
//! - `view`: the drawing.

pub mod model;
mod screen;
mod view;

pub use model::{
    Backend, ChannelRow, Entry, Filter, Input, JqFilter, Members, Predicate, Snapshot, TextFilter,
};
pub use screen::{
    Action, CHANNELS_SHOWN, Console, Done, LOG_BYTES, LOG_LINES, MAX_FIELD_CHARS, Pane, Sort,
};
