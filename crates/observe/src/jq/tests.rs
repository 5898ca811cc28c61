use super::*;

fn line(price: f64) -> Vec<u8> {
    format!(
        r#"{{"time":"2026-01-01T00:00:00.000Z","channel":"stock_ticker","event":"update","data":{{"symbol":"HOOLI","price":{price}}}}}"#
    )
    .into_bytes()
}

#[test]
fn a_comparison_passes_and_fails() {
    let jq = Jq::parse(r#".data.price > 50 and .channel == "stock_ticker""#).unwrap();
    assert_eq!(jq.passes(&line(51.0)), Ok(true));
    assert_eq!(jq.passes(&line(49.0)), Ok(false));
    let sel = Jq::parse(r#"select(.data.symbol | startswith("HOO"))"#).unwrap();
    assert_eq!(sel.passes(&line(1.0)), Ok(true));
    assert_eq!(
        Jq::parse("empty").unwrap().passes(&line(1.0)),
        Ok(false),
        "no output"
    );
}

#[test]
fn a_missing_field_is_null_and_a_type_error_is_an_error() {
    let jq = Jq::parse(".data.nope.deeper > 1").unwrap();
    assert_eq!(jq.passes(&line(1.0)), Ok(false), "null > 1 is false");
    let jq = Jq::parse(".data.symbol - 1").unwrap();
    let e = jq.passes(&line(1.0)).unwrap_err();
    assert!(e.contains("HOOLI"), "{e}");
    assert!(Jq::parse(".").unwrap().passes(b"not json").is_err());
}

#[test]
fn parse_errors_point_at_the_column() {
    let e = Jq::parse(".data.price > ").unwrap_err();
    assert_eq!(e.column, 14, "{e}");
    let e = Jq::parse(".a | ]").unwrap_err();
    assert_eq!(e.column, 6, "{e}");
    let e = Jq::parse(".a | nosuch(1)").unwrap_err();
    assert_eq!(e.column, 6, "{e}");
    assert!(e.message.contains("nosuch is not available"), "{e}");
    let e = Jq::parse(".a | select(1; 2)").unwrap_err();
    assert!(e.message.contains("select is not defined"), "{e}");
}

#[test]
fn what_may_loop_or_blow_up_is_refused() {
    for (text, why) in [
        ("def f: f; f", "definitions"),
        ("[range(1e9)]", "range is not available"),
        ("repeat(.)", "repeat is not available"),
        ("recurse(. + 1)", "recurse is not available"),
        (". as $x | $x", "variables"),
        ("$__loc__", "variables"),
        ("reduce .[] as $x (0; . + 1)", "reduce"),
        ("\"x\" * .data.price", "`*` needs a number"),
        ("\"x\" * 1e9", "cost"),
        (".[] == .[]", "generators"),
        ("{a: .[], b: .[]}", "generators"),
        (
            "[.,.] | [.,.] | [.,.] | [.,.] | [.,.] | [.,.] | [.,.] | [.,.] | [.,.]",
            "cost",
        ),
        (".. | .. | ..", "cost"),
        ("fromjson", "fromjson is not available"),
        ("input", "input is not available"),
        ("env", "env is not available"),
        ("@base64d", "not available"),
        (".a = 1", "assignments"),
        ("label $out | 1", "labels"),
    ] {
        let e = Jq::parse(text).map(|_| ()).unwrap_err();
        assert!(e.message.contains(why), "{text}: {e}");
    }
    let long = format!(".a == \"{}\"", "x".repeat(MAX_EXPR));
    assert!(Jq::parse(&long).unwrap_err().message.contains("at most"));
    assert_eq!(cost(".data.price > 50"), Some(1));
    assert_eq!(cost("[..] | length > 3"), Some(129));
    assert!(Jq::parse(".data.price * 100 > 5").is_ok());
    assert!(Jq::parse("[..] | length > 3").is_ok());
    assert!(Jq::parse("any(.data[]; . == 1)").is_ok());
}

#[test]
fn deep_data_and_deep_expressions_stay_on_a_small_stack() {
    // The dashboard's thread may be a runtime worker's (2 MiB).
    let done = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let deep = format!("{}1{}", "[".repeat(127), "]".repeat(127));
            let value: serde_json::Value = serde_json::from_str(&deep).unwrap();
            let jq = Jq::parse("[..] | length > 3").unwrap();
            assert_eq!(jq.passes_value(&value), Ok(true));
            let nested = format!("{}.{}", "(".repeat(120), ")".repeat(120));
            let _ = Jq::parse(&nested);
            let too_deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
            assert!(
                jq.passes(too_deep.as_bytes()).is_err(),
                "refused by the reader"
            );
        })
        .unwrap()
        .join();
    assert!(done.is_ok());
}

#[test]
fn looks_like_jq_marks_jq() {
    assert!(looks_like_jq(".data.x > 1") && looks_like_jq("  select(.a)"));
    assert!(!looks_like_jq("channel:x price>1") && !looks_like_jq("hooli"));
}
