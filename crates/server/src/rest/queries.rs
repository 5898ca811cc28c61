//! The read-only queries (channels, one channel, presence users) and user termination.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::signed::Signed;
use super::{ApiError, ApiResult, Info, attributes, bad, parse_info};
use crate::Shared;
use protocol::channel::{classify, validate_channel};

/// The occupied channels. A listing of an app with 100 000 long names is tens of MB to copy,
/// sort and write: at most [`crate::LISTINGS`] are made at once (the others wait, holding
/// their REST slot), each on a blocking thread, off the workers that deliver events.
pub(crate) async fn channels(State(s): State<Shared>, req: Signed) -> Result<Response, ApiError> {
    let prefix = req.param("filter_by_prefix").map(str::to_owned);
    let info = parse_info(req.param("info"))?;
    if info.contains(&Info::UserCount)
        && !prefix
            .as_deref()
            .is_some_and(|p| p.starts_with("presence-"))
    {
        return Err(bad("info=user_count needs filter_by_prefix=presence-"));
    }
    let _turn = s
        .listings
        .acquire()
        .await
        .map_err(|_| ApiError(StatusCode::SERVICE_UNAVAILABLE, "shutting down".into()))?;
    let (hub, app) = (s.hub.clone(), req.app.id.clone());
    let body = tokio::task::spawn_blocking(move || {
        let mut out = serde_json::Map::new();
        for (name, occ) in hub.channels(&app, prefix.as_deref()) {
            out.insert(name, attributes(&occ, &info));
        }
        serde_json::to_vec(&json!({ "channels": out }))
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

pub(crate) async fn channel(
    State(s): State<Shared>,
    Path((_, channel)): Path<(String, String)>,
    req: Signed,
) -> ApiResult {
    validate_channel(&channel, false).map_err(|e| bad(e.to_string()))?;
    let info = parse_info(req.param("info"))?;
    if info.contains(&Info::UserCount) && !classify(&channel).is_presence() {
        return Err(bad(format!(
            "user_count is only available for presence channels, not {channel}"
        )));
    }
    let occ = s.hub.channel(&req.app.id, &channel);
    let mut v = attributes(&occ, &info);
    v["occupied"] = json!(occ.subscription_count > 0);
    Ok(Json(v))
}

pub(crate) async fn users(
    State(s): State<Shared>,
    Path((_, channel)): Path<(String, String)>,
    req: Signed,
) -> ApiResult {
    if !classify(&channel).is_presence() {
        return Err(bad(format!(
            "Users are only available for presence channels, not {channel}"
        )));
    }
    let users: Vec<Value> = s
        .hub
        .users(&req.app.id, &channel)
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Ok(Json(json!({ "users": users })))
}

pub(crate) async fn terminate(
    State(s): State<Shared>,
    Path((_, user_id)): Path<(String, String)>,
    req: Signed,
) -> ApiResult {
    let n = s.hub.terminate_user(&req.app.id, &user_id);
    s.log.line(
        "TERMINATE",
        format_args!("user {user_id}: {n} connection(s)"),
    );
    Ok(Json(json!({})))
}
