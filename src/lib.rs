//! tickertape: the command line and the wiring. Every layer below lives in a crate of its
//! own (see docs/src/internals/architecture.md); this crate resolves each command's plan
//! and connects the pieces.
#![forbid(unsafe_code)]
// The binary owns stdout and stderr: it alone may print (every crate below hands it lines),
// and it prints messages through `say`, which makes them terminal-safe.

#[macro_use]
pub mod say;

pub mod cli;
pub mod commands;
pub mod signals;
