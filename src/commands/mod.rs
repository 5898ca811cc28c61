//! One module per subcommand: each wires the engine, the server or the publishers to an output.

pub mod channels;
pub mod check;
mod connections;
pub mod demo;
pub mod discover;
pub mod expectations;
mod lines;
pub mod probe;
mod probe_front;
// The probe's old terminal loop drew from the probe's state; the screen now reads reports
// (`probe_front.rs`). Left as it is for the TUI kit, which replaces both.
#[allow(dead_code)]
mod probe_screen;
pub mod replay;
pub mod serve;
pub mod stocks;
pub mod trigger;
pub mod watch;
pub mod webhooks;
mod webhooks_screen;
