//! Frames read one after another: a stream's frames nearly all share one shape, the same
//! envelope around a different `data` string, so the envelope is read once and then
//! compared.

use std::borrow::Cow;
use std::ops::Range;

use super::DecodeError;
use super::span::{DataSpan, Located, Scanned, scan, string_end};

/// The longest envelope remembered, before and after the data together: a frame with more
/// around its data is read in full each time.
const SHAPE_BYTES: usize = 512;

/// Reads frames' envelopes as [`scan`] does, remembering the last plain one's shape: the
/// bytes before its data string and the bytes after it. A frame that starts and ends with
/// the same bytes around a data string has the same envelope, so only its data is read.
#[derive(Debug, Default)]
pub struct Scanner {
    shape: Option<Shape>,
    /// Counts the frames read in full (each teaches a shape, or none): equal for two
    /// frames read with the same shape.
    generation: u64,
}

#[derive(Debug)]
struct Shape {
    /// The frame's bytes up to its data's opening quote.
    before: Vec<u8>,
    /// The frame's bytes after its data's closing quote.
    after: Vec<u8>,
    event: Place,
    channel: Option<Place>,
}

/// Where a name is in a frame of the shape: it does not move when it comes before the data,
/// and moves with the data's end when it comes after.
#[derive(Debug, Clone)]
enum Place {
    Before(Range<usize>),
    After(Range<usize>),
}

impl Place {
    fn of(name: &str, text: &str, data_end: usize) -> Option<Place> {
        let start = (name.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let range = start..start + name.len();
        (range.end <= text.len()).then_some(())?;
        Some(if start < data_end {
            Place::Before(range)
        } else {
            Place::After(range.start - data_end..range.end - data_end)
        })
    }

    fn get<'a>(&self, text: &'a str, data_end: usize) -> Option<&'a str> {
        match self {
            Place::Before(r) => text.get(r.clone()),
            Place::After(r) => text.get(data_end + r.start..data_end + r.end),
        }
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// The frame's envelope: exactly what [`scan`] returns for it.
    pub fn scan<'a>(&mut self, text: &'a str) -> Result<Scanned<'a>, DecodeError> {
        if let Some(scanned) = self.shape.as_ref().and_then(|s| s.read(text)) {
            return Ok(scanned);
        }
        let scanned = scan(text)?;
        self.learn(text, &scanned);
        Ok(scanned)
    }

    /// Which shape the last frame was read with: two frames read with the same
    /// generation have the same event and channel names. `None` when the last frame
    /// was read in full and taught no shape.
    pub fn generation(&self) -> Option<u64> {
        self.shape.as_ref().map(|_| self.generation)
    }

    /// Remembers a frame's shape when its data is a string literal and its names are
    /// borrowed from it; forgets the last one otherwise.
    fn learn(&mut self, text: &str, scanned: &Scanned<'_>) {
        self.generation += 1;
        let reuse = self.shape.take();
        self.shape = Shape::of(text, scanned, reuse);
    }
}

impl Shape {
    /// The shape of `text`, in `reuse`'s vectors when given.
    fn of(text: &str, scanned: &Scanned<'_>, reuse: Option<Shape>) -> Option<Shape> {
        let Located::Span(DataSpan::Quoted(data)) = &scanned.data else {
            return None;
        };
        if scanned.user_id.is_some() || text.len() - data.len() > SHAPE_BYTES {
            return None;
        }
        let Cow::Borrowed(event) = &scanned.event else {
            return None;
        };
        let event = Place::of(event, text, data.end)?;
        let channel = match &scanned.channel {
            None => None,
            Some(Cow::Borrowed(c)) => Some(Place::of(c, text, data.end)?),
            Some(Cow::Owned(_)) => return None,
        };
        let (mut before, mut after) = reuse.map_or_else(Default::default, |s| (s.before, s.after));
        before.clear();
        before.extend_from_slice(text.as_bytes().get(..data.start)?);
        after.clear();
        after.extend_from_slice(text.as_bytes().get(data.end..)?);
        Some(Shape {
            before,
            after,
            event,
            channel,
        })
    }

    /// The envelope of a frame of this shape; `None` when it is not of it.
    fn read<'a>(&self, text: &'a str) -> Option<Scanned<'a>> {
        let b = text.as_bytes();
        if !b.starts_with(&self.before) {
            return None;
        }
        let end = string_end(b, self.before.len())?;
        if b.get(end..)? != self.after.as_slice() {
            return None;
        }
        Some(Scanned {
            event: Cow::Borrowed(self.event.get(text, end)?),
            channel: match &self.channel {
                Some(c) => Some(Cow::Borrowed(c.get(text, end)?)),
                None => None,
            },
            user_id: None,
            data: Located::Span(DataSpan::Quoted(self.before.len()..end)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: &str = r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"A\",\"price\":1}"}"#;

    /// Scans a frame (one `scan` accepts) and says whether it was read with the shape of a
    /// frame before it: a frame read in full always moves the generation on.
    fn read_with_shape(scanner: &mut Scanner, frame: &str) -> bool {
        let before = scanner.generation();
        assert_eq!(scanner.scan(frame), scan(frame), "{frame}");
        before.is_some() && scanner.generation() == before
    }

    #[test]
    fn a_frame_of_the_same_shape_is_read_from_its_data_alone() {
        let mut scanner = Scanner::new();
        let other = r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"BCD\",\"price\":22.5}"}"#;
        assert!(!read_with_shape(&mut scanner, TICK));
        assert!(scanner.generation().is_some());
        assert!(read_with_shape(&mut scanner, other));
        // Another channel: read in full, a new shape.
        let elsewhere = TICK.replace("stock_ticker", "stock_tickers");
        assert!(!read_with_shape(&mut scanner, &elsewhere));
        assert!(read_with_shape(&mut scanner, &elsewhere));
    }

    #[test]
    fn names_after_the_data_move_with_its_end() {
        let mut scanner = Scanner::new();
        for (n, frame) in [
            r#"{"data":"x","event":"e","channel":"c"}"#,
            r#"{"data":"longer \"x\"","event":"e","channel":"c"}"#,
            r#"{"data":"","event":"e","channel":"c"}"#,
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(read_with_shape(&mut scanner, frame), n > 0, "{frame}");
        }
    }

    #[test]
    fn what_is_not_of_the_shape_is_read_in_full() {
        let mut scanner = Scanner::new();
        scanner.scan(TICK).unwrap();
        for frame in [
            // The data is no longer a plain string, or the frame goes on after the shape.
            r#"{"event":"update_event","channel":"stock_ticker","data":"\u0041"}"#,
            r#"{"event":"update_event","channel":"stock_ticker","data":{"a":1}}"#,
            r#"{"event":"update_event","channel":"stock_ticker","data":"x"}}"#,
            r#"{"event":"update_event","channel":"stock_ticker","data":"x"} "#,
            r#"{"event":"update_event","channel":"stock_ticker","data":"x"#,
            r#"{"event":"update_event","channel":"stock_ticker","data":"a"b"}"#,
            "{\"event\":\"update_event\",\"channel\":\"stock_ticker\",\"data\":\"\u{1}\"}",
        ] {
            assert_eq!(scanner.scan(frame), scan(frame), "{frame}");
            scanner.scan(TICK).unwrap();
        }
    }

    #[test]
    fn a_long_envelope_is_not_remembered() {
        let mut scanner = Scanner::new();
        let long = format!(r#"{{"event":"e","pad":"{}","data":"x"}}"#, "p".repeat(600));
        assert!(!read_with_shape(&mut scanner, &long));
        assert_eq!(scanner.generation(), None);
        assert!(!read_with_shape(&mut scanner, &long));
    }

    proptest::proptest! {
        /// Whatever frames follow one another, the scanner answers as the scan does.
        #[test]
        fn a_stream_is_read_as_each_frame_alone(
            frames in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        r#"{"event":"e","channel":"c","data":"#,
                        r#"{"channel":"c","event":"e","data":"#,
                        r#"{"event":"f","data":"#,
                        r#"{"data":"#,
                        r#"{"event":"e","user_id":"u","data":"#,
                        r#"{"n":1,"event":"e","data":"#,
                        r#" { "event" : "e" , "data" : "#,
                        r#"{"event":"e\u0041","data":"#,
                    ]),
                    proptest::sample::select(vec![
                        r#""a""#, r#""""#, r#""q\"\\\n""#, r#""\u00e9""#, "1", "null",
                        r#""é""#, "\"\u{7}\"", r#""x"#,
                    ]),
                    proptest::sample::select(vec![
                        "}", r#","event":"e"}"#, r#","channel":"d","event":"g"}"#, "} ", ",}",
                        r#","data":"y"}"#,
                    ]),
                ),
                1..12,
            ),
        ) {
            let mut scanner = Scanner::new();
            for (before, data, after) in frames {
                // And the same envelope again, around other data.
                for data in [data, r#""z\"{""#] {
                    let frame = format!("{before}{data}{after}");
                    proptest::prop_assert_eq!(scanner.scan(&frame), scan(&frame), "{}", frame);
                }
            }
        }
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use proptest::prelude::*;

    /// A JSON string literal's inside, from pieces that fall anywhere in a word: short
    /// escapes, `\u` escapes and multi-byte characters, and (rarely, or a frame of them
    /// never parses) a lone surrogate, a bad escape, a control character or a quote.
    fn inside() -> impl Strategy<Value = String> {
        let good = || {
            proptest::sample::select(vec![
                "a", "bcdefgh", "\\\"", "\\\\", "\\n", "\\/", "\\u0041", "é", "😀", "{", "}", ":",
                ",",
            ])
        };
        let bad = proptest::sample::select(vec!["\\ud800", "\\x", "\\", "\"", "\u{1}", "\t"]);
        prop_oneof![
            4 => proptest::collection::vec(good(), 0..20).prop_map(|p| p.concat()),
            1 => (proptest::collection::vec(good(), 0..8), bad, proptest::collection::vec(good(), 0..8))
                .prop_map(|(a, b, c)| format!("{}{b}{}", a.concat(), c.concat())),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => inside().prop_map(|s| format!("\"{s}\"")),
            1 => proptest::sample::select(vec!["1", "null", "{}", "[]", r#"{"event":"z"}"#, "true"])
                .prop_map(str::to_owned),
        ]
    }

    /// A member's value: most often a plain name, so that many frames teach a shape.
    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => proptest::sample::select(vec![r#""e""#, r#""f""#, r#""g h""#, r#""é""#])
                .prop_map(str::to_owned),
            1 => value(),
        ]
    }

    fn members(keys: Vec<&'static str>) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            (
                proptest::sample::select(keys),
                member(),
                proptest::sample::select(vec!["", " ", "\n"]),
            ),
            0..3,
        )
        .prop_map(|m| {
            m.iter()
                .map(|(k, v, w)| format!("{w}\"{k}\"{w}:{w}{v}{w},"))
                .collect()
        })
    }

    /// A frame's envelope around its data: the bytes before the data and after it. An
    /// event member is always there, before or after the data.
    fn envelope() -> impl Strategy<Value = (String, String)> {
        let keys = vec![
            "channel",
            "channel",
            "x",
            "user_id",
            "ev\\u0065nt",
            "data",
            "event",
        ];
        (
            members(keys.clone()),
            members(keys),
            member(),
            any::<bool>(),
            proptest::sample::select(vec!["", " ", "\t"]),
            prop_oneof![
                6 => Just("}"),
                1 => proptest::sample::select(vec!["} ", "}}", ",}", "", "]"]),
            ],
        )
            .prop_map(|(before, after, event, event_first, space, end)| {
                let event = format!("\"event\":{event}");
                let (head_event, tail_event) = if event_first {
                    (format!("{event},"), String::new())
                } else {
                    (String::new(), format!(",{event}"))
                };
                let tail_members = after.trim_end_matches(',');
                let tail_members = if tail_members.is_empty() {
                    String::new()
                } else {
                    format!(",{tail_members}")
                };
                (
                    format!("{{{before}{head_event}{space}\"data\"{space}:{space}"),
                    format!("{tail_members}{tail_event}{end}"),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Frames of any envelope, each followed by frames of the same envelope around other
        /// data: the scanner answers as the scan does, and frames of one generation have
        /// the same names.
        #[test]
        fn any_stream_is_read_as_each_frame_alone(
            frames in proptest::collection::vec(
                (envelope(), proptest::collection::vec(value(), 1..5)),
                1..8,
            ),
        ) {
            let mut scanner = Scanner::new();
            let mut seen: Option<(u64, String, Option<String>)> = None;
            for ((head, tail), data) in frames {
                for data in data {
                    let frame = format!("{head}{data}{tail}");
                    let got = scanner.scan(&frame);
                    prop_assert_eq!(&got, &scan(&frame), "{}", frame);
                    if let (Ok(s), Some(g)) = (&got, scanner.generation()) {
                        let names = (s.event.to_string(), s.channel.as_deref().map(str::to_owned));
                        if let Some((seen_g, e, c)) = &seen
                            && *seen_g == g
                        {
                            prop_assert_eq!((e, c), (&names.0, &names.1), "{}", frame);
                        }
                        seen = Some((g, names.0, names.1));
                    }
                }
            }
        }
    }
}
