//! The rules' syntax: each kind, the errors, bindings files, and no panic on any input.

use super::*;

fn kind(text: &str) -> Kind {
    Expectation::parse(text).unwrap().kind
}

#[test]
fn each_kind() {
    assert_eq!(
        kind("stock_ticker/update_event<5s"),
        Kind::Cadence {
            channel: Some("stock_ticker".into()),
            event: Some("update_event".into()),
            every: Duration::from_secs(5)
        }
    );
    assert_eq!(
        kind("stock_ticker/*<500ms"),
        Kind::Cadence {
            channel: Some("stock_ticker".into()),
            event: None,
            every: Duration::from_millis(500)
        }
    );
    assert_eq!(
        kind("update_event < 2"),
        Kind::Cadence {
            channel: None,
            event: Some("update_event".into()),
            every: Duration::from_secs(2)
        }
    );
    assert_eq!(
        kind("latency<250ms"),
        Kind::Latency {
            p99_under: Duration::from_millis(250)
        }
    );
    assert_eq!(
        kind("*/latency<1s"),
        Kind::Cadence {
            channel: None,
            event: Some("latency".into()),
            every: Duration::from_secs(1)
        }
    );
    assert_eq!(
        kind("connected"),
        Kind::Connected {
            grace: DEFAULT_GRACE
        }
    );
    assert_eq!(
        kind("connected<10s"),
        Kind::Connected {
            grace: Duration::from_secs(10)
        }
    );
    match kind("update_event:price>0") {
        Kind::Value {
            channel: None,
            event: Some(e),
            path,
            op: Op::Gt,
            literal: Literal::Number(n),
            key: None,
        } => {
            assert_eq!(
                (e.as_str(), path.display(), n),
                ("update_event", "price".into(), 0.0)
            );
        }
        other => panic!("{other:?}"),
    }
    match kind("s/e:/quote/state != \"halted\"") {
        Kind::Value {
            op: Op::Ne,
            literal: Literal::Text(t),
            ..
        } => assert_eq!(t, "halted"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        kind("e:ok=true"),
        Kind::Value {
            op: Op::Eq,
            literal: Literal::Bool(true),
            ..
        }
    ));
    assert!(matches!(
        kind("e:p>=1.5"),
        Kind::Value {
            op: Op::Ge,
            literal: Literal::Number(_),
            ..
        }
    ));
    assert_eq!(
        Expectation::parse_warning("latency<1s").unwrap().level,
        Level::Warning
    );
    assert_eq!(Expectation::parse(" connected ").unwrap().text, "connected");
}

#[test]
fn errors_say_what_is_wrong() {
    for (text, says) in [
        ("", "empty"),
        ("update_event", "no comparison"),
        ("update_event>5s", "takes `<DURATION`"),
        ("update_event<soon", "not a duration"),
        ("update_event<0", "from 1ms"),
        ("update_event<2d", "from 1ms"),
        ("latency<", "not a duration"),
        ("/e<5s", "empty"),
        ("e:price>high", "compares numbers only"),
        ("e:price>", "nothing to compare"),
        ("e: >1", "field path is empty"),
        ("e:p<inf", "finite"),
        ("e:p!5", "unknown comparison"),
    ] {
        let err = Expectation::parse(text).unwrap_err();
        assert!(err.contains(says), "{text:?}: {err}");
        assert!(err.contains("expected [CHANNEL/]EVENT<DURATION"), "{err}");
    }
    assert!(Expectation::parse(&"a".repeat(MAX_RULE + 1)).is_err());
}

#[test]
fn bindings_files() {
    let rules = parse_file(
        "[[bind]]\nevent = \"e\"\nview = \"log\"\n\n[[expect]]\nrule = \"e<5s\"\n\n\
         [[expect]]\nrule = \"latency<1s\"\nlevel = \"warning\"\n",
    )
    .unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1].level, Level::Warning);
    assert!(parse_file("").unwrap().is_empty());
    assert!(
        parse_file("[[expect]]\nrule = \"e<5s\"\nlevel = \"loud\"\n")
            .unwrap_err()
            .contains("use warning or critical")
    );
    assert!(parse_file("[[expect]]\nrule = \"e\"\n").is_err());
    assert!(parse_file("[[expect]]\nrule = \"e<1s\"\ncolour = 1\n").is_err());
}

proptest::proptest! {
    #[test]
    fn never_panics(text in "\\PC{0,40}") {
        let _ = Expectation::parse(&text);
    }

    #[test]
    fn never_panics_near_the_syntax(text in "[a-z_*/:<>=!. 0-9\"-]{0,30}(ms|s|m)?") {
        let _ = Expectation::parse(&text);
    }
}

#[test]
fn a_value_rule_takes_a_jq_path() {
    let jq = kind("stock_ticker/update_event:.quote.levels[0]>100");
    let dotted = kind("stock_ticker/update_event:quote.levels.0>100");
    assert_eq!(jq, dotted, "the same pointer either way");
    let e = Expectation::parse("update_event:.a[>1").unwrap_err();
    assert!(e.contains("not a jq path"), "{e}");
}
