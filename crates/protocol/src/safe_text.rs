//! Making text from the wire safe for a terminal (pure, used by every layer: the engine's
//! logs, the server's log, metrics labels, error messages and every output): control
//! characters, escape sequences, bidirectional overrides and invisible format characters
//! become visible escapes, never characters a terminal would act on or hide.

use std::borrow::Cow;
use std::fmt;

/// Characters a terminal may act on, or that can hide or reorder what is shown: C0 and C1
/// controls, DEL, the line and paragraph separators, and Unicode's whole format class (Cf):
/// the bidi controls, and the invisible ones that make two names look alike or carry hidden
/// text (zero-width space, word joiner, soft hyphen, invisible operators, BOM, interlinear
/// annotations, and the tag characters U+E0000–U+E007F, which can smuggle a whole invisible
/// sentence). A `stock\u{200b}_ticker` must not pass for `stock_ticker`.
///
/// The two joiners (U+200C, U+200D) are left alone: they shape Arabic and Indic scripts and
/// join emoji (👩‍💻), and they cannot reorder text or hide more than a join. The price of
/// escaping the tag block is that subdivision flags (🏴 England, Scotland, Wales), made of
/// tags, show as their escapes.
///
/// Also escaped: the characters Unicode makes invisible without being Cf, default ignorables
/// that shape nothing (the combining grapheme joiner, the Hangul fillers, the Khmer inherent
/// vowels): a name padded with them looks like another. Variation selectors stay: emoji need
/// U+FE0F, and Japanese names their ideographic variants (U+E0100…).
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
        || is_format(c)
        || is_invisible(c)
}

/// Default ignorables outside Cf that shape no script.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{3164}' | '\u{ffa0}'
    )
}

/// Unicode's general category Cf (as of Unicode 16), the tag block whole, less the joiners.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}'
        | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
        | '\u{890}'..='\u{891}' | '\u{8e2}' | '\u{180e}'
        | '\u{200b}' | '\u{200e}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}')
}

/// Replaces every unsafe character with a visible escape (`\e`, `\n`, `\u{202e}`).
///
/// The result has no unsafe character left, so escaping it again changes nothing: a
/// message built from pieces already made safe can be made safe whole.
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

/// A character as the JSON escape that means it: `\u001b`, or a surrogate pair outside the
/// Basic Multilingual Plane (`\udb40\udc41` for the tag U+E0041). For writing an unsafe
/// character inside a JSON string, where `jq` decodes it back.
#[derive(Debug, Clone, Copy)]
pub struct JsonEscape(pub char);

impl fmt::Display for JsonEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut units = [0u16; 2];
        for unit in self.0.encode_utf16(&mut units) {
            write!(f, "\\u{unit:04x}")?;
        }
        Ok(())
    }
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

    #[test]
    fn invisible_format_characters_are_shown_and_joiners_kept() {
        // Soft hyphen, tag characters spelling "hi", a Mongolian vowel separator, an
        // interlinear annotation, an invisible separator: hidden text, each made visible.
        assert_eq!(terminal_safe("pay\u{ad}pal"), "pay\\u{ad}pal");
        assert_eq!(
            terminal_safe("ok\u{e0068}\u{e0069}\u{e007f}"),
            "ok\\u{e0068}\\u{e0069}\\u{e007f}"
        );
        assert_eq!(terminal_safe("a\u{180e}b"), "a\\u{180e}b");
        assert_eq!(terminal_safe("\u{fff9}x\u{fffb}"), "\\u{fff9}x\\u{fffb}");
        assert_eq!(terminal_safe("x\u{2063}y"), "x\\u{2063}y");
        // Joiners that shape scripts and emoji stay, as do combining marks and variation
        // selectors (emoji presentation).
        for kept in [
            "क्\u{200d}ष",
            "می\u{200c}خواهم",
            "❤\u{fe0f}",
            "e\u{301}",
            "🇫🇷",
        ] {
            assert_eq!(terminal_safe(kept), kept);
        }
    }

    /// Every character of Unicode's Cf class (its ranges as of Unicode 16) but the two
    /// joiners is unsafe, and so is the whole tag block.
    #[test]
    fn the_format_class_is_covered_whole() {
        let cf: &[(u32, u32)] = &[
            (0xad, 0xad),
            (0x600, 0x605),
            (0x61c, 0x61c),
            (0x6dd, 0x6dd),
            (0x70f, 0x70f),
            (0x890, 0x891),
            (0x8e2, 0x8e2),
            (0x180e, 0x180e),
            (0x200b, 0x200f),
            (0x202a, 0x202e),
            (0x2060, 0x2064),
            (0x2066, 0x206f),
            (0xfeff, 0xfeff),
            (0xfff9, 0xfffb),
            (0x110bd, 0x110bd),
            (0x110cd, 0x110cd),
            (0x13430, 0x1343f),
            (0x1bca0, 0x1bca3),
            (0x1d173, 0x1d17a),
            (0xe0001, 0xe0001),
            (0xe0020, 0xe007f),
        ];
        for &(from, to) in cf {
            for c in (from..=to).filter_map(char::from_u32) {
                let joiner = c == '\u{200c}' || c == '\u{200d}';
                assert_eq!(is_unsafe(c), !joiner, "U+{:04X}", c as u32);
            }
        }
        assert!(
            (0xe0000..=0xe007f)
                .filter_map(char::from_u32)
                .all(is_unsafe)
        );
        // Invisible without being Cf: a name padded with them looks like another.
        for c in [
            '\u{34f}', '\u{115f}', '\u{1160}', '\u{17b4}', '\u{17b5}', '\u{3164}', '\u{ffa0}',
        ] {
            assert!(is_unsafe(c), "U+{:04X}", c as u32);
        }
        assert_eq!(
            terminal_safe("stock\u{3164}_ticker"),
            "stock\\u{3164}_ticker"
        );
        for fine in [
            'a',
            ' ',
            'é',
            '中',
            '\u{a0}',
            '\u{fe0f}',
            '\u{301}',
            '\u{e0100}',
        ] {
            assert!(!is_unsafe(fine), "U+{:04X}", fine as u32);
        }
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let hostile = "\u{1b}]0;t\u{7}\u{202e}\u{ad}\u{e0041}\n\\e";
        let once = terminal_safe(hostile).into_owned();
        assert_eq!(terminal_safe(&once), once);
    }

    #[test]
    fn json_escapes_decode_back_to_the_character() {
        for c in ['\u{1b}', '\u{202e}', '\u{ad}', '\u{e0041}', '\u{1d173}'] {
            let text = format!("\"{}\"", JsonEscape(c));
            assert!(text.is_ascii(), "{text}");
            let back: String = serde_json::from_str(&text).unwrap();
            assert_eq!(back, c.to_string(), "{text}");
        }
        assert_eq!(JsonEscape('\u{e0041}').to_string(), "\\udb40\\udc41");
    }
}
