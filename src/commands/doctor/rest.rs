//! The REST API's hop: one signed `GET /apps/ID/channels`. A 401 is named as the secret or
//! the app id; the server's text for it, which may quote what it expected to be signed, is
//! never shown, and neither is the secret, in any form.

use std::time::{Duration, Instant};

use super::report::Hop;
use client::explain::{self, Explanation};
use client::publish::{ApiError, RestClient};

pub(crate) async fn check(rest: &RestClient, secret_from: &str, deadline: Duration) -> Hop {
    let started = Instant::now();
    let path = format!("/apps/{}/channels", rest.app_id);
    let answer = tokio::time::timeout(deadline, rest.channels(None, None)).await;
    let took = started.elapsed();
    match answer {
        Err(_) => Hop::fail(
            "rest",
            Explanation::new(
                format!("no answer to GET {path} within {} s", deadline.as_secs_f32()),
                "the REST API is slow or stalled",
                "check the server's load and log",
            ),
        )
        .took(took),
        Ok(Ok(v)) => {
            let occupied = v
                .get("channels")
                .and_then(serde_json::Value::as_object)
                .map_or(0, serde_json::Map::len);
            Hop::pass(
                "rest",
                format!("signed GET {path}: HTTP 200, {occupied} occupied channels"),
            )
            .line(format!("the signature is accepted: the secret ({secret_from}) and app id are the server's"))
            .took(took)
        }
        Ok(Err(ApiError::Status { status, message })) => match explain::rest_status(status) {
            Some(mut x) => {
                x.what = format!("signed GET {path}: {}", x.what);
                if status == 401 {
                    x.cause = format!("{} (the secret used is from {secret_from})", x.cause);
                }
                Hop::fail("rest", x).took(took)
            }
            None => Hop::fail(
                "rest",
                Explanation::new(
                    format!("signed GET {path}: HTTP {status}: {message}"),
                    "the server failed to answer the REST API",
                    "see the server's log",
                ),
            )
            .took(took),
        },
        Ok(Err(e)) => Hop::fail(
            "rest",
            Explanation::new(
                format!("signed GET {path}: {e}"),
                "the REST API is not reachable at the WebSocket's host and port",
                "check that the REST API is served on the same host and port (Reverb and sockudo serve both)",
            ),
        )
        .took(took),
    }
}
