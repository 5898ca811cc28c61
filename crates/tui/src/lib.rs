//! The terminal kit and its screens.

pub mod dashboard;
pub mod probe;

/// Hooks for tests and benchmarks: the dashboard driven and drawn without a terminal.
#[cfg(feature = "testing")]
pub mod testing;
