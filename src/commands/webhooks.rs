//! `tickertape webhooks`: receives webhooks (from Pusher through a tunnel, sockudo, soketi
//! or `serve`), answers at once, then shows each event with whether its signature is the
//! app's, and why not. The HTTP side reuses the server's accept loop (its caps on
//! connections, header deadline and idle timeout); bodies are read here, capped in bytes
//! and in time; output goes through a bounded queue to a thread of its own, or, on a
//! terminal, to the dashboard ([`super::webhooks_screen`]).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use super::webhooks_screen::{self, ScreenFeed};
use crate::cli::plan::FrontEnd;
use crate::cli::webhooks::WebhooksPlan;
use bounded::{Overflow, Weigh};
use client::Item;
use net::listen::ListenLimits;
use observe::output::webhook_items;
use observe::output::webhooks::{Received, duration_text, render};
use observe::output::writer::{self, Chunk, Output as Writer};
use observe::pipeline::Observed;
use protocol::safe_text::terminal_safe;
use protocol::webhook::check::{AppSecret, check};
use protocol::webhook::{KEY_HEADER, SIGNATURE_HEADER};
use server::App;
use server::limits::{Limits, Slot, Slots};

/// Connections one address may hold: a quarter of the total, so that one sender never
/// takes every slot.
fn per_address(total: usize) -> usize {
    (total / 4).max(1)
}

/// Longest app key shown (Pusher's are 20 characters).
const MAX_KEY_SHOWN: usize = 64;
/// Longest signature shown (a right one is 64 hex digits).
const MAX_SIGNATURE_SHOWN: usize = 80;

/// At most `max` characters of a header's value, `…` marking a cut.
fn shown(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]).into(),
        None => text.into(),
    }
}

/// How long the output may take, at the end, to write what is queued.
const DRAIN: Duration = Duration::from_secs(2);
/// Requests' outputs waiting for stdout, at most, whatever their size.
const QUEUE_ITEMS: usize = 4096;
/// Bodies turned into output at once. Parsing a body and rendering its events takes a few
/// times its size for a moment; this many at a time, whatever the number of cores or of
/// senders, keeps that within a few `--max-body`. The others wait, counted in the bodies'
/// half of `--max-queue`.
const RENDERING: usize = 2;

struct Receiver {
    apps: Vec<App>,
    json: bool,
    reject_invalid: bool,
    max_body: usize,
    body_timeout: Duration,
    in_flight: Arc<Slots>,
    out: Sink,
    /// The output's half of `--max-queue`.
    budget: Arc<Budget>,
    /// Permits to turn a body into output ([`RENDERING`]).
    rendering: tokio::sync::Semaphore,
}

/// The output's half of `--max-queue` (the bodies being read have the other, in the
/// listener): the queue (lines for stdout, or the dashboard's items) and the output made for
/// requests whose answer has not gone out yet, together. A request's output counts from the
/// moment it is made, so a sender that never reads its answers cannot pile output up
/// outside the queue; output that does not fit is counted as not shown, like a full queue's.
struct Budget {
    cap: usize,
    /// Bytes of output made and not yet queued.
    pending: Mutex<usize>,
}

/// Output counted against the [`Budget`] until it is queued (or dropped).
struct Room {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Room {
    fn drop(&mut self) {
        *self.budget.lock() -= self.bytes;
    }
}

impl Budget {
    fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            cap,
            pending: Mutex::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room for `bytes` of output, when what the queue holds (`queued`, read under the
    /// lock), what waits to join it and `bytes` fit the cap together.
    fn reserve(self: &Arc<Budget>, queued: impl Fn() -> usize, bytes: usize) -> Option<Room> {
        let mut pending = self.lock();
        if queued().saturating_add(*pending).saturating_add(bytes) > self.cap {
            return None;
        }
        *pending += bytes;
        Some(Room {
            budget: self.clone(),
            bytes,
        })
    }

    /// Queues `room`'s output with `send`, then gives its room back. The queue grows under
    /// the lock, and the room is given back after it: a reservation never sees the output
    /// in neither place (it may see it in both, which errs on the safe side).
    fn hand_over(&self, room: Room, send: impl FnOnce()) {
        {
            let _queueing = self.lock();
            send();
        }
        drop(room);
    }
}

/// Where what is received goes: lines (or NDJSON) on stdout, or the dashboard.
#[derive(Clone)]
enum Sink {
    Lines(Arc<Shown>),
    Screen(ScreenFeed),
}

/// The lines' side: the output thread's sender, `--count`, and what was not shown.
struct Shown {
    lines: writer::Lines,
    count: Option<u64>,
    /// Events handed to the output thread so far.
    queued: AtomicU64,
    /// Events (and notices) the output thread's queue had no room for.
    dropped: AtomicU64,
    /// `--count` events are queued: the run ends.
    counted: tokio::sync::Notify,
}

/// One request's output, made before the answer goes and handed over after it.
enum Show {
    /// Webhook events, one text each, for stdout; each counts toward `--count`.
    Lines(Vec<String>),
    Items(Vec<Observed>),
    /// A notice for stderr, in the order of the lines (a request refused, say).
    Notice(String),
}

impl Show {
    /// What it weighs in its queue (as the queue weighs it).
    fn weight(&self) -> usize {
        match self {
            Show::Lines(texts) => size_of::<Chunk>() + texts.iter().map(String::len).sum::<usize>(),
            Show::Items(items) => items.iter().map(Weigh::weight).sum(),
            Show::Notice(text) => Chunk::message(text).weight(),
        }
    }
}

impl Sink {
    /// Bytes its queue holds now.
    fn queued(&self) -> usize {
        match self {
            Sink::Lines(shown) => shown.lines.bytes(),
            Sink::Screen(feed) => feed.queued(),
        }
    }

    /// Room in `budget` for `show`, or `show` counted as not shown.
    fn reserve(&self, budget: &Arc<Budget>, show: Show) -> Option<(Show, Room)> {
        match budget.reserve(|| self.queued(), show.weight()) {
            Some(room) => Some((show, room)),
            None => {
                self.refuse(show);
                None
            }
        }
    }

    /// Queues `show` in the room it was given.
    fn send(&self, budget: &Budget, (show, room): (Show, Room)) {
        budget.hand_over(room, || match (self, show) {
            (Sink::Lines(shown), Show::Lines(texts)) => shown.events(texts),
            (Sink::Lines(shown), Show::Notice(text)) => shown.notice(&text),
            (Sink::Screen(feed), Show::Items(items)) => feed.send(items),
            (Sink::Screen(feed), Show::Notice(text)) => {
                feed.send(vec![observed(Item::Error(text))])
            }
            // Each sink is made only its own kind.
            _ => {}
        });
    }

    /// Counts what had no room as not shown (its events toward `--count` all the same).
    fn refuse(&self, show: Show) {
        match (self, show) {
            (Sink::Lines(shown), Show::Lines(texts)) => {
                let n = shown.take(texts.len() as u64);
                shown.dropped.fetch_add(n, Ordering::Relaxed);
            }
            (Sink::Lines(shown), Show::Notice(_)) => {
                shown.dropped.fetch_add(1, Ordering::Relaxed);
            }
            (Sink::Screen(feed), Show::Items(items)) => feed.refuse(items.len() as u64),
            (Sink::Screen(feed), Show::Notice(_)) => feed.refuse(1),
            _ => {}
        }
    }

    /// Something about a request that was not shown as a webhook (refused, say).
    fn notice(&self, budget: &Arc<Budget>, text: String) {
        if let Some(reserved) = self.reserve(budget, Show::Notice(text)) {
            self.send(budget, reserved);
        }
    }
}

/// An item for the dashboard's queue.
fn observed(item: Item) -> Observed {
    Observed {
        conn: 0,
        item,
        latency_ms: None,
    }
}

impl Shown {
    /// How many of `n` more events are within `--count` (all, without it); counts them
    /// toward it, and says when it is reached.
    fn take(&self, n: u64) -> u64 {
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        let Some(count) = self.count else {
            return n;
        };
        if before + n >= count {
            self.counted.notify_one();
        }
        n.min(count.saturating_sub(before))
    }

    /// Hands a notice for stderr over; counted when it does not fit.
    fn notice(&self, text: &str) {
        if !self.lines.send(Chunk::message(text)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands the texts over, at most up to `--count`; what does not fit is counted.
    fn events(&self, mut texts: Vec<String>) {
        let shown = self.take(texts.len() as u64);
        texts.truncate(usize::try_from(shown).unwrap_or(usize::MAX));
        if texts.is_empty() {
            return;
        }
        if !self.lines.send(Chunk::Out(texts.concat().into_bytes())) {
            self.dropped.fetch_add(shown, Ordering::Relaxed);
        }
    }
}

/// What the run waits on: the output thread and the signals that end it, or the dashboard
/// (which ends on its keys; in raw mode Ctrl-C is one).
enum Output {
    Lines(Writer, Arc<Shown>, crate::signals::Signals),
    Screen(ScreenFeed, bounded::Receiver<Observed>),
}

pub async fn run(plan: WebhooksPlan) -> anyhow::Result<ExitCode> {
    let listener = TcpListener::bind(plan.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", plan.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}/");
    let (out, output) = if plan.front == FrontEnd::Screen {
        let (feed, rx) = ScreenFeed::new(plan.output_budget());
        (Sink::Screen(feed.clone()), Output::Screen(feed, rx))
    } else {
        let limits = bounded::Limits::new(QUEUE_ITEMS, plan.output_budget());
        let writer = Writer::spawn(limits, Overflow::DropNewest)?;
        let shown = Arc::new(Shown {
            lines: writer
                .lines()
                .ok_or_else(|| anyhow::anyhow!("the output thread stopped"))?,
            count: plan.count,
            queued: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
        });
        // SIGTERM's handler is in place before the address is printed: a test or a
        // supervisor may signal as soon as it reads it.
        let shutdown = crate::signals::Signals::install();
        (
            Sink::Lines(shown.clone()),
            Output::Lines(writer, shown, shutdown),
        )
    };
    let front = webhooks_screen::front(&plan, &url);
    // The project's listener discipline: header and idle deadlines, connections capped in
    // total and per address (a quarter each, so one sender cannot take every slot), and the
    // bodies being read held to their half of --max-queue, counted from their
    // Content-Length before they are read. The output has the other half.
    let limits = ListenLimits {
        header_timeout: plan.header_timeout,
        idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
        max_connections: plan.max_connections,
        max_per_ip: per_address(plan.max_connections),
        body_budget: Some(plan.body_budget()),
        max_body: plan.max_body,
    };
    for app in &plan.apps {
        say!(
            "checking webhooks of app {} (key {})",
            terminal_safe(&app.id),
            terminal_safe(&app.key)
        );
    }
    let in_flight = Slots::new(plan.max_connections);
    let budget = Budget::new(plan.output_budget());
    let receiver = Arc::new(Receiver {
        apps: plan.apps,
        json: plan.front == FrontEnd::Json,
        reject_invalid: plan.reject_invalid,
        max_body: plan.max_body,
        body_timeout: plan.body_timeout,
        in_flight: in_flight.clone(),
        out,
        budget,
        rendering: tokio::sync::Semaphore::new(RENDERING),
    });
    let router = Router::new().fallback(receive).with_state(receiver);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::listen::serve(listener, router, limits, stopped));
    say!("receiving webhooks on {url}");
    let (dashboard, failed, dropped) = match output {
        Output::Screen(feed, rx) => (Some(webhooks_screen::show(front, rx, feed).await), None, 0),
        Output::Lines(writer, shown, shutdown) => {
            let (failed, dropped) = lines(writer, &shown, plan.timeout, shutdown, &in_flight).await;
            (None, failed, dropped)
        }
    };
    stop.send_replace(true);
    task.abort();
    if let Some(code) = dashboard {
        return code;
    }
    report_dropped(dropped, 0);
    if let Some(e) = failed {
        anyhow::bail!("cannot write the output: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Lines on stdout until `--count`, `--timeout`, a signal or a closed stdout; what is
/// queued is written before the end. The write error that ended it (a closed stdout is a
/// normal end), and how many were not shown and not yet said.
async fn lines(
    mut writer: Writer,
    shown: &Shown,
    timeout: Option<Duration>,
    shutdown: crate::signals::Signals,
    in_flight: &Slots,
) -> (Option<std::io::Error>, u64) {
    let shutdown = shutdown.wait();
    tokio::pin!(shutdown);
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut reported = 0;
    let dropped = || shown.dropped.load(Ordering::Relaxed);
    let failed = loop {
        tokio::select! {
            e = writer.failed() => break Some(e),
            () = shown.counted.notified() => break None,
            _ = &mut shutdown => break None,
            () = super::watch::sleep_until(deadline) => break None,
            _ = tick.tick() => reported = report_dropped(dropped(), reported),
        }
    };
    // Requests being answered finish (their connections close after them), and their
    // output joins the queue, before the queue is drained.
    let until = tokio::time::Instant::now() + DRAIN;
    while failed.is_none() && in_flight.in_use() > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let failed = match failed {
        Some(e) => Some(e),
        None => tokio::time::timeout(DRAIN, writer.finish())
            .await
            .ok()
            .and_then(Result::err),
    };
    let failed = failed.filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe);
    let dropped = dropped();
    (failed, if dropped > reported { dropped } else { 0 })
}

/// Says on stderr how many events were not shown, when that grew; the count said.
fn report_dropped(dropped: u64, reported: u64) -> u64 {
    if dropped > reported {
        say!(
            "{dropped} webhook events not shown in all: the output fell behind \
             (its queue was full; see --max-queue). They were answered all the same."
        );
    }
    dropped
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
}

async fn receive(State(rx): State<Arc<Receiver>>, req: Request) -> Response {
    if req.method() != Method::POST {
        let mut resp = answer(StatusCode::METHOD_NOT_ALLOWED, "webhooks are POST requests");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let Some(slot) = rx.in_flight.try_take() else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "too many requests at once");
    };
    let (parts, body) = req.into_parts();
    // A body declared too big is refused before a byte of it is read (or invited by
    // `100 Continue`).
    let declared = header(&parts.headers, header::CONTENT_LENGTH.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = match declared {
        Some(n) if n > rx.max_body as u64 => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {} bytes (--max-body)", rx.max_body),
        )),
        _ => read_body(&rx, body).await,
    };
    let body = match body {
        Ok(body) => body,
        Err((status, why)) => {
            rx.out.notice(
                &rx.budget,
                format!(
                    "refused a webhook to {} ({}): {why}",
                    terminal_safe(parts.uri.path()),
                    status.as_u16()
                ),
            );
            let mut resp = answer(status, &why);
            // The rest of the body may still come: this connection cannot be reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    // The semaphore is never closed; without a permit, the body is shown all the same.
    let _rendering = rx.rendering.acquire().await.ok();
    let key = header(&parts.headers, KEY_HEADER);
    let signature = header(&parts.headers, SIGNATURE_HEADER);
    let apps: Vec<AppSecret<'_>> = rx
        .apps
        .iter()
        .map(|a| AppSecret {
            id: &a.id,
            key: &a.key,
            secret: a.secret.expose(),
        })
        .collect();
    let checked = check(&apps, key.as_deref(), signature.as_deref(), &body);
    // Checked whole, shown cut: a header can be far longer than any key or signature.
    let key = key.as_deref().map(|k| shown(k, MAX_KEY_SHOWN));
    let signature = signature.as_deref().map(|s| shown(s, MAX_SIGNATURE_SHOWN));
    let received = Received {
        at: SystemTime::now(),
        key: key.as_deref(),
        signature: signature.as_deref(),
        body: &body,
        check: &checked,
    };
    let (shown, is_webhook) = match &rx.out {
        Sink::Lines(_) => {
            let (texts, is_webhook) = render(&received, rx.json);
            (Show::Lines(texts), is_webhook)
        }
        Sink::Screen(_) => {
            let (items, is_webhook) = webhook_items::items(&received, parts.uri.path());
            (
                Show::Items(items.into_iter().map(observed).collect()),
                is_webhook,
            )
        }
    };
    // Counted from now: the output waits for the answer outside the queue.
    let shown = rx.out.reserve(&rx.budget, shown);
    let (status, text) = match (rx.reject_invalid, checked.is_valid(), is_webhook) {
        (true, false, _) => (StatusCode::UNAUTHORIZED, "invalid signature\n"),
        (true, true, false) => (StatusCode::BAD_REQUEST, "not a webhook body\n"),
        _ => (StatusCode::OK, "ok\n"),
    };
    // Shown once the answer has gone out, never before.
    let then = Then {
        out: rx.out.clone(),
        budget: rx.budget.clone(),
        item: shown,
        _slot: slot,
    };
    let body = AnswerBody {
        text: Some(axum::body::Bytes::from_static(text.as_bytes())),
        then: Some(then),
    };
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    (status, [(header::CONTENT_TYPE, plain)], Body::new(body)).into_response()
}

/// What to do once the answer's body has been handed to the connection: queue the output
/// and give the request's slot back.
struct Then {
    out: Sink,
    budget: Arc<Budget>,
    /// The output and its room in the budget (none when it had no room).
    item: Option<(Show, Room)>,
    _slot: Slot,
}

/// A short answer that queues its request's output when it is done (or dropped).
struct AnswerBody {
    text: Option<axum::body::Bytes>,
    then: Option<Then>,
}

impl Drop for AnswerBody {
    fn drop(&mut self) {
        if let Some(then) = self.then.take()
            && let Some(reserved) = then.item
        {
            then.out.send(&then.budget, reserved);
        }
    }
}

impl hyper::body::Body for AnswerBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.text.take().map(|t| Ok(hyper::body::Frame::data(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.text.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.text.as_ref().map_or(0, |t| t.len() as u64))
    }
}

async fn read_body(rx: &Receiver, body: Body) -> Result<axum::body::Bytes, (StatusCode, String)> {
    match tokio::time::timeout(rx.body_timeout, to_bytes(body, rx.max_body)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is over {} bytes (--max-body)", rx.max_body),
                )
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    format!("the body could not be read: {e}"),
                )
            })
        }
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {} (--body-timeout)",
                duration_text(rx.body_timeout)
            ),
        )),
    }
}

/// A short plain-text answer. Never says what was expected: that is for the receiver's
/// own output only, not for whoever can reach the port.
fn answer(status: StatusCode, text: &str) -> Response {
    (status, format!("{text}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Output waiting for its answer and the queue share one cap: what waits is counted
    /// until it is queued, and given back after.
    #[test]
    fn output_waiting_for_its_answer_and_the_queue_share_the_budget() {
        let budget = Budget::new(1000);
        let queued = Arc::new(AtomicUsize::new(0));
        let q = || queued.load(Ordering::Relaxed);
        let a = budget.reserve(q, 600).expect("room for the first");
        assert!(
            budget.reserve(q, 500).is_none(),
            "600 waiting and 500 more are over 1000"
        );
        let b = budget.reserve(q, 400).expect("room for 400 more");
        budget.hand_over(a, || {
            queued.fetch_add(600, Ordering::Relaxed);
        });
        assert_eq!(
            *budget.lock(),
            400,
            "the queued output is no longer waiting"
        );
        assert!(
            budget.reserve(q, 1).is_none(),
            "600 queued and 400 waiting: full"
        );
        drop(b);
        assert_eq!(*budget.lock(), 0, "a dropped request gives its room back");
        queued.store(0, Ordering::Relaxed);
        assert!(budget.reserve(q, 1000).is_some(), "the queue drained");
    }

    /// What had no room is counted as not shown, and toward `--count` as a full queue's is.
    #[test]
    fn lines_with_no_room_are_counted_as_not_shown() {
        let writer = Writer::spawn(bounded::Limits::new(4, 1 << 20), Overflow::DropNewest)
            .expect("the output thread");
        let shown = Arc::new(Shown {
            lines: writer.lines().expect("its sender"),
            count: Some(3),
            queued: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
        });
        let sink = Sink::Lines(shown.clone());
        let budget = Budget::new(size_of::<Chunk>() + 10);
        let texts = vec!["0123456789".to_owned(); 2];
        assert!(sink.reserve(&budget, Show::Lines(texts.clone())).is_none());
        assert_eq!(shown.dropped.load(Ordering::Relaxed), 2);
        assert!(sink.reserve(&budget, Show::Lines(texts)).is_none());
        assert_eq!(
            shown.dropped.load(Ordering::Relaxed),
            3,
            "past --count, nothing more is counted"
        );
        drop(writer);
    }
}
