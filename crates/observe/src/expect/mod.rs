//! Expectations (`--expect`): what a healthy stream looks like, and the evaluation that says
//! when it stops looking like that. Pure: no I/O, no clock; the caller passes the time.
//!
//! - `parse`: the rules and their syntax (a clap value parser);
//! - `eval`: the evaluator, fed `(Item, now)`, returning alerts and recoveries as values;
//! - `connected`: the `connected` rule's downtime, one track per connection;
//! - `verdict`: the `check` subcommand's Nagios verdict with perfdata;
//! - `subscribed`: `check`'s channels, each of which the server must take;
//! - `report`: that verdict as a Nagios line, JSON or Prometheus text.

mod connected;
pub mod eval;
pub mod parse;
pub mod report;
pub mod subscribed;
mod tick;
mod value;
pub mod verdict;

#[cfg(test)]
mod connected_tests;
#[cfg(test)]
mod eval_tests;

pub use eval::{Active, Change, Evaluator, Settings, Transition};
pub use parse::{Expectation, Kind, Level};
pub use subscribed::Subscriptions;
pub use verdict::{Status, Verdict};
