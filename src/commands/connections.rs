//! The engines of a run: one per connection (several with repeated `--profile` or `--node`),
//! each on a feed of its own in the run's one fan-in ([`observe::pipeline::Feeds`]), so a
//! flood on one connection fills its own feed's share of `--max-buffer` and never another's.
//! Each engine's items carry its index, which the front ends turn into its label.

use anyhow::Context;

use crate::cli::plan::Connection;
use observe::pipeline::Feeds;

/// Starts every connection's engine (and `--all`'s discovery beside it) on `feeds`.
pub(super) fn start(
    feeds: &mut Feeds,
    connections: Vec<Connection>,
    channels: &[String],
) -> anyhow::Result<Vec<client::Client>> {
    let mut clients = Vec::with_capacity(connections.len());
    for c in connections {
        let (client, tx) = feeds.connect(c.client, channels).context("cannot watch")?;
        if let Some(d) = c.discover {
            tokio::spawn(super::discover::run(d, client.clone(), tx));
        }
        clients.push(client);
    }
    Ok(clients)
}

/// Closes every connection at once.
pub(super) async fn disconnect(clients: &[client::Client]) {
    futures_util::future::join_all(clients.iter().map(client::Client::disconnect)).await;
}
