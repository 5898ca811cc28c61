//! The `Signed` extractor: every REST call starts by finding the app and verifying the
//! request's signature, `body_md5` and timestamp (§7.1), before any handler runs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{FromRequest, RawPathParams, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::Shared;
use crate::apps::App;
use protocol::rest::{decode_query, verify_request};

/// A request whose signature checked out: the app it is for, its decoded query parameters
/// (in order) and the exact body bytes the signature covers.
pub(crate) struct Signed {
    pub app: Arc<App>,
    pub params: Vec<(String, String)>,
    pub body: Bytes,
}

impl Signed {
    /// The first query parameter called `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest<Shared> for Signed {
    type Rejection = Response;

    async fn from_request(req: Request, s: &Shared) -> Result<Signed, Response> {
        let (mut parts, body) = req.into_parts();
        let app_id = {
            use axum::extract::FromRequestParts;
            let params = RawPathParams::from_request_parts(&mut parts, s)
                .await
                .map_err(IntoResponse::into_response)?;
            params
                .iter()
                .find(|(k, _)| *k == "app_id")
                .map(|(_, v)| v.to_owned())
                .ok_or_else(|| {
                    ApiError(StatusCode::NOT_FOUND, "no app id in the path".into()).into_response()
                })?
        };
        let app = s.cfg.apps.by_id(&app_id).ok_or_else(|| {
            ApiError(StatusCode::NOT_FOUND, format!("Unknown app id {app_id}")).into_response()
        })?;
        if !app.enabled {
            return Err(
                ApiError(StatusCode::FORBIDDEN, format!("App {app_id} is disabled"))
                    .into_response(),
            );
        }
        let method = parts.method.clone();
        let path = parts.uri.path().to_owned();
        let params = decode_query(parts.uri.query().unwrap_or(""));
        // The body limit layer answers 413 here for a body that is too big.
        let body = Bytes::from_request(Request::from_parts(parts, body), s)
            .await
            .map_err(IntoResponse::into_response)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        verify_request(
            &app.key,
            app.secret.expose(),
            method.as_str(),
            &path,
            &params,
            &body,
            now,
        )
        .map_err(|e| ApiError(StatusCode::UNAUTHORIZED, e.to_string()).into_response())?;
        s.hub.counters.api_messages.fetch_add(1, Ordering::Relaxed);
        Ok(Signed { app, params, body })
    }
}
