//! `POST /apps/{id}/events` and `/batch_events`. All or nothing: every event of a request is
//! parsed and validated into a [`Plan`] first, and only a request that is valid as a whole is
//! published, so a publisher that retries a refused request never delivers anything twice.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::signed::Signed;
use super::{ApiError, ApiResult, Info, attributes, bad, parse_info, parse_json};
use crate::Shared;
use crate::apps::App;
use crate::handlers::event_frame;
use crate::log::Publish;
use protocol::channel::{SERVER_TO_USER_PREFIX, classify, validate_channel, validate_event};
use protocol::limits::{MAX_BATCH_EVENTS, MAX_EVENT_DATA_BYTES, MAX_TRIGGER_CHANNELS};
use protocol::signature::validate_socket_id;

/// One event as a publisher sends it.
#[derive(Deserialize)]
struct Trigger {
    name: String,
    data: Value,
    channel: Option<String>,
    channels: Option<Vec<String>>,
    socket_id: Option<String>,
    info: Option<String>,
}

/// One event that passed every check: what to publish, where, and what to answer.
#[derive(Debug)]
struct Planned {
    name: String,
    data: String,
    channels: Vec<String>,
    socket_id: Option<String>,
    info: Vec<Info>,
}

/// Every event of a request, validated; publishing it cannot fail.
#[derive(Debug)]
struct Plan(Vec<Planned>);

/// Checks one event without touching the hub.
fn validate(t: Trigger) -> Result<Planned, ApiError> {
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
        validate_trigger_channel(c).map_err(|e| bad(format!("{c}: {e}")))?;
    }
    if channels.len() > 1 && channels.iter().any(|c| classify(c).is_encrypted()) {
        return Err(bad(
            "Encrypted channels cannot be triggered together with other channels",
        ));
    }
    if let Some(id) = &t.socket_id {
        validate_socket_id(id).map_err(|e| bad(e.to_string()))?;
    }
    let info = parse_info(t.info.as_deref())?;
    if info.contains(&Info::UserCount)
        && let Some(c) = channels.iter().find(|c| !classify(c).is_presence())
    {
        return Err(bad(format!(
            "user_count is only available for presence channels, not {c}"
        )));
    }
    Ok(Planned {
        name: t.name,
        data,
        channels,
        socket_id: t.socket_id,
        info,
    })
}

/// A channel a publisher may trigger: any a client may subscribe to, plus
/// `#server-to-user-{id}` (the SDKs' `sendToUser`). No other `#` name.
fn validate_trigger_channel(c: &str) -> Result<(), String> {
    let to_user = c.strip_prefix(SERVER_TO_USER_PREFIX);
    if to_user == Some("") {
        return Err("the user id after #server-to-user- is empty".into());
    }
    validate_channel(c, to_user.is_some())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl Plan {
    /// Publishes every event, in order; per event, the `info` attributes asked for.
    fn publish(self, s: &Shared, app: &App) -> Vec<Option<BTreeMap<String, Value>>> {
        self.0
            .into_iter()
            .map(|p| {
                let mut attrs = BTreeMap::new();
                for c in &p.channels {
                    let frame = event_frame(c, &p.name, &p.data);
                    let delivery = s.hub.publish(&app.id, c, frame, p.socket_id.as_deref());
                    let publish = Publish {
                        app: &app.id,
                        channel: c,
                        event: &p.name,
                        bytes: p.data.len(),
                        excluded: p.socket_id.as_deref(),
                        delivery,
                    };
                    s.log.api_message(&s.hub, &publish);
                    if !p.info.is_empty() {
                        attrs.insert(c.clone(), attributes(&s.hub.channel(&app.id, c), &p.info));
                    }
                }
                (!p.info.is_empty()).then_some(attrs)
            })
            .collect()
    }
}

pub(crate) async fn events(State(s): State<Shared>, req: Signed) -> ApiResult {
    let t: Trigger = parse_json(&req.body)?;
    let plan = Plan(vec![validate(t)?]);
    let mut answers = plan.publish(&s, &req.app);
    Ok(Json(match answers.pop().flatten() {
        Some(channels) => json!({ "channels": channels }),
        None => json!({}),
    }))
}

pub(crate) async fn batch_events(State(s): State<Shared>, req: Signed) -> ApiResult {
    #[derive(Deserialize)]
    struct Batch {
        batch: Vec<Trigger>,
    }
    let b: Batch = parse_json(&req.body)?;
    if b.batch.is_empty() || b.batch.len() > MAX_BATCH_EVENTS {
        return Err(bad(format!(
            "batch must hold 1 to {MAX_BATCH_EVENTS} events; got {}",
            b.batch.len()
        )));
    }
    let mut plan = Vec::with_capacity(b.batch.len());
    for (i, t) in b.batch.into_iter().enumerate() {
        if t.channels.is_some() {
            return Err(bad(format!(
                "batch event {i} ({}): batch events take a single channel, not channels",
                t.name
            )));
        }
        let planned = validate(t)
            .map_err(|ApiError(status, e)| ApiError(status, format!("batch event {i}: {e}")))?;
        plan.push(planned);
    }
    let answers = Plan(plan).publish(&s, &req.app);
    if answers.iter().all(Option::is_none) {
        return Ok(Json(json!({})));
    }
    let infos: Vec<Value> = answers
        .into_iter()
        .map(|a| a.and_then(|m| m.into_values().next()).unwrap_or(json!({})))
        .collect();
    Ok(Json(json!({ "batch": infos })))
}
