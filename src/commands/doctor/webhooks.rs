//! The optional last hop (`--webhooks-listen ADDR`): the `webhooks` command's receiver,
//! listening from the start of the run, hears what the server sends about the doctor's own
//! channel. Subscribing to a vacant channel makes the server send `channel_occupied`: the
//! hop passes when that arrives and its signature verifies under the app's secret. It does
//! not wait for `channel_vacated` (Pusher sends it seconds after the last client leaves;
//! `serve` 3 s), so the run stays within one hop's deadline.
//!
//! When the private channel was never subscribed (the REST API or the authorization failed),
//! the hop subscribes to a public channel of its own instead, so that a wrong secret is
//! confirmed (or not) by the server's own signature.

use std::time::{Duration, Instant};

use super::report::{Hop, Status};
use super::socket::{self, Socket};
use crate::commands::webhooks::heard::{Listening, Tally};
use client::explain::Explanation;
use protocol::ClientMessage;
use protocol::safe_text::terminal_safe;

pub(crate) const NAME: &str = "webhooks";

/// Where the run stands when the hop begins.
pub(crate) struct Ask<'a> {
    /// The app's key, and where its secret came from (a flag's or variable's name).
    pub key: &'a str,
    pub secret_from: Option<String>,
    /// The open socket, if any, and the channel it is subscribed to with when it asked.
    pub socket: Option<&'a mut Socket>,
    pub subscribed: Option<(&'a str, Instant)>,
    pub deadline: Duration,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The hop. `listening` is the receiver, or why it could not listen.
pub(crate) async fn check(listening: &mut Result<Listening, String>, ask: Ask<'_>) -> Hop {
    let l = match listening {
        Ok(l) => l,
        Err(why) => {
            return Hop::fail(
                NAME,
                Explanation::new(
                    why.clone(),
                    "the address is in use, or it is not one of this machine's",
                    "give --webhooks-listen a free address of this machine, e.g. 127.0.0.1:6010",
                ),
            );
        }
    };
    let url = format!("http://{}/", l.addr);
    let (channel, since) = match (ask.subscribed, ask.socket) {
        (Some(sub), _) => sub,
        (None, None) => {
            return Hop::skip(
                NAME,
                "not run: no connection to the server, so nothing it would send a webhook about",
            );
        }
        (None, Some(socket)) => {
            // A public channel of its own: no secret needed to make the server send one.
            let channel: &'static str = Box::leak(
                format!("tickertape-doctor-{:08x}", rand::random::<u32>()).into_boxed_str(),
            );
            let since = Instant::now();
            let subscribe = ClientMessage::Subscribe {
                channel: channel.to_owned(),
                auth: None,
                channel_data: None,
            };
            if let Err(e) = socket::send(socket, &subscribe).await {
                return Hop::fail(
                    NAME,
                    Explanation::new(
                        format!("could not subscribe to {channel} to provoke a webhook: {e}"),
                        "the server closed the connection",
                        "see the earlier hops and the server's log",
                    ),
                );
            }
            (channel, since)
        }
    };
    let until = tokio::time::Instant::from_std(since) + ask.deadline;
    let mut seen = Tally::default();
    let occupied = loop {
        let heard = tokio::select! {
            h = l.heard.recv() => h,
            () = tokio::time::sleep_until(until) => None,
        };
        let Some(h) = heard else { break None };
        let at = h.at.saturating_duration_since(since);
        let ours = h.valid() && h.has("channel_occupied", channel);
        seen.add(h);
        if ours {
            break Some(at);
        }
        // This app's key with a signature that does not verify settles it.
        if seen.bad_signature.is_some() {
            break None;
        }
    };
    let waited = since.elapsed();
    let key = terminal_safe(ask.key);
    let dropped = l.dropped();
    let mut hop = if let Some(at) = occupied {
        Hop::pass(
            NAME,
            format!(
                "channel_occupied of {channel} received on {url} {} after subscribing; signature verified (key {key})",
                ms(at)
            ),
        )
        .line(format!("verified: {}", seen.events_text(since)))
        .line("channel_vacated is not waited for (the server may delay it seconds after the channel empties)")
    } else if let Some(bad) = &seen.bad_signature {
        Hop::fail(
            NAME,
            Explanation::new(
                format!(
                    "a webhook with this app's key (key {key}) arrived on {url}, but its signature does not verify: {}",
                    bad.reason
                ),
                "the secret given here differs from the one the server signs its webhooks with (or something between them rewrote the body)",
                format!(
                    "give the app's secret as the server has it ({}); the secret is never shown",
                    ask.secret_from
                        .as_deref()
                        .unwrap_or("--secret or PUSHER_APP_SECRET")
                ),
            ),
        )
    } else if let Some(other) = &seen.other_key {
        let theirs = other
            .key
            .as_deref()
            .map_or("no X-Pusher-Key header".to_owned(), |k| {
                format!("key {}", terminal_safe(k))
            });
        Hop::fail(
            NAME,
            Explanation::new(
                format!("webhooks arrived on {url}, but with {theirs}, not this app's key {key}"),
                "the server sends another app's webhooks to this address",
                "check which app's webhook URL points here, and the key given here (--key, PUSHER_APP_KEY)",
            ),
        )
    } else if !seen.valid.is_empty() {
        Hop::new(
            NAME,
            Status::Warn,
            format!(
                "webhooks arrive on {url} and verify, but no channel_occupied of {channel} within {} s",
                ask.deadline.as_secs_f32()
            ),
        )
        .line(format!("verified: {}", seen.events_text(since)))
        .line("the server may send only some events here, or the channel was already occupied")
    } else {
        let mut hop = Hop::fail(
            NAME,
            Explanation::new(
                format!(
                    "no webhook arrived on {url} within {} s of subscribing to {channel}",
                    ask.deadline.as_secs_f32()
                ),
                "the server is not configured to send webhooks to this address, or cannot reach it",
                format!(
                    "point the app's webhooks at {url}: tickertape serve --webhook {url}; \
                     sockudo or soketi: the app's webhooks in their configuration; Pusher: the \
                     app's Webhooks settings (through a tunnel to this address)"
                ),
            ),
        );
        if seen.not_webhooks > 0 {
            hop = hop.line(format!(
                "{} signed requests arrived whose body is not a webhook's",
                seen.not_webhooks
            ));
        }
        hop
    };
    if dropped > 0 {
        hop = hop.line(format!(
            "{dropped} requests not read: the receiver's queue was full"
        ));
    }
    hop.took(waited)
}
