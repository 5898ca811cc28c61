//! Observing a stream of Pusher items from the client engine: expectations, the output
//! formats, recordings, bindings and "did you mean" hints, the watch metrics and the
//! probe's model.

pub mod backplane;
pub mod binding;
pub mod diff;
pub mod expect;
pub mod field_path;
pub mod hints;
pub mod jq;
pub mod latency;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod probe;
pub mod reach;
pub mod recording;
pub mod replay;
