//! tickertape: a terminal client, headless watcher and embedded server for the
//! Pusher Channels protocol v7.
#![forbid(unsafe_code)]

pub mod protocol;
