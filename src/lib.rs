//! tickertape: a terminal client, headless watcher and embedded server for the
//! Pusher Channels protocol v7.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod commands;
pub mod dashboard;
pub mod expect;
pub mod field_path;
pub mod latency;
pub mod metrics;
pub mod net;
pub mod output;
pub mod probe;
pub mod protocol;
pub mod publish;
pub mod recording;
pub mod safe_text;
pub mod server;
pub mod time_text;
