//! One module per subcommand: each wires the engine, the server or the publishers to an output.

pub mod channels;
pub mod check;
mod connections;
pub mod demo;
pub mod discover;
pub mod expectations;
mod lines;
pub mod probe;
mod probe_screen;
mod probe_shell;
pub mod replay;
pub mod serve;
pub mod stocks;
pub mod trigger;
pub mod watch;
pub mod webhooks;
mod webhooks_screen;
