//! Admission of REST requests. A request whose query is not signed by its app's secret is
//! refused (404, 403, 401) before its body is read or anything is held for it: a stranger
//! cannot occupy the REST API, whatever the number of addresses. A signed one then takes a
//! slot of its address's share (half of `max_rest_in_flight`) and of the total (else 503),
//! and its body must arrive within `body_timeout` of its headers (else 408 and the
//! connection closes); the handler checks the body against the signed `body_md5`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Body as _;
use serde_json::json;

use super::{MAX_BODY_BYTES, Shared};
use crate::apps::App;
use net::listen::PeerAddr;
use protocol::rest::{decode_query, verify_query};

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
    let mut req = req;
    match signed_query(&s, &req) {
        Ok(verified) => {
            req.extensions_mut().insert(verified);
        }
        Err((status, message)) => {
            let mut resp = error(status, message);
            // The body may still be on its way: this connection cannot be reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return (resp, 0);
        }
    }
    let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
    let mine = match peer.map(|ip| s.rest_per_ip.try_take(ip)) {
        Some(None) => {
            let max = s.rest_per_ip.max();
            return (
                busy(format!("your address has {max} REST requests in flight")),
                0,
            );
        }
        mine => mine.flatten(),
    };
    let Some(_slot) = s.rest.try_take() else {
        let max = s.rest.max();
        return (
            busy(format!("the server is handling {max} REST requests")),
            0,
        );
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
    drop(mine);
    (resp, received)
}

/// A request whose app is known and enabled and whose query its secret signed, checked
/// from the headers alone; its body is checked against the signed `body_md5` once read
/// ([`crate::rest::signed`]).
#[derive(Clone)]
pub(crate) struct Verified {
    pub(crate) app: Arc<App>,
    pub(crate) params: Vec<(String, String)>,
}

/// The app and the query of a request, verified, or why it is refused.
fn signed_query(s: &Shared, req: &Request) -> Result<Verified, (StatusCode, String)> {
    let path = req.uri().path();
    let app_id = path
        .strip_prefix("/apps/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    let Some(app) = s.cfg.apps.by_id(app_id) else {
        let shown = protocol::safe_text::terminal_safe(app_id);
        return Err((StatusCode::NOT_FOUND, format!("Unknown app id {shown}")));
    };
    if !app.enabled {
        return Err((StatusCode::FORBIDDEN, format!("App {} is disabled", app.id)));
    }
    let params = decode_query(req.uri().query().unwrap_or(""));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let has_body = !req.body().is_end_stream();
    verify_query(
        &app.key,
        app.secret.expose(),
        req.method().as_str(),
        path,
        &params,
        has_body,
        now,
    )
    .map_err(|e| (StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok(Verified { app, params })
}

/// 503, to retry in a second: `what` is full.
fn busy(what: String) -> Response {
    let mut resp = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{what} already; retry shortly"),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
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
