//! What opens over the main screen: one at a time, so one enum. The main screen's keys go to
//! it while it is open, and Esc closes it.

use super::form::Form;

/// What is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Search,
    Filter,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// Text being typed after `/` or `f`, shown in the key hints.
    Input(InputKind, String),
    /// The key table, and how far it is scrolled.
    Help { scroll: u16 },
    /// A ticker key's history as a chart.
    Chart(String),
    /// The log line with this `seq` in full, and how far it is scrolled.
    Inspect { seq: u64, scroll: u16 },
    /// The trigger form.
    Form(Form),
}
