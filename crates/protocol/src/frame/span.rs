//! The envelope of a frame read without parsing its `data`: the client's fast path.
//!
//! An application event is mostly its `data`, and most consumers never look inside it
//! (`--json` passes it through, `--summary` only counts). So the envelope's small fields are
//! decoded, and `data` is located as a [`DataSpan`] in the frame's text, to be read later, by
//! whoever needs it, with the same pusher-js rule as [`Data::from_wire`].

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Data, DecodeError, Event, decode_envelope, id_string};

/// Where a frame's `data` is, as byte offsets into the frame's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSpan {
    /// No `data` field, or `null`.
    Absent,
    /// A JSON string literal, quotes included: the double encoding of §2.
    Quoted(Range<usize>),
    /// Any other JSON value (an object, an array, a number), as it is in the frame.
    Value(Range<usize>),
}

impl DataSpan {
    /// The data as the text a server meant: a string literal unescaped (borrowed when it has
    /// no escapes), any other value as its JSON text. `None` when absent, or when the span
    /// does not lie in `frame` (never the case for a span [`scan`] returned for it).
    pub fn text<'a>(&self, frame: &'a str) -> Option<Cow<'a, str>> {
        match self {
            DataSpan::Absent => None,
            DataSpan::Quoted(r) => {
                let literal = frame.get(r.clone())?;
                // The frame was validated when it was scanned: a literal without a backslash
                // is its quotes around the text itself.
                if !literal.contains('\\') {
                    return literal
                        .get(1..literal.len().saturating_sub(1))
                        .map(Cow::Borrowed);
                }
                // The short escapes (a doubly encoded object has one per quote) are undone
                // in one pass; a `\u` escape goes through serde.
                literal
                    .get(1..literal.len().saturating_sub(1))
                    .and_then(unescape_short)
                    .or_else(|| serde_json::from_str::<String>(literal).ok())
                    .map(Cow::Owned)
            }
            DataSpan::Value(r) => frame.get(r.clone()).map(Cow::Borrowed),
        }
    }

    /// True when the text is itself JSON text (not a string to be parsed).
    pub fn is_value(&self) -> bool {
        matches!(self, DataSpan::Value(_))
    }

    /// The data, decoded with pusher-js's rule ([`Data::from_wire`]).
    pub fn decode(&self, frame: &str) -> Data {
        match (self, self.text(frame)) {
            (DataSpan::Absent, _) | (_, None) => Data::Absent,
            (DataSpan::Quoted(_), Some(text)) => Data::from_text(text.into_owned()),
            (DataSpan::Value(_), Some(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Null) => Data::Absent,
                Ok(v) => Data::Json(v),
                Err(_) => Data::Text(text.into_owned()),
            },
        }
    }
}

/// The text of a string literal's inside (already checked by [`scan`]) whose escapes are
/// all short ones (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`); `None` at any other
/// (a `\u` escape), which serde then reads.
fn unescape_short(inside: &str) -> Option<String> {
    let mut out = String::with_capacity(inside.len());
    let mut rest = inside;
    // A byte loop, not `find`: the runs between escapes are a few bytes long.
    while let Some(at) = rest.bytes().position(|c| c == b'\\') {
        out.push_str(rest.get(..at)?);
        out.push(match rest.as_bytes().get(at + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => return None,
        });
        rest = rest.get(at + 2..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// A frame's envelope, with its data located but not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned<'a> {
    /// Borrowed from the frame where it holds no escape, so a reader that shares names
    /// between events makes no string for them.
    pub event: Cow<'a, str>,
    pub channel: Option<Cow<'a, str>>,
    pub user_id: Option<String>,
    pub data: Located,
}

/// Where the data is: in the frame, or (for frames off the fast path) already decoded.
/// Boxed when decoded, so that a scanned envelope, moved for every frame, is a few words.
#[derive(Debug, Clone, PartialEq)]
pub enum Located {
    Span(DataSpan),
    Decoded(Box<Data>),
}

/// The envelope's names are borrowed from the frame when they hold no escape: a field of
/// another type than a string fails this, and the frame is read again by the slow path,
/// which decides as [`decode_envelope`] does.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    user_id: Option<Value>,
}

/// Reads the envelope of a frame, locating its `data` without parsing it. Accepts and
/// refuses exactly what [`decode_envelope`] does.
pub fn scan(text: &str) -> Result<Scanned<'_>, DecodeError> {
    if let Some(scanned) = scan_plain(text) {
        return Ok(scanned);
    }
    scan_general(text)
}

/// [`scan`] without its one-pass reader of plain frames: serde's reading of the envelope.
fn scan_general(text: &str) -> Result<Scanned<'_>, DecodeError> {
    if !text.trim_start().starts_with('{') {
        return decode_envelope(text).map(decoded);
    }
    let envelope = match serde_json::from_str::<Envelope>(text) {
        Ok(e) => e,
        // Not an object, or a field twice: decide on the whole value, as JSON reads it.
        Err(e) if e.is_data() => return decode_envelope(text).map(decoded),
        Err(e) => return Err(DecodeError::NotJson(e.to_string())),
    };
    let Some(event) = envelope.event else {
        return Err(DecodeError::MissingEvent);
    };
    let data = match envelope.data {
        None => DataSpan::Absent,
        Some(raw) => {
            let json = raw.get();
            let start = json.as_ptr() as usize - text.as_ptr() as usize;
            let range = start..start + json.len();
            match json.as_bytes().first() {
                // A `\u` escape serde's raw reading does not check (a lone surrogate): the
                // frame is refused as decode_envelope refuses it, not read as no data.
                Some(b'"')
                    if json.contains("\\u") && serde_json::from_str::<String>(json).is_err() =>
                {
                    return decode_envelope(text).map(decoded);
                }
                Some(b'"') => DataSpan::Quoted(range),
                Some(b'n') => DataSpan::Absent, // `null`
                _ => DataSpan::Value(range),
            }
        }
    };
    Ok(Scanned {
        event,
        channel: envelope.channel,
        user_id: envelope.user_id.and_then(id_string),
        data: Located::Span(data),
    })
}

/// The frame nearly every event comes in, read in one pass over its bytes: an object whose
/// members are all strings, `event` and `channel` (and any other name) without escapes, and
/// `data` a string with the short escapes (`\"`, `\\`, `\n`, …). `None` for anything else
/// (another type of value, a `\u` escape, a control character, a name twice, `user_id`),
/// which the general reader then reads. So this accepts only frames that serde reads the
/// same way, and refuses none: the answer is the general reader's either way.
fn scan_plain(text: &str) -> Option<Scanned<'_>> {
    let b = text.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let (mut event, mut channel, mut data) = (None, None, None);
    loop {
        let (key, after) = key_at(text, skip_space(b, i))?;
        i = skip_space(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let at = skip_space(b, i + 1);
        let slot = match key {
            Key::Event => &mut event,
            Key::Channel => &mut channel,
            Key::Data => {
                if data.is_some() {
                    return None;
                }
                let end = string_end(b, at)?;
                data = Some(at..end);
                i = skip_space(b, end);
                if !next_member(b, &mut i)? {
                    break;
                }
                continue;
            }
            Key::UserId => return None,
            Key::Other => {
                i = skip_space(b, string_end(b, at)?);
                if !next_member(b, &mut i)? {
                    break;
                }
                continue;
            }
        };
        if slot.is_some() {
            return None;
        }
        let (value, after) = plain_string(text, at)?;
        *slot = Some(value);
        i = skip_space(b, after);
        if !next_member(b, &mut i)? {
            break;
        }
    }
    if skip_space(b, i) != b.len() {
        return None;
    }
    Some(Scanned {
        event: Cow::Borrowed(event?),
        channel: channel.map(Cow::Borrowed),
        user_id: None,
        data: Located::Span(data.map_or(DataSpan::Absent, DataSpan::Quoted)),
    })
}

/// A member's name, as far as the one-pass reader cares.
#[derive(Clone, Copy)]
enum Key {
    Event,
    Channel,
    Data,
    UserId,
    Other,
}

/// The member name at `i` (a string without escapes), and where it ends. The three names
/// every event has are compared in place, without looking for the string's end.
fn key_at(text: &str, i: usize) -> Option<(Key, usize)> {
    let rest = text.as_bytes().get(i..)?;
    for (literal, key) in [
        (&b"\"event\""[..], Key::Event),
        (b"\"channel\"", Key::Channel),
        (b"\"data\"", Key::Data),
    ] {
        if rest.starts_with(literal) {
            return Some((key, i + literal.len()));
        }
    }
    let (name, after) = plain_string(text, i)?;
    Some((
        if name == "user_id" {
            Key::UserId
        } else {
            Key::Other
        },
        after,
    ))
}

/// After a member: `,` (true: another follows) or `}` (false), `i` moved past it.
fn next_member(b: &[u8], i: &mut usize) -> Option<bool> {
    let more = match b.get(*i)? {
        b',' => true,
        b'}' => false,
        _ => return None,
    };
    *i += 1;
    Some(more)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// A string without escapes or control characters at `i`: its text, and where it ends.
fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let end = next_special(b, i + 1)?;
    (b[end] == b'"').then_some(())?;
    Some((text.get(i + 1..end)?, end + 1))
}

/// Where the string at `i` ends (past its closing quote), when it has only the short
/// escapes and no control character. A word whose backslashes all escape quotes (a doubly
/// encoded object's) is read from its masks at once; any other word's special bytes are
/// taken in turn from its mask.
pub(super) fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    // The next byte not yet looked at.
    let mut at = i + 1;
    // The first byte's bit when the last word ended with a backslash that escapes it.
    let mut carry = 0;
    while let Some(word) = b.get(at..at + 8) {
        let (quotes, backslashes, controls) = special_masks(word);
        // The word of a doubly encoded object: each backslash escapes a quote (in this
        // word or the next). What ends the string then is a quote or a control character
        // not escaped.
        let escaped = (backslashes << 8) | carry;
        if backslashes & escaped == 0 && escaped & !quotes == 0 {
            let ends = (quotes | controls) & !escaped;
            if ends != 0 {
                let k = at + (ends.trailing_zeros() / 8) as usize;
                return (b[k] == b'"').then_some(k + 1);
            }
            carry = (backslashes >> 56) & 0x80;
            at += 8;
            continue;
        }
        // Any other word: its special bytes in turn, the one escaped from the last word
        // left out once it is checked.
        if carry != 0 && !is_short_escape(b.get(at)) {
            return None;
        }
        let mut found = (quotes | backslashes | controls) & !carry;
        carry = 0;
        let mut next = at + 8;
        while found != 0 {
            // The high bit of the special byte's place in the word: 8 * place + 7.
            let bit = found.trailing_zeros();
            let k = at + (bit / 8) as usize;
            match b[k] {
                b'"' => return Some(k + 1),
                b'\\' if is_short_escape(b.get(k + 1)) => {
                    // The escaped byte is text, whatever it is: neither it nor the
                    // backslash is looked at again (its bit shifted out when in the next
                    // word, which then starts past it).
                    found &= !(0x8080 << (bit - 7));
                    next = next.max(k + 2);
                }
                _ => return None,
            }
        }
        at = next;
    }
    if carry != 0 {
        if !is_short_escape(b.get(at)) {
            return None;
        }
        at += 1;
    }
    loop {
        at = next_special(b, at)?;
        match b[at] {
            b'"' => return Some(at + 1),
            b'\\' if is_short_escape(b.get(at + 1)) => at += 2,
            _ => return None,
        }
    }
}

fn is_short_escape(c: Option<&u8>) -> bool {
    matches!(
        c,
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
    )
}

/// Whether `c` ends a run of plain bytes inside a JSON string: a quote, a backslash or a
/// control character.
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

const ONES: u64 = u64::from_ne_bytes([1; 8]);
const LOW7: u64 = ONES * 0x7f;
const HIGH: u64 = ONES * 0x80;

/// The high bit of each byte of `v` that is zero. Exact in every byte: adding 0x7f to a
/// byte's low seven bits never carries into the next byte.
fn zero_bytes(v: u64) -> u64 {
    !(((v & LOW7) + LOW7) | v) & HIGH
}

/// The high bit of each byte of the 8-byte `word` that [`is_special`], the first byte in
/// memory lowest.
fn special_bytes(word: &[u8]) -> u64 {
    let (quotes, backslashes, controls) = special_masks(word);
    quotes | backslashes | controls
}

/// The high bit of each byte of the 8-byte `word` that is a quote, a backslash, and a
/// control character, the first byte in memory lowest. A quote or a backslash becomes a
/// zero byte after an XOR; a byte is under 0x20 when its high bit is clear and its low
/// seven bits plus 0x60 stay under 0x80.
fn special_masks(word: &[u8]) -> (u64, u64, u64) {
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(word);
    let x = u64::from_le_bytes(bytes);
    let below_space = !(((x & LOW7) + ONES * 0x60) | x) & HIGH;
    (
        zero_bytes(x ^ QUOTES),
        zero_bytes(x ^ BACKSLASHES),
        below_space,
    )
}

/// The first byte at or after `from` that [`is_special`], read eight bytes at a time: the
/// scan's inner loop.
fn next_special(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut words = rest.chunks_exact(8);
    let mut at = from;
    for word in &mut words {
        let found = special_bytes(word);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&c| is_special(c)).map(|p| at + p)
}

impl Scanned<'_> {
    /// The whole envelope, its data decoded from `frame` (the text this was scanned from):
    /// what [`decode_envelope`] returns for it, without reading the envelope again.
    pub fn into_event(self, frame: &str) -> Event {
        Event {
            event: self.event.into_owned(),
            channel: self.channel.map(Cow::into_owned),
            user_id: self.user_id,
            data: match self.data {
                Located::Span(span) => span.decode(frame),
                Located::Decoded(data) => *data,
            },
        }
    }
}

fn decoded(ev: Event) -> Scanned<'static> {
    Scanned {
        event: Cow::Owned(ev.event),
        channel: ev.channel.map(Cow::Owned),
        user_id: ev.user_id,
        data: Located::Decoded(Box::new(ev.data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Data {
        match scan(text).unwrap().data {
            Located::Span(span) => span.decode(text),
            Located::Decoded(d) => *d,
        }
    }

    #[test]
    fn scanning_then_decoding_agrees_with_the_envelope_decoder() {
        for frame in [
            r#"{"event":"e","channel":"c","data":"{\"name\":\"ACME\",\"price\":1.5}"}"#,
            r#"{"event":"e","data":{"a":[1,2,{"b":null}]}}"#,
            r#"{"event":"e","data":"plain text"}"#,
            r#"{"event":"e","data":"caf\u00e9 \"q\""}"#,
            r#"{"event":"e","data":null}"#,
            r#"{"event":"e"}"#,
            r#"{"event":"e","data":12}"#,
            r#"{"event":"e","data":"12"}"#,
            r#"{"event":"e","data":"1","data":"2"}"#,
            r#"{"event":"e","user_id":7,"data":"{}"}"#,
            r#" {"event":"e","data":"x"}"#,
            r#"{"event":"e","channel":7,"data":"x"}"#,
            r#"{"event":"e\u0041","channel":"c\"d","data":"x"}"#,
            r#"{"event":"e","channel":null,"data":"x"}"#,
        ] {
            let old = decode_envelope(frame).unwrap();
            let new = scan(frame).unwrap();
            assert_eq!(new.event, old.event, "{frame}");
            assert_eq!(new.channel.as_deref(), old.channel.as_deref(), "{frame}");
            assert_eq!(new.user_id, old.user_id, "{frame}");
            assert_eq!(decode(frame), old.data, "{frame}");
            assert_eq!(new.into_event(frame), old, "{frame}");
        }
    }

    #[test]
    fn refuses_what_the_envelope_decoder_refuses() {
        for frame in [
            "",
            "[1]",
            "{",
            r#"{"data":"x"}"#,
            r#"{"event":1}"#,
            r#"{"event":null}"#,
            "\"s\"",
            // A lone surrogate in the data, behind an escaped backslash.
            r#"{"event":"e","channel":"c","data":"\\\ude00"}"#,
            r#"{"event":"e","data":"\ud800"}"#,
        ] {
            assert_eq!(
                scan(frame).map(|_| ()),
                decode_envelope(frame).map(|_| ()),
                "{frame}"
            );
        }
    }

    #[test]
    fn the_one_pass_reader_agrees_with_serde_or_declines() {
        for frame in [
            r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"ACME\",\"price\":10.00}"}"#,
            r#" { "data" : "a\\b\/c\n" , "x":"y", "event" : "e" } "#,
            r#"{"event":"e"}"#,
            r#"{"channel":"c","event":"é","data":""}"#,
            r#"{"event":"e","data":"x","data":"y"}"#,
            r#"{"event":"e","event":"f"}"#,
            r#"{"event":"e","data":"\u0041"}"#,
            r#"{"event":"e\"","data":"x"}"#,
            r#"{"event":"e","data":{"a":1}}"#,
            r#"{"event":"e","data":null}"#,
            r#"{"event":"e","user_id":"u","data":"x"}"#,
            r#"{"event":"e","n":1}"#,
            r#"{"event":"e","data":"x"} x"#,
            r#"{"event":"e","data":"x",}"#,
            r#"{"event":"e","data":"x"#,
            r#"{"event":"e","data":"\x"}"#,
            "{\"event\":\"e\",\"data\":\"a\tb\"}",
            r#"{"data":"x"}"#,
            "{}",
            "{",
            "",
        ] {
            if let Some(fast) = scan_plain(frame) {
                assert_eq!(Ok(fast), scan_general(frame), "{frame}");
            }
            assert_eq!(scan(frame), scan_general(frame), "{frame}");
        }
        assert!(scan_plain(r#"{"event":"e","channel":"c","data":"{\"a\":1}"}"#).is_some());
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_reader_never_differs_from_serde(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["event", "channel", "data", "user_id", "x", "ev\\u0041"]),
                    proptest::sample::select(vec![
                        r#""a""#, r#""""#, r#""é""#, r#""q\"\\\n""#, r#""\u00e9""#, "1", "null",
                        "{}", r#"{"a":"b"}"#, r#""\t""#, "\"\u{7}\"", r#""\/""#,
                    ]),
                    proptest::sample::select(vec!["", " ", "\n\t", "\r"]),
                ),
                0..6,
            ),
            tail in proptest::sample::select(vec!["", " ", ",", "x", "}"]),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|(k, v, w)| format!("{w}\"{k}\"{w}:{w}{v}{w}"))
                .collect();
            let frame = format!("{{{}}}{tail}", body.join(","));
            if let Some(fast) = scan_plain(&frame) {
                proptest::prop_assert_eq!(Ok(fast), scan_general(&frame), "{}", frame);
            }
        }
    }

    proptest::proptest! {
        /// The word-at-a-time search finds what a byte-at-a-time one finds, wherever the
        /// special byte falls in a word, with bytes above 0x7f (UTF-8) and near the
        /// borders (0x1f, 0x20, 0x21, 0x5b, 0x5d) around it.
        #[test]
        fn the_word_search_finds_the_first_special_byte(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![
                    b'a', b' ', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2,
                    0xdc, 0xff,
                ]),
                0..40,
            ),
            from in 0usize..41,
        ) {
            let expected = bytes
                .get(from..)
                .and_then(|rest| rest.iter().position(|&c| is_special(c)))
                .map(|p| from + p);
            proptest::prop_assert_eq!(next_special(&bytes, from), expected);
        }
    }

    /// [`string_end`] a byte at a time, as it was before it read words.
    fn string_end_bytewise(b: &[u8], i: usize) -> Option<usize> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let mut i = i + 1;
        loop {
            i += b.get(i..)?.iter().position(|&c| is_special(c))?;
            match b[i] {
                b'"' => return Some(i + 1),
                b'\\' if is_short_escape(b.get(i + 1)) => i += 2,
                _ => return None,
            }
        }
    }

    proptest::proptest! {
        /// Wherever escapes, quotes and control characters fall in the words, and
        /// whatever follows the string.
        #[test]
        fn the_word_reader_ends_a_string_where_a_byte_reader_does(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "bcdefgh", "\\\"", "\\\\", "\\n", "\\u0041", "\\x", "\\", "\"", "\u{1}",
                    "é", "\u{7f}", "]", "#",
                ]),
                0..24,
            ),
        ) {
            let text = format!("\"{}", parts.concat());
            proptest::prop_assert_eq!(
                string_end(text.as_bytes(), 0),
                string_end_bytewise(text.as_bytes(), 0),
                "{:?}", text
            );
        }
    }

    /// Every string of quotes, backslashes and one plain byte up to a word and a half,
    /// and of quotes and backslashes alone over two words: each escape pair, escaped
    /// quote and backslash ending a word, at every place.
    #[test]
    fn the_word_reader_ends_every_short_string_where_a_byte_reader_does() {
        for (alphabet, longest) in [(&b"a\"\\"[..], 13), (&b"\"\\"[..], 20)] {
            for len in 0..=longest {
                let mut text = vec![b'"'; len + 1];
                for n in 0..alphabet.len().pow(len as u32) {
                    let mut k = n;
                    for c in &mut text[1..] {
                        *c = alphabet[k % alphabet.len()];
                        k /= alphabet.len();
                    }
                    assert_eq!(
                        string_end(&text, 0),
                        string_end_bytewise(&text, 0),
                        "{:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    #[test]
    fn the_word_search_finds_each_special_byte_at_each_place() {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            for len in 0..24 {
                for at in 0..len {
                    let mut bytes = vec![0xe9u8; len];
                    bytes[at] = special;
                    // A later match must not hide this one.
                    if at + 1 < len {
                        bytes[len - 1] = b'"';
                    }
                    assert_eq!(
                        next_special(&bytes, 0),
                        Some(at),
                        "{special:#x} at {at} of {len}"
                    );
                }
                assert_eq!(next_special(&vec![b'x'; len], 0), None);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn short_escapes_are_undone_as_serde_undoes_them_anywhere(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "{", "é", "😀", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
                    "\\u00e9",
                ]),
                0..30,
            ),
        ) {
            let inside = parts.concat();
            let expected: String = serde_json::from_str(&format!("\"{inside}\"")).unwrap();
            match unescape_short(&inside) {
                Some(text) => proptest::prop_assert_eq!(text, expected),
                // Only a `\u` escape is left to serde.
                None => proptest::prop_assert!(inside.contains("\\u"), "{}", inside),
            }
        }
    }

    #[test]
    fn short_escapes_are_undone_as_serde_undoes_them() {
        for inside in [
            r#"{\"name\":\"ACME\",\"price\":10.00}"#,
            r#"a\\b\/c\bd\fe\nf\rg\th\"i"#,
            r#"\\"#,
            r#"caf\u00e9 \"q\""#,
            r#"\ud83d\ude00"#,
            "é\\n",
        ] {
            let literal = format!("\"{inside}\"");
            let frame = format!(r#"{{"event":"e","data":{literal}}}"#);
            let Located::Span(span) = scan(&frame).unwrap().data else {
                panic!("{frame}")
            };
            let expected: String = serde_json::from_str(&literal).unwrap();
            assert_eq!(
                span.text(&frame).as_deref(),
                Some(expected.as_str()),
                "{inside}"
            );
        }
    }

    /// Every frame's scan result is moved a few times on its way: a few words, moved
    /// without a call to copy memory.
    #[test]
    fn a_scanned_envelope_is_a_few_words() {
        let size = size_of::<Result<Scanned<'_>, DecodeError>>();
        assert!(size <= 104, "{size} bytes");
    }

    #[test]
    fn a_string_without_escapes_is_borrowed() {
        let frame = r#"{"event":"e","data":"abc"}"#;
        let Located::Span(span) = scan(frame).unwrap().data else {
            panic!("not on the fast path")
        };
        assert!(matches!(span.text(frame), Some(Cow::Borrowed("abc"))));
    }
}
