//! The client connection engine: one tokio task per connection that any front end drives.
//!
//! [`connect`] starts the engine and returns a [`Client`] handle (commands in) and a bounded
//! receiver of [`Item`]s (everything that happens, out). The engine follows pusher-js: its
//! states, its close-code policy, resubscription after every reconnect, heartbeats with
//! `min(server, configured)` activity timeouts, and exponential back-off with jitter.
//!
//! The connection's state is also on a path of its own, [`Client::link`], which a flood of
//! items waiting for the consumer never delays.
//!
//! # When the consumer falls behind
//! The item feed holds [`ClientConfig::queue_capacity`] items and
//! [`ClientConfig::queue_bytes`] bytes (`--max-buffer`). When it has no room the engine
//! pauses reading for [`ClientConfig::consumer_grace`] (TCP holds the data), so a consumer
//! that only hiccups loses nothing. If the consumer is still behind, the engine reads on (so
//! pings are always answered), drops application events, counts them, and reports the count as
//! [`Item::Dropped`] once there is room. States, subscription changes and member changes are
//! held in a small bounded backlog instead, so the consumer never loses track of the
//! connection. Memory stays bounded (see `outbox.rs`).

mod authorizer;
mod backoff;
mod command;
mod config;
mod endpoint;
mod engine;
pub mod explain;
mod feed;
mod heard;
mod inbound;
mod item;
mod labels;
mod name;

mod outbox;
mod presence;
pub mod publish;
mod requests;
mod session;
mod signin;
mod signin_state;
mod stats;
mod subscriptions;
mod transport;
mod wire;

pub use authorizer::post_to_endpoint;
pub use backoff::Backoff;
pub use command::{Client, ClientError, Snapshot};
pub use config::{AuthConfig, ClientConfig, DEFAULT_MAX_MESSAGE, Endpoint, User};
pub use endpoint::{MAX_KEY_LEN, quoted, validate_app_key, validate_cluster, validate_host};
pub use feed::{Conn, FeedRx, FeedTx, Tagged, feed};
pub use item::{
    ConnectionState, DataText, Item, Link, MemberChange, Reason, ReceivedEvent, StateChange,
    SubscriptionFailure, SubscriptionStatus,
};
pub use labels::{Labels, MAX_CONNECTIONS};
pub use name::Name;
pub use outbox::{BACKLOG_BYTES, BACKLOG_LIMIT, DROP_REPORT_EVERY, STAGE_BYTES, STAGE_ITEMS};
pub use presence::{
    ALL_BYTES as MEMBER_BYTES, CHANNEL_BYTES as CHANNEL_MEMBER_BYTES, MAX_MEMBERS, Members,
    kept as kept_member, kept_id as kept_member_id, member_weight, value_weight,
};
pub use stats::{Counter, MAX_TRACKED_PAIRS, STATS_BYTES, Stats};
pub use subscriptions::Counts;

use tokio::sync::{mpsc, watch};

pub use feed::{DEFAULT_BYTES as DEFAULT_QUEUE_BYTES, DEFAULT_ITEMS as DEFAULT_QUEUE_ITEMS};

use protocol::channel::validate_channel;

/// Starts the engine on the current tokio runtime, subscribed to `channels`.
pub fn connect(config: ClientConfig, channels: &[String]) -> Result<(Client, FeedRx), ClientError> {
    let (items_tx, items_rx) = feed(config.queue_capacity, config.queue_bytes);
    let client = connect_into(config, channels, items_tx)?;
    Ok((client, items_rx))
}

/// Starts the engine as [`connect`] does, sending into a feed that others may share (its
/// items carry `items`'s tag; the feed's limits are the feed's, not `config`'s).
pub fn connect_into(
    config: ClientConfig,
    channels: &[String],
    items: FeedTx,
) -> Result<Client, ClientError> {
    for channel in channels {
        validate_channel(channel, false)?;
    }
    let (cmds_tx, cmds_rx) = mpsc::channel(64);
    let (link_tx, link) = watch::channel(Link {
        state: ConnectionState::Initialized,
        since: std::time::Instant::now(),
    });
    let engine = engine::Engine::new(config, cmds_rx, items, channels, link_tx);
    tokio::spawn(engine.run());
    Ok(Client {
        cmds: cmds_tx,
        link,
    })
}
