//! Widgets the screens share: the log pane over one byte-bounded ring, and the alert strip
//! over one alert model.

pub mod alerts;
pub mod log;
