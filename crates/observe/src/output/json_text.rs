//! JSON text passed through as the publisher wrote it: its key order, its numbers (however
//! big), its escapes. Only two things change, and only when they occur: whitespace between
//! tokens goes (one event, one line), and characters that could drive a terminal are written
//! as `\uXXXX` escapes inside strings, as the rest of the NDJSON output does.

use std::borrow::Cow;
use std::io::{self, Write};

use protocol::safe_text::{JsonEscape, is_unsafe};

/// `text`, which must be valid JSON, compact and terminal-safe: borrowed when it already is.
pub fn compact_safe(text: &str) -> Cow<'_, str> {
    if is_compact_safe(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(rewrite(text))
    }
}

/// Writes [`compact_safe`]'s result without building it when it is the input.
pub fn write_compact_safe(out: &mut impl Write, text: &str) -> io::Result<()> {
    match compact_safe(text) {
        Cow::Borrowed(t) => out.write_all(t.as_bytes()),
        Cow::Owned(t) => out.write_all(t.as_bytes()),
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// One pass over the bytes: no whitespace outside strings, no unsafe character inside.
fn is_compact_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The common case, printable ASCII without a space anywhere, in one vectorised pass.
    if bytes.iter().all(|&b| b > b' ' && b < 0x7f) {
        return true;
    }
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x7f {
            // DEL, or the first byte of a character that may be a C1 control or a bidi mark.
            if (b == 0x7f || b >= 0xc0) && text[i..].chars().next().is_some_and(is_unsafe) {
                return false;
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if is_whitespace(b) || b < 0x20 {
            return false;
        }
    }
    true
}

fn rewrite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            if is_unsafe(c) {
                // Outside the Basic Multilingual Plane (a tag), a surrogate pair.
                out.push_str(&JsonEscape(c).to_string());
                continue;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii() && is_whitespace(c as u8) {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_safe_json_is_borrowed_as_it_is() {
        for text in [
            r#"{"z":1,"a":2}"#,
            r#"{"n":123456789012345678901234567890}"#,
            r#"{"s":"a b\"c\\"}"#,
            r#"["café",1e400]"#,
            "7",
        ] {
            assert!(
                matches!(compact_safe(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn whitespace_between_tokens_goes_and_strings_keep_theirs() {
        assert_eq!(
            compact_safe("{ \"a b\" : [1, 2],\n\t\"c\":\"x  y\" }\r\n"),
            r#"{"a b":[1,2],"c":"x  y"}"#
        );
    }

    #[test]
    fn unsafe_characters_in_strings_become_escapes_that_decode_back() {
        let text = "{\"t\":\"a\u{9b}b\u{202e}c\u{7f}\u{ad}\u{e0041}\"}";
        let out = compact_safe(text);
        assert_eq!(out, r#"{"t":"a\u009bb\u202ec\u007f\u00ad\udb40\udc41"}"#);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        let orig: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_string() {
        assert_eq!(compact_safe(r#"{"a":"\" ,"}"#), r#"{"a":"\" ,"}"#);
        assert_eq!(compact_safe(r#"{"a":"\\" , "b":1}"#), r#"{"a":"\\","b":1}"#);
    }

    proptest::proptest! {
        #[test]
        fn the_rewrite_is_the_same_json_value(v in proptest::arbitrary::any::<Vec<(String, i64)>>()) {
            let map: serde_json::Map<String, serde_json::Value> =
                v.into_iter().map(|(k, n)| (k, n.into())).collect();
            let pretty = serde_json::to_string_pretty(&map).unwrap();
            let out = compact_safe(&pretty);
            proptest::prop_assert!(out.chars().all(|c| !is_unsafe(c)));
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(back, serde_json::Value::Object(map));
        }
    }
}
