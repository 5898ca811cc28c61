//! The `Signed` extractor: every REST call's app, key, timestamp and signature are checked by
//! the gate from its headers (§7.1, [`crate::gate`]); here its body is read and checked
//! against the signed `body_md5`, before any handler runs.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::Shared;
use crate::apps::App;
use crate::gate::Verified;
use protocol::rest::verify_body;

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
        // The gate checked the app and the query's signature before the body was read.
        let Some(Verified { app, params }) = req.extensions().get::<Verified>().cloned() else {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "the request was not verified".into(),
            )
            .into_response());
        };
        // The body limit layer answers 413 here for a body that is too big.
        let body = Bytes::from_request(req, s)
            .await
            .map_err(IntoResponse::into_response)?;
        verify_body(&params, &body)
            .map_err(|e| ApiError(StatusCode::UNAUTHORIZED, e.to_string()).into_response())?;
        s.hub.counters.api_messages.fetch_add(1, Ordering::Relaxed);
        Ok(Signed { app, params, body })
    }
}
