//! The server's metrics, after what sockudo and soketi expose: connected sockets, new
//! connections and disconnections, WebSocket messages and bytes in and out, REST calls and
//! their bytes, occupied channels, 4100 closes, and webhooks (requests sent, failed and
//! retried; events sent and dropped, by why).
//!
//! Everything is an atomic registered once. A session resolves its app's handles once
//! ([`ServeMetrics::app`]) and bumps plain counters from then on. `app_id` labels only
//! configured apps: a session exists only for an app whose key the handshake accepted.

use std::fmt;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppLabels {
    pub app_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route's template (`/apps/{app_id}/events`), never the path as sent.
    pub endpoint: String,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    pub app_id: String,
    /// `queue_full`, `failed` (retries ran out) or `shutdown` (not sent in time).
    pub reason: String,
}

/// The server's metric families.
pub struct ServeMetrics {
    registry: Registry,
    connected: Family<AppLabels, Gauge>,
    new_connections: Family<AppLabels, Counter>,
    disconnections: Family<AppLabels, Counter>,
    messages_received: Family<AppLabels, Counter>,
    messages_sent: Family<AppLabels, Counter>,
    bytes_received: Family<AppLabels, Counter>,
    bytes_sent: Family<AppLabels, Counter>,
    too_slow: Family<AppLabels, Counter>,
    channels: Family<AppLabels, Gauge>,
    http_calls: Family<HttpLabels, Counter>,
    http_received: Counter,
    http_sent: Counter,
    webhooks_sent: Family<AppLabels, Counter>,
    webhooks_failed: Family<AppLabels, Counter>,
    webhook_retries: Family<AppLabels, Counter>,
    webhook_events_sent: Family<AppLabels, Counter>,
    webhook_events_dropped: Family<DropLabels, Counter>,
    presence_deferred: Family<AppLabels, Counter>,
    presence_coalesced: Family<AppLabels, Counter>,
    webhook_events_coalesced: Family<AppLabels, Counter>,
}

/// One app's webhook counters.
#[derive(Clone, Debug)]
pub struct WebhookMetrics {
    sent: Counter,
    failed: Counter,
    retries: Counter,
    events_sent: Counter,
    queue_full: Counter,
    gave_up: Counter,
    shutdown: Counter,
    coalesced: Counter,
}

impl WebhookMetrics {
    /// A request of `events` events was answered 2xx.
    pub fn sent(&self, events: usize) {
        self.sent.inc();
        self.events_sent.inc_by(events as u64);
    }

    /// A request was given up after its retries; its events are lost.
    pub fn failed(&self, events: usize) {
        self.failed.inc();
        self.gave_up.inc_by(events as u64);
    }

    /// An attempt failed and will be retried.
    pub fn retried(&self) {
        self.retries.inc();
    }

    /// An event was refused by a full queue.
    pub fn queue_full(&self) {
        self.queue_full.inc();
    }

    /// Events never sent because a vacated/occupied (removed/added) pair cancelled out.
    pub fn coalesced(&self, events: u64) {
        self.coalesced.inc_by(events);
    }

    /// Events still unsent when the server's shutdown deadline passed.
    pub fn lost_at_shutdown(&self, events: usize) {
        self.shutdown.inc_by(events as u64);
    }
}

impl fmt::Debug for ServeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServeMetrics")
    }
}

/// One app's handles, resolved once per connection.
#[derive(Clone, Debug)]
pub struct AppMetrics {
    connected: Gauge,
    new_connections: Counter,
    disconnections: Counter,
    messages_received: Counter,
    messages_sent: Counter,
    bytes_received: Counter,
    bytes_sent: Counter,
    too_slow: Counter,
}

impl AppMetrics {
    /// A socket joined.
    pub fn connected(&self) {
        self.new_connections.inc();
        self.connected.inc();
    }

    /// A socket left; `too_slow` when it was closed with 4100.
    pub fn disconnected(&self, too_slow: bool) {
        self.disconnections.inc();
        self.connected.dec();
        if too_slow {
            self.too_slow.inc();
        }
    }

    /// A text message from a client.
    pub fn received(&self, bytes: usize) {
        self.messages_received.inc();
        self.bytes_received.inc_by(bytes as u64);
    }

    /// A text message written to a client.
    pub fn sent(&self, bytes: usize) {
        self.messages_sent.inc();
        self.bytes_sent.inc_by(bytes as u64);
    }
}

impl ServeMetrics {
    /// The families, with a series at zero for each app.
    pub fn new<'a>(app_ids: impl IntoIterator<Item = &'a str>) -> Arc<ServeMetrics> {
        let mut registry = net::metrics::registry();
        let m = ServeMetrics {
            connected: Family::default(),
            new_connections: Family::default(),
            disconnections: Family::default(),
            messages_received: Family::default(),
            messages_sent: Family::default(),
            bytes_received: Family::default(),
            bytes_sent: Family::default(),
            too_slow: Family::default(),
            channels: Family::default(),
            http_calls: Family::default(),
            http_received: Counter::default(),
            http_sent: Counter::default(),
            webhooks_sent: Family::default(),
            webhooks_failed: Family::default(),
            webhook_retries: Family::default(),
            webhook_events_sent: Family::default(),
            webhook_events_dropped: Family::default(),
            presence_deferred: Family::default(),
            presence_coalesced: Family::default(),
            webhook_events_coalesced: Family::default(),
            registry: Registry::default(),
        };
        let r = registry.sub_registry_with_prefix("serve");
        r.register(
            "connected",
            "WebSocket connections open now",
            m.connected.clone(),
        );
        r.register(
            "new_connections",
            "WebSocket connections accepted (past the handshake)",
            m.new_connections.clone(),
        );
        r.register(
            "disconnections",
            "WebSocket connections ended, for any reason",
            m.disconnections.clone(),
        );
        r.register(
            "ws_messages_received",
            "WebSocket text messages received from clients",
            m.messages_received.clone(),
        );
        r.register(
            "ws_messages_sent",
            "WebSocket text messages written to clients",
            m.messages_sent.clone(),
        );
        r.register_with_unit(
            "ws_received",
            "Bytes of WebSocket text messages received from clients",
            Unit::Bytes,
            m.bytes_received.clone(),
        );
        r.register_with_unit(
            "ws_sent",
            "Bytes of WebSocket text messages written to clients",
            Unit::Bytes,
            m.bytes_sent.clone(),
        );
        r.register(
            "too_slow_closes",
            "Connections closed with 4100 because their send queue was full",
            m.too_slow.clone(),
        );
        r.register(
            "channels",
            "Occupied channels (with at least one subscriber)",
            m.channels.clone(),
        );
        r.register(
            "http_calls",
            "REST API calls answered, by route and status code",
            m.http_calls.clone(),
        );
        r.register_with_unit(
            "http_received",
            "Bytes of REST API request bodies read",
            Unit::Bytes,
            m.http_received.clone(),
        );
        r.register_with_unit(
            "http_sent",
            "Bytes of REST API response bodies",
            Unit::Bytes,
            m.http_sent.clone(),
        );
        r.register(
            "webhooks_sent",
            "Webhook requests answered with a 2xx status",
            m.webhooks_sent.clone(),
        );
        r.register(
            "webhooks_failed",
            "Webhook requests given up after their retries",
            m.webhooks_failed.clone(),
        );
        r.register(
            "webhook_retries",
            "Webhook attempts that failed and were retried",
            m.webhook_retries.clone(),
        );
        r.register(
            "webhook_events_sent",
            "Webhook events delivered (answered with a 2xx status)",
            m.webhook_events_sent.clone(),
        );
        r.register(
            "webhook_events_dropped",
            "Webhook events not delivered: the queue was full, retries ran out, or shutdown",
            m.webhook_events_dropped.clone(),
        );
        r.register(
            "presence_announcements_deferred",
            "Presence announcements that waited for their channel's budget",
            m.presence_deferred.clone(),
        );
        r.register(
            "presence_announcements_coalesced",
            "Presence announcements never made: a member's join and leave that both waited",
            m.presence_coalesced.clone(),
        );
        r.register(
            "webhook_events_coalesced",
            "Webhook events not sent: a channel occupied again (a member back) within the delay",
            m.webhook_events_coalesced.clone(),
        );
        let m = ServeMetrics { registry, ..m };
        for id in app_ids {
            let _ = m.app(id);
            let _ = m.webhooks(id);
            let _ = m.channels.get_or_create(&labels(id));
            let _ = m.presence_deferred.get_or_create(&labels(id));
            let _ = m.presence_coalesced.get_or_create(&labels(id));
        }
        Arc::new(m)
    }

    /// An app's handles (clones of its series' atomics).
    pub fn app(&self, app_id: &str) -> AppMetrics {
        let l = labels(app_id);
        AppMetrics {
            connected: self.connected.get_or_create_owned(&l),
            new_connections: self.new_connections.get_or_create_owned(&l),
            disconnections: self.disconnections.get_or_create_owned(&l),
            messages_received: self.messages_received.get_or_create_owned(&l),
            messages_sent: self.messages_sent.get_or_create_owned(&l),
            bytes_received: self.bytes_received.get_or_create_owned(&l),
            bytes_sent: self.bytes_sent.get_or_create_owned(&l),
            too_slow: self.too_slow.get_or_create_owned(&l),
        }
    }

    /// An app's webhook counters (clones of its series' atomics).
    pub fn webhooks(&self, app_id: &str) -> WebhookMetrics {
        let l = labels(app_id);
        let dropped = |reason: &str| {
            self.webhook_events_dropped
                .get_or_create_owned(&DropLabels {
                    app_id: l.app_id.clone(),
                    reason: reason.to_owned(),
                })
        };
        WebhookMetrics {
            sent: self.webhooks_sent.get_or_create_owned(&l),
            failed: self.webhooks_failed.get_or_create_owned(&l),
            retries: self.webhook_retries.get_or_create_owned(&l),
            events_sent: self.webhook_events_sent.get_or_create_owned(&l),
            queue_full: dropped("queue_full"),
            gave_up: dropped("failed"),
            shutdown: dropped("shutdown"),
            coalesced: self.webhook_events_coalesced.get_or_create_owned(&l),
        }
    }

    /// One REST call: its route template, status, and body sizes (the response's if known).
    pub fn http_call(&self, endpoint: &str, code: u16, received: usize, sent: Option<u64>) {
        self.http_calls
            .get_or_create(&HttpLabels {
                endpoint: endpoint.to_owned(),
                code,
            })
            .inc();
        self.http_received.inc_by(received as u64);
        if let Some(sent) = sent {
            self.http_sent.inc_by(sent);
        }
    }

    /// Presence announcements of an app held back: waited, and cancelled out.
    pub fn presence_held(&self, app_id: &str, deferred: u64, coalesced: u64) {
        let l = labels(app_id);
        self.presence_deferred.get_or_create(&l).inc_by(deferred);
        self.presence_coalesced.get_or_create(&l).inc_by(coalesced);
    }

    /// Sets an app's occupied channels (read from the hub at each scrape).
    pub fn set_channels(&self, app_id: &str, count: usize) {
        self.channels
            .get_or_create(&labels(app_id))
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The page, in the Prometheus text format.
    pub fn render(&self) -> String {
        net::metrics::encode(&self.registry)
    }
}

fn labels(app_id: &str) -> AppLabels {
    AppLabels {
        app_id: net::metrics::label_value(app_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_starts_at_zero_and_its_handles_share_the_series() {
        let m = ServeMetrics::new(["1"]);
        let text = m.render();
        assert!(
            text.contains("tickertape_serve_connected{app_id=\"1\"} 0\n"),
            "{text}"
        );
        let a = m.app("1");
        let b = m.app("1");
        a.connected();
        b.sent(10);
        a.disconnected(true);
        let text = m.render();
        for line in [
            "tickertape_serve_new_connections_total{app_id=\"1\"} 1\n",
            "tickertape_serve_connected{app_id=\"1\"} 0\n",
            "tickertape_serve_ws_sent_bytes_total{app_id=\"1\"} 10\n",
            "tickertape_serve_too_slow_closes_total{app_id=\"1\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }
}
