//! SHIM, to be replaced when the pipeline lands: the screens take their inputs from bounded
//! queues (`bounded::Receiver<Observed>` for the watch screen, `bounded::Receiver<Report>`
//! for the probe's), and until the pipeline hands them those, this file makes them from
//! what the commands have today. Nothing else in the commands knows about it.
//!
//! - [`observed`]: a task relaying today's `FeedRx` into a queue of `Observed`, with the
//!   latency computed as the dashboard computed it (from `--ts-field`);
//! - [`Reports`]: where `probe_shell.rs` used to call the screen's methods, it pushes the
//!   probe's reports (lines, alerts, figures) into a queue instead.

use bounded::{Limits, Overflow, TrySendError};
use client::{FeedRx, Item};
use observe::binding::FieldPath;
use observe::pipeline::Observed;
use observe::probe::report::{Figures, Kind, Report};
use observe::probe::state::{Alert, AlertKind, Change, Probe};

/// Items waiting for the watch screen, and their bytes: the feed before it is bounded
/// already, and the relay waits for room, so this is a short stage.
const OBSERVED: Limits = Limits::new(1024, 64 << 20);

/// Reports waiting for the probe's screen, and their bytes.
const REPORTS: Limits = Limits::new(4096, 4 << 20);

/// The watch screen's inputs: `items` with their latency, relayed as they come. The relay
/// waits for room (the feed before it counts what it must drop), and ends with the feed.
pub(super) fn observed(
    mut items: FeedRx,
    ts_field: Option<FieldPath>,
) -> bounded::Receiver<Observed> {
    let (tx, rx) = bounded::queue(OBSERVED, Overflow::Block);
    tokio::spawn(async move {
        while let Some((conn, item)) = items.recv_tagged().await {
            let latency_ms = match (&item, &ts_field) {
                (Item::Event(ev), Some(path)) => observe::latency::latency_ms(
                    &ev.data().as_value(),
                    path.pointer(),
                    ev.received_at,
                ),
                _ => None,
            };
            let observed = Observed {
                conn,
                item,
                latency_ms,
            };
            match tx.send(observed).await {
                Ok(()) => {}
                Err(TrySendError::Closed(_)) => break,
                // Heavier than the whole queue: said instead of shown.
                Err(TrySendError::Full(o, _)) => {
                    let text = format!(
                        "an item of {} bytes was too big for the screen and was dropped",
                        bounded::Weigh::weight(&o)
                    );
                    let said = Observed {
                        conn: o.conn,
                        item: Item::Error(text),
                        latency_ms: None,
                    };
                    if tx.send(said).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The probe's reports, on their way to its screen. They never wait: what does not fit is
/// counted, and said as soon as there is room again.
pub(super) struct Reports {
    tx: bounded::Sender<Report>,
    /// The figures last sent, so that unchanged ones are not sent again.
    sent: Option<Figures>,
    /// The node the open presence alert names, whose row is red.
    presence_node: Option<usize>,
    dropped: u64,
    said: u64,
}

impl Reports {
    pub(super) fn new() -> (Reports, bounded::Receiver<Report>) {
        let (tx, rx) = bounded::queue(REPORTS, Overflow::DropNewest);
        let reports = Reports {
            tx,
            sent: None,
            presence_node: None,
            dropped: 0,
            said: 0,
        };
        (reports, rx)
    }

    /// Whether it was taken.
    fn send(&mut self, report: Report) -> bool {
        if self.dropped > self.said {
            let text = format!(
                "{} reports not shown: the screen fell behind",
                self.dropped - self.said
            );
            if self
                .tx
                .try_send(Report::Line {
                    kind: Kind::Note,
                    text,
                })
                .is_ok()
            {
                self.said = self.dropped;
            }
        }
        let taken = self.tx.try_send(report).is_ok();
        if !taken {
            self.dropped += 1;
        }
        taken
    }

    /// A line for the screen's log.
    pub(super) fn line(&mut self, kind: Kind, text: &str) {
        let text = text.to_owned();
        self.send(Report::Line { kind, text });
    }

    /// An alert or its recovery, with its line.
    pub(super) fn alert(&mut self, alert: &Alert, text: &str) {
        if alert.kind == AlertKind::PresenceMismatch {
            self.presence_node = match alert.change {
                Change::Raised => alert.node,
                Change::Recovered => None,
            };
        }
        let report = Report::Alert {
            alert: alert.clone(),
            text: text.to_owned(),
        };
        self.send(report);
    }

    /// The probe's figures, when they changed since the last ones sent.
    pub(super) fn figures(&mut self, probe: &Probe) {
        let figures = Figures::of(probe, self.presence_node);
        if self.sent.as_ref() != Some(&figures) && self.send(Report::Figures(figures.clone())) {
            self.sent = Some(figures);
        }
    }
}
