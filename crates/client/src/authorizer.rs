//! Authorizing subscriptions and sign-ins: locally with the app secret, or through an auth
//! endpoint with pusher-js's form body and response shape (§6.1, §6.2).

use serde::Deserialize;
use serde_json::json;

use super::config::ClientConfig;
use super::item::SubscriptionFailure;
use net::http::{HttpClient, Response};
use net::http_url::AuthUrl;
use protocol::channel::classify;
use protocol::crypto::{self, KEY_LEN};
use protocol::signature;

/// What a subscription needs on the wire, plus the channel's decryption key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grant {
    pub auth: String,
    pub channel_data: Option<String>,
    pub key: Option<[u8; KEY_LEN]>,
}

/// How this configuration authorizes.
pub(crate) enum Mode {
    Local,
    Endpoint(AuthUrl),
    Unavailable,
}

pub(crate) fn channel_mode(cfg: &ClientConfig) -> Mode {
    match (&cfg.auth.endpoint, &cfg.auth.secret) {
        (Some(url), _) => Mode::Endpoint(url.clone()),
        (None, Some(_)) => Mode::Local,
        (None, None) => Mode::Unavailable,
    }
}

fn failure(message: impl Into<String>) -> SubscriptionFailure {
    SubscriptionFailure {
        message: message.into(),
        status: None,
        string_to_sign: None,
        auth: true,
    }
}

/// The presence `channel_data` this client presents: `{"user_id":…,"user_info":…}`.
pub(crate) fn presence_channel_data(cfg: &ClientConfig) -> String {
    match &cfg.user.info {
        Some(info) => json!({ "user_id": cfg.user.id, "user_info": info }).to_string(),
        None => json!({ "user_id": cfg.user.id }).to_string(),
    }
}

/// Signs a subscription with the app secret.
pub(crate) fn sign_locally(
    cfg: &ClientConfig,
    socket_id: &str,
    channel: &str,
) -> Result<Grant, SubscriptionFailure> {
    let secret = cfg.auth.secret.as_ref().ok_or_else(|| {
        failure(format!(
            "{channel} needs authorization: pass --secret or --auth-endpoint"
        ))
    })?;
    let info = classify(channel);
    let channel_data = info.is_presence().then(|| presence_channel_data(cfg));
    let key = if info.is_encrypted() {
        let master = cfg.auth.master_key.as_ref().ok_or_else(|| {
            failure(format!(
                "{channel} is end-to-end encrypted: pass --encryption-master-key (base64) to read it"
            ))
        })?;
        Some(crypto::shared_secret(channel, master))
    } else {
        None
    };
    let auth = signature::sign_channel(
        &cfg.key,
        secret.expose(),
        socket_id,
        channel,
        channel_data.as_deref(),
    )
    .map_err(|e| failure(e.to_string()))?;
    Ok(Grant {
        auth,
        channel_data,
        key,
    })
}

/// Asks the auth endpoint, as pusher-js does: a form POST of `socket_id` and `channel_name`.
pub(crate) async fn ask_endpoint(
    cfg: &ClientConfig,
    http: &HttpClient,
    url: &AuthUrl,
    socket_id: &str,
    channel: &str,
) -> Result<Grant, SubscriptionFailure> {
    #[derive(Deserialize)]
    struct Answer {
        auth: String,
        channel_data: Option<String>,
        shared_secret: Option<String>,
    }
    let body = form(&[("socket_id", socket_id), ("channel_name", channel)]);
    let resp = post_form(cfg, http, url, body).await?;
    let answer: Answer = parse_answer(&resp)?;
    let key = if classify(channel).is_encrypted() {
        match (&answer.shared_secret, &cfg.auth.master_key) {
            (Some(b64), _) => Some(
                crypto::key_from_base64(b64)
                    .map_err(|e| failure(format!("auth endpoint's shared_secret: {e}")))?,
            ),
            (None, Some(master)) => Some(crypto::shared_secret(channel, master)),
            (None, None) => {
                return Err(failure(
                    "auth endpoint returned no shared_secret for an encrypted channel, \
                     and no --encryption-master-key was given",
                ));
            }
        }
    } else {
        None
    };
    Ok(Grant {
        auth: answer.auth,
        channel_data: answer.channel_data,
        key,
    })
}

/// A sign-in: the `auth` and `user_data` of `pusher:signin`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SignIn {
    pub auth: String,
    pub user_data: String,
}

/// The user data this client signs in with: `{"id":…,"user_info":…}`.
pub(crate) fn user_data(cfg: &ClientConfig) -> String {
    match &cfg.user.info {
        Some(info) => json!({ "id": cfg.user.id, "user_info": info }).to_string(),
        None => json!({ "id": cfg.user.id }).to_string(),
    }
}

/// Signs the user in: through the user-auth endpoint when there is one, else locally.
pub(crate) async fn sign_in(
    cfg: &ClientConfig,
    http: &HttpClient,
    socket_id: &str,
) -> Result<SignIn, SubscriptionFailure> {
    if let Some(url) = &cfg.auth.user_endpoint {
        #[derive(Deserialize)]
        struct Answer {
            auth: String,
            user_data: String,
        }
        let resp = post_form(cfg, http, url, form(&[("socket_id", socket_id)])).await?;
        let a: Answer = parse_answer(&resp)?;
        return Ok(SignIn {
            auth: a.auth,
            user_data: a.user_data,
        });
    }
    let secret = cfg
        .auth
        .secret
        .as_ref()
        .ok_or_else(|| failure("signing in needs --secret or --user-auth-endpoint"))?;
    let user_data = user_data(cfg);
    let auth = signature::sign_user(&cfg.key, secret.expose(), socket_id, &user_data)
        .map_err(|e| failure(e.to_string()))?;
    Ok(SignIn { auth, user_data })
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// POSTs `body` (a form) to an auth endpoint as pusher-js does: the configured headers, the
/// URL's credentials as Basic auth. The answer as it came, whatever its status.
pub async fn post_to_endpoint(
    cfg: &ClientConfig,
    http: &HttpClient,
    url: &AuthUrl,
    body: Vec<u8>,
) -> Result<Response, net::http::HttpError> {
    let mut headers = cfg.auth.headers.clone();
    headers.extend(url.basic_auth());
    http.send(
        http::Method::POST,
        &url.uri().to_string(),
        &headers,
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await
}

async fn post_form(
    cfg: &ClientConfig,
    http: &HttpClient,
    url: &AuthUrl,
    body: Vec<u8>,
) -> Result<Response, SubscriptionFailure> {
    let resp = post_to_endpoint(cfg, http, url, body)
        .await
        .map_err(|e| failure(e.to_string()))?;
    let html = crate::explain::looks_like_html(resp.content_type.as_deref(), &resp.body);
    if resp.status != 200 || html {
        let x = crate::explain::auth_endpoint(resp.status, html);
        // A page says nothing on one line; a short answer may say why.
        let said = if html {
            String::new()
        } else {
            format!(" (it said: {})", resp.body_snippet(300))
        };
        return Err(SubscriptionFailure {
            message: format!(
                "auth endpoint {url} answered HTTP {}{}{said}: {}; {}",
                resp.status,
                if html { " with an HTML page" } else { "" },
                x.cause,
                x.fix
            ),
            status: Some(resp.status),
            string_to_sign: None,
            auth: true,
        });
    }
    Ok(resp)
}

fn parse_answer<T: for<'de> Deserialize<'de>>(resp: &Response) -> Result<T, SubscriptionFailure> {
    serde_json::from_slice(&resp.body).map_err(|e| SubscriptionFailure {
        message: format!(
            "auth endpoint answered 200 but not with the expected JSON ({e}): {}",
            resp.body_snippet(300)
        ),
        status: Some(resp.status),
        string_to_sign: None,
        auth: true,
    })
}
