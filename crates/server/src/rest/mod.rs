//! The signed HTTP REST API (§7): trigger, batch, channel queries, user termination.
//! Every request is verified by the [`Signed`] extractor before its handler runs. Errors carry
//! the right status and a JSON body that says exactly what is wrong: `{"error": "..."}`.

mod queries;
mod signed;
mod trigger;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::hub::Occupancy;

pub(crate) use queries::{channel, channels, terminate, users};
pub(crate) use trigger::{batch_events, events};

pub(crate) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

type ApiResult = Result<Json<Value>, ApiError>;

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| bad(format!("Request body is not valid JSON for this call: {e}")))
}

/// A channel attribute a caller may ask for with `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Info {
    UserCount,
    SubscriptionCount,
}

/// Parses a comma-separated `info` list.
fn parse_info(info: Option<&str>) -> Result<Vec<Info>, ApiError> {
    info.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| match f {
            "user_count" => Ok(Info::UserCount),
            "subscription_count" => Ok(Info::SubscriptionCount),
            _ => Err(bad(format!(
                "Unknown info attribute {f:?}: use user_count or subscription_count"
            ))),
        })
        .collect()
}

/// The `info` attributes asked for, from a channel's occupancy.
fn attributes(occ: &Occupancy, info: &[Info]) -> Value {
    let mut v = json!({});
    for f in info {
        match f {
            Info::UserCount => v["user_count"] = json!(occ.user_count),
            Info::SubscriptionCount => v["subscription_count"] = json!(occ.subscription_count),
        }
    }
    v
}
