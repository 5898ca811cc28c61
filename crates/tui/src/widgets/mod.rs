//! Widgets the screens share: the log pane over one byte-bounded ring (and, over it, a log
//! of timed lines that follows the newest), the alert strip over one alert model, and the
//! mapping of instants to times of day.

pub mod alerts;
pub mod epoch;
pub mod followed;
pub mod log;
