//! Why a connection or a REST request failed, in a user's words, beyond the transport's
//! failures (`net::explain`): the WebSocket upgrade's answer, `pusher:error` codes, and the
//! REST API's refusals. `doctor` shows each as what happened, its cause and the fix;
//! `watch` (its dashboard's status line too), `check`, `probe`, `trigger` and `channels`
//! say the same on one line.

use tokio_tungstenite::tungstenite;

pub use net::explain::{
    Explanation, certificate, no_such_host, plain_port, refused, timed_out, transport_error,
};

use super::config::Endpoint;

/// What a proxy in front of a WebSocket server must pass on (nginx's words).
const NGINX_UPGRADE: &str = "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"Upgrade\";";

/// An answer that is a web page: its content type says so, or its body starts like one.
pub fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    if content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html")) {
        return true;
    }
    let start: String = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with("<!doctype") || start.starts_with("<html") || start.starts_with("<head")
}

/// The upgrade request for `path` got `status` instead of 101 Switching Protocols.
pub fn upgrade_status(addr: &str, path: &str, status: u16, html: bool) -> Explanation {
    let what = if html {
        format!(
            "{addr} answered the WebSocket upgrade of {path} with HTTP {status} and an HTML page"
        )
    } else {
        format!("{addr} answered the WebSocket upgrade of {path} with HTTP {status}")
    };
    let (cause, fix) = match status {
        404 => (
            "nothing there serves the Pusher protocol's /app/ path: a web server, or a proxy that sends /app/ elsewhere",
            "point the proxy's /app/ location at the WebSocket server (Reverb listens on REVERB_SERVER_PORT), or connect to that server's own port",
        ),
        400 | 426 => (
            "the Upgrade and Connection headers did not reach the server: a proxy in front drops them",
            NGINX_UPGRADE,
        ),
        401 | 403 => (
            "something in front of the server (a proxy or a firewall) refuses the request",
            "let /app/ through without a login",
        ),
        502..=504 => (
            "the proxy could not reach the WebSocket server behind it",
            "is the server behind the proxy running (php artisan reverb:start)? Does the proxy point at its REVERB_SERVER_PORT?",
        ),
        _ if html => (
            "a web server or the app answers on this port, not the WebSocket server",
            "connect to the WebSocket server's port, or make the proxy pass /app/ on to it with its Upgrade headers",
        ),
        _ => (
            "the server there did not accept a WebSocket",
            "check that this host and port are the WebSocket server's",
        ),
    };
    Explanation::new(what, cause, fix)
}

/// A 101 answer without the headers that make it a WebSocket.
pub fn upgrade_headers(addr: &str, why: &str) -> Explanation {
    Explanation::new(
        format!("{addr} answered the upgrade without a valid WebSocket handshake ({why})"),
        "a proxy rewrote or dropped the Upgrade, Connection or Sec-WebSocket-Accept headers",
        NGINX_UPGRADE,
    )
}

/// A `pusher:error` (or close code) the server refused the connection with.
pub fn pusher_error(code: Option<u16>, message: &str) -> Explanation {
    let meaning = code.map_or("no code", |c| protocol::CloseCode::from(c).describe());
    let what = match code {
        Some(c) => {
            format!("the server refused the connection: pusher:error {c} ({meaning}): {message}")
        }
        None => format!("the server refused the connection: pusher:error: {message}"),
    };
    let (cause, fix) = match code {
        Some(4000) => (
            "the app accepts only TLS connections",
            "use --scheme wss (REVERB_SCHEME=https)",
        ),
        Some(4001) => (
            "the app key is not one of the server's apps",
            "use the key the server knows (REVERB_APP_KEY or PUSHER_APP_KEY on both sides)",
        ),
        Some(4003) => (
            "the app is disabled on the server",
            "enable the app on the server",
        ),
        Some(4004) => (
            "the app is over its connection quota",
            "close other connections, or raise the app's limit",
        ),
        Some(4005..=4008) => (
            "the server did not understand the connection's path or protocol version",
            "check that this is a Pusher protocol 7 server",
        ),
        Some(4009) => (
            "the server wants the connection signed in",
            "use --signin or --user-auth-endpoint",
        ),
        Some(4100..=4199) => ("the server is over capacity", "try again later"),
        _ => (
            "the server refused the connection",
            "see the server's message",
        ),
    };
    Explanation::new(what, cause, fix)
}

/// A REST API refusal that has a likely cause: 401 (the signature), 403, 404 (the app id).
/// The server's own text for a 401 is never part of it: Pusher's quotes the string it
/// expected to be signed, which is no help to a user with the wrong secret.
pub fn rest_status(status: u16) -> Option<Explanation> {
    let (what, cause, fix) = match status {
        401 => (
            "the REST API refused the request's signature (HTTP 401)",
            "the app secret is wrong, or the app id (it is signed too); more rarely this machine's clock is off by minutes",
            "use the server's secret and app id (REVERB_APP_SECRET and REVERB_APP_ID, or PUSHER_APP_SECRET and PUSHER_APP_ID)",
        ),
        403 => (
            "the REST API refused the request (HTTP 403)",
            "the app is disabled, over its quota, or the key does not belong to this app id",
            "check the app's state and its key and app id on the server",
        ),
        404 => (
            "the REST API has no such app (HTTP 404)",
            "the app id is wrong, or the URL is not the server's REST API",
            "use the server's app id (REVERB_APP_ID or PUSHER_APP_ID)",
        ),
        _ => return None,
    };
    Some(Explanation::new(what, cause, fix))
}

/// The app's auth endpoint answered `status` (not 200), or 200 with a page.
pub fn auth_endpoint(status: u16, html: bool) -> Explanation {
    let what = if html {
        format!("the auth endpoint answered HTTP {status} with an HTML page")
    } else {
        format!("the auth endpoint answered HTTP {status}")
    };
    let (cause, fix) = match status {
        419 => (
            "Laravel's CSRF check failed (419: page expired): the request has no valid CSRF token or session",
            "send the session cookie and the X-CSRF-TOKEN (or X-XSRF-TOKEN) header with --auth-header, or exclude broadcasting/auth from CSRF checks",
        ),
        403 => (
            "the channel's authorization callback said no (routes/channels.php returned false for this user)",
            "check the callback of this channel in routes/channels.php, and that the user may join it",
        ),
        401 => (
            "the request is not logged in",
            "send the session cookie (or a bearer token) with --auth-header",
        ),
        404 => (
            "no broadcasting auth route at that URL",
            "register the routes (php artisan install:broadcasting, or Broadcast::routes()) and check the URL",
        ),
        _ if html => (
            "a login page or an error page: the session is missing or expired, or the CSRF check failed",
            "send the session cookie and the CSRF token with --auth-header",
        ),
        500..=599 => (
            "the app failed while authorizing",
            "see the app's log (storage/logs/laravel.log)",
        ),
        _ => (
            "the endpoint did not grant the subscription",
            "it must answer 200 with JSON {\"auth\":\"KEY:SIGNATURE\"}",
        ),
    };
    Explanation::new(what, cause, fix)
}

/// The explanation of a failed WebSocket connection to `endpoint`, when its cause is known.
pub fn connect_error(
    e: &tungstenite::Error,
    endpoint: &Endpoint,
    path: &str,
) -> Option<Explanation> {
    let addr = format!("{}:{}", endpoint.host, endpoint.port);
    match e {
        tungstenite::Error::Http(resp) => {
            let content_type = resp
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            let body = resp.body().as_deref().unwrap_or_default();
            Some(upgrade_status(
                &addr,
                path,
                resp.status().as_u16(),
                looks_like_html(content_type, body),
            ))
        }
        tungstenite::Error::Protocol(p) => Some(upgrade_headers(&addr, &p.to_string())),
        other => transport_error(other, &endpoint.host, &addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_answers_are_told_apart() {
        let e = upgrade_status("h:80", "/app/k", 404, false);
        assert!(e.cause.contains("/app/"), "{e:?}");
        let e = upgrade_status("h:80", "/app/k", 400, false);
        assert!(e.fix.contains("proxy_set_header Upgrade"), "{e:?}");
        let e = upgrade_status("h:80", "/app/k", 200, true);
        assert!(e.what.contains("HTML page"), "{e:?}");
        assert!(looks_like_html(None, b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(Some("text/html; charset=UTF-8"), b""));
        assert!(!looks_like_html(Some("application/json"), b"{}"));
    }

    #[test]
    fn pusher_errors_and_rest_refusals_say_what_to_do() {
        let e = pusher_error(Some(4001), "App key x does not exist");
        assert!(
            e.what.contains("4001") && e.cause.contains("app key"),
            "{e:?}"
        );
        let e = rest_status(401).unwrap();
        assert!(e.cause.contains("secret"), "{e:?}");
        assert!(rest_status(500).is_none());
    }
}
