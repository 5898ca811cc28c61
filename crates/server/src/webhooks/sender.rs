//! One target's sender: takes batches from its queue and POSTs each, signed, with a deadline
//! per attempt. A failure (no connection, the deadline, a non-2xx answer) is retried with
//! exponential backoff for a bounded time, then the batch is dropped and counted. A target
//! has one request in flight at a time, so its events arrive in order; a dead receiver
//! holds up only its own queue, which then refuses events (and counts them).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::WebhookLimits;
use super::queue::Queue;
use super::target::WebhookUrl;
use crate::log::Log;
use crate::metrics::WebhookMetrics;
use net::http::HttpClient;
use protocol::Secret;
use protocol::webhook::{KEY_HEADER, SIGNATURE_HEADER, WebhookBody, WebhookEvent, sign};

pub(super) struct Sender {
    pub app_id: String,
    pub key: String,
    pub secret: Secret,
    pub url: WebhookUrl,
    pub queue: Arc<Queue>,
    pub client: HttpClient,
    pub limits: WebhookLimits,
    pub metrics: WebhookMetrics,
    pub log: Log,
    /// Events of the batch being sent: what shutdown counts as lost if it must stop it.
    pub in_flight: Arc<AtomicUsize>,
}

impl Sender {
    pub(super) async fn run(self) {
        while let Some(batch) = self
            .queue
            .next_batch(self.limits.batch_window, self.limits.batch_max)
            .await
        {
            self.in_flight.store(batch.len(), Ordering::Relaxed);
            self.deliver(batch).await;
            self.in_flight.store(0, Ordering::Relaxed);
        }
    }

    /// Sends one batch until it is answered 2xx or its retry time runs out.
    async fn deliver(&self, events: Vec<WebhookEvent>) {
        let n = events.len();
        let summary = summary(&events);
        let body = WebhookBody {
            time_ms: now_ms(),
            events,
        }
        .to_bytes();
        let mut headers = vec![
            (KEY_HEADER.to_owned(), self.key.clone()),
            (
                SIGNATURE_HEADER.to_owned(),
                sign(self.secret.expose(), &body),
            ),
        ];
        headers.extend(self.url.basic_auth());
        let uri = self.url.uri();
        // What the lines show: no credentials, no query values (tokens travel there).
        let shown = self.url.to_string();
        let first = Instant::now();
        let mut backoff = self.limits.backoff_first;
        for attempt in 1u32.. {
            let started = Instant::now();
            let answer = self
                .client
                .send(
                    http::Method::POST,
                    &uri,
                    &headers,
                    Some("application/json"),
                    body.clone(),
                )
                .await;
            let took = started.elapsed();
            let problem = match answer {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    self.metrics.sent(n);
                    self.log.line(
                        "WEBHOOK SENT",
                        format_args!(
                            "app {} {shown}: {n} {} ({summary}) {} in {}",
                            self.app_id,
                            plural(n),
                            resp.status,
                            millis(took)
                        ),
                    );
                    return;
                }
                Ok(resp) => format!("answered {} {}", resp.status, resp.body_snippet(80)),
                Err(e) => e.to_string(),
            };
            if first.elapsed() + backoff > self.limits.retry_for {
                self.metrics.failed(n);
                self.log.line(
                    "WEBHOOK FAILED",
                    format_args!(
                        "app {} {shown}: {n} {} ({summary}) dropped after {attempt} attempts in {}: {problem}",
                        self.app_id,
                        plural(n),
                        millis(first.elapsed())
                    ),
                );
                return;
            }
            self.metrics.retried();
            self.log.line(
                "WEBHOOK RETRY",
                format_args!(
                    "app {} {shown}: attempt {attempt} {problem}; again in {}",
                    self.app_id,
                    millis(backoff)
                ),
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.limits.backoff_max);
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "event" } else { "events" }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// `channel_occupied ×2, member_added`: the batch's kinds, in Pusher's order.
fn summary(events: &[WebhookEvent]) -> String {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts.entry(e.name).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .map(|(kind, n)| match n {
            1 => kind.to_string(),
            n => format!("{kind} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::webhook::Kind;

    #[test]
    fn a_batch_is_summed_up_by_kind() {
        let events = [
            WebhookEvent::channel(Kind::ChannelVacated, "a"),
            WebhookEvent::channel(Kind::ChannelOccupied, "a"),
            WebhookEvent::channel(Kind::ChannelOccupied, "b"),
        ];
        assert_eq!(summary(&events), "channel_occupied ×2, channel_vacated");
    }
}
