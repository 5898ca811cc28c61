//! `watch --record FILE`: a stage between the engines and the front end that writes every
//! item, with its connection's label, to a recording, and hands it on.

use std::io;

use anyhow::Context;

use client::{FeedRx, Item, Labels};
use observe::binding::FieldPath;
use observe::latency::latency_ms;

/// Writes every item to a recording on its way to the front end.
pub(super) fn record(
    path: &std::path::Path,
    mut items: FeedRx,
    ts_field: Option<FieldPath>,
    labels: Labels,
) -> anyhow::Result<FeedRx> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create the recording {}", path.display()))?;
    let mut recorder = observe::recording::Recorder::new(io::BufWriter::new(file));
    let (tx, rx) = items.relay();
    tokio::spawn(async move {
        while let Some((conn, item)) = items.recv_tagged().await {
            let latency = match (&item, &ts_field) {
                (Item::Event(ev), Some(p)) => {
                    latency_ms(&ev.data().as_value(), p.pointer(), ev.received_at)
                }
                _ => None,
            };
            if let Err(e) = recorder.record_from(&item, latency, labels.get(conn)) {
                let _ = tx
                    .send_tagged(conn, Item::Error(format!("recording stopped: {e}")))
                    .await;
                break;
            }
            if tx.send_tagged(conn, item).await.is_err() {
                break;
            }
        }
        // Recording failed or the front end is gone: keep handing items on, unrecorded.
        while let Some((conn, item)) = items.recv_tagged().await {
            if tx.send_tagged(conn, item).await.is_err() {
                break;
            }
        }
    });
    Ok(rx)
}
