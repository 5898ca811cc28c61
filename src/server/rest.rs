//! The signed HTTP REST API (§7): trigger, batch, channel queries, user termination.
//! Every request is verified with the protocol core's verifier. Errors carry the right status
//! and a JSON body that says exactly what is wrong: `{"error": "..."}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::apps::App;
use super::handlers::event_frame;
use super::hub::Occupancy;
use crate::protocol::channel::{classify, validate_channel, validate_event};
use crate::protocol::limits::{MAX_BATCH_EVENTS, MAX_EVENT_DATA_BYTES, MAX_TRIGGER_CHANNELS};
use crate::protocol::rest::{decode_query, verify_request};

pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

type ApiResult = Result<Json<Value>, ApiError>;

/// Decoded query parameters, in order.
type Params = Vec<(String, String)>;

/// Finds the app and checks the signature, `body_md5` and timestamp.
fn authenticate(
    s: &Shared,
    app_id: &str,
    method: &Method,
    uri: &Uri,
    query: Option<&str>,
    body: &[u8],
) -> Result<(Arc<App>, Params), ApiError> {
    let app = s
        .cfg
        .apps
        .by_id(app_id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("Unknown app id {app_id}")))?;
    if !app.enabled {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("App {app_id} is disabled"),
        ));
    }
    let params = decode_query(query.unwrap_or(""));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    verify_request(
        &app.key,
        app.secret.expose(),
        method.as_str(),
        uri.path(),
        &params,
        body,
        now,
    )
    .map_err(|e| ApiError(StatusCode::UNAUTHORIZED, e.to_string()))?;
    s.hub
        .counters
        .api_messages
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok((app, params))
}

#[derive(Deserialize)]
struct Trigger {
    name: String,
    data: Value,
    channel: Option<String>,
    channels: Option<Vec<String>>,
    socket_id: Option<String>,
    info: Option<String>,
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| bad(format!("Request body is not valid JSON for this call: {e}")))
}

/// Validates one event and publishes it; returns the `info` attributes asked for, per channel.
fn trigger(s: &Shared, app: &App, t: Trigger) -> Result<Option<BTreeMap<String, Value>>, ApiError> {
    let channels = match (t.channel, t.channels) {
        (Some(c), None) => vec![c],
        (None, Some(cs)) => cs,
        (Some(_), Some(_)) => return Err(bad("Give either channel or channels, not both")),
        (None, None) => return Err(bad("Missing channel or channels")),
    };
    if channels.is_empty() || channels.len() > MAX_TRIGGER_CHANNELS {
        return Err(bad(format!(
            "channels must name 1 to {MAX_TRIGGER_CHANNELS} channels; got {}",
            channels.len()
        )));
    }
    validate_event(&t.name).map_err(|e| bad(e.to_string()))?;
    let data = match t.data {
        Value::String(s) => s,
        other => other.to_string(),
    };
    if data.len() > MAX_EVENT_DATA_BYTES {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Event data is {} bytes; the limit is {MAX_EVENT_DATA_BYTES}",
                data.len()
            ),
        ));
    }
    for c in &channels {
        validate_channel(c, false).map_err(|e| bad(format!("{c}: {e}")))?;
    }
    if channels.len() > 1 && channels.iter().any(|c| classify(c).is_encrypted()) {
        return Err(bad(
            "Encrypted channels cannot be triggered together with other channels",
        ));
    }
    if let Some(id) = &t.socket_id {
        crate::protocol::signature::validate_socket_id(id).map_err(|e| bad(e.to_string()))?;
    }
    let info = parse_info(t.info.as_deref())?;
    let mut attributes = BTreeMap::new();
    for c in &channels {
        let delivered = s.hub.publish(
            &app.id,
            c,
            event_frame(c, &t.name, &data),
            t.socket_id.as_deref(),
        );
        s.log.line(
            "API MESSAGE",
            format_args!("{c} {} ({delivered} delivered)", t.name),
        );
        if !info.is_empty() {
            attributes.insert(c.clone(), channel_attributes(s, app, c, &info)?);
        }
    }
    Ok((!info.is_empty()).then_some(attributes))
}

fn parse_info(info: Option<&str>) -> Result<Vec<String>, ApiError> {
    let fields: Vec<String> = info
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(f) = fields
        .iter()
        .find(|f| !matches!(f.as_str(), "user_count" | "subscription_count"))
    {
        return Err(bad(format!(
            "Unknown info attribute {f:?}: use user_count or subscription_count"
        )));
    }
    Ok(fields)
}

fn channel_attributes(
    s: &Shared,
    app: &App,
    channel: &str,
    info: &[String],
) -> Result<Value, ApiError> {
    if info.iter().any(|f| f == "user_count") && !classify(channel).is_presence() {
        return Err(bad(format!(
            "user_count is only available for presence channels, not {channel}"
        )));
    }
    Ok(attributes(&s.hub.channel(&app.id, channel), info))
}

/// The `info` attributes asked for, from a channel's occupancy.
fn attributes(occ: &Occupancy, info: &[String]) -> Value {
    let mut v = json!({});
    for f in info {
        if f == "user_count" {
            v["user_count"] = json!(occ.user_count);
        } else {
            v["subscription_count"] = json!(occ.subscription_count);
        }
    }
    v
}

pub async fn events(
    State(s): State<Shared>,
    Path(app_id): Path<String>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let (app, _) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), &body)?;
    let t: Trigger = parse_json(&body)?;
    Ok(Json(match trigger(&s, &app, t)? {
        Some(channels) => json!({ "channels": channels }),
        None => json!({}),
    }))
}

pub async fn batch_events(
    State(s): State<Shared>,
    Path(app_id): Path<String>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    #[derive(Deserialize)]
    struct Batch {
        batch: Vec<Trigger>,
    }
    let (app, _) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), &body)?;
    let b: Batch = parse_json(&body)?;
    if b.batch.is_empty() || b.batch.len() > MAX_BATCH_EVENTS {
        return Err(bad(format!(
            "batch must hold 1 to {MAX_BATCH_EVENTS} events; got {}",
            b.batch.len()
        )));
    }
    if let Some(t) = b.batch.iter().find(|t| t.channels.is_some()) {
        return Err(bad(format!(
            "batch events take a single channel, not channels (event {})",
            t.name
        )));
    }
    let mut infos = Vec::new();
    let mut any = false;
    for t in b.batch {
        let info = trigger(&s, &app, t)?;
        any |= info.is_some();
        infos.push(
            info.and_then(|m| m.into_values().next())
                .unwrap_or(json!({})),
        );
    }
    Ok(Json(if any {
        json!({ "batch": infos })
    } else {
        json!({})
    }))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn channels(
    State(s): State<Shared>,
    Path(app_id): Path<String>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (app, params) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), b"")?;
    let prefix = param(&params, "filter_by_prefix");
    let info = parse_info(param(&params, "info"))?;
    if info.iter().any(|f| f == "user_count") && !prefix.is_some_and(|p| p.starts_with("presence-"))
    {
        return Err(bad("info=user_count needs filter_by_prefix=presence-"));
    }
    let mut out = serde_json::Map::new();
    for (name, occ) in s.hub.channels(&app.id, prefix) {
        let attrs = attributes(&occ, &info);
        out.insert(name, attrs);
    }
    Ok(Json(json!({ "channels": out })))
}

pub async fn channel(
    State(s): State<Shared>,
    Path((app_id, channel)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (app, params) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), b"")?;
    validate_channel(&channel, false).map_err(|e| bad(e.to_string()))?;
    let info = parse_info(param(&params, "info"))?;
    let occ = s.hub.channel(&app.id, &channel);
    let mut v = channel_attributes(&s, &app, &channel, &info)?;
    v["occupied"] = json!(occ.subscription_count > 0);
    Ok(Json(v))
}

pub async fn users(
    State(s): State<Shared>,
    Path((app_id, channel)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (app, _) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), b"")?;
    if !classify(&channel).is_presence() {
        return Err(bad(format!(
            "Users are only available for presence channels, not {channel}"
        )));
    }
    let users: Vec<Value> = s
        .hub
        .users(&app.id, &channel)
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Ok(Json(json!({ "users": users })))
}

pub async fn terminate(
    State(s): State<Shared>,
    Path((app_id, user_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let (app, _) = authenticate(&s, &app_id, &method, &uri, q.as_deref(), &body)?;
    let n = s.hub.terminate_user(&app.id, &user_id);
    s.log.line(
        "TERMINATE",
        format_args!("user {user_id}: {n} connection(s)"),
    );
    Ok(Json(json!({})))
}
