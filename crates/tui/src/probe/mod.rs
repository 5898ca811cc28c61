//! `probe`'s screen on the kit: a row of figures per node, the presence comparison, the
//! shared alert strip and the shared log pane. It takes the probe's [`Report`]s (lines,
//! alerts, figures) and draws them; `view` is its drawing.

mod screen;
mod view;

pub use observe::probe::report::{Figures, Kind, PresenceLine, Report, Row};
pub use screen::{Action, LOG_BYTES, LOG_LINES, Line, MAX_LINE_CHARS, Probe, RECOVERY_SHOWN};
