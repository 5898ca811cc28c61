//! `tickertape probe`: a synthetic canary. Canaries are published through each node's REST
//! API in turn and must arrive, over the WebSocket, on every node; with several nodes, every
//! node also joins one presence channel and their member lists must agree.
//!
//! The [`run`] loop feeds the [`shell`] (a tap of the pipeline, and the probe's front end)
//! from the nodes' engines and its publishes; the pure pieces are fed the time by it:
//! - `canary`: sequence tracking (received, lost, late, duplicate), bounded;
//! - `members`: presence lists per node and their comparison after a settle time;
//! - `state`: figures per node and the alerts;
//! - `verdict`: `--for`'s Nagios verdict with perfdata;
//! - `lines`: the text and NDJSON lines; `metrics`: the Prometheus series;
//! - `report`: what a screen is handed (lines, alerts, figures).

pub mod canary;
pub mod lines;
pub mod members;
pub mod metrics;
pub mod report;
pub mod run;
pub mod shell;
pub mod state;
pub mod verdict;

/// Most `--node`s (each one is a label value of the metrics).
pub const MAX_NODES: usize = 16;
/// The canary's event name.
pub const EVENT: &str = "tickertape-canary";
