//! Admission of REST requests: at most `max_rest_in_flight` handled at once (else 503), and
//! each body read within `body_timeout` of its headers (else 408 and the connection closes).

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{MAX_BODY_BYTES, Shared};

/// Wraps every REST route.
pub async fn rest(State(s): State<Shared>, req: Request, next: Next) -> Response {
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
        return resp;
    };
    let deadline = s.cfg.limits.body_timeout;
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(deadline, to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return unreadable(&e),
        Err(_) => {
            let mut resp = error(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request body did not arrive within {}", secs(deadline)),
            );
            // The rest of the body may still come: this connection cannot be reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
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
