//! The fast path agrees with jaq: on random events (repeated keys, nulls, every kind of
//! value, big and odd numbers) and random expressions of the simple forms.

use super::super::Jq;
use proptest::prelude::*;

const KEYS: &[&str] = &["a", "b", "data", "price", "a b", "é"];

/// A JSON value as text, `depth` levels at most; objects may repeat a key.
fn value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(50),
            Just(i64::MIN),
            Just(i64::MAX)
        ]
        .prop_map(|n| n.to_string()),
        prop_oneof![
            Just("18446744073709551615"),
            Just("0.5"),
            Just("-0.0"),
            Just("1e300"),
            Just("50.0"),
            Just("1E2"),
            Just("100")
        ]
        .prop_map(str::to_owned),
        prop_oneof![
            Just(""),
            Just("a"),
            Just("b"),
            Just("ab"),
            Just("é"),
            Just("\\u0000"),
            Just("50")
        ]
        .prop_map(|s| format!("\"{s}\"")),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let inner = value(depth - 1);
    prop_oneof![
        3 => leaf,
        1 => prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
        2 => prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|kv| {
            let kv: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            format!("{{{}}}", kv.join(","))
        }),
    ]
    .boxed()
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(KEYS), 0..4).prop_map(|keys| {
        if keys.is_empty() {
            return ".".to_owned();
        }
        keys.iter()
            .map(|k| match *k {
                "a b" => ".\"a b\"".to_owned(),
                "é" => ".\"\\u00e9\"".to_owned(),
                k => format!(".{k}"),
            })
            .collect()
    })
}

fn literal() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "null",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "50",
            "50.0",
            "0.5",
            "-0.0",
            "1e300",
            "1e400",
            "18446744073709551615",
            "9223372036854775808",
            "\"\"",
            "\"a\"",
            "\"b\"",
            "\"50\"",
            "\"\\u00e9\"",
            "\"ab\"",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn simple() -> impl Strategy<Value = String> {
    let op = prop::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]);
    prop_oneof![
        path(),
        (path(), op.clone(), literal()).prop_map(|(p, o, l)| format!("{p} {o} {l}")),
        (literal(), op, path()).prop_map(|(l, o, p)| format!("{l} {o} {p}")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    simple().prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("({l}) and ({r})")),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("({l}) or ({r})")),
            inner.clone().prop_map(|x| format!("({x}) | not")),
            inner.clone().prop_map(|x| format!("select({x})")),
            // Not a simple form: jaq answers.
            (inner.clone(), inner).prop_map(|(l, r)| format!("{l} or {r} | not")),
        ]
    })
}

/// The line as `watch --json` writes it, with `data` and a few more keys.
fn event() -> impl Strategy<Value = String> {
    (value(3), prop::collection::vec((prop::sample::select(KEYS), value(2)), 0..3)).prop_map(
        |(data, more)| {
            let more: String = more.iter().map(|(k, v)| format!(",{k:?}:{v}")).collect();
            format!(r#"{{"time":"2026-01-01T00:00:00.000Z","channel":"c","event":"e","data":{data}{more}}}"#)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_fast_path_agrees_with_jaq(e in expr(), lines in prop::collection::vec(event(), 10)) {
        let jq = Jq::parse(&e).unwrap();
        for line in lines {
        let jaq = jq.passes_jaq(line.as_bytes());
        match jq.fast.as_ref().map(|f| f.passes(line.as_bytes())) {
            // Both answer, and agree.
            Some(Some(fast)) => prop_assert_eq!(Ok(fast), jaq, "{} on {}", e, line),
            // Handed back only where jq fails.
            Some(None) => prop_assert!(jaq.is_err(), "{} on {}: {:?}", e, line, jaq),
            // Not a simple form.
            None => {}
        }
        // On a value, the fast path agrees with jaq too (a repeated key is one key there).
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
            let text = value.to_string();
            let jaq = jq.passes_jaq(text.as_bytes());
            match jq.answer_value(&value) {
                (answer, crate::jq::Engine::Fast) => prop_assert_eq!(answer, jaq, "{} on {}", e, text),
                (answer, crate::jq::Engine::Jaq) => {
                    prop_assert!(!jq.is_fast() || jaq.is_err(), "{} on {}: fast handed back", e, text);
                    prop_assert_eq!(answer.is_ok(), jaq.is_ok(), "{} on {}", e, text);
                }
            }
        }
        }
    }
}

#[test]
fn the_simple_forms_are_fast_and_the_rest_are_not() {
    for e in [
        ".data.price > 0",
        ".data.price > 50 and .channel == \"stock_ticker\"",
        "select(.data.symbol == \"HOOLI\")",
        "(.a or .b) | not",
        "-1 < .data.price",
        ".data.\"a b\" != null",
    ] {
        assert!(Jq::parse(e).unwrap().is_fast(), "{e}");
    }
    for e in [
        ".data.price - 1",
        ".[0] == 1",
        ".a? == 1",
        ".a == .b",
        "select(.a) | not",
        "not",
        "(select(.a)) and .b",
        "\"\\(.a)\" == \"x\"",
    ] {
        assert!(!Jq::parse(e).unwrap().is_fast(), "{e}");
    }
}

#[test]
fn a_key_into_a_number_is_handed_to_jaq_which_fails() {
    let jq = Jq::parse(".data.price.x == 1").unwrap();
    let line = br#"{"data":{"price":3}}"#;
    assert_eq!(jq.fast.as_ref().unwrap().passes(line), None);
    assert!(jq.passes(line).is_err());
    // A repeated key: the last counts, as jaq reads it.
    let line = br#"{"data":{"price":3},"data":{"price":60}}"#;
    assert_eq!(
        Jq::parse(".data.price > 50").unwrap().passes(line),
        Ok(true)
    );
    let line = br#"{"data":5,"data":{"price":60}}"#;
    let fast = Jq::parse(".data.price > 50").unwrap().fast.unwrap();
    assert_eq!(fast.passes(line), Some(true));
    assert_eq!(fast.passes(br#"{"data":{"price":60},"data":5}"#), None);
}
