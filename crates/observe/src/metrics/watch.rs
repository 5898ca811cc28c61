//! The client's metrics, read from the items the front end receives: the connection's state,
//! reconnects by close code, events by channel and event (capped: past [`EVENT_SERIES`]
//! pairs the rest count as `other`), the last event's time, publish-to-receive latency (with
//! `--ts-field`), the ping round trip, subscription failures, dropped events and presence
//! members (capped the same way, by channel).
//!
//! With several connections (`watch --node eu=… --node us=…`) every series has a
//! `connection` label, the connection's label from the flags (so at most
//! [`client::MAX_CONNECTIONS`] values, none from the wire), and the caps count pairs
//! and channels over all connections together. With one connection there is no such label:
//! the page is exactly a single run's.

use bounded::{Limits, WeighedMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::pipeline::{Observed, Tap};
use client::{Conn, ConnectionState, Item, Labels, Reason, StateChange, SubscriptionStatus};
use net::metrics::{Capped, OTHER, label_value};

/// (channel, event) pairs with a series of their own; the rest fold into `other`.
pub const EVENT_SERIES: usize = 100;
/// Presence channels with a series of their own; the rest add up in `other`.
pub const PRESENCE_SERIES: usize = 100;
/// Presence channels past the cap whose counts are kept for `other`'s sum, and their bytes
/// (names cut as label values are).
const OVERFLOW: Limits = Limits::new(10_000, 4 << 20);

const STATES: [ConnectionState; 6] = [
    ConnectionState::Initialized,
    ConnectionState::Connecting,
    ConnectionState::Connected,
    ConnectionState::Unavailable,
    ConnectionState::Disconnected,
    ConnectionState::Failed,
];

/// `connection="eu"` with several connections; no label at all with one.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct ConnLabel(Option<Arc<str>>);

impl EncodeLabelSet for ConnLabel {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        match &self.0 {
            Some(label) => ("connection", label.as_ref()).encode(encoder.encode_label()),
            None => Ok(()),
        }
    }
}

type Latency = Family<ConnLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    /// The close code (or pusher:error code) that ended the connection, else `none`.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    channel: String,
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    /// `auth` (signing or the auth endpoint) or `server` (the server refused).
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

/// Watches the items on their way to the front end and keeps the metrics: a [`Tap`].
pub struct Observer {
    /// Each connection's `connection` label, by tag (one, empty, with one connection).
    conns: Vec<ConnLabel>,
    /// The label of a tag outside the run's table (a replayed recording's unknown one).
    unknown: ConnLabel,
    connected: Family<ConnLabel, Gauge>,
    state: Family<(ConnLabel, StateLabels), Gauge>,
    reconnects: Family<(ConnLabel, CodeLabels), Counter>,
    events: Family<(ConnLabel, EventLabels), Counter>,
    event_pairs: Capped<(Conn, String, String)>,
    last_event: Family<ConnLabel, Gauge<f64, AtomicU64>>,
    latency: Latency,
    ping_rtt: Family<ConnLabel, Gauge<f64, AtomicU64>>,
    subscription_failures: Family<(ConnLabel, CauseLabels), Counter>,
    dropped: Family<ConnLabel, Counter>,
    members: Family<(ConnLabel, ChannelLabels), Gauge>,
    presence: Capped<(Conn, String)>,
    /// Member counts of presence channels past the cap; `other` shows their sum.
    overflow: WeighedMap<(Conn, String), usize>,
    /// Serves the registry while the observer lives.
    endpoint: Option<net::metrics::http::Endpoint>,
}

impl Observer {
    /// The observer and its registry (to serve), for the connections `labels` names (none
    /// with one connection).
    pub fn new(labels: &Labels) -> (Observer, Registry) {
        let mut registry = net::metrics::registry();
        let label = |l: &str| ConnLabel(Some(Arc::from(label_value(l))));
        let conns = match labels.is_multi() {
            true => labels.iter().map(label).collect(),
            false => vec![ConnLabel(None)],
        };
        let o = Observer {
            unknown: if labels.is_multi() {
                label("?")
            } else {
                ConnLabel(None)
            },
            conns,
            connected: Family::default(),
            state: Family::default(),
            reconnects: Family::default(),
            events: Family::default(),
            event_pairs: Capped::new(EVENT_SERIES),
            last_event: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            ping_rtt: Family::default(),
            subscription_failures: Family::default(),
            dropped: Family::default(),
            members: Family::default(),
            presence: Capped::new(PRESENCE_SERIES),
            overflow: WeighedMap::new(OVERFLOW),
            endpoint: None,
        };
        let r = registry.sub_registry_with_prefix("watch");
        r.register(
            "connected",
            "1 while the connection is up",
            o.connected.clone(),
        );
        r.register(
            "connection_state",
            "The connection's state (pusher-js's names): 1 for the current one",
            o.state.clone(),
        );
        r.register(
            "reconnects",
            "Reconnects scheduled, by the close code that ended the connection",
            o.reconnects.clone(),
        );
        r.register(
            "events",
            "Events received, by channel and event (past 100 pairs, as other)",
            o.events.clone(),
        );
        r.register_with_unit(
            "last_event_timestamp",
            "When the last event was received, since the Unix epoch",
            Unit::Seconds,
            o.last_event.clone(),
        );
        r.register_with_unit(
            "event_latency",
            "From the publish timestamp in the data (--ts-field) to receipt",
            Unit::Seconds,
            o.latency.clone(),
        );
        r.register_with_unit(
            "ping_rtt",
            "The round trip of the last ping",
            Unit::Seconds,
            o.ping_rtt.clone(),
        );
        r.register(
            "subscription_failures",
            "Subscriptions that failed, by cause",
            o.subscription_failures.clone(),
        );
        r.register(
            "dropped_events",
            "Events dropped because the output fell behind",
            o.dropped.clone(),
        );
        r.register(
            "presence_members",
            "Members of each presence channel (past 100 channels, summed as other)",
            o.members.clone(),
        );
        // Every connection's series are there from the start, at zero.
        for conn in &o.conns {
            o.set_state(conn, ConnectionState::Initialized);
            for cause in ["auth", "server"] {
                let _ = o
                    .subscription_failures
                    .get_or_create(&(conn.clone(), CauseLabels { cause }));
            }
            let _ = o.last_event.get_or_create(conn);
            let _ = o.latency.get_or_create(conn);
            let _ = o.ping_rtt.get_or_create(conn);
            let _ = o.dropped.get_or_create(conn);
        }
        (o, registry)
    }

    /// An observer whose metrics are served on `addr`; says where on stderr when `announce`.
    pub async fn serve(addr: SocketAddr, labels: &Labels) -> anyhow::Result<Observer> {
        let (mut observer, registry) = Observer::new(labels);
        let registry = Arc::new(registry);
        let render: net::metrics::http::Render = Arc::new(move || net::metrics::encode(&registry));
        let endpoint = net::metrics::http::start(addr, render)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        observer.endpoint = Some(endpoint);
        Ok(observer)
    }

    /// Where the metrics are served, once [`Observer::serve`] started them.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.endpoint.as_ref().map(|e| e.addr)
    }

    /// The `connection` label of the tag `conn`.
    fn conn(&self, conn: Conn) -> ConnLabel {
        match self.conns.as_slice() {
            [one] if one.0.is_none() => one.clone(),
            all => all.get(usize::from(conn)).unwrap_or(&self.unknown).clone(),
        }
    }

    /// Counts one item.
    fn count(&mut self, o: &Observed) {
        let conn = o.conn;
        let label = self.conn(conn);
        match &o.item {
            Item::State(change) => self.state_change(&label, change),
            Item::Event(ev) => {
                let channel = ev.channel.as_deref().unwrap_or("");
                let (channel, event) = (label_value(channel), label_value(&ev.event));
                let pair = (conn, channel, event);
                let (channel, event) = if self.event_pairs.admit(pair.clone()) {
                    (pair.1, pair.2)
                } else {
                    (OTHER.to_owned(), OTHER.to_owned())
                };
                self.events
                    .get_or_create(&(label.clone(), EventLabels { channel, event }))
                    .inc();
                self.last_event
                    .get_or_create(&label)
                    .set(unix_seconds(ev.received_at));
                if let Some(ms) = o.latency_ms {
                    // A publisher's clock a little ahead reads as no latency, not a negative one.
                    self.latency
                        .get_or_create(&label)
                        .observe((ms / 1000.0).max(0.0));
                }
            }
            Item::Subscription { channel, status } => match &**status {
                SubscriptionStatus::Failed(f) => {
                    let cause = if f.auth { "auth" } else { "server" };
                    self.subscription_failures
                        .get_or_create(&(label.clone(), CauseLabels { cause }))
                        .inc();
                    self.forget_presence(conn, &label, channel);
                }
                SubscriptionStatus::Unsubscribed => self.forget_presence(conn, &label, channel),
                _ => {}
            },
            Item::Members { channel, count, .. } => self.set_members(conn, &label, channel, *count),
            Item::Pong { rtt } => {
                self.ping_rtt.get_or_create(&label).set(rtt.as_secs_f64());
            }
            Item::Dropped { count, .. } => {
                self.dropped.get_or_create(&label).inc_by(*count);
            }
            _ => {}
        }
    }

    fn state_change(&mut self, label: &ConnLabel, change: &StateChange) {
        self.set_state(label, change.current);
        if change.retry_in.is_some() {
            let code = match &change.reason {
                Some(Reason::Closed { code, .. })
                | Some(Reason::PusherError {
                    code: Some(code), ..
                }) if (1000..5000).contains(code) => code.to_string(),
                _ => "none".to_owned(),
            };
            self.reconnects
                .get_or_create(&(label.clone(), CodeLabels { code }))
                .inc();
        }
    }

    fn set_state(&self, label: &ConnLabel, current: ConnectionState) {
        self.connected
            .get_or_create(label)
            .set(i64::from(current == ConnectionState::Connected));
        for s in STATES {
            let state = StateLabels { state: s.as_str() };
            self.state
                .get_or_create(&(label.clone(), state))
                .set(i64::from(s == current));
        }
    }

    fn set_members(&mut self, conn: Conn, label: &ConnLabel, channel: &str, count: usize) {
        let name = label_value(channel);
        if self.presence.admit((conn, name.clone())) {
            self.members
                .get_or_create(&(label.clone(), ChannelLabels { channel: name }))
                .set(i64::try_from(count).unwrap_or(i64::MAX));
            return;
        }
        // Past its caps a channel is left out of `other`'s sum (its count is unknown here).
        let _ = self.overflow.insert((conn, name), count);
        self.set_other(conn, label);
    }

    fn forget_presence(&mut self, conn: Conn, label: &ConnLabel, channel: &str) {
        let name = label_value(channel);
        if self.presence.release(&(conn, name.clone())) {
            self.members
                .remove(&(label.clone(), ChannelLabels { channel: name }));
        } else if self.overflow.remove(&(conn, name)).is_some() {
            self.set_other(conn, label);
        }
    }

    /// `other`: the sum of this connection's presence channels past the cap.
    fn set_other(&self, conn: Conn, label: &ConnLabel) {
        let sum: usize = self
            .overflow
            .iter()
            .filter(|((c, _), _)| *c == conn)
            .map(|(_, n)| n)
            .sum();
        let other = ChannelLabels {
            channel: OTHER.to_owned(),
        };
        self.members
            .get_or_create(&(label.clone(), other))
            .set(i64::try_from(sum).unwrap_or(i64::MAX));
    }
}

impl Tap for Observer {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        self.count(o);
        None
    }
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
