//! Copying over SSH: OSC 52 (`ESC ] 52 ; c ; <base64> BEL`), the one clipboard that
//! crosses SSH and tmux. The text is capped at [`MAX_COPY`] bytes, cut at a character
//! boundary, and whoever copies says when it was cut.
//!
//! Why that size: terminals refuse or truncate longer sequences. hterm (ChromeOS's SSH
//! client) takes at most 100,000 bytes of base64, the lowest of the common ones (xterm,
//! kitty, WezTerm, iTerm2 and tmux take more); 75,000 bytes of text are exactly 100,000 of
//! base64.

use base64::Engine;

/// Most bytes of text copied at once.
pub const MAX_COPY: usize = 75_000;

/// `text` cut to [`MAX_COPY`] bytes at a character boundary, and whether it was cut.
pub fn fit(text: &str) -> (&str, bool) {
    if text.len() <= MAX_COPY {
        return (text, false);
    }
    let mut end = MAX_COPY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// The OSC 52 sequence that sets the clipboard to `text` (cut as [`fit`] cuts it).
pub fn osc52(text: &str) -> String {
    let (text, _) = fit(text);
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_and_the_cap() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
        let long = "é".repeat(MAX_COPY);
        let (cut, was) = fit(&long);
        assert!(was && cut.len() <= MAX_COPY && cut.len() >= MAX_COPY - 1);
        let seq = osc52(&long);
        assert!(seq.len() <= 100_000 + 8, "{}", seq.len());
        assert_eq!(fit("short"), ("short", false));
    }
}
