//! Pusher webhooks from the embedded server (`serve --webhook URL`, or per app in the config
//! file): channel_occupied/vacated, member_added/removed, client_event and cache_miss.
//!
//! The hub calls [`AppHooks::emit`] under its lock: for each of the app's targets that wants
//! the kind, the event is offered to that target's bounded queue ([`queue`]), which never
//! waits; a full queue drops the event and counts it. Each target (one URL of one app) has a
//! task of its own ([`sender`]) that batches (50 ms or 100 events, whichever comes first),
//! signs and POSTs, retrying failures with backoff for a bounded time. A slow or dead
//! receiver holds up only its own queue: never fan-out, other targets or other apps.

mod queue;
mod sender;
pub mod target;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::apps::Apps;
use crate::log::Log;
use crate::metrics::{ServeMetrics, WebhookMetrics};
use net::http::HttpClient;
use protocol::webhook::{Kind, WebhookEvent};
use queue::Queue;
pub use queue::QueueLimits;
pub use target::{Kinds, Target, WebhookUrl};

/// How webhooks are queued, batched, sent and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookLimits {
    /// Per target (one URL of one app): events waiting, in count and in bytes.
    pub queue: QueueLimits,
    /// A batch goes out this long after its first event…
    pub batch_window: Duration,
    /// …or as soon as it has this many events.
    pub batch_max: usize,
    /// One attempt's deadline: connecting, sending, and the answer.
    pub timeout: Duration,
    /// How long a batch is retried after its first attempt before it is dropped.
    pub retry_for: Duration,
    /// The first retry's wait; each next one doubles, up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// At shutdown, how long pending batches may take; what is left is counted lost.
    pub shutdown_flush: Duration,
    /// How long `channel_vacated` and `member_removed` wait before they may be sent; an
    /// occupant (a member) back within it cancels both, as with Pusher.
    pub delay: Duration,
}

impl WebhookLimits {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(30);
}

impl Default for WebhookLimits {
    fn default() -> WebhookLimits {
        WebhookLimits {
            queue: QueueLimits {
                events: QueueLimits::DEFAULT_EVENTS,
                bytes: QueueLimits::DEFAULT_BYTES,
            },
            batch_window: Duration::from_millis(50),
            batch_max: 100,
            timeout: WebhookLimits::DEFAULT_TIMEOUT,
            retry_for: WebhookLimits::DEFAULT_RETRY_FOR,
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            shutdown_flush: Duration::from_secs(2),
            delay: Duration::from_secs(3),
        }
    }
}

/// The webhook targets of every app, by app id, and their limits.
#[derive(Debug, Clone, Default)]
pub struct WebhookConfig {
    pub targets: HashMap<String, Vec<Target>>,
    pub limits: WebhookLimits,
}

impl WebhookConfig {
    pub fn is_empty(&self) -> bool {
        self.targets.values().all(Vec::is_empty)
    }
}

/// One target as the hub sees it: what it wants and where its events go.
struct Hook {
    app_id: String,
    url: WebhookUrl,
    kinds: Kinds,
    queue: Arc<Queue>,
    metrics: WebhookMetrics,
    /// Refused by the full queue since the last report.
    dropped: AtomicU64,
    in_flight: Arc<AtomicUsize>,
}

/// An app's targets.
#[derive(Default)]
pub struct AppHooks(Vec<Arc<Hook>>);

static NO_HOOKS: AppHooks = AppHooks(Vec::new());

impl AppHooks {
    /// Offers the event to every target that wants its kind; builds it only if one does.
    /// Never waits: a full queue drops it (counted).
    /// A target that wants `channel_vacated` (`member_removed`) but not `channel_occupied`
    /// (`member_added`) is offered the latter too, only to cancel what waits: a channel
    /// left and re-joined within the delay is never reported vacated, whatever the filter.
    pub fn emit(&self, kind: Kind, make: impl FnOnce() -> WebhookEvent) {
        let cancelled = queue::cancels(kind);
        let mut wanted = self
            .0
            .iter()
            .filter(|h| h.kinds.contains(kind) || cancelled.is_some_and(|c| h.kinds.contains(c)))
            .peekable();
        if wanted.peek().is_none() {
            return;
        }
        let event = make();
        for hook in wanted {
            if !hook.kinds.contains(kind) {
                hook.queue.cancel(&event);
                continue;
            }
            if hook.queue.offer(event.clone()).is_err() {
                hook.metrics.queue_full();
                hook.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Every app's targets and their tasks.
#[derive(Default)]
pub struct Webhooks {
    apps: HashMap<String, AppHooks>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    reporter: std::sync::Mutex<Option<JoinHandle<()>>>,
    limits: WebhookLimits,
    log: Log,
}

impl Webhooks {
    /// Starts one sender per target (and, with `--log`, the drop reporter). Needs a Tokio
    /// runtime only when there is a target.
    pub fn start(cfg: &WebhookConfig, apps: &Apps, metrics: &ServeMetrics, log: Log) -> Webhooks {
        let mut hooks = Webhooks {
            limits: cfg.limits,
            log: log.clone(),
            ..Webhooks::default()
        };
        if cfg.is_empty() {
            return hooks;
        }
        let client = HttpClient::new(cfg.limits.timeout);
        let mut tasks = Vec::new();
        for app in apps.iter() {
            let Some(targets) = cfg.targets.get(&app.id) else {
                continue;
            };
            let mut list = Vec::new();
            for target in targets {
                let hook = Arc::new(Hook {
                    app_id: app.id.clone(),
                    url: target.url.clone(),
                    kinds: target.kinds.clone(),
                    queue: Arc::new(Queue::new(
                        cfg.limits.queue,
                        &target.kinds.0.iter().copied().collect::<Vec<_>>(),
                        cfg.limits.delay,
                    )),
                    metrics: metrics.webhooks(&app.id),
                    dropped: AtomicU64::new(0),
                    in_flight: Arc::new(AtomicUsize::new(0)),
                });
                let sender = sender::Sender {
                    app_id: app.id.clone(),
                    key: app.key.clone(),
                    secret: app.secret.clone(),
                    url: target.url.clone(),
                    queue: hook.queue.clone(),
                    client: client.clone(),
                    limits: cfg.limits,
                    metrics: hook.metrics.clone(),
                    log: log.clone(),
                    in_flight: hook.in_flight.clone(),
                };
                tasks.push(tokio::spawn(sender.run()));
                list.push(hook);
            }
            hooks.apps.insert(app.id.clone(), AppHooks(list));
        }
        if log.enabled() {
            let all: Vec<Arc<Hook>> = hooks.all().cloned().collect();
            let queue = cfg.limits.queue;
            *hooks.reporter.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs(1));
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        report_drops(&all, queue, &log);
                    }
                }));
        }
        *hooks.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
        hooks
    }

    /// An app's targets (none for an app without webhooks).
    pub fn app(&self, app_id: &str) -> &AppHooks {
        self.apps.get(app_id).unwrap_or(&NO_HOOKS)
    }

    fn all(&self) -> impl Iterator<Item = &Arc<Hook>> {
        self.apps.values().flat_map(|a| a.0.iter())
    }

    /// Sends what is queued within the shutdown deadline; what is left is counted lost.
    pub async fn shutdown(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        if tasks.is_empty() {
            return;
        }
        for hook in self.all() {
            hook.queue.close();
        }
        let until = tokio::time::Instant::now() + self.limits.shutdown_flush;
        for mut task in tasks {
            if tokio::time::timeout_at(until, &mut task).await.is_err() {
                task.abort();
            }
        }
        if let Some(reporter) = self
            .reporter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            reporter.abort();
        }
        let all: Vec<Arc<Hook>> = self.all().cloned().collect();
        report_drops(&all, self.limits.queue, &self.log);
        for hook in self.all() {
            let lost = hook.queue.len() + hook.in_flight.load(Ordering::Relaxed);
            if lost > 0 {
                hook.metrics.lost_at_shutdown(lost);
                self.log.line(
                    "WEBHOOK LOST",
                    format_args!(
                        "app {} {}: {lost} events not sent within the {} ms shutdown deadline",
                        hook.app_id,
                        hook.url,
                        self.limits.shutdown_flush.as_millis()
                    ),
                );
            }
        }
    }
}

/// Per target: how many events its full queue refused since the last report (called once
/// a second at most, so a flood of drops is one line a second).
fn report_drops(hooks: &[Arc<Hook>], queue: QueueLimits, log: &Log) {
    for hook in hooks {
        let coalesced = hook.queue.take_coalesced();
        if coalesced > 0 {
            hook.metrics.coalesced(coalesced);
            log.line(
                "WEBHOOK COALESCED",
                format_args!(
                    "app {} {}: {coalesced} events not sent: a channel occupied again (a member \
                     back) within the delay cancels its vacated (removed) event",
                    hook.app_id, hook.url
                ),
            );
        }
        let n = hook.dropped.swap(0, Ordering::Relaxed);
        if n > 0 {
            log.line(
                "WEBHOOK DROPPED",
                format_args!(
                    "app {} {}: {n} events dropped, the queue is full ({} events or {} bytes \
                     waiting; the receiver is slow or down)",
                    hook.app_id, hook.url, queue.events, queue.bytes
                ),
            );
        }
    }
}
