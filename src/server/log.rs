//! `serve --log`: lines like Pusher's Debug Console (CONNECTION, SUBSCRIBED, API MESSAGE, …)
//! on stderr. Everything from the wire is made terminal-safe; secrets never appear.

use std::fmt;
use std::io::Write;

use crate::safe_text::terminal_safe;
use crate::time_text::clock;

#[derive(Clone, Copy, Debug, Default)]
pub struct Log {
    pub enabled: bool,
}

impl Log {
    pub fn line(&self, kind: &str, text: fmt::Arguments<'_>) {
        if !self.enabled {
            return;
        }
        let text = text.to_string();
        let _ = writeln!(
            std::io::stderr().lock(),
            "{} {kind:<18} {}",
            clock(std::time::SystemTime::now()),
            terminal_safe(&text)
        );
    }
}
