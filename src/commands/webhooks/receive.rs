//! One webhook request: refused early when it is no POST, too many, declared too big, too
//! slow or too big; else checked against the apps' secrets, answered at once, and shown once
//! the answer has gone out.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::budget::{Budget, Room};
use super::sink::{Show, Sink, observed};
use observe::output::webhook_items;
use observe::output::webhooks::{Received, duration_text, render};
use protocol::safe_text::terminal_safe;
use protocol::webhook::check::{AppSecret, check};
use protocol::webhook::{KEY_HEADER, SIGNATURE_HEADER};
use server::App;
use server::limits::{Slot, Slots};

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

/// What every request shares: the apps and their secrets, the caps, the output.
pub(super) struct Receiver {
    pub(super) apps: Vec<App>,
    pub(super) json: bool,
    pub(super) reject_invalid: bool,
    pub(super) max_body: usize,
    pub(super) body_timeout: Duration,
    pub(super) in_flight: Arc<Slots>,
    pub(super) out: Sink,
    /// The output's half of `--max-queue`.
    pub(super) budget: Arc<Budget>,
    /// Permits to turn a body into output ([`super::RENDERING`]).
    pub(super) rendering: tokio::sync::Semaphore,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
}

pub(super) async fn receive(State(rx): State<Arc<Receiver>>, req: Request) -> Response {
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
        Sink::Heard(_) => {
            let reason = checked.verdict.reason(checked.app.as_deref());
            let heard = super::heard::heard(key.as_deref(), checked.verdict.clone(), reason, &body);
            let is_webhook = heard.is_webhook;
            (Show::Heard(heard), is_webhook)
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
