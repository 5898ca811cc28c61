//! Making text from the wire safe for a terminal (pure, used by every layer: the engine's
//! logs, the server's log, and every output): control characters, escape sequences and
//! bidirectional overrides become visible escapes, never bytes a terminal would act on.

use std::borrow::Cow;

/// Characters a terminal may act on, or that can reorder what is shown: C0 and C1 controls,
/// DEL, and the Unicode bidi and line/paragraph separators. Invisible ones that make two names
/// look alike (zero-width space, word joiner, invisible operators, BOM) are shown too: a
/// `stock\u{200b}_ticker` must not pass for `stock_ticker`. Joiners that shape scripts and
/// emoji (U+200C, U+200D) are left alone.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}' | '\u{61c}'
        | '\u{200b}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Replaces every unsafe character with a visible escape (`\e`, `\n`, `\u{202e}`).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_terminals_act_on() {
        assert_eq!(terminal_safe("plain ✓ 中文"), "plain ✓ 中文");
        assert_eq!(
            terminal_safe("\u{1b}]52;c;aGk=\u{7}"),
            "\\e]52;c;aGk=\\u{7}"
        );
        assert_eq!(terminal_safe("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(terminal_safe("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(terminal_safe("x\ny\0"), "x\\ny\\u{0}");
        assert_eq!(
            terminal_safe("stock\u{200b}_ticker\u{feff}"),
            "stock\\u{200b}_ticker\\u{feff}"
        );
        assert_eq!(terminal_safe("👩\u{200d}💻"), "👩\u{200d}💻");
    }
}
