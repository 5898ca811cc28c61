//! `watch`'s connections: one engine per connection (several with repeated `--profile` or
//! `--node`), all sending into one feed, so that `--max-buffer` (and the feed's item count)
//! bounds them together, whatever their number. Each engine's items carry its index, which
//! the front ends turn into its label. The budget is shared, not split: when the front end
//! falls behind, each engine pauses, then drops its own events and holds back its own states
//! (see the client's outbox), so a firehose on one connection can cost a quiet one events,
//! but never its state changes.

use anyhow::Context;

use crate::cli::plan::{Connection, DiscoverPlan};
use client::{self, ClientConfig, FeedRx};

/// Starts every connection's engine (and `--all`'s discovery) on one feed, sized by the
/// first connection's limits; the feed ends when all of them have.
pub(super) fn start(
    first: ClientConfig,
    discovery: Option<DiscoverPlan>,
    more: Vec<Connection>,
    channels: &[String],
) -> anyhow::Result<(Vec<client::Client>, FeedRx)> {
    let (tx, items) = client::feed(first.queue_capacity, first.queue_bytes);
    let mut clients = Vec::with_capacity(1 + more.len());
    let connections =
        std::iter::once((first, discovery)).chain(more.into_iter().map(|c| (c.client, c.discover)));
    for (i, (config, discovery)) in connections.enumerate() {
        // The plan holds at most MAX_CONNECTIONS.
        let tx = tx.tagged(client::Conn::try_from(i).unwrap_or(client::Conn::MAX));
        let client = client::connect_into(config, channels, tx.clone()).context("cannot watch")?;
        if let Some(d) = discovery {
            tokio::spawn(super::discover::run(d, client.clone(), tx));
        }
        clients.push(client);
    }
    Ok((clients, items))
}

/// Closes every connection at once.
pub(super) async fn disconnect(clients: &[client::Client]) {
    futures_util::future::join_all(clients.iter().map(client::Client::disconnect)).await;
}

/// Each connection's count of dropped events since it started, for the run's total.
#[derive(Default)]
pub(super) struct Drops([u64; client::MAX_CONNECTIONS]);

impl Drops {
    /// Notes `conn`'s total; returns every connection's together.
    pub(super) fn total(&mut self, conn: client::Conn, total: u64) -> u64 {
        if let Some(slot) = self.0.get_mut(usize::from(conn)) {
            *slot = total;
        }
        self.0.iter().fold(0u64, |sum, n| sum.saturating_add(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::Drops;

    #[test]
    fn the_summary_counts_every_connections_drops() {
        let mut drops = Drops::default();
        assert_eq!(drops.total(0, 5), 5);
        assert_eq!(drops.total(1, 2), 7);
        assert_eq!(drops.total(0, 6), 8);
        // A tag out of the table does not count twice, nor panic.
        assert_eq!(drops.total(u8::MAX, 100), 8);
    }
}
