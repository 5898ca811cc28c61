//! `probe --metrics ADDR`: the probe's figures in the Prometheus text format, by node. The
//! `node` label is the node as given on the command line (at most [`super::MAX_NODES`]
//! values); no id (socket, user, canary) is ever a label.

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::canary::{Fate, Outcome};
use client::ConnectionState;
use net::metrics::{http, label_value};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
}

fn histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

type Histograms = Family<NodeLabels, Histogram, fn() -> Histogram>;

/// The probe's metrics, and the endpoint serving them while it lives.
pub struct Metrics {
    names: Vec<String>,
    latency: Histograms,
    sent: Family<NodeLabels, Counter>,
    received: Family<NodeLabels, Counter>,
    lost: Family<NodeLabels, Counter>,
    late: Family<NodeLabels, Counter>,
    duplicates: Family<NodeLabels, Counter>,
    publish_errors: Family<NodeLabels, Counter>,
    connected: Family<NodeLabels, Gauge>,
    presence_mismatch: Gauge,
    endpoint: Option<http::Endpoint>,
}

impl Metrics {
    /// The metrics of the nodes named `names`, and their registry.
    pub fn new(names: Vec<String>) -> (Metrics, Registry) {
        let mut registry = net::metrics::registry();
        let m = Metrics {
            names: names.iter().map(|n| label_value(n)).collect(),
            latency: Family::new_with_constructor(histogram as fn() -> Histogram),
            sent: Family::default(),
            received: Family::default(),
            lost: Family::default(),
            late: Family::default(),
            duplicates: Family::default(),
            publish_errors: Family::default(),
            connected: Family::default(),
            presence_mismatch: Gauge::default(),
            endpoint: None,
        };
        let r = registry.sub_registry_with_prefix("probe");
        r.register_with_unit(
            "latency",
            "From the start of a canary's publish to its receipt, by receiving node",
            Unit::Seconds,
            m.latency.clone(),
        );
        let counters = [
            (
                "sent",
                "Canaries the REST API accepted, by the node published through",
                &m.sent,
            ),
            (
                "received",
                "Canaries received in time, by receiving node",
                &m.received,
            ),
            (
                "lost",
                "Canaries not received within --loss-after, by receiving node",
                &m.lost,
            ),
            (
                "late",
                "Lost canaries that arrived afterwards, by receiving node",
                &m.late,
            ),
            (
                "duplicates",
                "Canaries received again, by receiving node",
                &m.duplicates,
            ),
            (
                "publish_errors",
                "Publishes that failed, by the node published through",
                &m.publish_errors,
            ),
        ];
        for (name, help, family) in counters {
            r.register(name, help, family.clone());
        }
        r.register(
            "connected",
            "1 while the node's connection is up",
            m.connected.clone(),
        );
        r.register(
            "presence_mismatch",
            "1 while the nodes list different presence members (past the settle time)",
            m.presence_mismatch.clone(),
        );
        for node in &m.names {
            let l = NodeLabels { node: node.clone() };
            let _ = m.latency.get_or_create(&l);
            for f in [
                &m.sent,
                &m.received,
                &m.lost,
                &m.late,
                &m.duplicates,
                &m.publish_errors,
            ] {
                let _ = f.get_or_create(&l);
            }
            let _ = m.connected.get_or_create(&l);
        }
        (m, registry)
    }

    /// Metrics served on `addr` (see [`Metrics::addr`] for where).
    pub async fn serve(addr: SocketAddr, names: Vec<String>) -> anyhow::Result<Metrics> {
        let (mut m, registry) = Metrics::new(names);
        let registry = Arc::new(registry);
        let render: http::Render = Arc::new(move || net::metrics::encode(&registry));
        let endpoint = http::start(addr, render)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        m.endpoint = Some(endpoint);
        Ok(m)
    }

    /// Where the metrics are served, once [`Metrics::serve`] started them.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.endpoint.as_ref().map(|e| e.addr)
    }

    fn labels(&self, node: usize) -> Option<NodeLabels> {
        self.names.get(node).map(|n| NodeLabels { node: n.clone() })
    }

    pub fn outcome(&self, o: &Outcome) {
        let Some(l) = self.labels(o.node) else { return };
        match o.fate {
            Fate::Received(d) => {
                self.received.get_or_create(&l).inc();
                self.latency.get_or_create(&l).observe(d.as_secs_f64());
            }
            Fate::Lost => {
                self.lost.get_or_create(&l).inc();
            }
            Fate::Late(_) => {
                self.late.get_or_create(&l).inc();
            }
            Fate::Duplicate => {
                self.duplicates.get_or_create(&l).inc();
            }
        }
    }

    pub fn published(&self, via: usize, ok: bool) {
        if let Some(l) = self.labels(via) {
            let f = if ok { &self.sent } else { &self.publish_errors };
            f.get_or_create(&l).inc();
        }
    }

    pub fn state(&self, node: usize, state: ConnectionState) {
        if let Some(l) = self.labels(node) {
            self.connected
                .get_or_create(&l)
                .set(i64::from(state == ConnectionState::Connected));
        }
    }

    pub fn presence(&self, differs: bool) {
        self.presence_mismatch.set(i64::from(differs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn series_by_node_under_the_documented_names() {
        let (m, registry) = Metrics::new(vec!["ws://a:1".into(), "ws://b:2".into()]);
        m.outcome(&Outcome {
            seq: 1,
            via: 0,
            node: 1,
            fate: Fate::Received(Duration::from_millis(3)),
            accepted: false,
        });
        m.outcome(&Outcome {
            seq: 2,
            via: 1,
            node: 0,
            fate: Fate::Lost,
            accepted: false,
        });
        m.published(0, true);
        m.published(1, false);
        m.state(0, ConnectionState::Connected);
        let text = net::metrics::encode(&registry);
        for line in [
            "# TYPE tickertape_probe_latency_seconds histogram",
            "tickertape_probe_latency_seconds_count{node=\"ws://b:2\"} 1",
            "tickertape_probe_lost_total{node=\"ws://a:1\"} 1",
            "tickertape_probe_lost_total{node=\"ws://b:2\"} 0",
            "tickertape_probe_sent_total{node=\"ws://a:1\"} 1",
            "tickertape_probe_publish_errors_total{node=\"ws://b:2\"} 1",
            "tickertape_probe_connected{node=\"ws://a:1\"} 1",
            "tickertape_probe_presence_mismatch 0",
        ] {
            assert!(text.contains(line), "no {line:?} in\n{text}");
        }
    }
}
