//! The read-only queries (channels, one channel, presence users) and user termination.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::signed::Signed;
use super::{ApiResult, Info, attributes, bad, parse_info};
use crate::Shared;
use protocol::channel::{classify, validate_channel};

pub(crate) async fn channels(State(s): State<Shared>, req: Signed) -> ApiResult {
    let prefix = req.param("filter_by_prefix");
    let info = parse_info(req.param("info"))?;
    if info.contains(&Info::UserCount) && !prefix.is_some_and(|p| p.starts_with("presence-")) {
        return Err(bad("info=user_count needs filter_by_prefix=presence-"));
    }
    let mut out = serde_json::Map::new();
    for (name, occ) in s.hub.channels(&req.app.id, prefix) {
        out.insert(name, attributes(&occ, &info));
    }
    Ok(Json(json!({ "channels": out })))
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
