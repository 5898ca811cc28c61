//! The private channel's hop: a grant from the app's auth endpoint (`--auth-endpoint`, with
//! `--auth-header` for a cookie or a CSRF token: its status, content type and body shape),
//! else one signed locally with the secret; then the subscription on the socket.

use std::time::{Duration, Instant};

use super::report::Hop;
use super::socket::{self, Read, Socket};
use client::explain::{self, Explanation};
use protocol::{ClientMessage, ServerMessage};

/// Where the grant came from, for the hop's lines and the explanation of a refusal.
enum Grantor {
    Endpoint(String),
    Secret(String),
}

pub(crate) struct Ask<'a> {
    pub client: &'a client::ClientConfig,
    /// Where the secret came from ("REVERB_APP_SECRET (.env line 4)"), when there is one.
    pub secret_from: Option<String>,
    pub socket_id: &'a str,
    pub channel: &'a str,
}

pub(crate) async fn check(ask: Ask<'_>, socket: &mut Socket, deadline: Duration) -> Hop {
    let started = Instant::now();
    let (auth, grantor, mut lines) = match grant(&ask, deadline).await {
        Ok(g) => g,
        Err(hop) => return hop.took(started.elapsed()),
    };
    let subscribe = ClientMessage::Subscribe {
        channel: ask.channel.to_owned(),
        auth: Some(auth),
        channel_data: None,
    };
    if let Err(e) = socket::send(socket, &subscribe).await {
        return Hop::fail(
            "auth",
            Explanation::new(
                format!("the subscription could not be sent: {e}"),
                "the connection broke",
                "run doctor again; if it repeats, see the server's log",
            ),
        )
        .took(started.elapsed());
    }
    let until = tokio::time::Instant::now() + deadline;
    let refused = |why: String| -> Explanation {
        let (cause, fix) = match &grantor {
            Grantor::Secret(from) => (
                format!("the server refused the signature made with the app secret from {from}: the secret is not the server's"),
                "use the server's app secret".to_owned(),
            ),
            Grantor::Endpoint(url) => (
                format!("the server refused the grant of {url}: the app behind it signs with another key or secret than the server's"),
                "give the app the server's key and secret (REVERB_APP_KEY and REVERB_APP_SECRET in its .env)".to_owned(),
            ),
        };
        Explanation::new(
            format!("subscribing to {} was refused: {why}", ask.channel),
            cause,
            fix,
        )
    };
    loop {
        match socket::next(socket, until).await {
            Read::Message(ServerMessage::SubscriptionSucceeded { channel, .. })
                if channel == ask.channel =>
            {
                lines.push(format!("subscribed to {}", ask.channel));
                let mut hop = Hop::pass("auth", lines.remove(0));
                for l in lines {
                    hop = hop.line(l);
                }
                return hop.took(started.elapsed());
            }
            Read::Message(ServerMessage::SubscriptionError { channel, error })
                if channel == ask.channel =>
            {
                let why = format!(
                    "{} {}",
                    error.status.map_or(String::new(), |s| s.to_string()),
                    error.error
                );
                return Hop::fail("auth", refused(why.trim().to_owned())).took(started.elapsed());
            }
            Read::Message(ServerMessage::Error(e)) => {
                return Hop::fail(
                    "auth",
                    refused(format!(
                        "pusher:error {}: {}",
                        e.code.map_or("-".into(), |c| c.to_string()),
                        e.message
                    )),
                )
                .took(started.elapsed());
            }
            Read::Closed(code, reason) => {
                return Hop::fail(
                    "auth",
                    refused(format!(
                        "the server closed the socket ({}) {reason}",
                        code.map_or("no code".into(), |c| c.to_string())
                    )),
                )
                .took(started.elapsed());
            }
            Read::Timeout => {
                return Hop::fail(
                    "auth",
                    Explanation::new(
                        format!(
                            "no answer to the subscription of {} within {} s",
                            ask.channel,
                            deadline.as_secs_f32()
                        ),
                        "the server neither confirmed nor refused the subscription",
                        "see the server's log",
                    ),
                )
                .took(started.elapsed());
            }
            Read::Message(_) | Read::Other | Read::Unreadable => continue,
        }
    }
}

/// The `auth` of the subscription, where it came from, and what was seen getting it.
async fn grant(ask: &Ask<'_>, deadline: Duration) -> Result<(String, Grantor, Vec<String>), Hop> {
    let cfg = ask.client;
    if let Some(url) = &cfg.auth.endpoint {
        let shown = url.to_string();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("socket_id", ask.socket_id)
            .append_pair("channel_name", ask.channel)
            .finish();
        let http = net::http::HttpClient::with_roots(deadline, &cfg.tls_roots);
        let resp = client::post_to_endpoint(cfg, &http, url, body.into_bytes())
            .await
            .map_err(|e| {
                Hop::fail(
                    "auth",
                    Explanation::new(
                        format!("the auth endpoint {shown} cannot be reached: {e}"),
                        "the app is not running there, or the URL is wrong",
                        "check --auth-endpoint (Laravel's is https://APP/broadcasting/auth)",
                    ),
                )
            })?;
        let content_type = resp
            .content_type
            .clone()
            .unwrap_or_else(|| "no content type".into());
        let html = explain::looks_like_html(resp.content_type.as_deref(), &resp.body);
        let said = format!("POST {shown}: HTTP {}, {content_type}", resp.status);
        if resp.status != 200 || html {
            let mut x = explain::auth_endpoint(resp.status, html);
            x.what = format!("{} ({said})", x.what);
            return Err(Hop::fail("auth", x));
        }
        let auth = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("auth").and_then(|a| a.as_str()).map(str::to_owned));
        let Some(auth) = auth else {
            return Err(Hop::fail(
                "auth",
                Explanation::new(
                    format!("{said}, but the body is not JSON with an \"auth\" string"),
                    "the endpoint answers something else than a Pusher grant (a JSON error, a redirect's target)",
                    "it must answer {\"auth\":\"KEY:SIGNATURE\"}: return Broadcast::auth() from the route",
                ),
            ));
        };
        let key = auth.split(':').next().unwrap_or_default();
        if key != cfg.key {
            return Err(Hop::fail(
                "auth",
                Explanation::new(
                    format!(
                        "{said}: a grant for the app key {}, not {}",
                        client::quoted(key),
                        cfg.key
                    ),
                    "the app signs with another app's key and secret than the server's",
                    "give the app the same key and secret as the server (REVERB_APP_KEY, REVERB_APP_SECRET)",
                ),
            ));
        }
        return Ok((
            auth,
            Grantor::Endpoint(shown),
            vec![
                said,
                "the body is a grant: {\"auth\":\"KEY:SIGNATURE\"}".into(),
            ],
        ));
    }
    let (Some(secret), Some(from)) = (&cfg.auth.secret, &ask.secret_from) else {
        return Err(Hop::skip(
            "auth",
            "not checked: no app secret and no --auth-endpoint to authorize the channel",
        ));
    };
    let auth = protocol::signature::sign_channel(
        &cfg.key,
        secret.expose(),
        ask.socket_id,
        ask.channel,
        None,
    )
    .map_err(|e| {
        Hop::fail(
            "auth",
            Explanation::new(
                format!("cannot sign for the socket: {e}"),
                "the server's socket id is not one the protocol allows",
                "see the server's log",
            ),
        )
    })?;
    Ok((
        auth,
        Grantor::Secret(from.clone()),
        vec![format!("signed locally with the app secret from {from}")],
    ))
}
