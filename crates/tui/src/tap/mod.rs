//! `tap`'s screen on the kit: the cluster's nodes (heartbeats beside the count the cluster
//! computes), broadcasts by channel and event, the latest requests with how many nodes
//! answered, and a log of what the backplane carried. It takes the tap's source items
//! ([`TapItem`]) and keeps the tap's model itself; `view` is its drawing. Its keys are the
//! probe's (quit, help, moving in the log) and `focus_next` (tab), which switches the middle
//! panes between the traffic (broadcasts, requests) and presence replication.

mod screen;
mod view;

pub use observe::backplane::TapItem;
pub use screen::{Action, LOG_BYTES, LOG_LINES, Line, LineKind, Middle, Tap};
