//! The last hop: one tagged event published through the REST API to the doctor's private
//! channel, received on the socket; its latency and the `subscription_count` the server
//! gave.

use std::time::{Duration, Instant};

use super::report::Hop;
use super::socket::{self, Read, Socket};
use client::explain::Explanation;
use client::publish::RestClient;
use protocol::ServerMessage;

/// The round trip's event name.
pub(crate) const EVENT: &str = "tickertape-doctor";

pub(crate) async fn check(
    rest: &RestClient,
    socket: &mut Socket,
    channel: &str,
    deadline: Duration,
) -> Hop {
    let tag = format!("{:016x}", rand::random::<u64>());
    let data = serde_json::json!({ "doctor": tag }).to_string();
    let started = Instant::now();
    let answer = tokio::time::timeout(
        deadline,
        rest.trigger(
            &[channel.to_owned()],
            EVENT,
            &data,
            None,
            Some("subscription_count"),
        ),
    )
    .await;
    let count = match answer {
        Err(_) => {
            return Hop::fail(
                "round trip",
                Explanation::new(
                    format!(
                        "no answer to the publish within {} s",
                        deadline.as_secs_f32()
                    ),
                    "the REST API is slow or stalled",
                    "check the server's load and log",
                ),
            );
        }
        Ok(Err(e)) => {
            return Hop::fail(
                "round trip",
                Explanation::new(
                    format!("the publish was refused: {e}"),
                    "the REST API accepted the channel listing but not the publish",
                    "see the server's log",
                ),
            );
        }
        Ok(Ok(v)) => v
            .pointer(&format!(
                "/channels/{}/subscription_count",
                channel.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(serde_json::Value::as_u64),
    };
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match socket::next(socket, until).await {
            Read::Message(ServerMessage::Event(e))
                if e.event == EVENT
                    && e.channel.as_deref() == Some(channel)
                    && e.data
                        .as_value()
                        .get("doctor")
                        .and_then(serde_json::Value::as_str)
                        == Some(tag.as_str()) =>
            {
                let took = started.elapsed();
                return Hop::pass(
                    "round trip",
                    format!(
                        "{EVENT} published through the REST API and received on {channel} in {:.1} ms",
                        took.as_secs_f64() * 1000.0
                    ),
                )
                .line(match count {
                    Some(n) => format!("subscription_count: {n}"),
                    None => "subscription_count: not given by the server".into(),
                });
            }
            Read::Timeout => {
                return Hop::fail(
                    "round trip",
                    Explanation::new(
                        format!("published, but nothing arrived on {channel} within {} s", deadline.as_secs_f32()),
                        "the REST API and the WebSocket are not the same app or cluster (nodes behind a load balancer without a shared adapter, or another server's REST API)",
                        "publish and subscribe through the same server; for a cluster, check its adapter (Redis)",
                    ),
                )
                .line(match count {
                    Some(n) => format!("subscription_count: {n}"),
                    None => "subscription_count: not given by the server".into(),
                })
                .took(started.elapsed());
            }
            Read::Closed(code, reason) => {
                return Hop::fail(
                    "round trip",
                    Explanation::new(
                        format!(
                            "the server closed the socket ({}) {reason}",
                            code.map_or("no code".into(), |c| c.to_string())
                        ),
                        "the server ended the connection while the event was on its way",
                        "see the server's log",
                    ),
                );
            }
            _ => continue,
        }
    }
}
