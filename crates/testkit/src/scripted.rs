//! Steps of a scripted peer's conversation that tests share.

use crate::{Conn, Peer};

/// The next connection, established (socket 10.20) and with its subscription to `channel`
/// checked and accepted.
pub async fn subscribed(peer: &mut Peer, channel: &str) -> Conn {
    let mut conn = peer.conn().await;
    conn.establish("10.20", 120).await;
    assert_eq!(conn.expect_subscribe().await.0, channel);
    conn.succeed(channel).await;
    conn
}

/// Sends `pusher:signin_success` for user `id`, as a server does after a good `pusher:signin`.
pub async fn signin_success(conn: &mut Conn, id: &str) {
    let user_data = serde_json::json!({ "id": id }).to_string();
    let data = serde_json::json!({ "user_data": user_data }).to_string();
    conn.send(&serde_json::json!({ "event": "pusher:signin_success", "data": data }).to_string())
        .await;
}

/// How many of `frames` (client frames as text) are `pusher:subscribe` to a user channel.
pub fn user_channel_subscribes(frames: &[String]) -> usize {
    frames
        .iter()
        .filter(|f| f.contains("pusher:subscribe") && f.contains("#server-to-user-"))
        .count()
}
