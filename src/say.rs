//! The one way this crate writes on stderr: messages as `tickertape: …` lines, made
//! terminal-safe whole, and NDJSON lines in the terminal-safe JSON format.
//!
//! A message is often built from pieces that come from strangers: a server's close reason,
//! an answer's body, a file's name or content, a flag's value. Escaping each piece at its
//! call site is easy to forget, so every message is escaped here, whole: control, bidi and
//! format characters (a newline included: a message is one line, and no stranger can forge
//! another) become visible escapes. Escaping is idempotent, so pieces already escaped are
//! unchanged. A message that needs two lines is said twice.
//!
//! `std::io::stderr` is a disallowed method in the workspace (`clippy.toml`); this module is
//! where this crate may use it. Writing never panics: a closed stderr loses the line, as
//! `eprintln!` would not (it panics).

use std::io::Write;

use protocol::safe_text::terminal_safe;

/// Writes `tickertape: {text}` on stderr, terminal-safe, in one write.
#[allow(clippy::disallowed_methods)]
pub fn line(text: &str) {
    let mut line = String::with_capacity(text.len() + 13);
    line.push_str("tickertape: ");
    line.push_str(&terminal_safe(text));
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Writes `text`'s lines on stderr as they are but terminal-safe, each line by itself (for
/// a message made elsewhere, such as a usage error).
#[allow(clippy::disallowed_methods)]
pub fn lines(text: &str) {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        out.push_str(&terminal_safe(line));
        out.push('\n');
    }
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// Writes `value` as one NDJSON line on stderr (`--json-status`), in the terminal-safe JSON
/// format of the output (unsafe characters as `\uXXXX` escapes).
#[allow(clippy::disallowed_methods)]
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    let mut line = Vec::new();
    if observe::output::ndjson::write_line(&mut line, value).is_ok() {
        let _ = std::io::stderr().lock().write_all(&line);
    }
}

/// Rings the terminal's bell (`--bell`): the one control character this crate writes on
/// purpose.
#[allow(clippy::disallowed_methods)]
pub fn bell() {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"\x07");
    let _ = err.flush();
}

/// `say!("…{x}…")`: [`line`] of the formatted text.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say::line(&::std::format!($($arg)*))
    };
}
