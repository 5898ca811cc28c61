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
                serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
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

/// A frame's envelope, with its data located but not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    pub event: String,
    pub channel: Option<String>,
    pub user_id: Option<String>,
    pub data: Located,
}

/// Where the data is: in the frame, or (for frames off the fast path) already decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Located {
    Span(DataSpan),
    Decoded(Data),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    event: Option<Value>,
    #[serde(default)]
    channel: Option<Value>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    user_id: Option<Value>,
}

/// Reads the envelope of a frame, locating its `data` without parsing it. Accepts and
/// refuses exactly what [`decode_envelope`] does.
pub fn scan(text: &str) -> Result<Scanned, DecodeError> {
    if !text.trim_start().starts_with('{') {
        return decode_envelope(text).map(decoded);
    }
    let envelope = match serde_json::from_str::<Envelope>(text) {
        Ok(e) => e,
        // Not an object, or a field twice: decide on the whole value, as JSON reads it.
        Err(e) if e.is_data() => return decode_envelope(text).map(decoded),
        Err(e) => return Err(DecodeError::NotJson(e.to_string())),
    };
    let Some(Value::String(event)) = envelope.event else {
        return Err(DecodeError::MissingEvent);
    };
    let channel = match envelope.channel {
        Some(Value::String(c)) => Some(c),
        _ => None,
    };
    let data = match envelope.data {
        None => DataSpan::Absent,
        Some(raw) => {
            let json = raw.get();
            let start = json.as_ptr() as usize - text.as_ptr() as usize;
            let range = start..start + json.len();
            match json.as_bytes().first() {
                Some(b'"') => DataSpan::Quoted(range),
                Some(b'n') => DataSpan::Absent, // `null`
                _ => DataSpan::Value(range),
            }
        }
    };
    Ok(Scanned {
        event,
        channel,
        user_id: envelope.user_id.and_then(id_string),
        data: Located::Span(data),
    })
}

fn decoded(ev: Event) -> Scanned {
    Scanned {
        event: ev.event,
        channel: ev.channel,
        user_id: ev.user_id,
        data: Located::Decoded(ev.data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Data {
        match scan(text).unwrap().data {
            Located::Span(span) => span.decode(text),
            Located::Decoded(d) => d,
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
        ] {
            let old = decode_envelope(frame).unwrap();
            let new = scan(frame).unwrap();
            assert_eq!(new.event, old.event, "{frame}");
            assert_eq!(new.channel, old.channel, "{frame}");
            assert_eq!(new.user_id, old.user_id, "{frame}");
            assert_eq!(decode(frame), old.data, "{frame}");
        }
    }

    #[test]
    fn refuses_what_the_envelope_decoder_refuses() {
        for frame in ["", "[1]", "{", r#"{"data":"x"}"#, r#"{"event":1}"#, "\"s\""] {
            assert_eq!(
                scan(frame).map(|_| ()),
                decode_envelope(frame).map(|_| ()),
                "{frame}"
            );
        }
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
