//! The same receiver for `doctor` and `trace`: the `webhooks` command's listener, request
//! handling and signature check, with what it hears handed to a bounded queue instead of
//! stdout or the dashboard. The caps are the `webhooks` command's defaults: header and body
//! deadlines, connections sized from the descriptor limit (a quarter per address), bodies
//! capped and counted against half the queue's bytes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use tokio::net::TcpListener;

use super::budget::Budget;
use super::receive::{Receiver, receive};
use super::sink::Sink;
use crate::cli::defaults;
use crate::cli::duration::parse_timeout;
use crate::cli::size::parse_size;
use bounded::{Overflow, Weigh};
use net::listen::ListenLimits;
use protocol::webhook::check::Verdict;
use server::App;
use server::limits::{Limits, Slots};

/// Events kept of one request: a sender batches at most 100 (Pusher, `serve`).
const MAX_EVENTS: usize = 100;
/// Longest name or channel kept, in characters (Pusher's channels have at most 164).
const MAX_TEXT: usize = 200;
/// Requests heard and not yet read by the command, at most.
const QUEUE_ITEMS: usize = 1024;

/// One webhook request, as checked: when it came, whose key, whether it verified, and its
/// events (kind and channel). Never holds a secret, nor the signature expected.
#[derive(Debug, Clone)]
pub(crate) struct Heard {
    pub(crate) at: Instant,
    /// The key header, cut (none when absent).
    pub(crate) key: Option<String>,
    pub(crate) verdict: Verdict,
    /// The verdict in words, for the app the key named.
    pub(crate) reason: String,
    /// (kind, channel) of each event; empty when the body is not a webhook's.
    pub(crate) events: Vec<(String, String)>,
    /// The body parsed as a webhook's.
    pub(crate) is_webhook: bool,
}

impl Heard {
    pub(crate) fn valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }

    pub(crate) fn has(&self, kind: &str, channel: &str) -> bool {
        self.events.iter().any(|(k, c)| k == kind && c == channel)
    }
}

impl Weigh for Heard {
    fn weight(&self) -> usize {
        size_of::<Heard>()
            + self.key.as_ref().map_or(0, String::len)
            + self.reason.len()
            + self
                .events
                .iter()
                .map(|(k, c)| size_of::<(String, String)>() + k.len() + c.len())
                .sum::<usize>()
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

/// What a request is made into for [`Sink::Heard`]: the body parsed (at most
/// [`MAX_EVENTS`] events, each cut), with the check's verdict.
pub(super) fn heard(key: Option<&str>, verdict: Verdict, reason: String, body: &[u8]) -> Heard {
    let parsed = serde_json::from_slice::<protocol::webhook::WebhookBody>(body).ok();
    let is_webhook = parsed.is_some();
    let events = parsed
        .map(|b| {
            b.events
                .iter()
                .take(MAX_EVENTS)
                .map(|e| (cut(e.name.as_str()), cut(&e.channel)))
                .collect()
        })
        .unwrap_or_default();
    Heard {
        at: Instant::now(),
        key: key.map(cut),
        verdict,
        reason,
        events,
        is_webhook,
    }
}

/// The queue's sending side, and what had no room in it.
pub(crate) struct HeardSink {
    pub(super) tx: bounded::Sender<Heard>,
    pub(super) dropped: AtomicU64,
}

impl HeardSink {
    pub(super) fn send(&self, heard: Heard) {
        if self.tx.try_send(heard).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn refuse(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn queued(&self) -> usize {
        self.tx.bytes()
    }
}

/// A receiver listening: its address, what it hears, and the task that serves it (stopped
/// when this is dropped).
pub(crate) struct Listening {
    pub(crate) addr: SocketAddr,
    pub(crate) heard: bounded::Receiver<Heard>,
    sink: Arc<HeardSink>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Listening {
    /// Requests that had no room in the queue.
    pub(crate) fn dropped(&self) -> u64 {
        self.sink.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.task.abort();
    }
}

/// Listens on `addr` for webhooks of `app` (its key picks it; its secret checks them),
/// with the `webhooks` command's default caps. The error says why it cannot listen.
pub(crate) async fn listen(addr: SocketAddr, app: App) -> Result<Listening, String> {
    let default = |text: &str| parse_size(text).unwrap_or(1 << 20);
    let max_queue = default(defaults::WEBHOOKS_MAX_QUEUE);
    let body_budget = max_queue / 2;
    let max_body = default(defaults::WEBHOOKS_MAX_BODY).min(body_budget);
    let timeout = parse_timeout(defaults::WEBHOOKS_BODY_TIMEOUT)
        .unwrap_or(std::time::Duration::from_secs(10));
    let descriptors = net::fd::raise();
    let max_connections =
        defaults::WEBHOOKS_MAX_CONNECTIONS.min(net::fd::usable(descriptors.limit));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let limits = ListenLimits {
        header_timeout: timeout,
        idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
        max_connections,
        max_per_ip: super::per_address(max_connections),
        body_budget: Some(body_budget),
        max_body,
    };
    let output = max_queue - body_budget;
    let (tx, rx) = bounded::queue(
        bounded::Limits::new(QUEUE_ITEMS, output),
        Overflow::DropNewest,
    );
    let sink = Arc::new(HeardSink {
        tx,
        dropped: AtomicU64::new(0),
    });
    let receiver = Arc::new(Receiver {
        apps: vec![app],
        json: false,
        reject_invalid: false,
        max_body,
        body_timeout: timeout,
        in_flight: Slots::new(max_connections),
        out: Sink::Heard(sink.clone()),
        budget: Budget::new(output),
        rendering: tokio::sync::Semaphore::new(super::RENDERING),
    });
    let router = Router::new().fallback(receive).with_state(receiver);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::listen::serve(listener, router, limits, stopped));
    Ok(Listening {
        addr,
        heard: rx,
        sink,
        stop,
        task,
    })
}

/// What was heard, sorted: verified events, the first bad signature with this app's key,
/// the first request of another key (or none). Bounded by the queue it is read from and by
/// [`MAX_KEPT`] requests kept.
#[derive(Default)]
pub(crate) struct Tally {
    /// Verified webhooks' events, with when each request came.
    pub(crate) valid: Vec<(Instant, Vec<(String, String)>)>,
    /// Verified requests not kept (past [`MAX_KEPT`]).
    pub(crate) valid_not_kept: u64,
    pub(crate) bad_signature: Option<Heard>,
    pub(crate) other_key: Option<Heard>,
    /// Signed right, but the body is not a webhook's.
    pub(crate) not_webhooks: u64,
}

/// Verified requests a [`Tally`] keeps.
const MAX_KEPT: usize = 64;

impl Tally {
    pub(crate) fn add(&mut self, h: Heard) {
        match &h.verdict {
            Verdict::Valid if h.is_webhook => {
                if self.valid.len() < MAX_KEPT {
                    self.valid.push((h.at, h.events));
                } else {
                    self.valid_not_kept += 1;
                }
            }
            Verdict::Valid => self.not_webhooks += 1,
            Verdict::NoKey | Verdict::UnknownKey { .. } => {
                self.other_key.get_or_insert(h);
            }
            _ => {
                self.bad_signature.get_or_insert(h);
            }
        }
    }

    /// When a verified `kind` event of `channel` first came.
    pub(crate) fn first(&self, kind: &str, channel: &str) -> Option<Instant> {
        self.valid
            .iter()
            .find(|(_, events)| events.iter().any(|(k, c)| k == kind && c == channel))
            .map(|(at, _)| *at)
    }

    /// Every verified event as "kind on channel (+N ms)", its time from `zero`.
    pub(crate) fn events_text(&self, zero: Instant) -> String {
        let mut s = String::new();
        for (at, events) in &self.valid {
            for (kind, channel) in events {
                if !s.is_empty() {
                    s.push_str(", ");
                }
                s.push_str(&format!("{kind} on {channel} ({})", offset(*at, zero)));
            }
        }
        if self.valid_not_kept > 0 {
            s.push_str(&format!(", and {} more requests", self.valid_not_kept));
        }
        s
    }
}

/// `at` from `zero`, signed: "+1.2 ms", "-40.0 ms".
pub(crate) fn offset(at: Instant, zero: Instant) -> String {
    match at.checked_duration_since(zero) {
        Some(d) => format!("+{:.1} ms", d.as_secs_f64() * 1000.0),
        None => format!("-{:.1} ms", zero.duration_since(at).as_secs_f64() * 1000.0),
    }
}
