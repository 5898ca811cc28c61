//! Authorization through an auth endpoint (pusher-js's form POST), user sign-in, and
//! end-to-end encrypted channels, against the scripted peer over loopback.

use client::{self, Item, SubscriptionStatus};
use protocol::{ClientMessage, Data, crypto, signature};
use serde_json::json;
use testkit::{Peer, http_endpoint, wait_for};

const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";

fn failed(item: &Item) -> bool {
    matches!(
        item,
        Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Failed(_))
    )
}

#[tokio::test]
async fn auth_endpoint_signs_with_headers_and_reports_failures() {
    let good = signature::sign_channel("app-key", "app-secret", "1.1", "private-ok", None).unwrap();
    let (url, mut requests) = http_endpoint(vec![
        (200, json!({ "auth": good }).to_string()),
        (403, r#"{"error":"forbidden for this user"}"#.into()),
    ])
    .await;
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.endpoint = Some(url.parse().unwrap());
    cfg.auth.headers = vec![("Authorization".into(), "Bearer t0k".into())];
    let (client, mut rx) = client::connect(cfg, &["private-ok".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;

    let request = requests.recv().await.unwrap();
    assert!(
        request.starts_with("POST /pusher/auth HTTP/1.1"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded")
    );
    assert!(request.contains("Bearer t0k"), "{request}");
    assert!(
        request.ends_with("socket_id=1.1&channel_name=private-ok"),
        "{request}"
    );
    assert_eq!(
        conn.expect_subscribe().await,
        ("private-ok".into(), Some(good), None)
    );

    client.subscribe("private-denied").await.unwrap();
    requests.recv().await.unwrap();
    match wait_for(&mut rx, "failure", failed).await {
        Item::Subscription { channel, status } => {
            let SubscriptionStatus::Failed(f) = *status else {
                unreachable!()
            };
            assert_eq!(channel, "private-denied");
            assert_eq!(f.status, Some(403));
            assert!(f.auth);
            assert!(
                f.message.contains("HTTP 403") && f.message.contains("forbidden for this user"),
                "{}",
                f.message
            );
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn auth_endpoint_answers_that_are_not_json_are_explained() {
    let (url, _requests) = http_endpoint(vec![(200, "<html>login</html>".into())]).await;
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.endpoint = Some(url.parse().unwrap());
    let (_client, mut rx) = client::connect(cfg, &["presence-x".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    match wait_for(&mut rx, "failure", failed).await {
        Item::Subscription { ref status, .. } if let SubscriptionStatus::Failed(f) = &**status => {
            assert!(
                // A page is named as one, with its likely cause, not quoted.
                f.message.contains("answered HTTP 200 with an HTML page")
                    && f.message.contains("a login page")
                    && !f.message.contains("<html>"),
                "{}",
                f.message
            )
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn without_secret_or_endpoint_private_channels_fail_clearly() {
    let mut peer = Peer::start().await;
    let (_client, mut rx) = client::connect(peer.config(), &["private-x".into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    match wait_for(&mut rx, "failure", failed).await {
        Item::Subscription { ref status, .. } if let SubscriptionStatus::Failed(f) = &**status => {
            assert!(
                f.message.contains("--secret or --auth-endpoint"),
                "{}",
                f.message
            )
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn encrypted_channels_decrypt_with_the_master_key() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("s"));
    cfg.auth.master_key = Some(crypto::key_from_base64(MASTER).unwrap());
    let channel = "private-encrypted-bla";
    let (_client, mut rx) = client::connect(cfg, &[channel.into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.succeed(channel).await;

    let key = crypto::shared_secret(channel, &crypto::key_from_base64(MASTER).unwrap());
    let sealed = crypto::encrypt(&key, br#"{"message":"hello world"}"#, &[7; 24]);
    let frame = json!({ "event": "secret", "channel": channel, "data": sealed }).to_string();
    conn.send(&frame).await;
    // A payload sealed with another key is an error value, not a crash.
    let forged = crypto::encrypt(&[9; 32], b"{}", &[7; 24]);
    conn.send(&json!({ "event": "secret", "channel": channel, "data": forged }).to_string())
        .await;

    let mut events = Vec::new();
    while events.len() < 2 {
        if let Item::Event(ev) = wait_for(&mut rx, "event", |i| matches!(i, Item::Event(_))).await {
            events.push(ev);
        }
    }
    assert_eq!(
        *events[0].data(),
        Data::Json(json!({"message": "hello world"}))
    );
    assert_eq!(events[0].decrypt_error(), None);
    assert!(
        events[1]
            .decrypt_error()
            .unwrap()
            .contains("decryption failed")
    );
}

#[tokio::test]
async fn endpoint_shared_secret_decrypts_without_a_master_key() {
    let channel = "private-encrypted-bla";
    let key = crypto::shared_secret(channel, &crypto::key_from_base64(MASTER).unwrap());
    let auth = signature::sign_channel("app-key", "s", "1.1", channel, None).unwrap();
    let (url, _requests) = http_endpoint(vec![(
        200,
        json!({ "auth": auth, "shared_secret": crypto::to_base64(&key) }).to_string(),
    )])
    .await;
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.endpoint = Some(url.parse().unwrap());
    let (_client, mut rx) = client::connect(cfg, &[channel.into()]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    conn.expect_subscribe().await;
    conn.succeed(channel).await;
    let sealed = crypto::encrypt(&key, b"\"plain\"", &[1; 24]);
    conn.send(&json!({ "event": "e", "channel": channel, "data": sealed }).to_string())
        .await;
    match wait_for(&mut rx, "event", |i| matches!(i, Item::Event(_))).await {
        Item::Event(ev) => assert_eq!(*ev.data(), Data::Json(json!("plain"))),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_given_user_signs_in_and_follows_its_own_channel() {
    let mut peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("app-secret"));
    cfg.user = client::User {
        id: "45678".into(),
        info: None,
        sign_in: true,
    };
    let (_client, mut rx) = client::connect(cfg, &[]).unwrap();
    let mut conn = peer.conn().await;
    conn.establish("123.456", 120).await;
    match conn.recv().await {
        ClientMessage::Signin { auth, user_data } => {
            assert_eq!(user_data, r#"{"id":"45678"}"#);
            let string = signature::user_string_to_sign("123.456", &user_data);
            signature::verify_auth("app-key", "app-secret", &string, &auth).unwrap();
        }
        other => panic!("{other:?}"),
    }
    conn.send(r#"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"45678\\\"}\"}"}"#).await;
    wait_for(&mut rx, "signed in", |i| matches!(i, Item::SignedIn { .. })).await;
    assert_eq!(
        conn.expect_subscribe().await,
        ("#server-to-user-45678".into(), None, None)
    );
}
