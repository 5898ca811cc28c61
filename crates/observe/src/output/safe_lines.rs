//! A writer that makes every line it is given terminal-safe: the log file's (`--log-file`).
//!
//! The log's lines are formatted by `tracing`, whose messages and fields hold whatever the
//! code put there: a server's close reason, a channel name, an error quoting an answer. Each
//! call site cannot be trusted to escape it, so the file's writer does, for all of them. The
//! subscriber hands over each record whole, in one write, ending with its newline: that
//! newline stays, and every unsafe character before it (a newline inside a message
//! included, so that no stranger can forge a record) becomes a visible escape.

use std::io::{self, Write};

use protocol::safe_text::terminal_safe;

/// Writes each record given to it terminal-safe, its final newline kept.
#[derive(Debug)]
pub struct SafeLines<W> {
    inner: W,
}

impl<W: Write> SafeLines<W> {
    pub fn new(inner: W) -> SafeLines<W> {
        SafeLines { inner }
    }
}

impl<W: Write> Write for SafeLines<W> {
    /// Takes `buf` whole (a record, or the rest of one): bytes that are not UTF-8 become
    /// U+FFFD, never reach the file raw.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        let safe = terminal_safe(body);
        if end.is_empty() {
            self.inner.write_all(safe.as_bytes())?;
        } else {
            // One write for the record and its newline, so that records stay whole in a
            // file opened for appending by more than one process.
            let mut line = String::with_capacity(safe.len() + 1);
            line.push_str(&safe);
            line.push('\n');
            self.inner.write_all(line.as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_is_one_safe_line() {
        let mut out = SafeLines::new(Vec::new());
        out.write_all(b"closed: \x1b]0;title\x07 \xe2\x80\xae\xc2\xad\nforged line\n")
            .unwrap();
        out.write_all(b"bad utf-8 \xff\xfe\n").unwrap();
        out.write_all("tag \u{e0041}".as_bytes()).unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        assert_eq!(
            text,
            "closed: \\e]0;title\\u{7} \\u{202e}\\u{ad}\\nforged line\n\
             bad utf-8 \u{fffd}\u{fffd}\n\
             tag \\u{e0041}"
        );
    }
}
