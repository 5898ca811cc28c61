//! The pipeline: N engines feed one tagged stream of [`Observed`] items, and every observer
//! (recorder, metrics, expectations, summary, output, a screen) sees the same item with its
//! latency computed once.

use bounded::Weigh;
use client::{Conn, Item};

/// One item from one connection, as every tap sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Which connection it came from: an index into the run's labels.
    pub conn: Conn,
    pub item: Item,
    /// Publish-to-receive latency in milliseconds, when `--ts-field` says where the
    /// publish time is and the event carries it. Computed once, here.
    pub latency_ms: Option<f64>,
}

impl Weigh for Observed {
    fn weight(&self) -> usize {
        self.item.weight() + size_of::<Conn>() + size_of::<Option<f64>>()
    }
}
