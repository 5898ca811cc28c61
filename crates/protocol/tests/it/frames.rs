//! Frame decoding and encoding: the fixtures of protocol.md §12 E and the variations of §2.

use proptest::prelude::*;
use protocol::frame::{Member, PusherError, SubscriptionError, WatchlistEvent};
use protocol::{ClientMessage, Data, DecodeError, Event, ServerMessage};
use serde_json::json;

fn decode(text: &str) -> ServerMessage {
    ServerMessage::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn connection_established() {
    assert_eq!(
        decode(
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"3363.1846347\",\"activity_timeout\":120}"}"#
        ),
        ServerMessage::ConnectionEstablished {
            socket_id: "3363.1846347".into(),
            activity_timeout: Some(120)
        }
    );
    // As an object, and without activity_timeout (pre-v7).
    assert_eq!(
        decode(r#"{"event":"pusher:connection_established","data":{"socket_id":"1.2"}}"#),
        ServerMessage::ConnectionEstablished {
            socket_id: "1.2".into(),
            activity_timeout: None
        }
    );
    assert!(matches!(
        ServerMessage::decode(r#"{"event":"pusher:connection_established","data":"{}"}"#),
        Err(DecodeError::BadData { .. })
    ));
}

#[test]
fn errors_in_every_shape() {
    let err = |code, message: &str| {
        ServerMessage::Error(PusherError {
            code,
            message: message.into(),
            channel: None,
        })
    };
    assert_eq!(
        decode(
            r#"{"event":"pusher:error","data":{"code":4009,"message":"Connection not authorized within timeout"}}"#
        ),
        err(Some(4009), "Connection not authorized within timeout")
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher:error","data":{"code":null,"message":"Existing subscription to channel presence-channel"}}"#
        ),
        err(None, "Existing subscription to channel presence-channel")
    );
    // Reverb: the data is a JSON string.
    assert_eq!(
        decode(
            r#"{"event":"pusher:error","data":"{\"code\":4001,\"message\":\"Application does not exist\"}"}"#
        ),
        err(Some(4001), "Application does not exist")
    );
    // A bare text message, and no data at all.
    assert_eq!(
        decode(r#"{"event":"pusher:error","data":"boom"}"#),
        err(None, "boom")
    );
    assert_eq!(decode(r#"{"event":"pusher:error"}"#), err(None, ""));
    // A code outside u16 is not a code.
    assert_eq!(
        decode(r#"{"event":"pusher:error","data":{"code":99999999,"message":"x"}}"#),
        err(None, "x")
    );
}

#[test]
fn ping_and_pong_in_every_shape() {
    for text in [
        r#"{"event":"pusher:ping","data":{}}"#,
        r#"{"event":"pusher:ping","data":"{}"}"#,
        r#"{"event":"pusher:ping"}"#,
    ] {
        assert_eq!(decode(text), ServerMessage::Ping);
    }
    for text in [
        r#"{"event":"pusher:pong","data":"{}"}"#,
        r#"{"event":"pusher:pong","data":{}}"#,
        r#"{"event":"pusher:pong"}"#,
    ] {
        assert_eq!(decode(text), ServerMessage::Pong);
    }
}

#[test]
fn subscription_succeeded_with_and_without_data() {
    let public = ServerMessage::SubscriptionSucceeded {
        channel: "public".into(),
        presence: None,
    };
    assert_eq!(
        decode(r#"{"event":"pusher_internal:subscription_succeeded","channel":"public"}"#),
        public
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"public","data":"{}"}"#
        ),
        public
    );
    assert!(
        ServerMessage::decode(r#"{"event":"pusher_internal:subscription_succeeded"}"#).is_err()
    );
}

#[test]
fn presence_subscription_members() {
    let text = r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-x","data":"{\"presence\":{\"ids\":[\"1\",2],\"hash\":{\"1\":{\"name\":\"Phil\"},\"2\":null},\"count\":2}}"}"#;
    assert_eq!(
        decode(text),
        ServerMessage::SubscriptionSucceeded {
            channel: "presence-x".into(),
            presence: Some(vec![
                Member {
                    user_id: "1".into(),
                    user_info: json!({"name": "Phil"})
                },
                Member {
                    user_id: "2".into(),
                    user_info: serde_json::Value::Null
                },
            ]),
        }
    );
}

#[test]
fn member_events() {
    assert_eq!(
        decode(
            r#"{"event":"pusher_internal:member_added","channel":"presence-x","data":"{\"user_id\":\"7\",\"user_info\":{\"a\":1}}"}"#
        ),
        ServerMessage::MemberAdded {
            channel: "presence-x".into(),
            member: Member {
                user_id: "7".into(),
                user_info: json!({"a": 1})
            }
        }
    );
    // sockudo#72: data as an object; numeric ids.
    assert_eq!(
        decode(
            r#"{"event":"pusher_internal:member_removed","channel":"presence-x","data":{"user_id":7}}"#
        ),
        ServerMessage::MemberRemoved {
            channel: "presence-x".into(),
            user_id: "7".into()
        }
    );
    assert!(
        ServerMessage::decode(
            r#"{"event":"pusher_internal:member_added","channel":"presence-x","data":"{}"}"#
        )
        .is_err()
    );
}

#[test]
fn other_internal_events() {
    assert_eq!(
        decode(r#"{"event":"pusher:cache_miss","channel":"cache-x"}"#),
        ServerMessage::CacheMiss {
            channel: "cache-x".into()
        }
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher_internal:subscription_count","channel":"c","data":"{\"subscription_count\":3}"}"#
        ),
        ServerMessage::SubscriptionCount {
            channel: "c".into(),
            count: 3
        }
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}"}"#
        ),
        ServerMessage::SigninSuccess {
            user_data: r#"{"id":"1"}"#.into()
        }
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"1\"]},{\"name\":\"offline\",\"user_ids\":[\"2\",\"3\",\"4\"]}]}"}"#
        ),
        ServerMessage::WatchlistEvents(vec![
            WatchlistEvent {
                name: "online".into(),
                user_ids: vec!["1".into()]
            },
            WatchlistEvent {
                name: "offline".into(),
                user_ids: vec!["2".into(), "3".into(), "4".into()]
            },
        ])
    );
    assert_eq!(
        decode(
            r#"{"event":"pusher:subscription_error","channel":"private-x","data":{"type":"AuthError","error":"denied","status":401}}"#
        ),
        ServerMessage::SubscriptionError {
            channel: "private-x".into(),
            error: SubscriptionError {
                kind: "AuthError".into(),
                error: "denied".into(),
                status: Some(401)
            }
        }
    );
}

#[test]
fn application_events_keep_their_data() {
    let ev = |data| {
        ServerMessage::Event(Event {
            event: "update_event".into(),
            channel: Some("stock_ticker".into()),
            data,
            user_id: None,
        })
    };
    assert_eq!(
        decode(
            r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"ACME\",\"price\":42}"}"#
        ),
        ev(Data::Json(json!({"name": "ACME", "price": 42})))
    );
    // An object, a non-JSON string, and nothing.
    assert_eq!(
        decode(r#"{"event":"update_event","channel":"stock_ticker","data":{"price":1}}"#),
        ev(Data::Json(json!({"price": 1})))
    );
    assert_eq!(
        decode(r#"{"event":"update_event","channel":"stock_ticker","data":"hello {world"}"#),
        ev(Data::Text("hello {world".into()))
    );
    assert_eq!(
        decode(r#"{"event":"update_event","channel":"stock_ticker"}"#),
        ev(Data::Absent)
    );
    // Unknown events, even in the pusher: namespace, are ordinary events.
    assert!(matches!(
        decode(r#"{"event":"pusher:brand_new"}"#),
        ServerMessage::Event(_)
    ));
}

#[test]
fn client_events_carry_user_id() {
    match decode(r#"{"event":"client-typing","channel":"presence-x","data":"{}","user_id":"42"}"#) {
        ServerMessage::Event(ev) => assert_eq!(ev.user_id.as_deref(), Some("42")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_frames_are_clear_errors() {
    assert!(matches!(
        ServerMessage::decode("not json"),
        Err(DecodeError::NotJson(_))
    ));
    assert_eq!(ServerMessage::decode("[1]"), Err(DecodeError::NotObject));
    assert_eq!(
        ServerMessage::decode(r#"{"data":1}"#),
        Err(DecodeError::MissingEvent)
    );
    assert_eq!(
        ServerMessage::decode(r#"{"event":5}"#),
        Err(DecodeError::MissingEvent)
    );
    // serde_json's recursion limit turns a deep nest into an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(ServerMessage::decode(&deep).is_err());
}

#[test]
fn server_messages_round_trip() {
    let messages = vec![
        ServerMessage::ConnectionEstablished {
            socket_id: "1.2".into(),
            activity_timeout: Some(30),
        },
        ServerMessage::Error(PusherError {
            code: Some(4001),
            message: "nope".into(),
            channel: None,
        }),
        ServerMessage::Error(PusherError {
            code: None,
            message: "Existing subscription".into(),
            channel: Some("c".into()),
        }),
        ServerMessage::Ping,
        ServerMessage::Pong,
        ServerMessage::SubscriptionSucceeded {
            channel: "c".into(),
            presence: None,
        },
        ServerMessage::SubscriptionSucceeded {
            channel: "presence-c".into(),
            presence: Some(vec![Member {
                user_id: "1".into(),
                user_info: json!({"n": 1}),
            }]),
        },
        ServerMessage::SubscriptionError {
            channel: "private-c".into(),
            error: SubscriptionError {
                kind: "AuthError".into(),
                error: "bad".into(),
                status: Some(401),
            },
        },
        ServerMessage::SubscriptionCount {
            channel: "c".into(),
            count: 9,
        },
        ServerMessage::MemberAdded {
            channel: "presence-c".into(),
            member: Member {
                user_id: "2".into(),
                user_info: json!(null),
            },
        },
        ServerMessage::MemberRemoved {
            channel: "presence-c".into(),
            user_id: "2".into(),
        },
        ServerMessage::CacheMiss {
            channel: "cache-c".into(),
        },
        ServerMessage::SigninSuccess {
            user_data: r#"{"id":"1"}"#.into(),
        },
        ServerMessage::WatchlistEvents(vec![WatchlistEvent {
            name: "online".into(),
            user_ids: vec!["1".into()],
        }]),
        ServerMessage::Event(Event {
            event: "e".into(),
            channel: Some("c".into()),
            data: Data::Json(json!({"a": [1, 2]})),
            user_id: Some("u".into()),
        }),
        ServerMessage::Event(Event {
            event: "e".into(),
            channel: Some("c".into()),
            data: Data::Text("plain text".into()),
            user_id: None,
        }),
    ];
    for msg in messages {
        let text = msg.encode();
        assert_eq!(ServerMessage::decode(&text).unwrap(), msg, "{text}");
    }
}

#[test]
fn server_data_is_double_encoded() {
    let text = ServerMessage::SubscriptionCount {
        channel: "c".into(),
        count: 1,
    }
    .encode();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["data"].is_string(), "{text}");
}

#[test]
fn client_messages_round_trip_with_object_data() {
    let messages = vec![
        ClientMessage::Subscribe {
            channel: "presence-x".into(),
            auth: Some("k:sig".into()),
            channel_data: Some(r#"{"user_id":"1"}"#.into()),
        },
        ClientMessage::Subscribe {
            channel: "public".into(),
            auth: None,
            channel_data: None,
        },
        ClientMessage::Unsubscribe {
            channel: "x".into(),
        },
        ClientMessage::Ping,
        ClientMessage::Pong,
        ClientMessage::Signin {
            auth: "k:sig".into(),
            user_data: r#"{"id":"1"}"#.into(),
        },
        ClientMessage::Event(Event {
            event: "client-typing".into(),
            channel: Some("private-x".into()),
            data: Data::Json(json!({"who": "me"})),
            user_id: None,
        }),
    ];
    for msg in messages {
        let text = msg.encode();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["data"].is_object(),
            "pusher-js sends data as an object: {text}"
        );
        assert_eq!(ClientMessage::decode(&text).unwrap(), msg, "{text}");
    }
    // pusher-js sends an empty auth for public channels.
    assert_eq!(
        ClientMessage::decode(r#"{"event":"pusher:subscribe","data":{"auth":"","channel":"p"}}"#)
            .unwrap(),
        ClientMessage::Subscribe {
            channel: "p".into(),
            auth: None,
            channel_data: None
        }
    );
}

proptest! {
    #[test]
    fn decoding_arbitrary_strings_never_panics(text in ".{0,400}") {
        let _ = ServerMessage::decode(&text);
        let _ = ClientMessage::decode(&text);
    }

    #[test]
    fn decoding_arbitrary_envelopes_never_panics(
        event in prop_oneof![
            Just("pusher:connection_established".to_owned()), Just("pusher:error".to_owned()),
            Just("pusher_internal:subscription_succeeded".to_owned()), Just("pusher_internal:member_added".to_owned()),
            Just("pusher_internal:member_removed".to_owned()), Just("pusher:signin_success".to_owned()),
            Just("pusher_internal:watchlist_events".to_owned()), Just("pusher:subscription_error".to_owned()),
            Just("pusher_internal:subscription_count".to_owned()), Just("pusher:subscribe".to_owned()),
            Just("pusher:signin".to_owned()), ".{0,20}",
        ],
        data in prop_oneof![Just(serde_json::Value::Null), any::<i64>().prop_map(|n| json!(n)), ".{0,60}".prop_map(serde_json::Value::String),
            (".{0,10}", ".{0,30}").prop_map(|(k, v)| json!({ k: v, "presence": {"ids": [v], "hash": 3} }))],
        channel in proptest::option::of(".{0,20}"),
    ) {
        let mut frame = json!({ "event": event, "data": data });
        if let Some(c) = channel { frame["channel"] = json!(c); }
        let text = frame.to_string();
        let _ = ServerMessage::decode(&text);
        let _ = ClientMessage::decode(&text);
        // Data strings themselves go through decoding a second time.
        let nested = json!({ "event": event, "data": text }).to_string();
        let _ = ServerMessage::decode(&nested);
    }
}
