//! User sign-in against the scripted peer: only when asked for, `pusher:signin_success`
//! accepted once and only in answer to the client's own `pusher:signin`, and no race between
//! the resubscription and the new sign-in after a reconnect.

use std::time::Duration;

use crate::support::Peer;
use crate::support::bin::{self, Proc};
use crate::support::scripted::{signin_success, subscribed, user_channel_subscribes};
use client::{self, ClientConfig};
use protocol::ClientMessage;

/// A client of `peer` that signs in as `alice` with the app secret, or only knows it is alice.
fn alice(peer: &Peer, sign_in: bool) -> ClientConfig {
    let mut cfg = peer.config();
    cfg.auth.secret = Some(protocol::Secret::new("app-secret"));
    cfg.user = client::User {
        id: "alice".into(),
        info: None,
        sign_in,
    };
    cfg
}

fn is_signin(frame: &str) -> bool {
    frame.contains("\"pusher:signin\"")
}

#[tokio::test]
async fn an_unsolicited_signin_success_opens_no_user_channel() {
    let mut peer = Peer::start().await;
    let (_client, _rx) = client::connect(alice(&peer, false), &["c".into()]).unwrap();
    let mut conn = subscribed(&mut peer, "c").await;
    for i in 0..100 {
        signin_success(&mut conn, &format!("u{i}")).await;
    }
    let frames = conn.collect_for(Duration::from_millis(500)).await;
    assert_eq!(user_channel_subscribes(&frames), 0, "{frames:?}");
    assert!(!frames.iter().any(|f| is_signin(f)), "{frames:?}");
}

#[tokio::test]
async fn a_real_signin_opens_the_user_channel_once_and_not_again_before_the_next_signin() {
    let mut peer = Peer::start().await;
    let (_client, _rx) = client::connect(alice(&peer, true), &["c".into()]).unwrap();
    let mut conn = subscribed(&mut peer, "c").await;
    assert!(matches!(conn.recv().await, ClientMessage::Signin { .. }));
    // The answer, then 99 more the client did not ask for.
    for _ in 0..100 {
        signin_success(&mut conn, "alice").await;
    }
    assert_eq!(
        conn.expect_subscribe().await.0,
        "#server-to-user-alice".to_owned()
    );
    conn.succeed("#server-to-user-alice").await;
    let frames = conn.collect_for(Duration::from_millis(500)).await;
    assert_eq!(user_channel_subscribes(&frames), 0, "{frames:?}");

    // After a reconnect the user channel waits for the new sign-in: subscribing it first
    // would race the sign-in and be refused.
    conn.close(4200, "restarting").await;
    let mut conn = subscribed(&mut peer, "c").await;
    assert!(matches!(conn.recv().await, ClientMessage::Signin { .. }));
    signin_success(&mut conn, "alice").await;
    assert_eq!(
        conn.expect_subscribe().await.0,
        "#server-to-user-alice".to_owned()
    );
}

/// `watch c` against the peer with the app secret, `--user-id alice` and `extra`: the frames
/// the client sends after its subscription to `c`.
async fn watch_frames(extra: &[&str]) -> Vec<String> {
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut cmd = bin::command();
    cmd.args(["watch", "c", "--json", "--key", "app-key", "--port", &port])
        .args(["--secret", "app-secret", "--user-id", "alice"])
        .args(extra);
    let mut proc = Proc::spawn(&mut cmd);
    let mut conn = subscribed(&mut peer, "c").await;
    let frames = conn.collect_for(Duration::from_millis(500)).await;
    drop(conn);
    peer.stop();
    proc.terminate(Duration::from_secs(5)).await;
    frames
}

#[tokio::test]
async fn a_user_id_alone_does_not_sign_in_and_signin_does() {
    let frames = watch_frames(&[]).await;
    assert!(!frames.iter().any(|f| is_signin(f)), "{frames:?}");

    let frames = watch_frames(&["--signin"]).await;
    let signins: Vec<_> = frames.iter().filter(|f| is_signin(f)).collect();
    assert_eq!(signins.len(), 1, "{frames:?}");
    match ClientMessage::decode(signins[0]).unwrap() {
        ClientMessage::Signin { user_data, .. } => assert_eq!(user_data, r#"{"id":"alice"}"#),
        other => panic!("{other:?}"),
    }
}
