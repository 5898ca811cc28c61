//! Support for the tests that run the binary; the scripted peer and the engine helpers are
//! the test kit's, shared with the crates' own tests.
#![allow(dead_code)]
// A test says on stderr what it skipped or what a failing pane printed.
#![allow(clippy::print_stderr)]

pub(crate) mod bin;
pub(crate) mod hostile;
pub(crate) mod metrics;
pub(crate) mod multi;
pub(crate) mod node;
pub(crate) mod rogue;
pub(crate) mod server;
pub(crate) mod tls;
pub(crate) mod tmux;
pub(crate) mod webhook_sink;
pub(crate) mod webhooks;

pub(crate) use testkit::{
    Conn, Peer, WAIT, http_endpoint, loopback_config, next_item, scripted, wait_for,
};
/// The dashboard without a terminal, from the kit's test hooks.
pub(crate) use tui::testing as dashboard;
