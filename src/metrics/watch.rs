//! The client's metrics, read from the items the front end receives: the connection's state,
//! reconnects by close code, events by channel and event (capped: past [`EVENT_SERIES`]
//! pairs the rest count as `other`), the last event's time, publish-to-receive latency (with
//! `--ts-field`), the ping round trip, subscription failures, dropped events and presence
//! members (capped the same way, by channel).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::{Capped, OTHER, label_value};
use crate::client::{ConnectionState, FeedRx, Item, Reason, StateChange, SubscriptionStatus};
use crate::field_path::FieldPath;

/// (channel, event) pairs with a series of their own; the rest fold into `other`.
pub const EVENT_SERIES: usize = 100;
/// Presence channels with a series of their own; the rest add up in `other`.
pub const PRESENCE_SERIES: usize = 100;
/// Presence channels past the cap whose counts are kept for `other`'s sum.
const MAX_OVERFLOW_CHANNELS: usize = 10_000;

const STATES: [ConnectionState; 6] = [
    ConnectionState::Initialized,
    ConnectionState::Connecting,
    ConnectionState::Connected,
    ConnectionState::Unavailable,
    ConnectionState::Disconnected,
    ConnectionState::Failed,
];

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

/// Watches the items on their way to the front end and keeps the metrics.
pub struct Observer {
    ts_field: Option<FieldPath>,
    connected: Gauge,
    state: Family<StateLabels, Gauge>,
    reconnects: Family<CodeLabels, Counter>,
    events: Family<EventLabels, Counter>,
    event_pairs: Capped<(String, String)>,
    last_event: Gauge<f64, AtomicU64>,
    latency: Histogram,
    ping_rtt: Gauge<f64, AtomicU64>,
    subscription_failures: Family<CauseLabels, Counter>,
    dropped: Counter,
    members: Family<ChannelLabels, Gauge>,
    presence: Capped<String>,
    /// Member counts of presence channels past the cap; `other` shows their sum.
    overflow: HashMap<String, usize>,
    /// Serves the registry while the observer lives.
    endpoint: Option<super::http::Endpoint>,
}

impl Observer {
    /// The observer and its registry (to serve).
    pub fn new(ts_field: Option<FieldPath>) -> (Observer, Registry) {
        let mut registry = super::registry();
        let o = Observer {
            ts_field,
            connected: Gauge::default(),
            state: Family::default(),
            reconnects: Family::default(),
            events: Family::default(),
            event_pairs: Capped::new(EVENT_SERIES),
            last_event: Gauge::default(),
            latency: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            ping_rtt: Gauge::default(),
            subscription_failures: Family::default(),
            dropped: Counter::default(),
            members: Family::default(),
            presence: Capped::new(PRESENCE_SERIES),
            overflow: HashMap::new(),
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
        o.set_state(ConnectionState::Initialized);
        for cause in ["auth", "server"] {
            let _ = o
                .subscription_failures
                .get_or_create(&CauseLabels { cause });
        }
        (o, registry)
    }

    /// An observer whose metrics are served on `addr`; says where on stderr when `announce`.
    pub async fn serve(
        addr: SocketAddr,
        ts_field: Option<FieldPath>,
        announce: bool,
    ) -> anyhow::Result<Observer> {
        let (mut observer, registry) = Observer::new(ts_field);
        let registry = Arc::new(registry);
        let render: super::http::Render = Arc::new(move || super::encode(&registry));
        let endpoint = super::http::start(addr, render)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        if announce {
            eprintln!("tickertape: metrics on http://{}/metrics", endpoint.addr);
        }
        observer.endpoint = Some(endpoint);
        Ok(observer)
    }

    /// Observes every item on its way to `items`'s reader (for front ends that take the
    /// whole feed, like the dashboard).
    pub fn relay(mut self, mut items: FeedRx) -> FeedRx {
        let (tx, rx) = items.relay();
        tokio::spawn(async move {
            while let Some((conn, item)) = items.recv_tagged().await {
                self.observe(&item);
                if tx.send_tagged(conn, item).await.is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Counts one item.
    pub fn observe(&mut self, item: &Item) {
        match item {
            Item::State(change) => self.state_change(change),
            Item::Event(ev) => {
                let channel = ev.channel.as_deref().unwrap_or("");
                let pair = (label_value(channel), label_value(&ev.event));
                let labels = if self.event_pairs.admit(pair.clone()) {
                    EventLabels {
                        channel: pair.0,
                        event: pair.1,
                    }
                } else {
                    EventLabels {
                        channel: OTHER.to_owned(),
                        event: OTHER.to_owned(),
                    }
                };
                self.events.get_or_create(&labels).inc();
                self.last_event.set(unix_seconds(ev.received_at));
                if let Some(p) = &self.ts_field
                    && let Some(ms) = crate::latency::latency_ms(
                        &ev.data().as_value(),
                        p.pointer(),
                        ev.received_at,
                    )
                {
                    // A publisher's clock a little ahead reads as no latency, not a negative one.
                    self.latency.observe((ms / 1000.0).max(0.0));
                }
            }
            Item::Subscription { channel, status } => match status {
                SubscriptionStatus::Failed(f) => {
                    let cause = if f.auth { "auth" } else { "server" };
                    self.subscription_failures
                        .get_or_create(&CauseLabels { cause })
                        .inc();
                    self.forget_presence(channel);
                }
                SubscriptionStatus::Unsubscribed => self.forget_presence(channel),
                _ => {}
            },
            Item::Members { channel, count, .. } => self.set_members(channel, *count),
            Item::Pong { rtt } => {
                self.ping_rtt.set(rtt.as_secs_f64());
            }
            Item::Dropped { count, .. } => {
                self.dropped.inc_by(*count);
            }
            _ => {}
        }
    }

    fn state_change(&mut self, change: &StateChange) {
        self.set_state(change.current);
        if change.retry_in.is_some() {
            let code = match &change.reason {
                Some(Reason::Closed { code, .. })
                | Some(Reason::PusherError {
                    code: Some(code), ..
                }) if (1000..5000).contains(code) => code.to_string(),
                _ => "none".to_owned(),
            };
            self.reconnects.get_or_create(&CodeLabels { code }).inc();
        }
    }

    fn set_state(&self, current: ConnectionState) {
        self.connected
            .set(i64::from(current == ConnectionState::Connected));
        for s in STATES {
            self.state
                .get_or_create(&StateLabels { state: s.as_str() })
                .set(i64::from(s == current));
        }
    }

    fn set_members(&mut self, channel: &str, count: usize) {
        let name = label_value(channel);
        if self.presence.admit(name.clone()) {
            self.members
                .get_or_create(&ChannelLabels { channel: name })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
            return;
        }
        if self.overflow.len() < MAX_OVERFLOW_CHANNELS || self.overflow.contains_key(channel) {
            self.overflow.insert(channel.to_owned(), count);
        }
        self.set_other();
    }

    fn forget_presence(&mut self, channel: &str) {
        let name = label_value(channel);
        if self.presence.release(&name) {
            self.members.remove(&ChannelLabels { channel: name });
        } else if self.overflow.remove(channel).is_some() {
            self.set_other();
        }
    }

    fn set_other(&self) {
        let sum: usize = self.overflow.values().sum();
        self.members
            .get_or_create(&ChannelLabels {
                channel: OTHER.to_owned(),
            })
            .set(i64::try_from(sum).unwrap_or(i64::MAX));
    }
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::MemberChange;

    fn members(channel: &str, count: usize) -> Item {
        Item::Members {
            channel: channel.to_owned(),
            change: MemberChange::Removed("x".to_owned()),
            count,
        }
    }

    #[test]
    fn presence_channels_past_the_cap_add_up_in_other() {
        let (mut o, registry) = Observer::new(None);
        for i in 0..PRESENCE_SERIES + 2 {
            o.observe(&members(&format!("presence-{i}"), 3));
        }
        let text = super::super::encode(&registry);
        let series = text
            .lines()
            .filter(|l| l.starts_with("tickertape_watch_presence_members{"))
            .count();
        assert_eq!(series, PRESENCE_SERIES + 1, "{text}");
        assert!(
            text.contains("tickertape_watch_presence_members{channel=\"other\"} 6\n"),
            "{text}"
        );
        o.observe(&Item::Subscription {
            channel: format!("presence-{}", PRESENCE_SERIES),
            status: SubscriptionStatus::Unsubscribed,
        });
        let text = super::super::encode(&registry);
        assert!(
            text.contains("tickertape_watch_presence_members{channel=\"other\"} 3\n"),
            "{text}"
        );
    }
}
