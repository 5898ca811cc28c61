//! `tap --metrics ADDR`: the tap's counts in the Prometheus text format. Labels are fixed
//! sets (a message's kind, a drop's cause): no name from the backplane is ever a label.
//! The NDJSON loop and the screen feed it the same way: each [`Seen`], and a tick a second.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use net::metrics::http;

use super::Seen;
use super::model::{Cluster, Notice};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: String,
}

/// The tap's metrics, and the endpoint serving them while it lives.
pub struct Metrics {
    messages: Family<KindLabels, Counter>,
    up: Gauge,
    numsub: Gauge,
    heartbeat_nodes: Gauge,
    broadcast_rate: Gauge<f64, AtomicU64>,
    pending: Gauge,
    incomplete: Counter,
    dead: Counter,
    lost: Family<CauseLabels, Counter>,
    /// What was counted as lost so far: (dropped, oversize).
    lost_seen: (u64, u64),
    endpoint: Option<http::Endpoint>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Metrics({:?})", self.addr())
    }
}

impl Metrics {
    /// Metrics served on `addr`; its bound address is [`Metrics::addr`].
    /// `counted`: whether the cluster computes a node count the tap reads (`PUBSUB NUMSUB`);
    /// without one (Reverb, NATS) `nodes_numsub` is not exposed at all, rather than as 0.
    pub async fn serve(addr: SocketAddr, counted: bool) -> anyhow::Result<Metrics> {
        let mut registry = net::metrics::registry();
        let mut m = Metrics {
            messages: Family::default(),
            up: Gauge::default(),
            numsub: Gauge::default(),
            heartbeat_nodes: Gauge::default(),
            broadcast_rate: Gauge::default(),
            pending: Gauge::default(),
            incomplete: Counter::default(),
            dead: Counter::default(),
            lost: Family::default(),
            lost_seen: (0, 0),
            endpoint: None,
        };
        let r = registry.sub_registry_with_prefix("tap");
        r.register(
            "messages",
            "Backplane messages read, by kind: broadcast, request, response, unknown",
            m.messages.clone(),
        );
        r.register(
            "up",
            "1 while the backplane's connection is up",
            m.up.clone(),
        );
        if counted {
            r.register(
                "nodes_numsub",
                "The node count the cluster computes (PUBSUB NUMSUB of its requests channel)",
                m.numsub.clone(),
            );
        }
        r.register(
            "nodes_heartbeat",
            "Nodes whose last heartbeat is recent",
            m.heartbeat_nodes.clone(),
        );
        r.register(
            "broadcasts_per_second",
            "Broadcasts per second over the last 10 whole seconds, all channels",
            m.broadcast_rate.clone(),
        );
        r.register(
            "requests_pending",
            "Cross-node requests waiting for their answers",
            m.pending.clone(),
        );
        r.register(
            "requests_incomplete",
            "Requests answered by fewer nodes than expected, or marked complete:false",
            m.incomplete.clone(),
        );
        r.register("nodes_dead", "NodeDead notices seen", m.dead.clone());
        r.register(
            "lost_messages",
            "Messages not shown: dropped (the tap fell behind) or oversize (over --max-message)",
            m.lost.clone(),
        );
        let registry = Arc::new(registry);
        let render: http::Render = Arc::new(move || net::metrics::encode(&registry));
        let endpoint = http::start(addr, render)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        m.endpoint = Some(endpoint);
        Ok(m)
    }

    /// Where the metrics are served.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.endpoint.as_ref().map(|e| e.addr)
    }

    /// One thing the tap saw.
    pub fn seen(&self, seen: &Seen) {
        match seen {
            Seen::Message { message, .. } => {
                self.messages
                    .get_or_create(&KindLabels {
                        kind: message.kind().to_owned(),
                    })
                    .inc();
            }
            Seen::Notice(Notice::Incomplete(_), _) => {
                self.incomplete.inc();
            }
            Seen::Notice(Notice::NodeDead { .. }, _) => {
                self.dead.inc();
            }
            Seen::Notice(..) => {}
            Seen::State { up, .. } => {
                self.up.set(i64::from(*up));
            }
            Seen::NumSub(n) => {
                self.numsub.set(i64::try_from(*n).unwrap_or(i64::MAX));
            }
        }
    }

    /// Once a second: the model's gauges, and the source's losses (running totals).
    pub fn tick(&mut self, cluster: &Cluster, now: std::time::Instant, lost: (u64, u64)) {
        self.heartbeat_nodes
            .set(i64::try_from(cluster.heartbeat_nodes(now)).unwrap_or(i64::MAX));
        self.pending
            .set(i64::try_from(cluster.pending.len()).unwrap_or(i64::MAX));
        self.broadcast_rate
            .set(cluster.broadcast_rate(now).unwrap_or(0.0));
        for (cause, total, seen) in [
            ("dropped", lost.0, &mut self.lost_seen.0),
            ("oversize", lost.1, &mut self.lost_seen.1),
        ] {
            let c = self.lost.get_or_create(&CauseLabels {
                cause: cause.to_owned(),
            });
            c.inc_by(total.saturating_sub(*seen));
            *seen = (*seen).max(total);
        }
    }
}
