//! The terminal kit and its screens.

pub mod dashboard;
pub mod probe;
