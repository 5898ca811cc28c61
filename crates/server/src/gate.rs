//! Admission of REST requests: at most `max_rest_in_flight` handled at once (else 503), and
//! each body read within `body_timeout` of its headers (else 408 and the connection closes).

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Body as _;
use serde_json::json;

use super::{MAX_BODY_BYTES, Shared};

/// Wraps every REST route, and counts each call by its route and status.
pub(crate) async fn rest(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let metrics = s.cfg.metrics.clone();
    let (resp, received) = admit(s, req, next).await;
    let sent = resp.body().size_hint().exact();
    metrics.http_call(&endpoint, resp.status().as_u16(), received, sent);
    resp
}

/// The response, and the bytes of the body read.
async fn admit(s: Shared, req: Request, next: Next) -> (Response, usize) {
    let Some(_slot) = s.rest.try_take() else {
        let mut resp = error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server is handling {} REST requests already; retry shortly",
                s.rest.max()
            ),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return (resp, 0);
    };
    let deadline = s.cfg.limits.body_timeout;
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(deadline, to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return (unreadable(&e), 0),
        Err(_) => {
            let mut resp = error(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request body did not arrive within {}", secs(deadline)),
            );
            // The rest of the body may still come: this connection cannot be reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return (resp, 0);
        }
    };
    let received = body.len();
    let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
    (resp, received)
}

fn unreadable(e: &axum::Error) -> Response {
    let too_large = std::error::Error::source(e)
        .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
    if too_large {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {MAX_BODY_BYTES} bytes"),
        )
    } else {
        error(
            StatusCode::BAD_REQUEST,
            format!("the request body could not be read: {e}"),
        )
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
