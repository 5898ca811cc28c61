//! Every shape of every server's backplane, as read on the wire (sockudo 5.2.0's, captured on
//! two nodes sharing Redis) or as their sources write them (soketi's horizontal adapter,
//! Reverb's event dispatcher and metrics handler).

use super::*;

const SOCKUDO_BROADCAST: &str = r#"{"node_id":"3ee0553b-d17b-4b6f-ba83-8f0133681909","app_id":"app1","channel":"chan1","message":"{\"event\":\"ev1\",\"channel\":\"chan1\",\"data\":\"{\\\"a\\\":1}\"}","except_socket_id":"123.456","timestamp_ms":1796454095123.25,"trace_context":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}"#;
const SOCKUDO_HEARTBEAT: &str = r#"{"request_id":"834f6961-8611-40fa-bffb-0313d7b8b60a","node_id":"fc41732d-5138-4ef1-b058-58d699734e5e","app_id":"cluster","request_type":"Heartbeat","channel":null,"socket_id":null,"user_id":null,"user_info":null,"timestamp":1796454095,"dead_node_id":null,"target_node_id":null}"#;
const SOCKUDO_RESPONSE: &str = r#"{"request_id":"r1","node_id":"n2","app_id":"app1","members":{},"channels_with_sockets_count":{},"socket_ids":[],"sockets_count":3,"exists":false,"channels":[],"members_count":0,"responses_received":1,"expected_responses":2,"complete":false}"#;

#[test]
fn sockudo_broadcast() {
    let BackplaneMessage::Broadcast(b) = decode(
        Server::Sockudo,
        "sockudo_adapter::#broadcast",
        SOCKUDO_BROADCAST.as_bytes(),
    ) else {
        panic!("not a broadcast");
    };
    assert_eq!(
        b.node.as_deref(),
        Some("3ee0553b-d17b-4b6f-ba83-8f0133681909")
    );
    assert_eq!(b.app_id.as_deref(), Some("app1"));
    assert_eq!(b.channels, ["chan1"]);
    assert_eq!(b.event.as_deref(), Some("ev1"));
    assert_eq!(b.except_socket.as_deref(), Some("123.456"));
    assert_eq!(b.sent_at_ms, Some(1796454095123.25));
    assert_eq!(b.data_preview, r#"{"a":1}"#);
    assert!(b.traceparent.unwrap().starts_with("00-0af7"));
    assert!(b.bytes > 40);
}

#[test]
fn sockudo_requests_and_responses() {
    let BackplaneMessage::Request(r) = decode(
        Server::Sockudo,
        "sockudo_adapter::#requests",
        SOCKUDO_HEARTBEAT.as_bytes(),
    ) else {
        panic!("not a request");
    };
    assert_eq!(r.request_type, "Heartbeat");
    assert_eq!(
        r.node.as_deref(),
        Some("fc41732d-5138-4ef1-b058-58d699734e5e")
    );
    assert!(!r.expects_answer());
    let joined = r#"{"request_id":"j1","node_id":"n1","app_id":"app1","request_type":"PresenceMemberJoined","channel":"presence-room","user_id":"u7","user_info":{"name":"x"}}"#;
    let BackplaneMessage::Request(r) = decode(
        Server::Sockudo,
        "sockudo_adapter::#requests",
        joined.as_bytes(),
    ) else {
        panic!("not a request");
    };
    assert_eq!(
        (r.channel.as_deref(), r.user_id.as_deref()),
        (Some("presence-room"), Some("u7"))
    );
    let dead = r#"{"request_id":"d1","node_id":"n1","app_id":"cluster","request_type":"NodeDead","dead_node_id":"n9"}"#;
    let BackplaneMessage::Request(r) = decode(
        Server::Sockudo,
        "sockudo_adapter::#requests",
        dead.as_bytes(),
    ) else {
        panic!("not a request");
    };
    assert_eq!(r.dead_node.as_deref(), Some("n9"));
    // Responses come on the shared channel or on the asker's reply inbox.
    for channel in ["sockudo_adapter::#responses", "sockudo_adapter::#reply:abc"] {
        let BackplaneMessage::Response(r) =
            decode(Server::Sockudo, channel, SOCKUDO_RESPONSE.as_bytes())
        else {
            panic!("not a response");
        };
        assert_eq!(r.id, "r1");
        assert_eq!(r.complete, Some(false));
        assert_eq!((r.expected, r.received), (Some(2), Some(1)));
    }
}

#[test]
fn sockudo_over_nats_subjects() {
    let m = decode(
        Server::Sockudo,
        "sockudo.broadcast",
        SOCKUDO_BROADCAST.as_bytes(),
    );
    assert_eq!(m.kind(), "broadcast");
    let m = decode(
        Server::Sockudo,
        "sockudo.responses",
        br#"{"request_id":"r","node_id":"n"}"#,
    );
    assert_eq!(m.kind(), "response");
}

#[test]
fn soketi_shapes() {
    let b = r#"{"uuid":"9b2c","appId":"app-id","channel":"orders","data":"{\"event\":\"created\",\"channel\":\"orders\",\"data\":\"{\\\"id\\\":7}\"}","exceptingId":null}"#;
    let BackplaneMessage::Broadcast(b) = decode(Server::Soketi, "redis-adapter", b.as_bytes())
    else {
        panic!("not a broadcast");
    };
    assert_eq!(b.node.as_deref(), Some("9b2c"));
    assert_eq!(b.app_id.as_deref(), Some("app-id"));
    assert_eq!(b.channels, ["orders"]);
    assert_eq!(b.event.as_deref(), Some("created"));
    assert_eq!(b.except_socket, None);
    let req = r#"{"type":6,"requestId":"q1","appId":"app-id","opts":{"channel":"orders"}}"#;
    let BackplaneMessage::Request(r) =
        decode(Server::Soketi, "redis-adapter#comms#req", req.as_bytes())
    else {
        panic!("not a request");
    };
    assert_eq!(r.request_type, "CHANNEL_SOCKETS_COUNT");
    assert_eq!(r.channel.as_deref(), Some("orders"));
    let res = r#"{"requestId":"q1","totalCount":3}"#;
    let m = decode(Server::Soketi, "redis-adapter#comms#res", res.as_bytes());
    assert!(matches!(m, BackplaneMessage::Response(ref r) if r.id == "q1"));
}

/// Reverb's application, as `serialize()` writes it, with its secret.
pub(crate) const REVERB_APP: &str = "O:26:\"Laravel\\Reverb\\Application\":3:{s:5:\"\0*\0id\";s:6:\"my-app\";s:6:\"\0*\0key\";s:10:\"reverb-key\";s:9:\"\0*\0secret\";s:14:\"TOP-SECRET-999\";}";

#[test]
fn reverb_message_without_its_secret() {
    let msg = serde_json::json!({
        "type": "message",
        "application": REVERB_APP,
        "payload": {"event": "OrderShipped", "channels": ["private-orders", "orders"], "data": "{\"id\":1}"},
        "socket_id": "1.2",
    })
    .to_string();
    let m = decode(Server::Reverb, "reverb", msg.as_bytes());
    assert!(!format!("{m:?}").contains("TOP-SECRET"));
    let BackplaneMessage::Broadcast(b) = m else {
        panic!("not a broadcast");
    };
    assert_eq!(b.app_id.as_deref(), Some("my-app"));
    assert_eq!(b.app_key.as_deref(), Some("reverb-key"));
    assert_eq!(b.channels, ["private-orders", "orders"]);
    assert_eq!(b.event.as_deref(), Some("OrderShipped"));
    assert_eq!(b.except_socket.as_deref(), Some("1.2"));
    // Metrics requests (what a counted tap would delay) and their answers.
    let metrics = serde_json::json!({"type":"metrics","key":"k1","application":REVERB_APP,"payload":{"type":"channels","options":{}}}).to_string();
    let m = decode(Server::Reverb, "reverb", metrics.as_bytes());
    assert!(
        matches!(m, BackplaneMessage::Request(ref r) if r.request_type == "metrics:channels" && r.id == "k1")
    );
    assert!(!format!("{m:?}").contains("TOP-SECRET"));
}

#[test]
fn garbage_is_unknown_never_a_panic() {
    for server in [Server::Sockudo, Server::Soketi, Server::Reverb] {
        for payload in [
            &b"not json"[..],
            b"[1,2]",
            b"{}",
            b"{\"type\":\"message\",\"application\":\"O:1:\\\"x\\\":9:{\"}",
        ] {
            let m = decode(server, "x", payload);
            assert_eq!(m.kind(), "unknown", "{server:?} {payload:?}");
        }
    }
}

#[test]
fn patterns_and_counted_channels() {
    assert_eq!(
        Server::Sockudo.pattern("sockudo_adapter:"),
        "sockudo_adapter::#*"
    );
    assert_eq!(
        Server::Sockudo
            .counted_channel("sockudo_adapter:")
            .as_deref(),
        Some("sockudo_adapter::#requests")
    );
    assert_eq!(Server::Soketi.pattern(""), "redis-adapter*");
    assert_eq!(Server::Soketi.pattern("app"), "app#redis-adapter*");
    assert_eq!(
        Server::Soketi.counted_channel("").as_deref(),
        Some("redis-adapter#comms#req")
    );
    assert_eq!(Server::Reverb.pattern("re*verb"), "re\\*verb");
    assert_eq!(Server::Reverb.counted_channel("reverb"), None);
}

proptest::proptest! {
    #[test]
    fn any_payload_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), ch in ".{0,40}") {
        for server in [Server::Sockudo, Server::Soketi, Server::Reverb] {
            let _ = decode(server, &ch, &bytes);
        }
    }
}
