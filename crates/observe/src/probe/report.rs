//! What the probe reports to its front end (the lines, the JSON, or the screen): lines of a
//! kind, alerts, and its figures per node. Plain data: the probe's loop makes them, and a
//! front end chosen once shows them.

use std::time::Instant;

use bounded::Weigh;
use client::ConnectionState;

use super::members::Mismatch;
use super::state::{Alert, Probe};
use crate::latency::Summary;

/// One node's row, copied from its [`observe::probe::state::NodeStats`].
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub state: ConnectionState,
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    pub late: u64,
    pub publish_errors: u64,
    pub latency: Option<Summary>,
    pub max_ms: f64,
    pub last_error: Option<String>,
    /// An alert concerns this node: the row is red.
    pub alert: bool,
}

/// With several nodes: how their presence lists compare now.
#[derive(Debug, Clone, PartialEq)]
pub enum PresenceLine {
    /// Not every node has its list yet: this many have.
    Waiting { known: usize, of: usize },
    /// Every node lists the same members, this many.
    Agree(usize),
    /// They differ (the text says how); `alert` once it lasted `--settle`.
    Differ { detail: String, alert: bool },
}

/// What a line is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Received,
    /// Lost, late or duplicate.
    Bad,
    Alert,
    Recovered,
    /// A connection state, a subscription or publish error, a summary.
    Note,
}

/// The figures a screen shows: a row per node, and how their presence lists compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub rows: Vec<Row>,
    pub presence: Option<PresenceLine>,
}

impl Figures {
    /// The probe's figures now; `presence_node` is the node named by the open presence
    /// alert, whose row is red while the lists differ.
    pub fn of(probe: &Probe, presence_node: Option<usize>) -> Figures {
        let rows = probe
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| Row {
                name: n.name.clone(),
                state: n.state,
                sent: n.sent,
                received: n.received,
                lost: n.lost,
                late: n.late,
                publish_errors: n.publish_errors,
                latency: n.latency.summary(),
                max_ms: n.max_ms,
                last_error: n.last_error.clone(),
                alert: n.missing.iter().any(|m| *m)
                    || (probe.presence_differs && presence_node == Some(i)),
            })
            .collect();
        Figures {
            rows,
            presence: presence_line(probe),
        }
    }
}

/// One thing the probe reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// A line for a person.
    Line { kind: Kind, text: String },
    /// An alert raised or recovered, with its line.
    Alert { alert: Alert, text: String },
    /// The figures changed.
    Figures(Figures),
}

impl Weigh for Report {
    fn weight(&self) -> usize {
        size_of::<Report>()
            + match self {
                Report::Line { text, .. } => text.len(),
                Report::Alert { alert, text } => text.len() + alert.detail.len(),
                Report::Figures(f) => f
                    .rows
                    .iter()
                    .map(|r| {
                        size_of::<Row>()
                            + r.name.len()
                            + r.last_error.as_ref().map_or(0, String::len)
                    })
                    .sum::<usize>(),
            }
    }
}

/// How the nodes' presence lists compare now (None with one node).
fn presence_line(probe: &Probe) -> Option<PresenceLine> {
    let presence = probe.presence.as_ref()?;
    let of = probe.nodes.len();
    let lists: Vec<_> = (0..of).filter_map(|i| presence.list(i)).collect();
    if lists.len() < of {
        return Some(PresenceLine::Waiting {
            known: lists.len(),
            of,
        });
    }
    let first = lists.first()?;
    let Some(b) = (1..of).find(|&b| lists[b] != *first) else {
        return Some(PresenceLine::Agree(first.len()));
    };
    let m = Mismatch {
        a: 0,
        b,
        only_a: first.difference(lists[b]).cloned().collect(),
        only_b: lists[b].difference(first).cloned().collect(),
        since: Instant::now(),
    };
    let detail = m.describe(|i| probe.name(i));
    let detail = detail
        .strip_prefix("presence members differ: ")
        .unwrap_or(&detail);
    Some(PresenceLine::Differ {
        detail: detail.to_owned(),
        alert: probe.presence_differs,
    })
}
