//! `tickertape webhooks` on a terminal: the received webhooks in the dashboard. Each request
//! becomes items (see [`observe::output::webhook_items`]) on a feed bounded in items and in
//! bytes (`--max-queue`); what does not fit is counted, shown in the status bar as dropped,
//! and said on stderr at the end. The requests are answered all the same.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::cli::plan::{DashboardPlan, FrontPlan};
use crate::cli::webhooks::WebhooksPlan;
use bounded::{Limits, Overflow};
use client::{self, Item, Labels};
use observe::pipeline::Observed;

/// The dashboard's end of the receiver: items go in without waiting, or are dropped and
/// counted by the queue.
#[derive(Clone)]
pub(super) struct ScreenFeed {
    tx: bounded::Sender<Observed>,
    /// Items that had no room in the receiver's output budget before they reached the queue.
    refused: Arc<AtomicU64>,
}

impl ScreenFeed {
    /// A queue of at most `max_bytes` (and [`client::DEFAULT_QUEUE_ITEMS`] items).
    pub(super) fn new(max_bytes: usize) -> (ScreenFeed, bounded::Receiver<Observed>) {
        let limits = Limits::new(client::DEFAULT_QUEUE_ITEMS, max_bytes);
        let (tx, rx) = bounded::queue(limits, Overflow::DropNewest);
        let refused = Arc::new(AtomicU64::new(0));
        (ScreenFeed { tx, refused }, rx)
    }

    /// Hands the items on; those that do not fit are counted, never waited for.
    pub(super) fn send(&self, items: Vec<Observed>) {
        for item in items {
            let _ = self.tx.try_send(item);
        }
    }

    /// Counts `n` items that were never handed on.
    pub(super) fn refuse(&self, n: u64) {
        self.refused.fetch_add(n, Ordering::Relaxed);
    }

    /// Bytes the queue holds now.
    pub(super) fn queued(&self) -> usize {
        self.tx.bytes()
    }

    pub(super) fn dropped(&self) -> u64 {
        self.tx.drops().total() + self.refused.load(Ordering::Relaxed)
    }
}

/// The dashboard's settings for webhooks: no bindings, so every webhook event is a log line;
/// `--count` and `--timeout` end it as they end `watch`. The screen receives (nothing to
/// trigger through: no connection, no API), and the config file's `[keys]` apply.
pub(super) fn front(plan: &WebhooksPlan, url: &str) -> FrontPlan {
    FrontPlan {
        count: plan.count,
        timeout: plan.timeout,
        dashboard: DashboardPlan {
            ascii: plan.ascii,
            receiving: Some(format!("webhooks on {url}")),
            keys: plan.keys.clone(),
            ..DashboardPlan::default()
        },
        ..FrontPlan::default()
    }
}

/// Runs the dashboard until `q`, `--count` or `--timeout`. Drops are reported to it once a
/// second, and on stderr once the screen is gone.
pub(super) async fn show(
    front: FrontPlan,
    items: bounded::Receiver<Observed>,
    feed: ScreenFeed,
) -> anyhow::Result<ExitCode> {
    let reporter = {
        let feed = feed.clone();
        tokio::spawn(async move {
            let mut said = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let total = feed.dropped();
                // Itself dropped when the feed is full: the next second says it again.
                let report = Observed {
                    conn: 0,
                    item: Item::Dropped {
                        count: total - said,
                        total,
                    },
                    latency_ms: None,
                };
                if total > said && feed.tx.try_send(report).is_ok() {
                    said = total;
                }
            }
        })
    };
    let code = crate::commands::watch::dashboard(
        front,
        (Vec::new(), Vec::new()),
        items,
        Vec::new(),
        Labels::default(),
    )
    .await;
    reporter.abort();
    let dropped = feed.dropped();
    if dropped > 0 {
        say!(
            "{dropped} webhook events or notices not shown: the dashboard fell \
             behind (its queue was full; see --max-queue). They were answered all the same."
        );
    }
    code
}
