//! Publishers and queries over the signed REST API (§7): one client, used by `trigger`,
//! `channels`, `stocks` and the demo. It works against the embedded server and against Pusher.

pub mod delivery;
pub mod seal;
pub mod stocks;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use net::http::{HttpClient, HttpError};
use protocol::Secret;
use protocol::rest::{encode_query, sign_request};

/// A REST client and the master key of encrypted channels: what publishing on the user's
/// behalf (the dashboard's trigger form) needs to seal data for a `private-encrypted-`
/// channel rather than send it in plaintext.
#[derive(Clone)]
pub struct Publisher {
    pub rest: RestClient,
    pub master_key: Option<[u8; protocol::crypto::KEY_LEN]>,
}

impl Publisher {
    /// Triggers `event` on one channel, the data sealed when the channel is encrypted (and
    /// refused, before any request, when there is no key to seal it with).
    pub async fn trigger_one(
        &self,
        channel: &str,
        event: &str,
        data: &str,
    ) -> Result<Value, ApiError> {
        let data = seal::seal(channel, data, self.master_key.as_ref())
            .map_err(|e| ApiError::Invalid(e.to_string()))?;
        self.rest
            .trigger(&[channel.to_owned()], event, &data, None, None)
            .await
    }
}

/// Where the API is and whose app it is.
#[derive(Clone)]
pub struct RestClient {
    /// `http://127.0.0.1:6001` or `https://api-eu.pusher.com`.
    pub base: String,
    pub app_id: String,
    pub key: String,
    secret: Secret,
    http: HttpClient,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the server answered {status} with a body that is not JSON: {body}")]
    NotJson { status: u16, body: String },
    /// A name that cannot be a path segment of the API (checked before any request).
    #[error("{0}")]
    Invalid(String),
}

/// Everything but the unreserved characters is percent-encoded in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment of the API from a name given on the command line: encoded, and never
/// `.` or `..`, which would climb the path.
fn segment(what: &str, name: &str) -> Result<String, ApiError> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(ApiError::Invalid(format!(
            "{what} {:?} cannot name a resource",
            protocol::safe_text::terminal_safe(name)
        )));
    }
    Ok(percent_encoding::utf8_percent_encode(name, SEGMENT).to_string())
}

/// A refusal's message with its likely cause and fix (401, 403, 404). A 401's text is cut
/// to its first clause when it goes on about the signature: Pusher's quotes the string it
/// expected to be signed (the HMAC's inputs), which only confuses a user whose secret is
/// wrong.
fn with_explanation(status: u16, message: String) -> String {
    let Some(x) = crate::explain::rest_status(status) else {
        return message;
    };
    let lower = message.to_ascii_lowercase();
    let dump = [
        "hmac",
        "digest",
        "string to sign",
        "auth_signature",
        "signature of",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || message.contains('\n');
    let said = if status == 401 && dump {
        message
            .split([':', '\n'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    } else {
        message
    };
    let said = said.chars().take(200).collect::<String>();
    if said.is_empty() {
        format!("{}: {}", x.cause, x.fix)
    } else {
        format!("{said} ({}): {}", x.cause, x.fix)
    }
}

/// One event of a batch.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BatchEvent {
    pub channel: String,
    pub name: String,
    pub data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_id: Option<String>,
}

impl RestClient {
    pub fn new(
        base: impl Into<String>,
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: Secret,
    ) -> RestClient {
        RestClient {
            base: base.into().trim_end_matches('/').to_owned(),
            app_id: app_id.into(),
            key: key.into(),
            secret,
            http: HttpClient::default(),
        }
    }

    /// The same client over another HTTP client (one that trusts `--ca-file`, say).
    pub fn with_http(self, http: HttpClient) -> RestClient {
        RestClient { http, ..self }
    }

    /// Signs and sends one request; a 4xx/5xx becomes an error with the server's message.
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        params: Vec<(String, String)>,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        self.call_with_headers(method, path, params, body, &[])
            .await
    }

    /// [`RestClient::call`] with extra headers (a W3C `traceparent`, say).
    pub async fn call_with_headers(
        &self,
        method: http::Method,
        path: &str,
        params: Vec<(String, String)>,
        body: Option<Value>,
        headers: &[(String, String)],
    ) -> Result<Value, ApiError> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signed = sign_request(
            &self.key,
            self.secret.expose(),
            method.as_str(),
            path,
            &params,
            &body,
            now,
        )
        .map_err(|e| ApiError::Status {
            status: 0,
            message: e.to_string(),
        })?;
        let url = format!("{}{path}?{}", self.base, encode_query(&signed));
        let content_type = (!body.is_empty()).then_some("application/json");
        let resp = self
            .http
            .send(method, &url, headers, content_type, body)
            .await?;
        let parsed = serde_json::from_slice::<Value>(&resp.body);
        if resp.status >= 400 {
            let message = match &parsed {
                // The answer may quote a URL: shown redacted, as the snippet is.
                Ok(v) => net::http_url::redact_in(
                    &v.get("error")
                        .and_then(Value::as_str)
                        .map_or_else(|| v.to_string(), str::to_owned),
                )
                .into_owned(),
                Err(_) => resp.body_snippet(500),
            };
            let message = with_explanation(resp.status, message);
            return Err(ApiError::Status {
                status: resp.status,
                message,
            });
        }
        parsed.map_err(|_| ApiError::NotJson {
            status: resp.status,
            body: resp.body_snippet(200),
        })
    }

    fn path(&self, rest: &str) -> String {
        format!("/apps/{}{rest}", self.app_id)
    }

    /// Triggers one event on up to 100 channels.
    pub async fn trigger(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        socket_id: Option<&str>,
        info: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut body = json!({ "name": event, "data": data, "channels": channels });
        if let Some(s) = socket_id {
            body["socket_id"] = json!(s);
        }
        if let Some(i) = info {
            body["info"] = json!(i);
        }
        self.call(
            http::Method::POST,
            &self.path("/events"),
            vec![],
            Some(body),
        )
        .await
    }

    /// Triggers one event on one channel with a W3C `traceparent` header (sockudo carries it
    /// to the other nodes and into its spans), asking for its `subscription_count`.
    pub async fn trigger_traced(
        &self,
        channel: &str,
        event: &str,
        data: &str,
        traceparent: &str,
    ) -> Result<Value, ApiError> {
        let body = json!({
            "name": event,
            "data": data,
            "channels": [channel],
            "info": "subscription_count",
        });
        let headers = [("traceparent".to_owned(), traceparent.to_owned())];
        self.call_with_headers(
            http::Method::POST,
            &self.path("/events"),
            vec![],
            Some(body),
            &headers,
        )
        .await
    }

    /// Triggers up to 10 events in one request.
    pub async fn batch(&self, events: &[BatchEvent]) -> Result<Value, ApiError> {
        self.batch_with_info(events, None).await
    }

    /// Triggers up to 10 events in one request, each asking for the `info` attributes.
    pub async fn batch_with_info(
        &self,
        events: &[BatchEvent],
        info: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut batch = json!(events);
        if let (Some(i), Some(list)) = (info, batch.as_array_mut()) {
            for ev in list {
                ev["info"] = json!(i);
            }
        }
        self.call(
            http::Method::POST,
            &self.path("/batch_events"),
            vec![],
            Some(json!({ "batch": batch })),
        )
        .await
    }

    pub async fn channels(
        &self,
        prefix: Option<&str>,
        info: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut params = vec![];
        if let Some(p) = prefix {
            params.push(("filter_by_prefix".to_owned(), p.to_owned()));
        }
        if let Some(i) = info {
            params.push(("info".to_owned(), i.to_owned()));
        }
        self.call(http::Method::GET, &self.path("/channels"), params, None)
            .await
    }

    pub async fn channel(&self, name: &str, info: Option<&str>) -> Result<Value, ApiError> {
        let params = info
            .map(|i| vec![("info".to_owned(), i.to_owned())])
            .unwrap_or_default();
        self.call(
            http::Method::GET,
            &self.path(&format!("/channels/{}", segment("channel", name)?)),
            params,
            None,
        )
        .await
    }

    pub async fn users(&self, name: &str) -> Result<Value, ApiError> {
        self.call(
            http::Method::GET,
            &self.path(&format!("/channels/{}/users", segment("channel", name)?)),
            vec![],
            None,
        )
        .await
    }

    pub async fn terminate_user(&self, user_id: &str) -> Result<Value, ApiError> {
        let path = self.path(&format!(
            "/users/{}/terminate_connections",
            segment("user id", user_id)?
        ));
        self.call(http::Method::POST, &path, vec![], Some(json!({})))
            .await
    }
}
