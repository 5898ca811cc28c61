//! Steps of a scripted peer's conversation that tests share.

use super::{Conn, Peer};

/// The next connection, established (socket 10.20) and with its subscription to `channel`
/// checked and accepted.
pub async fn subscribed(peer: &mut Peer, channel: &str) -> Conn {
    let mut conn = peer.conn().await;
    conn.establish("10.20", 120).await;
    assert_eq!(conn.expect_subscribe().await.0, channel);
    conn.succeed(channel).await;
    conn
}
