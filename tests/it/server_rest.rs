//! `tickertape serve`'s REST API, and the tickertape client against it: every error case of
//! the API, and the interop matrix (public, private, presence, multi-channel triggers,
//! batches, socket_id exclusion, client events, member events, queries).

use crate::support::server::{KEY, SECRET, Server};
use crate::support::wait_for;
use client::publish::{ApiError, BatchEvent};
use client::{self, ClientConfig, Endpoint, Item, MemberChange, SubscriptionStatus};
use protocol::Secret;
use protocol::rest::{body_md5, encode_query, sign_request};
use protocol::{Data, ServerMessage};
use serde_json::{Value, json};

/// A raw signed (or deliberately mis-signed) request: (status, JSON body).
async fn raw_call(
    server: &Server,
    method: &str,
    path: &str,
    params: Vec<(String, String)>,
    body: &[u8],
    tamper: impl FnOnce(&mut Vec<(String, String)>),
) -> (u16, Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut signed = sign_request(KEY, SECRET, method, path, &params, body, now).unwrap();
    tamper(&mut signed);
    let url = format!("http://{}{path}?{}", server.addr, encode_query(&signed));
    let http = net::http::HttpClient::default();
    let resp = http
        .send(
            method.parse().unwrap(),
            &url,
            &[],
            Some("application/json"),
            body.to_vec(),
        )
        .await
        .unwrap();
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

fn set(params: &mut [(String, String)], name: &str, value: &str) {
    params.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.into();
}

fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {v}"))
}

#[tokio::test]
async fn every_rest_error_has_its_status_and_says_what_is_wrong() {
    let server = Server::start(&[]).await;
    let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
    let path = "/apps/1/events";

    let (status, v) = raw_call(&server, "POST", path, vec![], body, |_| {}).await;
    assert_eq!((status, v), (200, json!({})));

    let (status, v) = raw_call(&server, "POST", path, vec![], body, |p| {
        set(p, "auth_signature", &"0".repeat(64))
    })
    .await;
    assert_eq!(status, 401);
    assert!(
        error_of(&v).contains(
            "expected HMAC SHA256 hex digest of \"POST\\n/apps/1/events\\nauth_key=app-key"
        ),
        "{v}"
    );

    let (status, v) = raw_call(&server, "POST", path, vec![], body, |p| {
        set(p, "body_md5", &body_md5(b"other"))
    })
    .await;
    assert_eq!(status, 401);
    assert!(error_of(&v).contains("body_md5"), "{v}");

    let (status, v) = raw_call(&server, "POST", path, vec![], body, |p| {
        set(p, "auth_timestamp", "1000")
    })
    .await;
    assert_eq!(status, 401);
    assert!(error_of(&v).contains("timestamp expired"), "{v}");

    let (status, v) = raw_call(&server, "POST", path, vec![], body, |p| {
        set(p, "auth_key", "other-key")
    })
    .await;
    assert_eq!(status, 401);
    assert!(error_of(&v).contains("other-key"), "{v}");

    let (status, v) = raw_call(&server, "POST", "/apps/99/events", vec![], body, |_| {}).await;
    assert_eq!(status, 404);
    assert!(error_of(&v).contains("99"), "{v}");

    let (status, v) = raw_call(&server, "POST", path, vec![], b"{not json", |_| {}).await;
    assert_eq!(status, 400);
    assert!(error_of(&v).contains("not valid JSON"), "{v}");

    let big = json!({"name": "e", "channel": "c", "data": "x".repeat(10 * 1024 + 1)}).to_string();
    let (status, v) = raw_call(&server, "POST", path, vec![], big.as_bytes(), |_| {}).await;
    assert_eq!(status, 413);
    assert!(error_of(&v).contains("10240"), "{v}");

    let many: Vec<String> = (0..101).map(|n| format!("c{n}")).collect();
    let too_many = json!({"name": "e", "channels": many, "data": "{}"}).to_string();
    let (status, v) = raw_call(&server, "POST", path, vec![], too_many.as_bytes(), |_| {}).await;
    assert_eq!(status, 400);
    assert!(error_of(&v).contains("101"), "{v}");

    let mixed =
        json!({"name": "e", "channels": ["a", "private-encrypted-b"], "data": "{}"}).to_string();
    assert_eq!(
        raw_call(&server, "POST", path, vec![], mixed.as_bytes(), |_| {})
            .await
            .0,
        400
    );
    let bad_name = json!({"name": "e", "channel": "bad name", "data": "{}"}).to_string();
    assert_eq!(
        raw_call(&server, "POST", path, vec![], bad_name.as_bytes(), |_| {})
            .await
            .0,
        400
    );

    let batch: Vec<Value> = (0..11)
        .map(|n| json!({"name": "e", "channel": format!("c{n}"), "data": "{}"}))
        .collect();
    let body11 = json!({ "batch": batch }).to_string();
    let (status, v) = raw_call(
        &server,
        "POST",
        "/apps/1/batch_events",
        vec![],
        body11.as_bytes(),
        |_| {},
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_of(&v).contains("11"), "{v}");

    let info = vec![("info".to_owned(), "user_count".to_owned())];
    let (status, v) = raw_call(&server, "GET", "/apps/1/channels", info, b"", |_| {}).await;
    assert_eq!(status, 400);
    assert!(error_of(&v).contains("presence-"), "{v}");

    let (status, _) = raw_call(
        &server,
        "GET",
        "/apps/1/channels/public/users",
        vec![],
        b"",
        |_| {},
    )
    .await;
    assert_eq!(status, 400);

    // Through the publisher: a wrong secret is a clear error, not a panic.
    let wrong = client::publish::RestClient::new(
        format!("http://{}", server.addr),
        "1",
        KEY,
        Secret::new("wrong"),
    );
    match wrong.trigger(&["c".into()], "e", "{}", None, None).await {
        Err(ApiError::Status {
            status: 401,
            message,
        }) => assert!(message.contains("invalid signature"), "{message}"),
        other => panic!("{other:?}"),
    }
}

fn config(server: &Server) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        KEY,
        Endpoint {
            host: "127.0.0.1".into(),
            port: server.addr.port(),
            tls: false,
            tls_port: server.addr.port(),
        },
    );
    cfg.auth.secret = Some(Secret::new(SECRET));
    cfg
}

async fn subscribed(rx: &mut client::FeedRx, n: usize) {
    for _ in 0..n {
        wait_for(rx, "subscribed", |i| {
            matches!(
                i,
                Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Subscribed)
            )
        })
        .await;
    }
}

async fn next_event(rx: &mut client::FeedRx) -> client::ReceivedEvent {
    match wait_for(rx, "event", |i| matches!(i, Item::Event(_))).await {
        Item::Event(ev) => ev,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_tickertape_client_interoperates_with_the_server() {
    let server = Server::start(&[]).await;
    let rest = server.rest();
    let channels = [
        "public-a".to_owned(),
        "private-b".to_owned(),
        "presence-c".to_owned(),
    ];
    let mut cfg = config(&server);
    cfg.user.id = "ann".into();
    cfg.user.info = Some(json!({"name": "Ann"}));
    let (ann, mut ann_rx) = client::connect(cfg, &channels).unwrap();
    subscribed(&mut ann_rx, 3).await;

    // One trigger to several channels reaches each.
    rest.trigger(&channels[..2], "multi", r#"{"n":1}"#, None, None)
        .await
        .unwrap();
    let mut got: Vec<String> = Vec::new();
    for _ in 0..2 {
        let ev = next_event(&mut ann_rx).await;
        assert_eq!(
            (ev.event.as_str(), ev.data()),
            ("multi", &Data::Json(json!({"n": 1})))
        );
        got.push(ev.channel.unwrap().to_string());
    }
    got.sort();
    assert_eq!(got, ["private-b", "public-a"]);

    // A batch.
    let batch: Vec<BatchEvent> = (0..3)
        .map(|n| BatchEvent {
            channel: "public-a".into(),
            name: format!("b{n}"),
            data: n.to_string(),
            socket_id: None,
        })
        .collect();
    rest.batch(&batch).await.unwrap();
    for n in 0..3 {
        assert_eq!(next_event(&mut ann_rx).await.event, format!("b{n}"));
    }

    // Bob joins the presence channel: Ann sees him arrive; the queries agree.
    let mut bob_cfg = config(&server);
    bob_cfg.user.id = "bob".into();
    let (bob, mut bob_rx) =
        client::connect(bob_cfg, &["presence-c".into(), "public-a".into()]).unwrap();
    let bob_socket = match wait_for(
        &mut bob_rx,
        "connected",
        |i| matches!(i, Item::State(c) if c.socket_id.is_some()),
    )
    .await
    {
        Item::State(c) => c.socket_id.unwrap(),
        _ => unreachable!(),
    };
    subscribed(&mut bob_rx, 2).await;
    match wait_for(&mut ann_rx, "member", |i| matches!(i, Item::Members { .. })).await {
        Item::Members {
            ref change, count, ..
        } if let MemberChange::Added(m) = &**change => {
            assert_eq!((m.user_id.as_str(), count), ("bob", 2))
        }
        other => panic!("{other:?}"),
    }
    let occupancy = rest
        .channel("presence-c", Some("user_count,subscription_count"))
        .await
        .unwrap();
    assert_eq!(
        occupancy,
        json!({"occupied": true, "user_count": 2, "subscription_count": 2})
    );
    let list = rest
        .channels(Some("presence-"), Some("user_count"))
        .await
        .unwrap();
    assert_eq!(list, json!({"channels": {"presence-c": {"user_count": 2}}}));
    assert_eq!(
        rest.channels(None, None).await.unwrap()["channels"]
            .as_object()
            .unwrap()
            .len(),
        3
    );

    // socket_id exclusion: Bob's own socket does not get what Bob publishes.
    rest.trigger(
        &["public-a".into()],
        "from-bob",
        "1",
        Some(&bob_socket),
        None,
    )
    .await
    .unwrap();
    rest.trigger(&["public-a".into()], "to-all", "2", None, None)
        .await
        .unwrap();
    assert_eq!(next_event(&mut ann_rx).await.event, "from-bob");
    assert_eq!(
        next_event(&mut bob_rx).await.event,
        "to-all",
        "the excluded event never reached Bob"
    );

    // Client events on the presence channel carry the sender's user id.
    ann.trigger_client_event("presence-c", "client-wave", json!({"hi": 1}))
        .await
        .unwrap();
    let ev = next_event(&mut bob_rx).await;
    assert_eq!(
        (ev.event.as_str(), ev.user_id()),
        ("client-wave", Some("ann"))
    );

    // Bob leaves: Ann sees it.
    bob.disconnect().await;
    match wait_for(&mut ann_rx, "member", |i| matches!(i, Item::Members { .. })).await {
        Item::Members {
            ref change, count, ..
        } if let MemberChange::Removed(id) = &**change => {
            assert_eq!((id.as_str(), count), ("bob", 1))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bad_signature_is_rejected_and_reported_with_the_string_to_sign() {
    let server = Server::start(&[]).await;
    let mut cfg = config(&server);
    cfg.auth.secret = Some(Secret::new("not-the-secret"));
    let (_c, mut rx) = client::connect(cfg, &["private-x".into()]).unwrap();
    match wait_for(&mut rx, "failure", |i| {
        matches!(
            i,
            Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Failed(_))
        )
    })
    .await
    {
        Item::Subscription { ref status, .. } if let SubscriptionStatus::Failed(f) = &**status => {
            assert_eq!(f.status, Some(401));
            assert!(f.auth);
            assert!(
                f.string_to_sign
                    .as_deref()
                    .is_some_and(|s| s.ends_with(":private-x")),
                "{f:?}"
            );
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn terminate_connections_closes_the_users_sockets() {
    let server = Server::start(&[]).await;
    let (mut raw, socket_id) = server.raw().await;
    let user_data = r#"{"id":"u9"}"#;
    let auth = protocol::signature::sign_user(KEY, SECRET, &socket_id, user_data).unwrap();
    raw.send(&protocol::ClientMessage::Signin {
        auth,
        user_data: user_data.into(),
    })
    .await;
    assert_eq!(
        raw.recv().await,
        ServerMessage::SigninSuccess {
            user_data: user_data.into()
        }
    );
    server.rest().terminate_user("u9").await.unwrap();
    assert_eq!(raw.close_code().await, Some(4009));
}

/// Subscribes a raw socket to `channel`.
async fn subscriber(server: &Server, channel: &str) -> crate::support::server::Raw {
    let (mut raw, id) = server.raw().await;
    let got = raw.subscribe(&id, channel, None).await;
    assert!(
        matches!(got, ServerMessage::SubscriptionSucceeded { .. }),
        "{got:?}"
    );
    raw
}

/// The subscriber got nothing from a refused request; a valid trigger still reaches it.
async fn got_nothing_then_ok(
    server: &Server,
    raw: &mut crate::support::server::Raw,
    channel: &str,
) {
    assert!(
        raw.quiet_for(std::time::Duration::from_millis(300)).await,
        "a refused request delivered part of itself"
    );
    server
        .rest()
        .trigger(&[channel.into()], "ok", "{}", None, None)
        .await
        .unwrap();
    match raw.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "ok", "{ev:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_batch_with_one_bad_event_delivers_none_of_it() {
    let server = Server::start(&[]).await;
    let mut raw = subscriber(&server, "atomic-a").await;
    let body = json!({"batch": [
        {"name": "first", "channel": "atomic-a", "data": "{}"},
        {"name": "second", "channel": "atomic-a", "data": "{}"},
        {"name": "bad", "channel": "bad name", "data": "{}"},
    ]})
    .to_string();
    let (status, v) = raw_call(
        &server,
        "POST",
        "/apps/1/batch_events",
        vec![],
        body.as_bytes(),
        |_| {},
    )
    .await;
    assert_eq!(status, 400, "{v}");
    got_nothing_then_ok(&server, &mut raw, "atomic-a").await;
    assert!(error_of(&v).contains("batch event 2"), "{v}");
}

#[tokio::test]
async fn a_batch_with_one_oversized_event_delivers_none_of_it() {
    let server = Server::start(&[]).await;
    let mut raw = subscriber(&server, "atomic-b").await;
    let body = json!({"batch": [
        {"name": "first", "channel": "atomic-b", "data": "{}"},
        {"name": "big", "channel": "atomic-b", "data": "x".repeat(10 * 1024 + 1)},
    ]})
    .to_string();
    let (status, v) = raw_call(
        &server,
        "POST",
        "/apps/1/batch_events",
        vec![],
        body.as_bytes(),
        |_| {},
    )
    .await;
    assert_eq!(status, 413, "{v}");
    assert!(error_of(&v).contains("10240"), "{v}");
    got_nothing_then_ok(&server, &mut raw, "atomic-b").await;
}

#[tokio::test]
async fn user_count_on_a_non_presence_channel_refuses_the_whole_trigger() {
    let server = Server::start(&[]).await;
    let mut raw = subscriber(&server, "atomic-c").await;
    let body = json!({
        "name": "multi",
        "channels": ["atomic-c", "presence-atomic"],
        "data": "{}",
        "info": "user_count",
    })
    .to_string();
    let (status, v) = raw_call(
        &server,
        "POST",
        "/apps/1/events",
        vec![],
        body.as_bytes(),
        |_| {},
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(error_of(&v).contains("atomic-c"), "{v}");
    got_nothing_then_ok(&server, &mut raw, "atomic-c").await;
}

/// The SDKs' `sendToUser(id, …)` triggers `#server-to-user-{id}`: it reaches the socket
/// signed in as that user. No other `#` channel may be triggered.
#[tokio::test]
async fn send_to_user_reaches_the_signed_in_users_socket() {
    let server = Server::start(&[]).await;
    let (mut raw, id) = server.raw().await;
    let user_data = r#"{"id":"alice"}"#;
    raw.send(&protocol::ClientMessage::Signin {
        auth: protocol::signature::sign_user(KEY, SECRET, &id, user_data).unwrap(),
        user_data: user_data.into(),
    })
    .await;
    assert!(matches!(
        raw.recv().await,
        ServerMessage::SigninSuccess { .. }
    ));
    let sub = raw.subscribe(&id, "#server-to-user-alice", None).await;
    assert!(
        matches!(sub, ServerMessage::SubscriptionSucceeded { .. }),
        "{sub:?}"
    );

    server
        .rest()
        .trigger(
            &["#server-to-user-alice".into()],
            "note",
            r#"{"hi":1}"#,
            None,
            None,
        )
        .await
        .unwrap();
    match raw.recv().await {
        ServerMessage::Event(ev) => {
            assert_eq!(ev.event, "note", "{ev:?}");
            assert_eq!(ev.channel.as_deref(), Some("#server-to-user-alice"));
        }
        other => panic!("{other:?}"),
    }

    for channel in ["#other", "#server-to-user-", "#server-to-user-a b"] {
        let body = json!({"name": "e", "channel": channel, "data": "{}"}).to_string();
        let (status, v) = raw_call(
            &server,
            "POST",
            "/apps/1/events",
            vec![],
            body.as_bytes(),
            |_| {},
        )
        .await;
        assert_eq!(status, 400, "{channel}: {v}");
    }
    assert!(raw.quiet_for(std::time::Duration::from_millis(300)).await);
}
